//! Metrics and traces: where they are served and sent.

use serde::{Deserialize, Serialize};

/// `[metrics]`: the Prometheus endpoint.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MetricsConfig {
    /// Also serve `GET /metrics` on the API listener, without a key. By default false:
    /// it is served on the control plane's listener only (`gateway.admin_listen`),
    /// since its labels name tenants.
    pub public: bool,
}

/// `[telemetry]`: traces.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TelemetryConfig {
    /// An OTLP/HTTP collector's base URL (e.g. `http://127.0.0.1:4318`) to export
    /// spans to (`/v1/traces` is appended). Needs a build with the `otel` feature.
    pub otlp_endpoint: Option<String>,
}
