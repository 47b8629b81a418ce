//! Operators swap the `html` sanitizer while the server is under load: every request
//! succeeds, and each response's `x-airlock-plugins` names the version whose behaviour
//! its output shows (version 2 marks its output); a restart keeps the active set.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use airlock::config::{Config, Secret, SignaturePolicy};
use airlock::server::Server;
use airlock::signature::SecretKey;
use airlock_tests::guests;
use base64::Engine as _;
use serde_json::{Value, json};

const TOKEN: &str = "operator-token-for-tests";
const REQUESTS: usize = 20_000;
const SWAPS: usize = 20;
const MARK: &str = "<!-- html v2 -->";

struct Admin {
    base: String,
    client: reqwest::Client,
}

impl Admin {
    async fn post(&self, path: &str, body: Vec<u8>) -> (u16, Value) {
        let response = self
            .client
            .post(format!("{}{path}", self.base))
            .bearer_auth(TOKEN)
            .body(body)
            .send()
            .await
            .expect("admin answers");
        let status = response.status().as_u16();
        (status, response.json().await.expect("JSON"))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn swapping_html_under_load_drops_nothing_and_every_header_matches_its_output() {
    let data = tempfile::tempdir().expect("temp dir");
    let config = Config {
        listen: SocketAddr::from(([127, 0, 0, 1], 0)),
        gateway: airlock::config::GatewayConfig {
            admin_listen: Some(SocketAddr::from(([127, 0, 0, 1], 0))),
            ..airlock::config::GatewayConfig::default()
        },
        data_dir: data.path().to_path_buf(),
        admin_token: Some(Secret::new(TOKEN)),
        ..Config::default()
    };
    let server = Server::bind(&config).await.expect("server");
    let base = format!("http://{}", server.local_addr().expect("address"));
    tokio::spawn(server.run(std::future::pending()));
    let client = reqwest::Client::new();
    let admin = Admin { base: base.clone(), client: client.clone() };

    // Without the token, nothing.
    let anonymous = client.get(format!("{base}/admin/plugins")).send().await.unwrap();
    assert_eq!(anonymous.status(), 401);

    let v2_bytes = std::fs::read(guests::HTML_V2).expect("html v2 guest");
    let (status, staged) = admin.post("/admin/plugins", v2_bytes.clone()).await;
    assert_eq!(status, 200, "{staged}");
    assert_eq!((staged["name"].as_str(), staged["version"].as_str()), (Some("html"), Some("2.0.0")));
    assert!(staged["source"].as_str().unwrap().starts_with("admin-api:"), "{staged}");
    assert!(staged["loaded_at_ms"].as_u64().unwrap() > 1_700_000_000_000, "{staged}");
    let v2 = staged["sha256"].as_str().unwrap().to_owned();
    let listed: Value =
        client.get(format!("{base}/admin/plugins")).bearer_auth(TOKEN).send().await.unwrap().json().await.unwrap();
    let v1 = listed["plugins"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "html" && p["state"] == "active")
        .and_then(|p| p["sha256"].as_str())
        .expect("bundled html is active")
        .to_owned();

    // A wrong pinned digest is refused.
    let pinned = client
        .post(format!("{base}/admin/plugins"))
        .bearer_auth(TOKEN)
        .header("x-airlock-expect-sha256", "00".repeat(32))
        .body(v2_bytes)
        .send()
        .await
        .unwrap();
    assert_eq!(pinned.status(), 400);

    let sent = Arc::new(AtomicUsize::new(0));
    let (v1_seen, v2_seen) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let started = Instant::now();
    let workers: Vec<_> = (0..32)
        .map(|_| {
            let (client, base, sent) = (client.clone(), base.clone(), sent.clone());
            let (v1_seen, v2_seen) = (v1_seen.clone(), v2_seen.clone());
            tokio::spawn(async move {
                let mut failures = Vec::new();
                while sent.fetch_add(1, Ordering::Relaxed) < REQUESTS {
                    let body = json!({ "plugin": "html", "content": "<p>hi</p><img src=x onerror=alert(1)>" });
                    let response = match client.post(format!("{base}/v1/sanitize")).json(&body).send().await {
                        Ok(response) => response,
                        Err(error) => {
                            failures.push(format!("transport: {error}"));
                            continue;
                        }
                    };
                    let status = response.status();
                    let used =
                        response.headers().get("x-airlock-plugins").and_then(|v| v.to_str().ok()).map(str::to_owned);
                    let answer: Value = response.json().await.unwrap_or_default();
                    let text = answer["text"].as_str().unwrap_or_default();
                    let marked = text.contains(MARK);
                    match used.as_deref() {
                        _ if !status.is_success() || text.contains("onerror") => {
                            failures.push(format!("{status}: {answer}"));
                        }
                        Some("html@0.1.0") if !marked => _ = v1_seen.fetch_add(1, Ordering::Relaxed),
                        Some("html@2.0.0") if marked => _ = v2_seen.fetch_add(1, Ordering::Relaxed),
                        other => failures.push(format!("header {other:?} with output {text}")),
                    }
                }
                failures
            })
        })
        .collect();

    // Swap back and forth while the load runs, then roll back once.
    let mut swap_times = Vec::new();
    for swap in 0..SWAPS {
        while sent.load(Ordering::Relaxed) < (swap + 1) * REQUESTS / (SWAPS + 2) {
            tokio::time::sleep(std::time::Duration::from_millis(2)).await;
        }
        let target = if swap % 2 == 0 { &v2 } else { &v1 };
        let asked = Instant::now();
        let (status, active) = admin.post(&format!("/admin/plugins/{target}/activate"), Vec::new()).await;
        swap_times.push(asked.elapsed());
        assert_eq!(status, 200, "{active}");
    }
    let (status, back) = admin.post("/admin/plugins/html/rollback", Vec::new()).await;
    assert_eq!(status, 200, "{back}");
    assert_eq!(back["sha256"], v2, "the last activation (v1) replaced v2");

    let mut failures = Vec::new();
    for worker in workers {
        failures.extend(worker.await.expect("worker"));
    }
    let elapsed = started.elapsed();
    let (v1_count, v2_count) = (v1_seen.load(Ordering::Relaxed), v2_seen.load(Ordering::Relaxed));
    swap_times.sort();
    println!(
        "activation (request to new version live, active set saved): median {:?}, max {:?}",
        swap_times[swap_times.len() / 2],
        swap_times[swap_times.len() - 1]
    );
    println!(
        "{REQUESTS} requests in {:.2} s ({:.0} req/s) across {SWAPS} swaps and a rollback: v1 {v1_count}, v2 {v2_count}",
        elapsed.as_secs_f64(),
        REQUESTS as f64 / elapsed.as_secs_f64()
    );
    assert!(failures.is_empty(), "{} failed, e.g. {:?}", failures.len(), failures.first());
    assert_eq!(v1_count + v2_count, REQUESTS);
    assert!(v1_count > 0 && v2_count > 0, "both versions served");

    // A restart comes back with the same active set: v2, from its kept blob.
    let restarted = Server::bind(&config).await.expect("server restarts");
    let base = format!("http://{}", restarted.local_addr().expect("address"));
    tokio::spawn(restarted.run(std::future::pending()));
    let answer = client
        .post(format!("{base}/v1/sanitize"))
        .json(&json!({ "plugin": "html", "content": "<p>hi</p>" }))
        .send()
        .await
        .expect("answer");
    assert_eq!(answer.headers()["x-airlock-plugins"], "html@2.0.0");
    let answer: Value = answer.json().await.unwrap();
    assert!(answer["text"].as_str().unwrap().ends_with(MARK), "{answer}");
}

async fn sanitize_header(client: &reqwest::Client, base: &str) -> String {
    let response = client
        .post(format!("{base}/v1/sanitize"))
        .json(&json!({ "plugin": "html", "content": "<p>hi</p>" }))
        .send()
        .await
        .expect("answer");
    response.headers()["x-airlock-plugins"].to_str().unwrap().to_owned()
}

#[tokio::test]
async fn refused_uploads_leave_the_active_version_serving() {
    let data = tempfile::tempdir().expect("temp dir");
    let trusted = SecretKey::generate().unwrap();
    let config = Config {
        listen: SocketAddr::from(([127, 0, 0, 1], 0)),
        gateway: airlock::config::GatewayConfig {
            admin_listen: Some(SocketAddr::from(([127, 0, 0, 1], 0))),
            ..airlock::config::GatewayConfig::default()
        },
        data_dir: data.path().to_path_buf(),
        admin_token: Some(Secret::new(TOKEN)),
        plugin_signatures: SignaturePolicy { require: true, trusted_keys: vec![trusted.public().to_text()] },
        ..Config::default()
    };
    let server = Server::bind(&config).await.expect("server");
    let base = format!("http://{}", server.local_addr().expect("address"));
    tokio::spawn(server.run(std::future::pending()));
    let client = reqwest::Client::new();
    let upload = |bytes: Vec<u8>, signature: Option<String>| {
        let mut request = client.post(format!("{base}/admin/plugins?activate=true")).bearer_auth(TOKEN).body(bytes);
        if let Some(signature) = signature {
            request =
                request.header("x-airlock-signature", base64::engine::general_purpose::STANDARD.encode(signature));
        }
        async move {
            let response = request.send().await.expect("answer");
            (response.status().as_u16(), response.json::<Value>().await.expect("JSON"))
        }
    };
    let v2 = std::fs::read(guests::HTML_V2).unwrap();
    let filesystem = std::fs::read(guests::HOSTILE_FILESYSTEM).unwrap();
    let panics = std::fs::read(guests::HOSTILE_PANIC).unwrap();
    let stranger = SecretKey::generate().unwrap();
    let cases = [
        (filesystem.clone(), Some(trusted.sign(&filesystem, "fs")), "wasi:filesystem"),
        (v2.clone(), None, "a signature by a trusted key is required"),
        (v2.clone(), Some(stranger.sign(&v2, "v2")), "which is not trusted"),
        (v2.clone(), Some(trusted.sign(b"other bytes", "v2")), "does not match"),
        (panics.clone(), Some(trusted.sign(&panics, "panics")), "self-test failed"),
    ];
    for (bytes, signature, reason) in cases {
        let (status, answer) = upload(bytes, signature).await;
        assert_eq!(status, 422, "{answer}");
        assert!(answer["error"]["message"].as_str().unwrap().contains(reason), "{reason}: {answer}");
        assert_eq!(sanitize_header(&client, &base).await, "html@0.1.0", "the active version keeps serving");
    }
    let (status, answer) = upload(v2.clone(), Some(trusted.sign(&v2, "html 2.0.0"))).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(sanitize_header(&client, &base).await, "html@2.0.0");
}

#[tokio::test]
async fn a_plugin_dropped_into_the_watched_directory_goes_live_and_a_bad_one_is_refused() {
    let data = tempfile::tempdir().expect("temp dir");
    let watched = data.path().join("incoming");
    let config = Config {
        listen: SocketAddr::from(([127, 0, 0, 1], 0)),
        gateway: airlock::config::GatewayConfig {
            admin_listen: Some(SocketAddr::from(([127, 0, 0, 1], 0))),
            ..airlock::config::GatewayConfig::default()
        },
        data_dir: data.path().to_path_buf(),
        watch_dir: Some(watched.clone()),
        ..Config::default()
    };
    let server = Server::bind(&config).await.expect("server");
    let base = format!("http://{}", server.local_addr().expect("address"));
    tokio::spawn(server.run(std::future::pending()));
    let client = reqwest::Client::new();
    // Dropped in like an operator would: written elsewhere, then renamed in.
    let drop_in = |source: &str, name: &str| {
        let staging = data.path().join(name);
        std::fs::copy(source, &staging).unwrap();
        std::fs::rename(&staging, watched.join(name)).unwrap();
    };
    let wait_for = |version: &'static str| {
        let (client, base) = (client.clone(), base.clone());
        async move {
            // Within a few 500 ms polls; up to 20 s on a loaded machine.
            for _ in 0..200 {
                if sanitize_header(&client, &base).await == version {
                    return;
                }
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
            panic!("{version} never went live");
        }
    };
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    drop_in(guests::HOSTILE_FILESYSTEM, "bad.wasm");
    drop_in(guests::HTML_V2, "html-v2.wasm");
    wait_for("html@2.0.0").await;
    let listed: Value = client.get(format!("{base}/v1/plugins")).send().await.unwrap().json().await.unwrap();
    let names: Vec<&str> = listed["plugins"].as_array().unwrap().iter().filter_map(|p| p["name"].as_str()).collect();
    assert!(!names.contains(&"hostile-filesystem"), "the refused component is not in service: {names:?}");
}
