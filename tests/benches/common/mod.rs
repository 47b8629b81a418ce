//! What the gateway benchmarks share: a server with the bundled `openai-compatible`
//! provider in front of a fake OpenAI upstream on 127.0.0.1, and percentiles.
// Each benchmark uses its own part of this module.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use airlock::config::{Config, GatewayConfig, ProviderConfig};
use airlock::server::Server;
use airlock_fake_upstream::{FakeUpstream, Vendor};

/// The key the fake upstream expects.
pub const KEY: &str = "sk-bench-key";

/// A running server and the upstream behind it; both live as long as this.
pub struct Bench {
    /// The fake OpenAI.
    pub upstream: FakeUpstream,
    /// The API's base URL.
    pub base: String,
    /// The control plane's base URL.
    pub admin: String,
    _data: tempfile::TempDir,
}

/// Starts the upstream and the server; `prepare` runs on the data directory first
/// (e.g. to make an owner key).
pub async fn start(prepare: impl AsyncFnOnce(&Path)) -> Bench {
    let upstream = FakeUpstream::start(Vendor::OpenAi, KEY, None).await;
    let data = tempfile::tempdir().expect("temp dir");
    prepare(data.path()).await;
    let mut config = Config {
        listen: SocketAddr::from(([127, 0, 0, 1], 0)),
        gateway: GatewayConfig {
            admin_listen: Some(SocketAddr::from(([127, 0, 0, 1], 0))),
            ..GatewayConfig::default()
        },
        data_dir: data.path().to_path_buf(),
        ..Config::default()
    };
    config.providers.insert(
        "openai-compatible".into(),
        ProviderConfig {
            api_key: Some(KEY.into()),
            base_url: Some(format!("http://127.0.0.1:{}/v1", upstream.port())),
            ..ProviderConfig::default()
        },
    );
    let server = Server::bind(&config).await.expect("server");
    let base = format!("http://{}", server.local_addr().expect("address"));
    let admin = format!("http://{}", server.admin_addr().expect("control plane"));
    tokio::spawn(server.run(std::future::pending()));
    Bench { upstream, base, admin, _data: data }
}

/// The `p` quantile (0..=1) of `samples`, which it sorts.
pub fn percentile(samples: &mut [Duration], p: f64) -> Duration {
    samples.sort();
    samples[((samples.len() as f64 - 1.0) * p).round() as usize]
}

/// `duration` in microseconds.
pub fn micros(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1e6
}
