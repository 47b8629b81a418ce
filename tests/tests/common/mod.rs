//! What the end-to-end provider and generation tests share: a gateway started with a
//! test resolver and a test CA, fake vendor upstreams, and reading its SSE answers.
#![allow(dead_code, unreachable_pub)]

use std::future::Future;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;

use airlock::config::{Config, ProviderConfig};
use airlock::runtime::{EgressEnvironment, StaticLookup};
use airlock::server::Server;
use airlock_fake_upstream::{FakeUpstream, TestCa, Vendor};
use base64::Engine as _;
use serde_json::{Value, json};

/// The key only the host has.
pub const KEY: &str = "sk-host-only-7f3a9c";
/// A tiny PNG (1×1): what a screenshot looks like on the wire.
pub const PNG: &[u8] = &[
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52, 0x00, 0x00, 0x00,
    0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1f, 0x15, 0xc4, 0x89,
];

pub struct Gateway {
    pub base: String,
    /// The control plane's base URL.
    pub admin: String,
    pub client: reqwest::Client,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    serving: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
    pub runtime_stats: Arc<airlock::runtime::EgressStats>,
    /// The owner key `admin init` made before the server started, when asked for.
    pub owner: Option<String>,
    data: tempfile::TempDir,
}

impl Drop for Gateway {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// What a generate call answered: status, and either the stream's events or the error.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub events: Vec<(String, Value)>,
    pub error: Value,
    pub retry_after: Option<String>,
}

impl Answer {
    pub fn text(&self) -> String {
        self.events.iter().filter(|(name, _)| name == "chunk").filter_map(|(_, data)| data["text"].as_str()).collect()
    }

    pub fn event(&self, name: &str) -> Option<&Value> {
        self.events.iter().find(|(n, _)| n == name).map(|(_, data)| data)
    }
}

/// Makes something in the data directory before the server starts (e.g. the owner key).
pub type Prepare = Box<dyn FnOnce(PathBuf) -> Pin<Box<dyn Future<Output = String>>>>;

pub async fn start(ca: &TestCa, names: &[&str], configure: impl FnOnce(&mut Config)) -> Gateway {
    start_prepared(ca, names, configure, None).await
}

pub async fn start_prepared(
    ca: &TestCa,
    names: &[&str],
    configure: impl FnOnce(&mut Config),
    prepare: Option<Prepare>,
) -> Gateway {
    let data = tempfile::tempdir().expect("temp dir");
    let owner = match prepare {
        Some(prepare) => Some(prepare(data.path().to_path_buf()).await),
        None => None,
    };
    let mut config = Config {
        listen: SocketAddr::from(([127, 0, 0, 1], 0)),
        gateway: airlock::config::GatewayConfig {
            admin_listen: Some(SocketAddr::from(([127, 0, 0, 1], 0))),
            ..airlock::config::GatewayConfig::default()
        },
        data_dir: data.path().to_path_buf(),
        shutdown_grace_secs: 2,
        ..Config::default()
    };
    configure(&mut config);
    let loopback = IpAddr::V4(Ipv4Addr::LOCALHOST);
    let lookup = StaticLookup(names.iter().map(|name| ((*name).to_owned(), loopback)).collect());
    let egress = EgressEnvironment {
        lookup: Arc::new(lookup),
        extra_roots: vec![reqwest::Certificate::from_pem(ca.ca_pem().as_bytes()).expect("test CA")],
        stats: Arc::default(),
    };
    let runtime = airlock::plugins::runtime(&config).expect("runtime").with_egress(egress);
    let runtime_stats = runtime.egress_stats().clone();
    let server = Server::bind_with(&config, runtime).await.expect("server starts");
    let address = server.local_addr().expect("address");
    let admin = server.admin_addr().expect("control plane address");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let serving = tokio::spawn(server.run(async move {
        let _ = stopped.await;
    }));
    Gateway {
        base: format!("http://{address}"),
        admin: format!("http://{admin}"),
        client: reqwest::Client::new(),
        stop: Some(stop),
        serving: Some(serving),
        runtime_stats,
        owner,
        data,
    }
}

impl Gateway {
    /// Stops the server gracefully (the audit log is flushed) and returns its data
    /// directory, which lives as long as the gateway.
    pub async fn stop(&mut self) -> PathBuf {
        self.shut_down().await.expect("server stops cleanly");
        self.data.path().to_path_buf()
    }

    /// Sends the shutdown signal and waits for the server to stop: how it ended.
    pub async fn shut_down(&mut self) -> anyhow::Result<()> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        match self.serving.take() {
            Some(serving) => serving.await.expect("server task"),
            None => Ok(()),
        }
    }

    /// POSTs `body` as JSON to the API's `path`, with `key` as bearer when given: the
    /// status and the body's text.
    pub async fn post_json(&self, path: &str, key: Option<&str>, body: &Value) -> (u16, String) {
        let mut request = self.client.post(format!("{}{path}", self.base)).json(body);
        if let Some(key) = key {
            request = request.bearer_auth(key);
        }
        let response = request.send().await.expect("gateway answers");
        let status = response.status().as_u16();
        (status, response.text().await.expect("body"))
    }

    pub async fn generate(&self, provider: &str, body: Value, own_key: Option<&str>) -> Answer {
        let mut request = self.client.post(format!("{}/v1/providers/{provider}/generate", self.base)).json(&body);
        if let Some(key) = own_key {
            request = request.header("x-airlock-provider-key", key);
        }
        let response = request.send().await.expect("gateway answers");
        let status = response.status().as_u16();
        let retry_after = response.headers().get("retry-after").map(|v| v.to_str().unwrap().to_owned());
        let text = response.text().await.expect("body");
        if status != 200 {
            let error = serde_json::from_str(&text).unwrap_or_else(|_| panic!("error is JSON: {text}"));
            return Answer { status, events: Vec::new(), error, retry_after };
        }
        let events = parse_events(&text);
        Answer { status, events, error: Value::Null, retry_after }
    }
}

pub fn screenshot_request(model: &str) -> Value {
    json!({
        "model": model,
        "messages": [
            { "role": "system", "content": "You write single-file HTML pages." },
            { "role": "user", "content": [
                { "type": "text", "text": "Build this page." },
                { "type": "image", "media_type": "image/png", "data": base64::engine::general_purpose::STANDARD.encode(PNG) },
            ]},
        ],
        "max_tokens": 1000,
    })
}

/// A vendor's fake API over TLS under its real host name, and a gateway whose bundled
/// provider `name` is configured to reach it with [`KEY`].
pub async fn vendor_setup(ca: &TestCa, vendor: Vendor, name: &str, host: &str) -> (FakeUpstream, Gateway) {
    vendor_setup_prepared(ca, vendor, name, host, None, |_| {}).await
}

/// As [`vendor_setup`], with `configure` run on the config after the provider's settings.
pub async fn vendor_setup_configured(
    ca: &TestCa,
    vendor: Vendor,
    name: &str,
    host: &str,
    configure: impl FnOnce(&mut Config),
) -> (FakeUpstream, Gateway) {
    vendor_setup_prepared(ca, vendor, name, host, None, configure).await
}

/// As [`vendor_setup`], running `prepare` on the data directory before the server starts;
/// its answer is [`Gateway::owner`].
pub async fn vendor_setup_with(
    ca: &TestCa,
    vendor: Vendor,
    name: &str,
    host: &str,
    prepare: impl FnOnce(PathBuf) -> Pin<Box<dyn Future<Output = String>>> + 'static,
    configure: impl FnOnce(&mut Config),
) -> (FakeUpstream, Gateway) {
    vendor_setup_prepared(ca, vendor, name, host, Some(Box::new(prepare)), configure).await
}

async fn vendor_setup_prepared(
    ca: &TestCa,
    vendor: Vendor,
    name: &str,
    host: &str,
    prepare: Option<Prepare>,
    configure: impl FnOnce(&mut Config),
) -> (FakeUpstream, Gateway) {
    let upstream = FakeUpstream::start(vendor, KEY, Some(ca)).await;
    let port = upstream.port();
    let base_url = upstream.base_url(host);
    let gateway = start_prepared(
        ca,
        &[host],
        |config| {
            config.providers.insert(
                name.into(),
                ProviderConfig {
                    api_key: Some(KEY.into()),
                    base_url: Some(base_url),
                    // The fake listens on 127.0.0.1: the operator marks it local.
                    local_hosts: vec![format!("{host}:{port}").parse().unwrap()],
                    ..ProviderConfig::default()
                },
            );
            configure(config);
        },
        prepare,
    )
    .await;
    (upstream, gateway)
}

/// The test PNG, base64-encoded.
pub fn image_base64() -> String {
    base64::engine::general_purpose::STANDARD.encode(PNG)
}

/// The events of an SSE body: (name, JSON data).
pub fn parse_events(text: &str) -> Vec<(String, Value)> {
    text.split("\n\n")
        .filter_map(|block| {
            let name = block.lines().find_map(|l| l.strip_prefix("event: "))?;
            let data = block.lines().find_map(|l| l.strip_prefix("data: "))?;
            Some((name.to_owned(), serde_json::from_str(data).expect("event data is JSON")))
        })
        .collect()
}

/// A [`Prepare`] that makes the first owner before the server starts; its key is then
/// [`Gateway::owner`].
pub fn make_owner(data: PathBuf) -> Pin<Box<dyn Future<Output = String>>> {
    Box::pin(async move {
        let tenancy = airlock::tenancy::Tenancy::open(&data).await.expect("tenancy opens");
        let (_, key) = tenancy.init_owner("test owner").await.expect("first owner");
        tenancy.audit().flush().await;
        key.key.to_string()
    })
}

/// What `probe` gives once `done` holds for it: for effects that are recorded
/// asynchronously (audit records, metrics of a stream's end), which a test must wait for
/// rather than read once. Gives up after 20 s (a loaded machine) and returns the last
/// value, for the test's own assertions to explain.
pub async fn eventually<T, F: Future<Output = T>>(mut probe: impl FnMut() -> F, done: impl Fn(&T) -> bool) -> T {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let value = probe().await;
        if done(&value) || std::time::Instant::now() > deadline {
            return value;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

/// Creates tenant `tenant` with the owner's key and returns a new API key of it.
pub async fn tenant_key(gateway: &Gateway, tenant: &str) -> String {
    let owner = gateway.owner.as_deref().expect("a gateway started with `make_owner`");
    let mut key = None;
    for (path, body) in [("/v1/tenants", json!({ "id": tenant })), ("/v1/keys", json!({ "tenant": tenant }))] {
        let response = gateway
            .client
            .post(format!("{}{path}", gateway.admin))
            .bearer_auth(owner)
            .json(&body)
            .send()
            .await
            .expect("control plane answers");
        assert_eq!(response.status(), 201, "{path}");
        key = response.json::<Value>().await.expect("JSON")["key"].as_str().map(str::to_owned);
    }
    key.expect("the new key")
}
