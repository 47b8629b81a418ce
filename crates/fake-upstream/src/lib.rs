//! Fake LLM vendor APIs for tests and benchmarks: real HTTP servers on 127.0.0.1 that
//! speak each vendor's wire format, streamed answers included.
//!
//! - [`Vendor::OpenAi`]: `POST /v1/chat/completions` (and `GET /v1/models`), key in
//!   `authorization: Bearer`.
//! - [`Vendor::Anthropic`]: `POST /v1/messages`, key in `x-api-key`, `anthropic-version`
//!   required.
//! - [`Vendor::Gemini`]: `POST /v1beta/models/{model}:streamGenerateContent?alt=sse`,
//!   key in the `key` query parameter.
//! - [`Vendor::AzureOpenAi`]: `POST /openai/deployments/{deployment}/chat/completions
//!   ?api-version=…` (OpenAI's format, the deployment as the model), key in `api-key`.
//!
//! The model name picks the behaviour ([`Behaviour`]): a streamed answer, an error
//! status, malformed JSON, a connection cut mid-stream, a huge body, or no answer at
//! all. A request without the expected key gets the vendor's 401. Every request is
//! recorded (headers and body) so tests can prove which key arrived.
//! With [`TestCa`], the server speaks TLS with a certificate for the vendors' real
//! host names, signed by a throwaway CA the client under test is told to trust.

mod ca;
mod replay;
mod vendor;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

pub use ca::TestCa;
pub use replay::Replay;
pub use vendor::{Behaviour, REFUSAL, Vendor, answer_chunks, answer_for, reasoning_chunks, update_chunks, xss_chunks};

/// One request the fake upstream received.
#[derive(Debug, Clone)]
pub struct Recorded {
    /// Whose API received it.
    pub vendor: Vendor,
    /// Method.
    pub method: String,
    /// Path and query.
    pub path_and_query: String,
    /// Headers, names lowercase, in order.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: bytes::Bytes,
}

impl Recorded {
    pub(crate) fn new(vendor: Vendor, parts: &axum::http::request::Parts, body: axum::body::Bytes) -> Self {
        Recorded {
            vendor,
            method: parts.method.to_string(),
            path_and_query: parts.uri.path_and_query().map(ToString::to_string).unwrap_or_default(),
            headers: parts
                .headers
                .iter()
                .map(|(n, v)| (n.as_str().to_owned(), String::from_utf8_lossy(v.as_bytes()).into_owned()))
                .collect(),
            body,
        }
    }

    /// The first value of `name`.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    /// The body as JSON (`Null` when it is not JSON).
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or_default()
    }

    /// The images the request carried, decoded from the vendor's own format, in order:
    /// media type and bytes. An image part that is not valid base64 is a panic, since a
    /// vendor would refuse the request.
    ///
    /// # Panics
    ///
    /// On an image part whose data is not a base64 data URL or base64 text.
    pub fn images(&self) -> Vec<(String, Vec<u8>)> {
        use base64::Engine as _;
        let body = self.json();
        let decode = |text: &str| {
            base64::engine::general_purpose::STANDARD
                .decode(text)
                .unwrap_or_else(|error| panic!("an image part is not base64: {error}"))
        };
        // The parts of every message, borrowed: a request holds megabytes of base64.
        fn parts<'a>(messages: &'a serde_json::Value, key: &str) -> Vec<&'a serde_json::Value> {
            let messages = messages.as_array().map(Vec::as_slice).unwrap_or_default();
            messages.iter().flat_map(|message| message[key].as_array().map(Vec::as_slice).unwrap_or_default()).collect()
        }
        match self.vendor {
            Vendor::OpenAi | Vendor::AzureOpenAi => parts(&body["messages"], "content")
                .iter()
                .filter(|part| part["type"] == "image_url")
                .map(|part| {
                    let url = part["image_url"]["url"].as_str().unwrap_or_default();
                    let (head, data) = url.split_once(";base64,").expect("an image is a base64 data URL");
                    (head.trim_start_matches("data:").to_owned(), decode(data))
                })
                .collect(),
            Vendor::Anthropic => parts(&body["messages"], "content")
                .iter()
                .filter(|part| part["type"] == "image")
                .map(|part| {
                    let source = &part["source"];
                    assert_eq!(source["type"], "base64", "an Anthropic image source is base64");
                    (
                        source["media_type"].as_str().unwrap_or_default().to_owned(),
                        decode(source["data"].as_str().unwrap_or_default()),
                    )
                })
                .collect(),
            Vendor::Gemini => parts(&body["contents"], "parts")
                .iter()
                .filter_map(|part| part.get("inline_data").or_else(|| part.get("inlineData")))
                .map(|inline| {
                    let media = inline.get("mime_type").or_else(|| inline.get("mimeType"));
                    (
                        media.and_then(|m| m.as_str()).unwrap_or_default().to_owned(),
                        decode(inline["data"].as_str().unwrap_or_default()),
                    )
                })
                .collect(),
        }
    }
}

/// A running fake upstream; it stops when dropped.
pub struct FakeUpstream {
    addr: SocketAddr,
    tls: bool,
    vendor: Vendor,
    recorded: Arc<Mutex<Vec<Recorded>>>,
    abandoned: Arc<AtomicUsize>,
    task: tokio::task::JoinHandle<()>,
}

impl FakeUpstream {
    /// Starts `vendor`'s API on a free port of 127.0.0.1, expecting `key`; over TLS
    /// when `ca` is given.
    ///
    /// # Panics
    ///
    /// When no port can be bound (the tests cannot run anyway).
    pub async fn start(vendor: Vendor, key: &str, ca: Option<&TestCa>) -> Self {
        let recorded = Arc::new(Mutex::new(Vec::new()));
        let abandoned = Arc::new(AtomicUsize::new(0));
        let router = vendor::router(vendor, key.to_owned(), recorded.clone(), abandoned.clone());
        Self::serving(router, vendor, ca, recorded, abandoned).await
    }

    /// Starts a server at `vendor`'s base URL that answers every request with what
    /// `replay` holds at the time, byte for byte: a recorded transcript.
    ///
    /// # Panics
    ///
    /// As [`FakeUpstream::start`].
    pub async fn replaying(vendor: Vendor, ca: Option<&TestCa>, replay: Replay) -> Self {
        let recorded = Arc::new(Mutex::new(Vec::new()));
        let router = replay::router(vendor, replay, recorded.clone());
        Self::serving(router, vendor, ca, recorded, Arc::default()).await
    }

    async fn serving(
        router: axum::Router,
        vendor: Vendor,
        ca: Option<&TestCa>,
        recorded: Arc<Mutex<Vec<Recorded>>>,
        abandoned: Arc<AtomicUsize>,
    ) -> Self {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await.expect("binding 127.0.0.1");
        let addr = listener.local_addr().expect("bound address");
        let acceptor = ca.map(TestCa::acceptor);
        let task = tokio::spawn(serve(listener, router, acceptor));
        Self { addr, tls: ca.is_some(), vendor, recorded, abandoned, task }
    }

    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Its port.
    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// The base URL a provider would use, with `host` as the host name (it must
    /// resolve to 127.0.0.1 for the client), e.g. `https://api.openai.com:PORT/v1`.
    pub fn base_url(&self, host: &str) -> String {
        let scheme = if self.tls { "https" } else { "http" };
        let suffix = if self.vendor == Vendor::OpenAi { "/v1" } else { "" };
        format!("{scheme}://{host}:{}{suffix}", self.addr.port())
    }

    /// How many `fake-slow` streams their client abandoned before the end.
    pub fn abandoned(&self) -> usize {
        self.abandoned.load(Ordering::SeqCst)
    }

    /// Every request received so far.
    pub fn requests(&self) -> Vec<Recorded> {
        self.recorded.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }
}

impl Drop for FakeUpstream {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn serve(listener: tokio::net::TcpListener, router: axum::Router, acceptor: Option<tokio_rustls::TlsAcceptor>) {
    loop {
        let Ok((stream, _)) = listener.accept().await else { continue };
        let _ = stream.set_nodelay(true);
        let service = hyper_util::service::TowerToHyperService::new(router.clone());
        let acceptor = acceptor.clone();
        tokio::spawn(async move {
            let http = hyper::server::conn::http1::Builder::new();
            match acceptor {
                Some(acceptor) => {
                    if let Ok(tls) = acceptor.accept(stream).await {
                        let _ = http.serve_connection(hyper_util::rt::TokioIo::new(tls), service).await;
                    }
                }
                None => {
                    let _ = http.serve_connection(hyper_util::rt::TokioIo::new(stream), service).await;
                }
            }
        });
    }
}
