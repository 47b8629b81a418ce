//! What the multi-tenant path costs: `POST /v1/chat/completions` with a tenant's API key
//! (authenticated, rate-limited, quota-checked, input guard and output sanitizer, usage
//! and audit recorded) against the bare provider path (`POST
//! /v1/providers/{name}/generate`, no key, no sanitizers), both streaming from the same
//! fake OpenAI upstream through the same Wasm provider, in one run.
//!
//! Printed: p50/p99 latency to the last byte, interleaved one at a time, and requests/s
//! under concurrent load, for the bare path and two tenants — one with the default
//! sanitizers (prompt-guard in, secrets out), one with none — with what each adds.
//!
//! `AIRLOCK_BENCH_QUICK=1` runs few iterations (CI smoke run).

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use airlock::tenancy::Tenancy;
use common::{micros, percentile};
use serde_json::{Value, json};

async fn run(request: reqwest::RequestBuilder) -> Duration {
    let start = Instant::now();
    let response = request.send().await.expect("answer");
    assert!(response.status().is_success(), "status {}", response.status());
    let body = response.bytes().await.expect("body");
    assert!(body.windows(5).any(|w| w == b"fake "), "the answer streamed");
    start.elapsed()
}

/// Makes one request of a path.
type Maker = Arc<dyn Fn() -> reqwest::RequestBuilder + Send + Sync>;

/// Requests per second with `concurrency` clients sending `total` requests.
async fn throughput(make: Maker, concurrency: usize, total: usize) -> f64 {
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
        let mut owner = None;
        let bench = common::start(async |data: &std::path::Path| {
            let tenancy = Tenancy::open(data).await.expect("tenancy");
            owner = Some(tenancy.init_owner("bench").await.expect("owner"));
            tenancy.audit().flush().await;
        })
        .await;
        let (owner, owner_key) = owner.expect("owner");
        let admin = &bench.admin;
        let base = &bench.base;

        let client = reqwest::Client::builder().tcp_nodelay(true).build().expect("client");
        let control = |path: &str, body: Value| {
            client.post(format!("{admin}{path}")).bearer_auth(owner_key.key.as_str()).json(&body).send()
        };
        // Tenant `bench` has the default policy (prompt-guard in, secrets out); `plain`
        // has no sanitizers, to tell the sanitizers' cost from the rest of the path.
        let limits = json!({ "requests_per_minute": 10_000_000, "tokens_per_minute": 1_000_000_000 });
        let mut keys = Vec::new();
        for (id, policy) in [("bench", json!({})), ("plain", json!({ "input_sanitizers": [], "output_sanitizers": [] }))] {
            assert_eq!(control("/v1/tenants", json!({ "id": id, "policy": policy })).await.unwrap().status(), 201);
            let created: Value =
                control("/v1/keys", json!({ "tenant": id, "limits": limits })).await.unwrap().json().await.unwrap();
            keys.push(created["key"].as_str().unwrap().to_owned());
        }
        eprintln!("owner {} set up tenants `bench` and `plain`", owner.prefix);

        let messages = json!([{ "role": "user", "content": "Build a landing page." }]);
        let bare: Maker = {
            let (client, base, messages) = (client.clone(), base.clone(), messages.clone());
            Arc::new(move || {
                client
                    .post(format!("{base}/v1/providers/openai-compatible/generate"))
                    .json(&json!({ "model": "gpt-4o", "messages": messages }))
            })
        };
        let tenant_path = |key: String| -> Maker {
            let (client, base, messages) = (client.clone(), base.clone(), messages.clone());
            Arc::new(move || {
                client
                    .post(format!("{base}/v1/chat/completions"))
                    .bearer_auth(&key)
                    .json(&json!({ "model": "openai-compatible/gpt-4o", "messages": messages, "stream": true }))
            })
        };
        let paths = [("bare provider", bare), ("tenant, guarded", tenant_path(keys[0].clone())), ("tenant, no sanitizers", tenant_path(keys[1].clone()))];
        for _ in 0..warmup {
            for (_, make) in &paths {
                run(make()).await;
            }
        }
        let mut times = vec![Vec::new(); paths.len()];
        for _ in 0..iterations {
            for ((_, make), samples) in paths.iter().zip(&mut times) {
                samples.push(run(make()).await);
            }
        }
        println!("streamed completion to the last byte, {iterations} requests each, interleaved (µs; added = vs bare provider)");
        println!("{:<24} {:>8} {:>8} {:>8} {:>8} {:>8}", "", "p50", "p99", "added50", "added99", "ratio50");
        let (base50, base99) = (percentile(&mut times[0], 0.5), percentile(&mut times[0], 0.99));
        for ((name, _), samples) in paths.iter().zip(&mut times) {
            let (p50, p99) = (percentile(samples, 0.5), percentile(samples, 0.99));
            println!(
                "{name:<24} {:>8.0} {:>8.0} {:>8.0} {:>8.0} {:>7.2}x",
                micros(p50),
                micros(p99),
                micros(p50) - micros(base50),
                micros(p99) - micros(base99),
                p50.as_secs_f64() / base50.as_secs_f64()
            );
        }
        let concurrency = 16;
        let mut rates = Vec::new();
        for (name, make) in &paths {
            let rate = throughput(make.clone(), concurrency, load).await;
            rates.push(rate);
            println!("throughput, {load} requests, {concurrency} concurrent, {name}: {rate:.0} req/s ({:.2}x bare)", rate / rates[0]);
        }
    });
}
