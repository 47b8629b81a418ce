//! The egress gate: the one place every outgoing request of a provider passes.
//!
//! It is the `wasi:http` hook of a provider's store ([`CallHooks`]), so a guest has no
//! other way to the network. For each request, in order:
//! 1. the destination (scheme, host, port) must be allowed by the plugin's
//!    [`EgressPolicy`] — manifest **and** operator — and an IP literal must not be a
//!    forbidden address;
//! 2. the credential is put on the request ([`credential::apply`]) — only for hosts the
//!    credential is bound to, replacing whatever the guest put there;
//! 3. the body is read up to its cap;
//! 4. the request goes out on the plugin's own client, whose resolver drops forbidden
//!    addresses and which follows no redirects and uses no proxy, under connect,
//!    first-byte and total deadlines; the response body is capped as it streams.
//!
//! A refusal reaches the guest as `HttpRequestDenied`; the host keeps the reason (see
//! [`CallHooks::refusals`]), logs it with the plugin's name and counts it (in
//! [`EgressStats`] and `airlock_egress_denied_total`).

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use http_body_util::BodyExt;
use wasmtime_wasi_http::{
    DEFAULT_FORBIDDEN_HEADERS, Error, ForbiddenHeaderFilter, RequestOptions, WasiBody, WasiHttpHooks,
};

use super::credential::{self, Credential, Placement};
use super::policy::{AllowedHost, Denial, EgressPolicy};
use super::resolve::{CheckedResolver, NameLookup};
use crate::metrics::Metrics;

/// Caps on one outgoing request. Every field has a default; see README.md.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EgressLimits {
    /// Milliseconds to establish the connection (TCP and TLS). Default 10 000.
    pub connect_ms: u64,
    /// Milliseconds from sending to the response's head. Default 60 000.
    pub first_byte_ms: u64,
    /// Milliseconds for the whole exchange, body included. Default 600 000.
    pub total_ms: u64,
    /// Largest request body, in KiB. Default 32 768 (images travel base64-encoded).
    pub request_kib: u64,
    /// Largest response body, in KiB. Default 16 384.
    pub response_kib: u64,
}

impl Default for EgressLimits {
    fn default() -> Self {
        Self {
            connect_ms: 10_000,
            first_byte_ms: 60_000,
            total_ms: 600_000,
            request_kib: 32 << 10,
            response_kib: 16 << 10,
        }
    }
}

impl EgressLimits {
    fn request_bytes(&self) -> u64 {
        self.request_kib.saturating_mul(1024)
    }

    fn response_bytes(&self) -> u64 {
        self.response_kib.saturating_mul(1024)
    }

    /// The deadlines, shortened (never lengthened) by what the guest asked for.
    fn deadlines(&self, options: Option<RequestOptions>) -> (Duration, Duration) {
        let first_byte = Duration::from_millis(self.first_byte_ms);
        let guest = options.and_then(|options| options.first_byte_timeout).unwrap_or(first_byte);
        (first_byte.min(guest), Duration::from_millis(self.total_ms))
    }
}

/// Why the gate refused or cut off a request.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// The destination is not allowed.
    #[error("egress denied: {0}")]
    Denied(#[from] Denial),
    /// The request body is over its cap.
    #[error("the request body is larger than the egress limit of {limit_kib} KiB")]
    RequestTooLarge {
        /// The cap.
        limit_kib: u64,
    },
    /// The response body went over its cap.
    #[error("the upstream's response body is larger than the egress limit of {limit_kib} KiB")]
    ResponseTooLarge {
        /// The cap.
        limit_kib: u64,
    },
}

impl Refusal {
    /// A short, stable name for logs and metrics (the `reason` label).
    pub fn kind(&self) -> &'static str {
        match self {
            Refusal::Denied(Denial::HostNotAllowed { .. }) => "host_not_allowed",
            Refusal::Denied(Denial::InsecureScheme { .. }) => "insecure_scheme",
            Refusal::Denied(Denial::ForbiddenAddress { .. }) => "forbidden_address",
            Refusal::RequestTooLarge { .. } => "request_too_large",
            Refusal::ResponseTooLarge { .. } => "response_too_large",
        }
    }
}

/// Counters of what the gates did, by outcome: `sent`, `key_added`, and each
/// [`Refusal::kind`].
#[derive(Debug, Default)]
pub struct EgressStats(Mutex<BTreeMap<&'static str, u64>>);

impl EgressStats {
    fn count(&self, what: &'static str) {
        *self.0.lock().unwrap_or_else(PoisonError::into_inner).entry(what).or_default() += 1;
    }

    /// A copy of the counters.
    pub fn snapshot(&self) -> BTreeMap<&'static str, u64> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }
}

/// What one provider's gate is built from.
pub struct GateConfig {
    /// The plugin's name, for logs.
    pub plugin: Arc<str>,
    /// Where it may go.
    pub policy: EgressPolicy,
    /// Where its manifest puts the credential.
    pub placement: Placement,
    /// The operator's credential for it, if any.
    pub credential: Option<Arc<Credential>>,
    /// The hosts a caller's own key is bound to.
    pub credential_hosts: Vec<AllowedHost>,
    /// The caps.
    pub limits: EgressLimits,
    /// Extra trusted CA certificates (PEM), besides the system's roots.
    pub extra_roots: Vec<reqwest::Certificate>,
    /// How names are resolved.
    pub lookup: Arc<dyn NameLookup>,
    /// Where outcomes are counted.
    pub stats: Arc<EgressStats>,
    /// Where refusals are counted for `/metrics`.
    pub metrics: Arc<Metrics>,
}

/// One provider's gate: its policy, its credential and its own HTTP client.
pub struct Gate {
    plugin: Arc<str>,
    policy: EgressPolicy,
    placement: Placement,
    credential: Option<Arc<Credential>>,
    credential_hosts: Vec<AllowedHost>,
    limits: EgressLimits,
    client: reqwest::Client,
    stats: Arc<EgressStats>,
    metrics: Arc<Metrics>,
}

impl std::fmt::Debug for Gate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Gate").field("plugin", &self.plugin).field("policy", &self.policy).finish_non_exhaustive()
    }
}

impl Gate {
    /// Builds the gate and its client.
    ///
    /// # Errors
    ///
    /// When the TLS client cannot be built.
    pub fn new(config: GateConfig) -> anyhow::Result<Self> {
        let resolver = CheckedResolver::new(config.lookup, config.policy.local_hosts());
        let mut builder = reqwest::Client::builder()
            .use_rustls_tls()
            .no_proxy()
            .tcp_nodelay(true)
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(Duration::from_millis(config.limits.connect_ms))
            .dns_resolver(Arc::new(resolver))
            .pool_idle_timeout(Duration::from_secs(60));
        for root in config.extra_roots {
            builder = builder.add_root_certificate(root);
        }
        Ok(Self {
            plugin: config.plugin,
            policy: config.policy,
            placement: config.placement,
            credential: config.credential,
            credential_hosts: config.credential_hosts,
            limits: config.limits,
            client: builder.build()?,
            stats: config.stats,
            metrics: config.metrics,
        })
    }

    /// The hooks for one call's store; `own_key` is a bring-your-own key that replaces
    /// the operator's for this call (with the same host binding).
    pub fn hooks(self: &Arc<Self>, own_key: Option<Arc<Credential>>) -> CallHooks {
        CallHooks { gate: self.clone(), own_key, refusals: Arc::default() }
    }

    /// The plugin's policy.
    pub fn policy(&self) -> &EgressPolicy {
        &self.policy
    }

    /// The hosts a caller's own key is bound to.
    pub fn credential_hosts(&self) -> &[AllowedHost] {
        &self.credential_hosts
    }

    /// Whether the operator configured a key.
    pub fn has_credential(&self) -> bool {
        self.credential.is_some()
    }

    fn refuse(&self, refusal: Refusal, refusals: &Mutex<Vec<Refusal>>) -> Error {
        tracing::warn!(plugin = %self.plugin, kind = refusal.kind(), reason = %refusal, "egress refused");
        self.stats.count(refusal.kind());
        self.metrics.egress_denied(&self.plugin, refusal.kind());
        refusals.lock().unwrap_or_else(PoisonError::into_inner).push(refusal);
        Error::HttpRequestDenied
    }

    async fn send(
        self: Arc<Self>,
        request: http::Request<WasiBody>,
        options: Option<RequestOptions>,
        own_key: Option<Arc<Credential>>,
        refusals: Arc<Mutex<Vec<Refusal>>>,
    ) -> Result<http::Response<WasiBody>, Error> {
        let (mut parts, body) = request.into_parts();
        let destination = {
            let uri = &parts.uri;
            let host = uri.host().ok_or(Error::HttpRequestUriInvalid)?;
            let checked =
                self.policy.check(uri.scheme_str().unwrap_or("https"), host, uri.port_u16()).and_then(|destination| {
                    match host.trim_start_matches('[').trim_end_matches(']').parse::<IpAddr>() {
                        // The client does not resolve IP literals, so they are checked here.
                        Ok(address) => destination.check_address(address).map(|()| destination),
                        Err(_) => Ok(destination),
                    }
                });
            checked.map_err(|denial| self.refuse(denial.into(), &refusals))?
        };
        parts.headers.remove(http::header::HOST);
        let credential = own_key.as_deref().or(self.credential.as_deref());
        if credential::apply(&self.placement, credential, &destination, &mut parts) == credential::Applied::Key {
            self.stats.count("key_added");
        }
        let limit = self.limits.request_bytes();
        let body = read_capped(body, limit)
            .await?
            .ok_or_else(|| self.refuse(Refusal::RequestTooLarge { limit_kib: self.limits.request_kib }, &refusals))?;

        let (first_byte, total) = self.limits.deadlines(options);
        let url = parts.uri.to_string();
        let outgoing = self.client.request(parts.method, url).headers(parts.headers).body(body).timeout(total).send();
        let response = match tokio::time::timeout(first_byte, outgoing).await {
            Err(_elapsed) => return Err(Error::ConnectionReadTimeout),
            Ok(Err(error)) => return Err(self.classify(&error, &refusals)),
            Ok(Ok(response)) => response,
        };
        self.stats.count("sent");

        let mut head = http::Response::builder().status(response.status()).version(response.version());
        if let Some(headers) = head.headers_mut() {
            headers.extend(response.headers().iter().map(|(name, value)| (name.clone(), value.clone())));
        }
        let body = CappedBody {
            stream: Box::pin(response.bytes_stream()),
            remaining: self.limits.response_bytes(),
            gate: self.clone(),
            refusals,
        };
        head.body(body.boxed_unsync()).map_err(|error| Error::InternalError(Some(error.to_string())))
    }

    /// Maps a client error to the guest's error code, recording a resolver denial.
    fn classify(&self, error: &reqwest::Error, refusals: &Mutex<Vec<Refusal>>) -> Error {
        let mut source: Option<&(dyn std::error::Error + 'static)> = Some(error);
        while let Some(cause) = source {
            if let Some(denial) = cause.downcast_ref::<Denial>() {
                return self.refuse(denial.clone().into(), refusals);
            }
            source = cause.source();
        }
        tracing::info!(plugin = %self.plugin, error = %error_chain(error), "egress request failed");
        if error.is_timeout() {
            Error::ConnectionTimeout
        } else if let Some(tls) = tls_error(error) {
            tls
        } else if error.is_connect() {
            Error::ConnectionRefused
        } else {
            Error::InternalError(Some(error_chain(error)))
        }
    }
}

/// The TLS failure in a client error's chain, if there is one.
fn tls_error(error: &reqwest::Error) -> Option<Error> {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(cause) = source {
        let tls = cause
            .downcast_ref::<rustls::Error>()
            .or_else(|| cause.downcast_ref::<std::io::Error>()?.get_ref()?.downcast_ref::<rustls::Error>());
        if let Some(tls) = tls {
            return Some(match tls {
                rustls::Error::InvalidCertificate(_) | rustls::Error::NoCertificatesPresented => {
                    Error::TlsCertificateError
                }
                _ => Error::TlsProtocolError,
            });
        }
        source = cause.source();
    }
    None
}

fn error_chain(error: &reqwest::Error) -> String {
    let mut text = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// Reads a guest's request body, or `None` when it is longer than `limit` bytes.
async fn read_capped(mut body: WasiBody, limit: u64) -> Result<Option<Bytes>, Error> {
    let mut collected = Vec::new();
    while let Some(frame) = body.frame().await {
        if let Ok(data) = frame?.into_data() {
            if (collected.len() + data.len()) as u64 > limit {
                return Ok(None);
            }
            collected.extend_from_slice(&data);
        }
    }
    Ok(Some(Bytes::from(collected)))
}

/// A response body that ends with an error once it passes its cap.
struct CappedBody {
    stream: Pin<Box<dyn Stream<Item = reqwest::Result<Bytes>> + Send>>,
    remaining: u64,
    gate: Arc<Gate>,
    refusals: Arc<Mutex<Vec<Refusal>>>,
}

impl http_body::Body for CappedBody {
    type Data = Bytes;
    type Error = Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, Error>>> {
        match self.stream.poll_next_unpin(cx) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(None) => Poll::Ready(None),
            Poll::Ready(Some(Err(error))) if error.is_timeout() => Poll::Ready(Some(Err(Error::HttpResponseTimeout))),
            Poll::Ready(Some(Err(_))) => Poll::Ready(Some(Err(Error::HttpResponseIncomplete))),
            Poll::Ready(Some(Ok(data))) => {
                let Some(remaining) = self.remaining.checked_sub(data.len() as u64) else {
                    let limit_kib = self.gate.limits.response_kib;
                    let error = self.gate.refuse(Refusal::ResponseTooLarge { limit_kib }, &self.refusals);
                    self.remaining = 0;
                    self.stream = Box::pin(futures_util::stream::empty());
                    return Poll::Ready(Some(Err(match error {
                        Error::HttpRequestDenied => Error::HttpResponseBodySize(Some(limit_kib * 1024)),
                        other => other,
                    })));
                };
                self.remaining = remaining;
                Poll::Ready(Some(Ok(http_body::Frame::data(data))))
            }
        }
    }
}

/// The `wasi:http` hooks of one call: every request goes through [`Gate`].
pub struct CallHooks {
    gate: Arc<Gate>,
    own_key: Option<Arc<Credential>>,
    refusals: Arc<Mutex<Vec<Refusal>>>,
}

impl CallHooks {
    /// What the gate refused during this call, in order.
    pub fn refusals(&self) -> Vec<Refusal> {
        self.refusals.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }
}

type IoFuture = Box<dyn Future<Output = Result<(), Error>> + Send>;

impl WasiHttpHooks for CallHooks {
    fn forbidden_header_filter(&mut self) -> ForbiddenHeaderFilter {
        let credential_header = self.gate.placement.header_name().cloned();
        Arc::new(move |name| DEFAULT_FORBIDDEN_HEADERS.contains(name) || credential_header.as_ref() == Some(name))
    }

    fn send_request(
        &mut self,
        request: http::Request<WasiBody>,
        options: Option<RequestOptions>,
        _response_error: IoFuture,
    ) -> Box<dyn Future<Output = Result<(http::Response<WasiBody>, IoFuture), Error>> + Send> {
        let send = self.gate.clone().send(request, options, self.own_key.clone(), self.refusals.clone());
        Box::new(async move {
            let response = send.await?;
            Ok((response, Box::new(async { Ok(()) }) as IoFuture))
        })
    }
}
