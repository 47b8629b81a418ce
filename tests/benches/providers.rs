//! What the gateway adds to a streamed generation: the bundled `openai-compatible` provider (a
//! Wasm component) behind the egress gate, against a direct reqwest call to the same
//! fake upstream, measured in the same run and interleaved so both see the same noise.
//!
//! Printed: p50 and p99 of time to the first text chunk and to the last byte, for both
//! paths, and what the gateway adds. Goal: ≤ 1 ms added at p50.
//!
//! `AIRLOCK_BENCH_QUICK=1` runs few iterations (CI smoke run).

mod common;

use std::time::{Duration, Instant};

use common::{KEY, micros, percentile};
use futures_util::StreamExt;
use serde_json::json;

/// Time to the first chunk of text and to the end of the stream.
struct Sample {
    first: Duration,
    last: Duration,
}

/// Sends `request` and reads the stream, noting when `marker` first appears.
async fn time(request: reqwest::RequestBuilder, marker: &[u8]) -> Sample {
    let start = Instant::now();
    let response = request.send().await.expect("answer");
    assert!(response.status().is_success(), "status {}", response.status());
    let mut stream = response.bytes_stream();
    let mut first = None;
    let mut seen = Vec::new();
    while let Some(bytes) = stream.next().await {
        let bytes = bytes.expect("body");
        if first.is_none() {
            seen.extend_from_slice(&bytes);
            if seen.windows(marker.len()).any(|window| window == marker) {
                first = Some(start.elapsed());
            }
        }
    }
    let last = start.elapsed();
    Sample { first: first.expect("a text chunk arrived"), last }
}

fn main() {
    let quick = std::env::var_os("AIRLOCK_BENCH_QUICK").is_some();
    let (warmup, iterations) = if quick { (10, 60) } else { (50, 1000) };
    let tokio = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("tokio");
    tokio.block_on(async move {
        let bench = common::start(async |_: &std::path::Path| {}).await;
        let (upstream, gateway) = (&bench.upstream, &bench.base);

        let client = reqwest::Client::builder().tcp_nodelay(true).build().expect("client");
        let messages = json!([{ "role": "user", "content": "Build a landing page." }]);
        let direct = || {
            client
                .post(format!("http://127.0.0.1:{}/v1/chat/completions", upstream.port()))
                .bearer_auth(KEY)
                .json(&json!({ "model": "gpt-4o", "messages": messages, "stream": true }))
        };
        let through = || {
            client
                .post(format!("{gateway}/v1/providers/openai-compatible/generate"))
                .json(&json!({ "model": "gpt-4o", "messages": messages }))
        };
        for _ in 0..warmup {
            time(direct(), b"\"content\":\"<").await;
            time(through(), b"event: chunk").await;
        }
        let (mut direct_first, mut direct_last, mut gateway_first, mut gateway_last) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for _ in 0..iterations {
            let d = time(direct(), b"\"content\":\"<").await;
            let g = time(through(), b"event: chunk").await;
            direct_first.push(d.first);
            direct_last.push(d.last);
            gateway_first.push(g.first);
            gateway_last.push(g.last);
        }
        println!("streamed generation, {iterations} requests each, interleaved (µs)");
        println!("{:<28} {:>10} {:>10} {:>10} {:>10}", "", "direct", "gateway", "added", "ratio");
        for (name, direct, gateway) in [
            ("first chunk p50", &mut direct_first, &mut gateway_first),
            ("last byte p50", &mut direct_last, &mut gateway_last),
        ] {
            for (label, p) in [(name.to_owned(), 0.5), (name.replace("p50", "p99"), 0.99)] {
                let (d, g) = (percentile(direct, p), percentile(gateway, p));
                println!(
                    "{label:<28} {:>10.0} {:>10.0} {:>10.0} {:>9.2}x",
                    micros(d),
                    micros(g),
                    micros(g) - micros(d),
                    g.as_secs_f64() / d.as_secs_f64()
                );
            }
        }
        let added = micros(percentile(&mut gateway_first, 0.5)) - micros(percentile(&mut direct_first, 0.5));
        println!(
            "goal: ≤ 1000 µs added at p50 to the first chunk: {}",
            if added <= 1000.0 { "met" } else { "NOT met" }
        );
    });
}
