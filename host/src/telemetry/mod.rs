//! Traces: a span per request, exported over OTLP/HTTP when the binary is built with
//! the `otel` feature and `telemetry.otlp_endpoint` is set.
//!
//! `main` puts [`layer`] on the subscriber before the configuration is read; `serve`
//! then calls [`install`], which fills it with the OpenTelemetry layer. Until then
//! (and always without an endpoint) no request span is made, so logs and the hot path
//! are as without tracing. A span carries the route template, the method, the status
//! and the request id: never a body, a header or a query string.

#[cfg(feature = "otel")]
mod otlp;

use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};

use tracing_subscriber::{Layer, Registry, reload};

use crate::config::TelemetryConfig;

/// The layer slot [`install`] fills.
type Slot = Option<Box<dyn Layer<Registry> + Send + Sync>>;

static SLOT: OnceLock<reload::Handle<Slot, Registry>> = OnceLock::new();
static EXPORTING: AtomicBool = AtomicBool::new(false);

/// The empty layer to put first on the registry; [`install`] fills it.
pub fn layer() -> reload::Layer<Slot, Registry> {
    let (layer, handle) = reload::Layer::new(None);
    let _ = SLOT.set(handle);
    layer
}

/// Spans are exported until this is dropped, which sends the last ones.
pub struct Exporting {
    #[cfg(feature = "otel")]
    provider: opentelemetry_sdk::trace::SdkTracerProvider,
}

impl Drop for Exporting {
    fn drop(&mut self) {
        EXPORTING.store(false, Ordering::Relaxed);
        #[cfg(feature = "otel")]
        if let Err(error) = self.provider.shutdown() {
            tracing::warn!(%error, "the last spans could not be exported");
        }
    }
}

/// Starts exporting spans to `config.otlp_endpoint`, if set; call it outside an async
/// context (the exporter's client blocks on its own thread).
///
/// A build without the `otel` feature logs a warning and exports nothing: traces are
/// an aid, and refusing to start over one would turn a packaging choice into an outage.
///
/// # Errors
///
/// When the exporter cannot be built (a malformed endpoint).
pub fn install(config: &TelemetryConfig) -> anyhow::Result<Option<Exporting>> {
    let Some(endpoint) = config.otlp_endpoint.as_deref() else { return Ok(None) };
    #[cfg(feature = "otel")]
    {
        let (layer, provider) = otlp::layer(endpoint)?;
        if let Some(slot) = SLOT.get() {
            slot.reload(Some(layer))?;
            EXPORTING.store(true, Ordering::Relaxed);
        }
        tracing::info!(endpoint, "exporting traces over OTLP/HTTP");
        Ok(Some(Exporting { provider }))
    }
    #[cfg(not(feature = "otel"))]
    {
        tracing::warn!(
            endpoint,
            "`telemetry.otlp_endpoint` is set but this airlock was built without the `otel` feature: no traces are exported"
        );
        Ok(None)
    }
}

/// The span of one request, or a disabled one when no spans are exported.
pub fn request_span(route: &str, method: &str, request_id: &str) -> tracing::Span {
    if !EXPORTING.load(Ordering::Relaxed) {
        return tracing::Span::none();
    }
    tracing::info_span!(
        "request",
        otel.name = format!("{method} {route}"),
        otel.kind = "server",
        http.route = route,
        http.request.method = method,
        http.response.status_code = tracing::field::Empty,
        request_id,
    )
}
