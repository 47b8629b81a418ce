//! Trace export (built with `--features otel`): `airlock serve` with
//! `telemetry.otlp_endpoint` sends its request spans to a fake OTLP/HTTP collector,
//! named by the route template, never the raw path.
#![cfg(feature = "otel")]

mod common;

use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::routing::post;

/// A generation id no request made: it must not reach the collector.
const RAW_ID: &str = "no-such-generation-7c1d";

#[test]
fn request_spans_reach_the_collector_with_their_route() {
    let runtime = tokio::runtime::Runtime::new().expect("tokio");
    let received: Arc<Mutex<Vec<Bytes>>> = Arc::default();
    let collector = {
        let received = received.clone();
        let app = axum::Router::new().route(
            "/v1/traces",
            post(move |body: Bytes| async move {
                received.lock().expect("received").push(body);
            }),
        );
        let listener = runtime.block_on(tokio::net::TcpListener::bind("127.0.0.1:0")).expect("collector binds");
        let address = listener.local_addr().expect("address");
        runtime.spawn(async move { axum::serve(listener, app).await });
        address
    };

    let data = tempfile::tempdir().expect("temp dir");
    let mut server = Command::new(env!("CARGO_BIN_EXE_airlock"))
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(data.path())
        .env("AIRLOCK_TELEMETRY__OTLP_ENDPOINT", format!("http://{collector}"))
        .env("OTEL_BSP_SCHEDULE_DELAY", "100")
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .expect("airlock serve");
    let log = Arc::new(Mutex::new(String::new()));
    let address = common::serving_address(server.stderr.take().expect("stderr"), log.clone());
    assert!(!address.is_empty(), "the server did not start: {}", log.lock().expect("log"));

    let status = runtime.block_on(async {
        let url = format!("http://{address}/v1/generations/{RAW_ID}");
        reqwest::get(url).await.expect("answer").status().as_u16()
    });
    assert_eq!(status, 404);

    let route = b"/v1/generations/{id}";
    let deadline = Instant::now() + Duration::from_secs(20);
    let exported = loop {
        let bodies: Vec<u8> = received.lock().expect("received").concat();
        if bodies.windows(route.len()).any(|window| window == route) || Instant::now() > deadline {
            break bodies;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let _ = server.kill();
    let _ = server.wait();
    let contains = |needle: &[u8]| exported.windows(needle.len()).any(|window| window == needle);
    assert!(contains(route), "no span named the route; log:\n{}", log.lock().expect("log"));
    assert!(contains(b"http.route"));
    assert!(!contains(RAW_ID.as_bytes()), "the raw path was exported");
}
