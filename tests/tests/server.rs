//! The HTTP server with hostile plugins loaded: their requests fail with clear JSON
//! errors while other requests keep being served.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;

use airlock::config::{Config, SanitizerConfig};
use airlock::runtime::Limits;
use airlock::server::Server;
use airlock_tests::guests;
use serde_json::{Value, json};

struct Running {
    base: String,
    client: reqwest::Client,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    serving: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
    _data: tempfile::TempDir,
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

async fn start(plugins: &[&str], limits: Limits) -> Running {
    let data = tempfile::tempdir().expect("temp dir");
    let mut config = Config {
        listen: SocketAddr::from(([127, 0, 0, 1], 0)),
        gateway: airlock::config::GatewayConfig {
            admin_listen: Some(SocketAddr::from(([127, 0, 0, 1], 0))),
            ..airlock::config::GatewayConfig::default()
        },
        data_dir: data.path().to_path_buf(),
        shutdown_grace_secs: 5,
        max_body_kib: 64,
        plugins: plugins.iter().map(PathBuf::from).collect(),
        ..Config::default()
    };
    for name in ["hostile-loop", "hostile-memory-bomb", "hostile-panic"] {
        config.sanitizers.insert(name.into(), SanitizerConfig { limits, options: BTreeMap::new() });
    }
    let server = Server::bind(&config).await.expect("server starts");
    let address = server.local_addr().expect("address");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let serving = tokio::spawn(server.run(async move {
        let _ = stopped.await;
    }));
    Running {
        base: format!("http://{address}"),
        client: reqwest::Client::new(),
        stop: Some(stop),
        serving: Some(serving),
        _data: data,
    }
}

impl Running {
    async fn sanitize(&self, body: Value) -> (u16, Value, Option<String>) {
        let response = self.client.post(format!("{}/v1/sanitize", self.base)).json(&body).send().await.expect("send");
        let status = response.status().as_u16();
        let plugins = response.headers().get("x-airlock-plugins").map(|v| v.to_str().unwrap().to_owned());
        (status, response.json().await.expect("JSON body"), plugins)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_plugins_fail_alone_and_the_server_keeps_serving() {
    let limits = Limits { memory_mib: 32, cpu_ms: 300, ..Limits::default() };
    let server =
        start(&[guests::HOSTILE_LOOP, guests::HOSTILE_MEMORY_BOMB, guests::HOSTILE_PANIC, guests::NOOP], limits).await;

    let hostile = async {
        tokio::join!(
            server.sanitize(json!({ "plugin": "hostile-loop", "content": "x" })),
            server.sanitize(json!({ "plugin": "hostile-memory-bomb", "content": "x" })),
            server.sanitize(json!({ "plugin": "hostile-panic", "content": "x" })),
        )
    };
    let bystanders = async {
        let mut answers = Vec::new();
        for n in 0..30 {
            answers.push(server.sanitize(json!({ "plugin": "noop", "content": format!("request {n}") })).await);
        }
        answers
    };
    let ((looped, bombed, panicked), answers) = tokio::join!(hostile, bystanders);

    for (n, (status, body, plugins)) in answers.into_iter().enumerate() {
        assert_eq!(status, 200, "{body}");
        assert_eq!(body, json!({ "verdict": "pass", "text": format!("request {n}"), "findings": [] }));
        assert_eq!(plugins.as_deref(), Some("noop@0.1.0"));
    }
    let error = |answer: &(u16, Value, Option<String>)| {
        (answer.0, answer.1["error"]["type"].clone(), answer.1["error"]["message"].clone())
    };
    assert_eq!(
        error(&looped),
        (500, json!("plugin_limit_exceeded"), json!("plugin `hostile-loop` exceeded its CPU budget of 300 ms"))
    );
    assert_eq!(
        error(&bombed),
        (
            500,
            json!("plugin_limit_exceeded"),
            json!("plugin `hostile-memory-bomb` exceeded its memory limit of 32 MiB")
        )
    );
    assert_eq!(
        error(&panicked),
        (500, json!("plugin_crashed"), json!("plugin `hostile-panic` panicked: hostile guest gave up on 1 bytes"))
    );
    assert!(looped.1["error"]["request_id"].as_str().is_some_and(|id| id.len() == 36), "{}", looped.1);

    let health = server.client.get(format!("{}/healthz", server.base)).send().await.expect("healthz");
    assert_eq!(health.status(), 200);
}

#[tokio::test]
async fn bad_requests_get_json_errors() {
    let server = start(&[guests::NOOP], Limits::default()).await;
    let (status, body, _) = server.sanitize(json!({ "plugin": "nope", "content": "x" })).await;
    assert_eq!((status, body["error"]["type"].as_str()), (404, Some("not_found")));
    assert_eq!(body["error"]["message"], "no plugin called `nope` is loaded");

    let (status, body, _) = server.sanitize(json!({ "plugin": "noop" })).await;
    assert_eq!((status, body["error"]["type"].as_str()), (422, Some("invalid_request")));
    assert!(body["error"]["message"].as_str().unwrap().contains("missing field `content`"), "{body}");

    let response = server
        .client
        .post(format!("{}/v1/sanitize", server.base))
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .expect("send");
    assert_eq!(response.status(), 400);
    let body: Value = response.json().await.expect("JSON");
    assert_eq!(body["error"]["type"], "invalid_request");

    let (status, body, _) = server.sanitize(json!({ "plugin": "noop", "content": "x".repeat(100 * 1024) })).await;
    assert_eq!((status, body["error"]["type"].as_str()), (413, Some("body_too_large")), "{body}");

    let response = server.client.get(format!("{}/no/such/route", server.base)).send().await.expect("send");
    assert_eq!(response.status(), 404);
    let request_id = response.headers().get("x-request-id").expect("request id header").to_str().unwrap().to_owned();
    let body: Value = response.json().await.expect("JSON");
    assert_eq!(body["error"]["request_id"], request_id.as_str());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_lets_in_flight_requests_finish_then_stops() {
    let limits = Limits { cpu_ms: 300, ..Limits::default() };
    let mut server = start(&[guests::HOSTILE_LOOP], limits).await;
    let ready = server.client.get(format!("{}/readyz", server.base)).send().await.expect("readyz");
    assert_eq!(ready.status(), 200);
    assert_eq!(ready.json::<Value>().await.expect("JSON")["status"], "ready");

    let stop = server.stop.take().expect("stop");
    let (in_flight, ()) = tokio::join!(server.sanitize(json!({ "plugin": "hostile-loop", "content": "x" })), async {
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        stop.send(()).expect("server still running");
    });
    assert_eq!(in_flight.0, 500, "the in-flight request got its answer: {}", in_flight.1);
    assert_eq!(in_flight.1["error"]["type"], "plugin_limit_exceeded");

    server.serving.take().expect("serving").await.expect("task").expect("clean shutdown");
    assert!(server.client.get(format!("{}/healthz", server.base)).send().await.is_err(), "still accepting");
}
