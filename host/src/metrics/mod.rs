//! Prometheus metrics, served as text at `GET /metrics` ([`http::routes`]).
//!
//! One [`Metrics`] registry per server, made by [`crate::runtime::Runtime::new`] and
//! shared from there. Each fact is recorded where it is known: HTTP requests and open
//! streams in the [`http::track`] middleware, plugin calls in the plugins' `guarded`
//! (through a [`PluginCalls`] handle resolved at load, so a call only touches atomics
//! and one short histogram lock), egress refusals in the gate, tokens in
//! `Tenancy::finish`, plugin swaps in `live.rs`, `watch.rs` and the upload endpoint.
//!
//! Labels are bounded: routes are templates (`/v1/generations/{id}`), methods are the
//! standard ones, tenants are the configured ones (or `anonymous`, `operator`).

pub mod http;
mod plugin;

use std::borrow::Cow;
use std::sync::Arc;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

pub use plugin::{CallOutcome, PluginCalls, SwapEvent};

/// Buckets of the HTTP request durations, in seconds (1 ms … 60 s).
const HTTP_BUCKETS: [f64; 14] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0, 30.0, 60.0];

/// Buckets of the plugin call durations, in seconds (5 µs … 10 s).
const PLUGIN_BUCKETS: [f64; 16] =
    [5e-6, 1e-5, 2.5e-5, 5e-5, 1e-4, 2.5e-4, 5e-4, 1e-3, 2.5e-3, 5e-3, 0.01, 0.05, 0.25, 1.0, 2.5, 10.0];

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    route: Arc<str>,
    method: &'static str,
    status: u16,
    tenant: Cow<'static, str>,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteMethodLabels {
    route: Arc<str>,
    method: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    route: Arc<str>,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PluginLabels {
    plugin: Arc<str>,
    kind: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PluginOutcomeLabels {
    plugin: Arc<str>,
    kind: &'static str,
    outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct EgressLabels {
    plugin: Arc<str>,
    reason: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct TokenLabels {
    tenant: String,
    provider: String,
    kind: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct SwapLabels {
    plugin: String,
    kind: &'static str,
    event: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct VersionLabels {
    version: &'static str,
}

type HistogramFamily<L> = Family<L, Histogram, fn() -> Histogram>;

/// The registry and every metric in it.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    http_requests: Family<RequestLabels, Counter>,
    http_duration: HistogramFamily<RouteMethodLabels>,
    active_streams: Family<RouteLabels, Gauge>,
    plugin_calls: Family<PluginOutcomeLabels, Counter>,
    plugin_duration: HistogramFamily<PluginLabels>,
    egress_denied: Family<EgressLabels, Counter>,
    tokens: Family<TokenLabels, Counter>,
    swaps: Family<SwapLabels, Counter>,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// A registry with every metric (and `airlock_build_info` set to 1).
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("airlock");
        let http_requests = Family::default();
        let http_duration = HistogramFamily::new_with_constructor(|| Histogram::new(HTTP_BUCKETS));
        let active_streams = Family::default();
        let plugin_calls = Family::default();
        let plugin_duration = HistogramFamily::new_with_constructor(|| Histogram::new(PLUGIN_BUCKETS));
        let egress_denied = Family::default();
        let tokens = Family::default();
        let swaps = Family::default();
        let build_info = Family::<VersionLabels, Gauge>::default();
        build_info.get_or_create(&VersionLabels { version: env!("CARGO_PKG_VERSION") }).set(1);
        registry.register(
            "http_requests",
            "HTTP requests answered, by route template, method, status and tenant",
            http_requests.clone(),
        );
        registry.register(
            "http_request_duration_seconds",
            "Time from a request to its response's headers",
            http_duration.clone(),
        );
        registry.register("active_streams", "Server-sent-event streams open", active_streams.clone());
        registry.register(
            "plugin_calls",
            "Calls into plugins, by how the guest call ended (ok, trap, timeout, memory, error)",
            plugin_calls.clone(),
        );
        registry.register(
            "plugin_call_duration_seconds",
            "Time of one call into a plugin, instantiation included",
            plugin_duration.clone(),
        );
        registry.register(
            "egress_denied",
            "Outgoing requests of providers the egress gate refused or cut off, by reason",
            egress_denied.clone(),
        );
        registry.register("tokens", "Tokens used by tenants' calls, by provider and kind", tokens.clone());
        registry.register("plugin_swaps", "Plugin versions loaded, activated, rolled back or refused", swaps.clone());
        registry.register("build_info", "The running version (always 1)", build_info);
        Self {
            registry,
            http_requests,
            http_duration,
            active_streams,
            plugin_calls,
            plugin_duration,
            egress_denied,
            tokens,
            swaps,
        }
    }

    /// The handle through which the calls of plugin `name` of `kind` are counted.
    pub fn plugin_calls(&self, name: &Arc<str>, kind: &'static str) -> PluginCalls {
        let outcome = |outcome: CallOutcome| {
            let labels = PluginOutcomeLabels { plugin: name.clone(), kind, outcome: outcome.label() };
            self.plugin_calls.get_or_create_owned(&labels)
        };
        let duration = self.plugin_duration.get_or_create_owned(&PluginLabels { plugin: name.clone(), kind });
        PluginCalls::new(CallOutcome::ALL.map(outcome), duration)
    }

    /// Counts a request of `plugin` the egress gate refused for `reason`.
    pub fn egress_denied(&self, plugin: &Arc<str>, reason: &'static str) {
        self.egress_denied.get_or_create(&EgressLabels { plugin: plugin.clone(), reason }).inc();
    }

    /// Counts the tokens of one tenant's call.
    pub fn tokens(&self, tenant: &str, provider: &str, prompt: u32, completion: u32) {
        for (kind, count) in [("prompt", prompt), ("completion", completion)] {
            let labels = TokenLabels { tenant: tenant.to_owned(), provider: provider.to_owned(), kind };
            self.tokens.get_or_create(&labels).inc_by(u64::from(count));
        }
    }

    /// Counts a swap `event` of plugin `name` of `kind` (`sanitizer`, `provider`, or
    /// `unknown` when it was refused before its world was known).
    pub fn swap(&self, name: &str, kind: &'static str, event: SwapEvent) {
        let labels = SwapLabels { plugin: name.to_owned(), kind, event: event.label() };
        self.swaps.get_or_create(&labels).inc();
    }

    /// The exposition, in the Prometheus text format 0.0.4.
    pub fn exposition(&self) -> String {
        let mut text = String::new();
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::prometheus_text::encode(&mut text, &self.registry);
        text
    }
}
