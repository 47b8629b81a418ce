//! How the API listener talks to clients: TLS, and the limits that keep slow or
//! greedy clients from exhausting the server.

use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// TLS termination on the API listener (`[tls]`): without it the listener speaks plain
/// HTTP, e.g. behind a reverse proxy that terminates TLS.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsConfig {
    /// PEM file with the certificate chain, leaf first.
    pub cert_file: PathBuf,
    /// PEM file with the private key (PKCS#8, PKCS#1 or SEC1).
    pub key_file: PathBuf,
    /// How often the two files are checked for changes, in seconds; a changed pair is
    /// loaded for new connections without a restart. Default 10.
    #[serde(default = "default_reload_secs")]
    pub reload_secs: u64,
    /// `max-age` of the `Strict-Transport-Security` header sent on every response, in
    /// seconds. Default two years; 0 sends no header.
    #[serde(default = "default_hsts_max_age")]
    pub hsts_max_age_secs: u64,
}

fn default_reload_secs() -> u64 {
    10
}

fn default_hsts_max_age() -> u64 {
    63_072_000
}

impl TlsConfig {
    /// The interval between checks of the certificate files.
    pub fn reload_interval(&self) -> Duration {
        Duration::from_secs(self.reload_secs.max(1))
    }

    /// The `Strict-Transport-Security` value, unless turned off.
    pub fn hsts(&self) -> Option<String> {
        (self.hsts_max_age_secs > 0).then(|| format!("max-age={}; includeSubDomains", self.hsts_max_age_secs))
    }
}

/// Limits on connections and requests of the API listener (`[limits]`). Per-tenant
/// limits are the tenants' quotas (see the control plane).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TransportLimits {
    /// Open connections; further clients wait in the kernel's accept queue. Default 4 096.
    pub max_connections: u32,
    /// Requests in progress at once, streams included until they end; more get a 503
    /// with `retry-after`. Default 1 024.
    pub max_concurrent_requests: u32,
    /// Calls that stream from a provider at once: screenshot generations, provider
    /// streams and chat completions (streamed or not); more get a 503 with
    /// `retry-after`. Default 256.
    pub max_concurrent_streams: u32,
    /// Seconds a client has to send a request's headers (and to finish the TLS
    /// handshake) before the connection is closed: slowloris. Default 10.
    pub header_read_timeout_secs: u64,
    /// Seconds the body may stall between two pieces before the request fails with a
    /// 408. Default 30.
    pub body_read_timeout_secs: u64,
}

impl Default for TransportLimits {
    fn default() -> Self {
        Self {
            max_connections: 4096,
            max_concurrent_requests: 1024,
            max_concurrent_streams: 256,
            header_read_timeout_secs: 10,
            body_read_timeout_secs: 30,
        }
    }
}

impl TransportLimits {
    /// The time a client has to send its headers.
    pub fn header_read_timeout(&self) -> Duration {
        Duration::from_secs(self.header_read_timeout_secs.max(1))
    }

    /// The longest pause allowed while a body arrives.
    pub fn body_read_timeout(&self) -> Duration {
        Duration::from_secs(self.body_read_timeout_secs.max(1))
    }
}
