//! The API listener against hostile and unlucky clients: TLS with a certificate renewed
//! while it runs (and a botched renewal), HSTS and the security headers, a slowloris
//! client, a stalled body, and the instance's caps on requests and streams.

mod common;

use std::net::SocketAddr;
use std::path::Path;
use std::time::{Duration, Instant};

use airlock::config::{TlsConfig, TransportLimits};
use airlock::runtime::Limits;
use airlock_fake_upstream::{TestCa, Vendor};
use common::screenshot_request;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// The fake OpenAI's host name (served by the fake upstream's own test CA).
const HOST: &str = "api.openai.com";

fn write_pair(ca: &TestCa, dir: &Path) {
    let (cert, key) = ca.server_pem();
    std::fs::write(dir.join("key.pem"), key).unwrap();
    std::fs::write(dir.join("cert.pem"), cert).unwrap();
}

/// A client that trusts only `ca` and sends `localhost` to the server's address.
fn trusting(ca: &TestCa, address: SocketAddr) -> reqwest::Client {
    reqwest::Client::builder()
        .use_rustls_tls()
        .tls_built_in_root_certs(false)
        .add_root_certificate(reqwest::Certificate::from_pem(ca.ca_pem().as_bytes()).unwrap())
        .resolve("localhost", address)
        .pool_max_idle_per_host(0)
        .build()
        .unwrap()
}

fn address(base: &str) -> SocketAddr {
    base.trim_start_matches("http://").parse().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_with_hsts_and_a_certificate_renewed_while_serving() {
    let dir = tempfile::tempdir().unwrap();
    let first = TestCa::for_hosts(&["localhost"]);
    write_pair(&first, dir.path());
    let tls = TlsConfig {
        cert_file: dir.path().join("cert.pem"),
        key_file: dir.path().join("key.pem"),
        reload_secs: 1,
        hsts_max_age_secs: 31_536_000,
    };
    let upstream_ca = TestCa::for_hosts(&[HOST]);
    let gateway = common::start(&upstream_ca, &[], |config| config.tls = Some(tls)).await;
    let address = address(&gateway.base);
    let url = format!("https://localhost:{}/healthz", address.port());

    let response = trusting(&first, address).get(&url).send().await.expect("https with the first certificate");
    assert_eq!(response.status(), 200);
    let headers = response.headers();
    assert_eq!(headers["strict-transport-security"], "max-age=31536000; includeSubDomains");
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert_eq!(headers["referrer-policy"], "no-referrer");
    // Plain HTTP on the TLS port gets no answer.
    assert!(reqwest::get(format!("http://{address}/healthz")).await.is_err());

    // Renewal: a new pair under the same names is served to new connections.
    let second = TestCa::for_hosts(&["localhost"]);
    write_pair(&second, dir.path());
    let renewed = wait_until(|| async { trusting(&second, address).get(&url).send().await.is_ok() }).await;
    assert!(renewed, "the renewed certificate was not picked up");
    assert!(trusting(&first, address).get(&url).send().await.is_err(), "the old certificate is still served");

    // A botched renewal (not a certificate) is refused; the last good pair stays.
    std::fs::write(dir.path().join("cert.pem"), "not a certificate").unwrap();
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let response = trusting(&second, address).get(&url).send().await.expect("the last good certificate");
    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn a_server_with_an_unusable_certificate_does_not_start() {
    let dir = tempfile::tempdir().unwrap();
    let one = TestCa::for_hosts(&["localhost"]);
    let other = TestCa::for_hosts(&["localhost"]);
    std::fs::write(dir.path().join("cert.pem"), one.server_pem().0).unwrap();
    std::fs::write(dir.path().join("key.pem"), other.server_pem().1).unwrap();
    let data = tempfile::tempdir().unwrap();
    let config = airlock::config::Config {
        listen: SocketAddr::from(([127, 0, 0, 1], 0)),
        data_dir: data.path().to_path_buf(),
        gateway: airlock::config::GatewayConfig { admin_listen: None, ..Default::default() },
        tls: Some(TlsConfig {
            cert_file: dir.path().join("cert.pem"),
            key_file: dir.path().join("key.pem"),
            reload_secs: 10,
            hsts_max_age_secs: 0,
        }),
        ..airlock::config::Config::default()
    };
    let error = airlock::server::Server::bind(&config).await.err().expect("refused");
    let error = format!("{error:#}");
    assert!(error.contains("do not form a usable pair"), "{error}");
}

async fn wait_until<F: std::future::Future<Output = bool>>(mut check: impl FnMut() -> F) -> bool {
    let deadline = Instant::now() + Duration::from_secs(15);
    while Instant::now() < deadline {
        if check().await {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    false
}

/// A gateway with `limits` in front of a fake OpenAI.
async fn limited(limits: TransportLimits) -> (airlock_fake_upstream::FakeUpstream, common::Gateway) {
    let ca = TestCa::for_hosts(&[HOST]);
    common::vendor_setup_with(
        &ca,
        Vendor::OpenAi,
        "openai",
        HOST,
        |_| Box::pin(async { String::new() }),
        move |config| {
            config.limits = limits;
            config.plugins.push(std::path::PathBuf::from(airlock_tests::guests::HOSTILE_LOOP));
            config.sanitizers.insert(
                "hostile-loop".into(),
                airlock::config::SanitizerConfig {
                    limits: Limits { cpu_ms: 400, ..Limits::default() },
                    ..Default::default()
                },
            );
        },
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slowloris_client_is_cut_off_while_others_are_served() {
    let limits = TransportLimits { header_read_timeout_secs: 1, ..TransportLimits::default() };
    let (_upstream, gateway) = limited(limits).await;
    let mut slow = TcpStream::connect(address(&gateway.base)).await.unwrap();
    slow.write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n").await.unwrap();
    let started = Instant::now();
    // One header byte every 200 ms: never a whole request.
    let mut closed = false;
    for _ in 0..50 {
        if slow.write_all(b"X").await.is_err() {
            closed = true;
            break;
        }
        let mut buffer = [0u8; 256];
        match tokio::time::timeout(Duration::from_millis(200), slow.read(&mut buffer)).await {
            Ok(Ok(0) | Err(_)) => {
                closed = true;
                break;
            }
            Ok(Ok(n)) => {
                let answer = String::from_utf8_lossy(&buffer[..n]).into_owned();
                assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
                closed = true;
                break;
            }
            Err(_) => {
                let ok = gateway.client.get(format!("{}/healthz", gateway.base)).send().await.unwrap();
                assert_eq!(ok.status(), 200, "others are served meanwhile");
            }
        }
    }
    assert!(closed, "the slow client was never cut off");
    let took = started.elapsed();
    assert!(took < Duration::from_secs(8), "cut off only after {took:?}");
}

#[tokio::test]
async fn a_stalled_body_gets_a_408() {
    let limits = TransportLimits { body_read_timeout_secs: 1, ..TransportLimits::default() };
    let (_upstream, gateway) = limited(limits).await;
    let mut client = TcpStream::connect(address(&gateway.base)).await.unwrap();
    client
        .write_all(
            b"POST /v1/sanitize HTTP/1.1\r\nHost: localhost\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{\"plugin\":",
        )
        .await
        .unwrap();
    let mut answer = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(10), async {
        let mut buffer = [0u8; 1024];
        loop {
            let n = client.read(&mut buffer).await.unwrap_or(0);
            answer.extend_from_slice(&buffer[..n]);
            if n == 0 || String::from_utf8_lossy(&answer).contains("}}") {
                break;
            }
        }
    })
    .await;
    assert!(read.is_ok(), "no answer to a stalled body");
    let answer = String::from_utf8_lossy(&answer).into_owned();
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("\"type\":\"request_timeout\""), "{answer}");
}

async fn sanitize_loop(gateway: &common::Gateway) -> reqwest::Response {
    gateway
        .client
        .post(format!("{}/v1/sanitize", gateway.base))
        .json(&json!({ "plugin": "hostile-loop", "content": "x" }))
        .send()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_instance_sheds_requests_over_its_cap_and_recovers() {
    let limits = TransportLimits { max_concurrent_requests: 1, ..TransportLimits::default() };
    let (_upstream, gateway) = limited(limits).await;
    let busy = sanitize_loop(&gateway);
    let (busy, refused) = tokio::join!(busy, async {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let refused = gateway.client.get(format!("{}/v1/plugins", gateway.base)).send().await.unwrap();
        let health = gateway.client.get(format!("{}/healthz", gateway.base)).send().await.unwrap();
        assert_eq!(health.status(), 200, "health checks are never shed");
        refused
    });
    assert_eq!(busy.status(), 500, "the loop hit its CPU limit");
    assert_eq!(refused.status(), 503);
    assert_eq!(refused.headers()["retry-after"], "1");
    let error: Value = refused.json().await.unwrap();
    assert_eq!(error["error"]["type"], "overloaded");
    let again = gateway.client.get(format!("{}/v1/plugins", gateway.base)).send().await.unwrap();
    assert_eq!(again.status(), 200, "the slot was freed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stream_holds_its_slot_until_the_client_leaves() {
    let limits = TransportLimits { max_concurrent_streams: 1, ..TransportLimits::default() };
    let (_upstream, gateway) = limited(limits).await;
    let generate = format!("{}/v1/providers/openai/generate", gateway.base);
    let slow = gateway.client.post(&generate).json(&screenshot_request("fake-slow")).send().await.unwrap();
    assert_eq!(slow.status(), 200);
    let mut events = slow.bytes_stream();
    futures_util::StreamExt::next(&mut events).await.expect("a first event").unwrap();

    let refused = gateway.generate("openai", screenshot_request("gpt-4o"), None).await;
    assert_eq!(refused.status, 503, "{}", refused.error);
    assert_eq!(refused.error["error"]["type"], "overloaded");
    assert_eq!(refused.retry_after.as_deref(), Some("1"));
    // Requests that do not stream are not held up by it.
    let plugins = gateway.client.get(format!("{}/v1/plugins", gateway.base)).send().await.unwrap();
    assert_eq!(plugins.status(), 200);

    drop(events);
    let freed =
        wait_until(|| async { gateway.generate("openai", screenshot_request("gpt-4o"), None).await.status == 200 })
            .await;
    assert!(freed, "the slot is freed when the client leaves");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_drains_short_streams_and_cuts_long_ones_at_the_deadline() {
    // `common::start` gives the server a 2 s grace period.
    let (_upstream, mut gateway) = limited(TransportLimits::default()).await;
    let generate = format!("{}/v1/providers/openai/generate", gateway.base);
    let long = gateway.client.post(&generate).json(&screenshot_request("fake-slow")).send().await.unwrap();
    let short = gateway.client.post(&generate).json(&screenshot_request("gpt-4o")).send().await.unwrap();
    assert_eq!((long.status().as_u16(), short.status().as_u16()), (200, 200));

    let started = Instant::now();
    let (stopped, short_body, long_body) = tokio::join!(gateway.shut_down(), short.text(), long.text());
    let error = stopped.expect_err("the long stream outlived the grace period");
    assert!(error.to_string().contains("1 connection(s) still open after the 2 s"), "{error}");
    assert!(started.elapsed() < Duration::from_secs(10), "{:?}", started.elapsed());
    let short_body = short_body.expect("the short stream finished");
    assert!(short_body.contains("event: done"), "{short_body}");
    // The long one was cut off: its body ends early (or with an error), not after 30 s.
    assert!(long_body.map_or(true, |body| !body.contains("event: done")));
}
