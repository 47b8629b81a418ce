//! Airlock: turns screenshots into front-end code with LLMs, and serves as a
//! multi-tenant LLM gateway, with every provider adapter and output sanitizer running as
//! a sandboxed WebAssembly component.
//!
//! The crate is a map:
//! - [`runtime`]: the sandbox (engine, linkers, limits, plugin loading and calls);
//! - [`plugins`]: the set of loaded plugins (bundled and configured);
//! - [`api`]: HTTP routes;
//! - [`config`]: the layered configuration;
//! - [`metrics`]: the Prometheus metrics; [`telemetry`]: request spans, exported over OTLP;
//! - [`cli`]: the `airlock` command line.
#![deny(missing_docs)]

pub mod api;
pub mod chain;
pub mod cli;
pub mod config;
pub mod conformance;
pub mod generation;
pub mod live;
pub mod log_redaction;
pub mod metrics;
pub mod plugins;
pub mod registry_store;
pub mod runtime;
pub mod serve;
pub mod server;
pub mod signature;
pub mod store;
pub mod telemetry;
pub mod tenancy;
pub mod validate;
pub mod watch;

/// Components built from the guest crates under `sanitizers/`, embedded at build time.
pub mod bundled {
    include!(concat!(env!("OUT_DIR"), "/bundled.rs"));
}
