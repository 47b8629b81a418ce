//! What the multi-tenant path costs: `POST /v1/chat/completions` with a tenant's API key
//! (authenticated, rate-limited, quota-checked, input guard and output sanitizer, usage
//! and audit recorded) against the bare provider path (`POST
//! /v1/providers/{name}/generate`, no key, no sanitizers), both streaming from the same
//! fake OpenAI upstream through the same Wasm provider, in one run.
//!
//! Printed: p50/p99 latency to the last byte, interleaved one at a time, and requests/s
//! under concurrent load, for both paths, with what the tenant path adds.
//!
//! `AIRLOCK_BENCH_QUICK=1` runs few iterations (CI smoke run).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use airlock::config::{Config, GatewayConfig, ProviderConfig};
use airlock::server::Server;
use airlock::tenancy::Tenancy;
use airlock_fake_upstream::{FakeUpstream, Vendor};
use serde_json::{Value, json};

const KEY: &str = "sk-bench-key";

async fn run(request: reqwest::RequestBuilder) -> Duration {
    let start = Instant::now();
    let response = request.send().await.expect("answer");
    assert!(response.status().is_success(), "status {}", response.status());
    let body = response.bytes().await.expect("body");
    assert!(body.windows(5).any(|w| w == b"fake "), "the answer streamed");
    start.elapsed()
}

fn percentile(samples: &mut [Duration], p: f64) -> Duration {
    samples.sort();
    samples[((samples.len() as f64 - 1.0) * p).round() as usize]
}

fn micros(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1e6
}

/// Requests per second with `concurrency` clients sending `total` requests.
async fn throughput(
    make: Arc<dyn Fn() -> reqwest::RequestBuilder + Send + Sync>,
    concurrency: usize,
    total: usize,
) -> f64 {
    let start = Instant::now();
    let per_client = total / concurrency;
    let clients: Vec<_> = (0..concurrency)
        .map(|_| {
            let make = make.clone();
            tokio::spawn(async move {
                for _ in 0..per_client {
                    run(make()).await;
                }
            })
        })
        .collect();
    for client in clients {
        client.await.expect("client");
    }
    (per_client * concurrency) as f64 / start.elapsed().as_secs_f64()
}

fn main() {
    let quick = std::env::var_os("AIRLOCK_BENCH_QUICK").is_some();
    let (warmup, iterations, load) = if quick { (10, 60, 400) } else { (50, 1000, 4000) };
    let tokio = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("tokio");
    tokio.block_on(async move {
        let upstream = FakeUpstream::start(Vendor::OpenAi, KEY, None).await;
        let data = tempfile::tempdir().expect("temp dir");
        let tenancy = Tenancy::open(data.path()).await.expect("tenancy");
        let (owner, owner_key) = tenancy.init_owner("bench").await.expect("owner");
        tenancy.audit().flush().await;
        drop(tenancy);
        let mut config = Config {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            gateway: GatewayConfig { admin_listen: Some(SocketAddr::from(([127, 0, 0, 1], 0))), ..GatewayConfig::default() },
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

        let client = reqwest::Client::builder().tcp_nodelay(true).build().expect("client");
        let control = |path: &str, body: Value| {
            client.post(format!("{admin}{path}")).bearer_auth(owner_key.key.as_str()).json(&body).send()
        };
        assert_eq!(control("/v1/tenants", json!({ "id": "bench" })).await.unwrap().status(), 201);
        let spec = json!({ "tenant": "bench", "limits": { "requests_per_minute": 10_000_000, "tokens_per_minute": 1_000_000_000 } });
        let created: Value = control("/v1/keys", spec).await.unwrap().json().await.unwrap();
        let tenant_key = created["key"].as_str().unwrap().to_owned();
        eprintln!("owner {} set up tenant `bench`", owner.prefix);

        let messages = json!([{ "role": "user", "content": "Build a landing page." }]);
        let bare: Arc<dyn Fn() -> reqwest::RequestBuilder + Send + Sync> = {
            let (client, base, messages) = (client.clone(), base.clone(), messages.clone());
            Arc::new(move || {
                client
                    .post(format!("{base}/v1/providers/openai-compatible/generate"))
                    .json(&json!({ "model": "gpt-4o", "messages": messages }))
            })
        };
        let tenant: Arc<dyn Fn() -> reqwest::RequestBuilder + Send + Sync> = {
            let (client, base, messages) = (client.clone(), base.clone(), messages.clone());
            Arc::new(move || {
                client
                    .post(format!("{base}/v1/chat/completions"))
                    .bearer_auth(&tenant_key)
                    .json(&json!({ "model": "openai-compatible/gpt-4o", "messages": messages, "stream": true }))
            })
        };
        for _ in 0..warmup {
            run(bare()).await;
            run(tenant()).await;
        }
        let (mut bare_times, mut tenant_times) = (Vec::new(), Vec::new());
        for _ in 0..iterations {
            bare_times.push(run(bare()).await);
            tenant_times.push(run(tenant()).await);
        }
        println!("streamed completion to the last byte, {iterations} requests each, interleaved (µs)");
        println!("{:<12} {:>14} {:>14} {:>10} {:>8}", "", "bare provider", "tenant path", "added", "ratio");
        for (label, p) in [("p50", 0.5), ("p99", 0.99)] {
            let (b, t) = (percentile(&mut bare_times, p), percentile(&mut tenant_times, p));
            println!(
                "{label:<12} {:>14.0} {:>14.0} {:>10.0} {:>7.2}x",
                micros(b),
                micros(t),
                micros(t) - micros(b),
                t.as_secs_f64() / b.as_secs_f64()
            );
        }
        let concurrency = 16;
        let bare_rps = throughput(bare.clone(), concurrency, load).await;
        let tenant_rps = throughput(tenant.clone(), concurrency, load).await;
        println!(
            "throughput, {load} requests, {concurrency} concurrent: bare provider {bare_rps:.0} req/s, tenant path \
             {tenant_rps:.0} req/s ({:.2}x)",
            tenant_rps / bare_rps
        );
    });
}
