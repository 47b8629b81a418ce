//! Outgoing HTTP over `wasi:http`, through the host's egress gate.
//!
//! Blocking calls suit a guest: the host runs it on an async store, so a guest waiting
//! for bytes costs no thread. Errors map to [`PluginError`]: a refusal by the gate is
//! `Denied`, a failed connection or a broken stream is `Upstream` with status 502.
//!
//! [`send`] hands the request to the host before it writes the body, and a JSON body is
//! serialised straight into the body stream: a request with several megabytes of
//! base64 screenshots costs one copy of them in the guest, not three.

use std::io::Write as _;

use super::PluginError;
use super::bindings::wasi::http::outgoing_handler;
use super::bindings::wasi::http::types::{
    ErrorCode, Fields, IncomingBody, IncomingResponse, Method, OutgoingBody, OutgoingRequest, Scheme,
};
use super::bindings::wasi::io::streams::{InputStream, OutputStream, StreamError};

/// A request to send.
#[derive(Debug, Clone)]
pub struct Request {
    /// `GET`, `POST`, ...
    pub method: String,
    /// Absolute `https://host[:port]/path?query` (or `http://` for a local upstream).
    pub url: String,
    /// Header names and values.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Payload,
}

/// A request's body.
#[derive(Debug, Clone, Default)]
pub enum Payload {
    /// No body.
    #[default]
    Empty,
    /// These bytes.
    Bytes(Vec<u8>),
    /// A JSON document, serialised as it is sent.
    Json(serde_json::Value),
}

impl Request {
    /// A `POST` of a JSON body.
    pub fn post_json(url: impl Into<String>, body: serde_json::Value) -> Self {
        Self {
            method: "POST".into(),
            url: url.into(),
            headers: vec![("content-type".into(), "application/json".into())],
            body: Payload::Json(body),
        }
    }

    /// A `GET`.
    pub fn get(url: impl Into<String>) -> Self {
        Self { method: "GET".into(), url: url.into(), headers: Vec::new(), body: Payload::Empty }
    }

    /// Adds a header.
    #[must_use]
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }
}

/// A response whose body is read as it arrives.
pub struct Response {
    /// The status code.
    pub status: u16,
    /// Header names (lowercase) and values.
    pub headers: Vec<(String, String)>,
    /// The body. Declared before the response, so it is dropped first.
    pub body: Body,
    _response: IncomingResponse,
}

impl Response {
    /// The first value of header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

/// A response body, read in pieces.
pub struct Body {
    // Field order is drop order: the stream is a child of the body.
    stream: Option<InputStream>,
    _body: Option<IncomingBody>,
}

impl Body {
    /// The next piece of the body, or `None` at its end.
    ///
    /// # Errors
    ///
    /// `Upstream` (502) when the connection breaks or a cap of the gate is hit.
    pub fn read(&mut self) -> Result<Option<Vec<u8>>, PluginError> {
        let Some(stream) = &self.stream else { return Ok(None) };
        match stream.blocking_read(64 * 1024) {
            Ok(bytes) => Ok(Some(bytes)),
            Err(StreamError::Closed) => {
                self.stream = None;
                Ok(None)
            }
            Err(StreamError::LastOperationFailed(error)) => {
                self.stream = None;
                Err(PluginError::Upstream(super::UpstreamError {
                    status: 502,
                    message: format!("the upstream's response broke off: {}", error.to_debug_string()),
                }))
            }
        }
    }

    /// Reads the rest of the body, up to `limit` bytes.
    ///
    /// # Errors
    ///
    /// As [`Body::read`], and `Upstream` (502) past `limit`.
    pub fn read_to_end(&mut self, limit: usize) -> Result<Vec<u8>, PluginError> {
        let mut all = Vec::new();
        while let Some(bytes) = self.read()? {
            all.extend_from_slice(&bytes);
            if all.len() > limit {
                return Err(upstream(502, format!("the upstream's response is larger than {limit} bytes")));
            }
        }
        Ok(all)
    }
}

/// Sends `request` and waits for the response's head.
///
/// # Errors
///
/// `Denied` when the egress gate refused it, `InvalidRequest` for a malformed request,
/// `Upstream` (502, or 504 for a timeout) when the upstream could not be reached.
pub fn send(request: Request) -> Result<Response, PluginError> {
    let (scheme, authority, path) = split_url(&request.url)?;
    let headers = Fields::new();
    for (name, value) in &request.headers {
        headers
            .append(name, value.as_bytes())
            .map_err(|error| PluginError::InvalidRequest(format!("header `{name}` cannot be sent: {error:?}")))?;
    }
    let outgoing = OutgoingRequest::new(headers);
    let method = match request.method.as_str() {
        "GET" => Method::Get,
        "POST" => Method::Post,
        other => Method::Other(other.to_owned()),
    };
    let invalid = |what: &str| PluginError::InvalidRequest(format!("invalid {what} in `{}`", request.url));
    outgoing.set_method(&method).map_err(|()| invalid("method"))?;
    outgoing.set_scheme(Some(&scheme)).map_err(|()| invalid("scheme"))?;
    outgoing.set_authority(Some(authority)).map_err(|()| invalid("authority"))?;
    outgoing.set_path_with_query(Some(path)).map_err(|()| invalid("path"))?;
    let body = outgoing.body().map_err(|()| internal("the request body was already taken"))?;

    // The request goes to the host first: only then does anything drain the body
    // stream, whose buffer holds about a megabyte. Written the other way round, a
    // larger body (any real screenshot) waits for room that never comes.
    let pending = outgoing_handler::handle(outgoing, None).map_err(|error| error_code(authority, &error))?;
    let written = write_body(body, &request.body);
    pending.subscribe().block();
    let response = match pending.get() {
        // The host's answer explains a body it stopped taking (a cap, a refusal).
        Some(Ok(Err(error))) => return Err(error_code(authority, &error)),
        Some(Ok(Ok(response))) => response,
        Some(Err(())) | None => return Err(internal("the response was already taken")),
    };
    // An answer to a body that did not arrive whole is no answer to this request.
    written?;
    let status = response.status();
    let headers = response
        .headers()
        .entries()
        .into_iter()
        .map(|(name, value)| (name.to_ascii_lowercase(), String::from_utf8_lossy(&value).into_owned()))
        .collect();
    let incoming = response.consume().map_err(|()| internal("the response body was already taken"))?;
    let stream = incoming.stream().map_err(|()| internal("the response body stream was already taken"))?;
    Ok(Response { status, headers, body: Body { stream: Some(stream), _body: Some(incoming) }, _response: response })
}

/// Writes `payload` into the request body as fast as the host takes it, then finishes
/// the body. The request must already be handed to the host, which drains the stream.
fn write_body(body: OutgoingBody, payload: &Payload) -> Result<(), PluginError> {
    let broken = || upstream(502, "the request body could not be written".into());
    {
        // The stream is a child of the body: it must be gone before `finish`.
        let stream = body.write().map_err(|()| internal("the request body stream was already taken"))?;
        let mut sink = BodySink(&stream);
        match payload {
            Payload::Empty => {}
            Payload::Bytes(bytes) => sink.write_all(bytes).map_err(|_| broken())?,
            Payload::Json(value) => {
                // Serialiser writes are small; the host gets them in large pieces.
                let mut buffered = std::io::BufWriter::with_capacity(JSON_WRITE_BUFFER, sink);
                serde_json::to_writer(&mut buffered, value).map_err(|_| broken())?;
                buffered.flush().map_err(|_| broken())?;
            }
        }
        stream.blocking_flush().map_err(|_| broken())?;
    }
    OutgoingBody::finish(body, None).map_err(|_| broken())
}

/// Bytes a JSON body is gathered into before each write to the host.
const JSON_WRITE_BUFFER: usize = 256 * 1024;

/// The request body stream as [`std::io::Write`]: each write takes what the host's
/// buffer has room for, waiting while it has none.
struct BodySink<'a>(&'a OutputStream);

impl std::io::Write for BodySink<'_> {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        loop {
            match self.0.check_write() {
                Ok(0) => self.0.subscribe().block(),
                Ok(permit) => {
                    let now = bytes.len().min(usize::try_from(permit).unwrap_or(usize::MAX));
                    self.0.write(&bytes[..now]).map_err(|_| std::io::ErrorKind::BrokenPipe)?;
                    return Ok(now);
                }
                Err(_) => return Err(std::io::ErrorKind::BrokenPipe.into()),
            }
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Splits `scheme://authority/path?query`.
fn split_url(url: &str) -> Result<(Scheme, &str, &str), PluginError> {
    let bad = || PluginError::InvalidRequest(format!("`{url}` is not an absolute http(s) URL"));
    let (scheme, rest) = url.split_once("://").ok_or_else(bad)?;
    let scheme = match scheme {
        "https" => Scheme::Https,
        "http" => Scheme::Http,
        _ => return Err(bad()),
    };
    let (authority, path) = match rest.find(['/', '?']) {
        Some(index) => rest.split_at(index),
        None => (rest, "/"),
    };
    if authority.is_empty() {
        return Err(bad());
    }
    Ok((scheme, authority, if path.is_empty() { "/" } else { path }))
}

fn error_code(authority: &str, error: &ErrorCode) -> PluginError {
    match error {
        ErrorCode::HttpRequestDenied => {
            PluginError::Denied(format!("the host's egress gate refused the request to `{authority}`"))
        }
        ErrorCode::ConnectionTimeout | ErrorCode::ConnectionReadTimeout | ErrorCode::HttpResponseTimeout => {
            upstream(504, format!("`{authority}` did not answer in time"))
        }
        ErrorCode::HttpRequestUriInvalid => PluginError::InvalidRequest(format!("invalid URL for `{authority}`")),
        other => upstream(502, format!("the request to `{authority}` failed: {other:?}")),
    }
}

/// An `Upstream` error.
pub fn upstream(status: u16, message: String) -> PluginError {
    PluginError::Upstream(super::UpstreamError { status, message })
}

fn internal(message: &str) -> PluginError {
    PluginError::Internal(message.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_split_into_scheme_authority_and_path() {
        let (scheme, authority, path) = split_url("https://api.openai.com/v1/chat/completions?x=1").unwrap();
        assert!(matches!(scheme, Scheme::Https));
        assert_eq!((authority, path), ("api.openai.com", "/v1/chat/completions?x=1"));
        assert_eq!(split_url("http://localhost:11434").map(|(_, a, p)| (a, p)).unwrap(), ("localhost:11434", "/"));
        assert!(split_url("ftp://x/y").is_err());
        assert!(split_url("https:///y").is_err());
    }
}
