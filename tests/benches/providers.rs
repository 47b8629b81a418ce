//! What the gateway adds to a streamed generation: the bundled `openai-compatible` provider (a
//! Wasm component) behind the egress gate, against a direct reqwest call to the same
//! fake upstream, measured in the same run and interleaved so both see the same noise.
//!
//! Printed: p50 and p99 of time to the first text chunk and to the last byte, for both
//! paths, and what the gateway adds, for a text prompt (goal: ≤ 1 ms added at p50) and
//! for a prompt with a 5 MB PNG screenshot, which the gateway checks, copies into the
//! guest once and base64-encodes there (goal: ≤ 20 ms added at p50).
//!
//! `AIRLOCK_BENCH_QUICK=1` runs few iterations (CI smoke run).

mod common;

use std::time::{Duration, Instant};

use base64::Engine as _;
use common::{KEY, micros, percentile};
use futures_util::StreamExt;
use serde_json::{Value, json};

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

/// What one comparison measures: the direct request, the same through the gateway.
struct Case<'a> {
    name: &'a str,
    direct: Box<dyn Fn() -> reqwest::RequestBuilder + 'a>,
    through: Box<dyn Fn() -> reqwest::RequestBuilder + 'a>,
    warmup: usize,
    iterations: usize,
    goal_added_us: f64,
}

/// Runs `case` interleaved and prints its table.
async fn compare(case: Case<'_>) {
    let (direct_marker, gateway_marker) = (b"\"content\":\"<".as_slice(), b"event: chunk".as_slice());
    for _ in 0..case.warmup {
        time((case.direct)(), direct_marker).await;
        time((case.through)(), gateway_marker).await;
    }
    let (mut direct_first, mut direct_last, mut gateway_first, mut gateway_last) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for _ in 0..case.iterations {
        let d = time((case.direct)(), direct_marker).await;
        let g = time((case.through)(), gateway_marker).await;
        direct_first.push(d.first);
        direct_last.push(d.last);
        gateway_first.push(g.first);
        gateway_last.push(g.last);
    }
    println!("{}, {} requests each, interleaved (µs)", case.name, case.iterations);
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
    let goal = case.goal_added_us;
    println!(
        "goal: ≤ {goal:.0} µs added at p50 to the first chunk: {}\n",
        if added <= goal { "met" } else { "NOT met" }
    );
}

fn main() {
    let quick = std::env::var_os("AIRLOCK_BENCH_QUICK").is_some();
    let (warmup, iterations) = if quick { (10, 60) } else { (50, 1000) };
    let (image_warmup, image_iterations) = if quick { (2, 6) } else { (10, 100) };
    let tokio = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("tokio");
    tokio.block_on(async move {
        let bench = common::start(async |_: &std::path::Path| {}).await;
        let (upstream, gateway) = (&bench.upstream, &bench.base);
        let client = reqwest::Client::builder().tcp_nodelay(true).build().expect("client");
        let direct = |messages: Value| {
            let client = &client;
            let url = format!("http://127.0.0.1:{}/v1/chat/completions", upstream.port());
            let body = json!({ "model": "gpt-4o", "messages": messages, "stream": true });
            Box::new(move || client.post(&url).bearer_auth(KEY).json(&body)) as Box<dyn Fn() -> _>
        };
        let through = |messages: Value| {
            let client = &client;
            let url = format!("{gateway}/v1/providers/openai-compatible/generate");
            let body = json!({ "model": "gpt-4o", "messages": messages });
            Box::new(move || client.post(&url).json(&body)) as Box<dyn Fn() -> _>
        };

        let text = json!([{ "role": "user", "content": "Build a landing page." }]);
        compare(Case {
            name: "streamed generation",
            direct: direct(text.clone()),
            through: through(text),
            warmup,
            iterations,
            goal_added_us: 1000.0,
        })
        .await;

        let png = base64::engine::general_purpose::STANDARD.encode(airlock_tests::screenshots::png(5.0, 1));
        let prompt = json!({ "type": "text", "text": "Build this page." });
        let vendor_image =
            json!({ "type": "image_url", "image_url": { "url": format!("data:image/png;base64,{png}") } });
        let airlock_image = json!({ "type": "image", "media_type": "image/png", "data": png });
        compare(Case {
            name: "streamed generation from a 5 MB PNG screenshot",
            direct: direct(json!([{ "role": "user", "content": [prompt, vendor_image] }])),
            through: through(json!([{ "role": "user", "content": [prompt, airlock_image] }])),
            warmup: image_warmup,
            iterations: image_iterations,
            goal_added_us: 20_000.0,
        })
        .await;
    });
}
