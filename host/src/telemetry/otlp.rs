//! The OpenTelemetry layer: Airlock's own spans, batched and sent as OTLP protobuf over
//! HTTP. Events (log lines) are not exported: the log's redaction applies to what is
//! written, and a collector is outside it.

use opentelemetry::trace::TracerProvider as _;
use opentelemetry_otlp::{Protocol, SpanExporter, WithExportConfig};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Subscriber};
use tracing_subscriber::layer::Context;
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::{Layer, Registry};

/// The layer exporting to `endpoint` (a collector's base URL; `/v1/traces` is
/// appended) and its provider, whose shutdown sends what is left.
pub(super) fn layer(endpoint: &str) -> anyhow::Result<(Box<dyn Layer<Registry> + Send + Sync>, SdkTracerProvider)> {
    let url = format!("{}/v1/traces", endpoint.trim_end_matches('/'));
    let exporter =
        SpanExporter::builder().with_http().with_protocol(Protocol::HttpBinary).with_endpoint(url).build()?;
    let provider = SdkTracerProvider::builder()
        .with_batch_exporter(exporter)
        .with_resource(Resource::builder().with_service_name("airlock").build())
        .build();
    let layer = tracing_opentelemetry::layer().with_tracer(provider.tracer("airlock"));
    Ok((Box::new(OwnSpans(layer)), provider))
}

/// Passes `L` the spans of Airlock's own code (whose fields are chosen to carry no
/// content) and nothing else: no events, no dependency's spans.
struct OwnSpans<L>(L);

fn own<S: Subscriber + for<'a> LookupSpan<'a>>(id: &Id, ctx: &Context<'_, S>) -> bool {
    ctx.metadata(id).is_some_and(|metadata| metadata.target().starts_with("airlock"))
}

impl<S: Subscriber + for<'a> LookupSpan<'a>, L: Layer<S>> Layer<S> for OwnSpans<L> {
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        if attrs.metadata().target().starts_with("airlock") {
            self.0.on_new_span(attrs, id, ctx);
        }
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: Context<'_, S>) {
        if own(id, &ctx) {
            self.0.on_record(id, values, ctx);
        }
    }

    fn on_event(&self, _event: &Event<'_>, _ctx: Context<'_, S>) {}

    fn on_enter(&self, id: &Id, ctx: Context<'_, S>) {
        if own(id, &ctx) {
            self.0.on_enter(id, ctx);
        }
    }

    fn on_exit(&self, id: &Id, ctx: Context<'_, S>) {
        if own(id, &ctx) {
            self.0.on_exit(id, ctx);
        }
    }

    fn on_close(&self, id: Id, ctx: Context<'_, S>) {
        if own(&id, &ctx) {
            self.0.on_close(id, ctx);
        }
    }
}
