//! What the sandbox costs, as ratios against baselines measured in the same run
//! (absolute times on a shared machine mislead; ratios hold up).
//!
//! 1. Sandbox tax: a fresh instance + call + teardown of a no-op sanitizer, against a
//!    native no-op call. Target: under 10 µs per call. Also printed: a call into a
//!    live instance (a stream's `push`), i.e. the tax without instantiation.
//! 2. The `html` sanitizer on a realistic 50 KB page, in Wasm against the same crate
//!    compiled natively. Target: Wasm at least 0.5x native throughput. Also printed:
//!    the second line (the html5ever check of the result) alone, natively, and the whole
//!    sanitizer against its first line alone. Target: at most 2x.
//!
//! `AIRLOCK_BENCH_QUICK=1` runs few iterations (CI smoke run).

use std::collections::BTreeMap;
use std::hint::black_box;
use std::time::{Duration, Instant};

use airlock::runtime::{EngineConfig, PluginSettings, Runtime, SanitizeRequest, SanitizerPlugin, Stage, Verdict};
use airlock_sanitize_html::{Policy, first_line_only, sanitize, verify};

const PAGE: &str = include_str!("../../crates/sanitize-html/fixtures/landing.html");

/// Median time per iteration over `batches` batches of `per_batch` iterations.
fn measure(batches: usize, per_batch: usize, mut run: impl FnMut()) -> Duration {
    for _ in 0..per_batch {
        run();
    }
    let mut samples: Vec<Duration> = (0..batches)
        .map(|_| {
            let start = Instant::now();
            for _ in 0..per_batch {
                run();
            }
            start.elapsed() / u32::try_from(per_batch).unwrap_or(u32::MAX)
        })
        .collect();
    samples.sort();
    samples[samples.len() / 2]
}

#[inline(never)]
fn native_noop(content: &str) -> Verdict {
    black_box(content);
    Verdict::Pass
}

fn load(tokio: &tokio::runtime::Runtime, runtime: &Runtime, bytes: &[u8]) -> std::sync::Arc<SanitizerPlugin> {
    let plugin =
        tokio.block_on(runtime.load(bytes, "bench", |_: &str| PluginSettings::default())).expect("plugin loads");
    plugin.sanitizer().expect("a sanitizer").clone()
}

fn main() {
    let quick = std::env::var_os("AIRLOCK_BENCH_QUICK").is_some();
    let (batches, small, large) = if quick { (5, 200, 5) } else { (25, 5_000, 50) };
    let tokio = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("tokio");
    let runtime = Runtime::new(&EngineConfig::default(), None).expect("runtime");
    let noop = load(&tokio, &runtime, &std::fs::read(airlock_tests::guests::NOOP).expect("noop guest"));
    let html_bytes = airlock::bundled::BUNDLED.iter().find(|(name, _)| name.ends_with("html")).expect("bundled html").1;
    let html = load(&tokio, &runtime, html_bytes);
    let request = SanitizeRequest { stage: Stage::Output, content_type: "text/html".into(), options: BTreeMap::new() };

    let native_call = measure(batches, small * 100, || {
        black_box(native_noop(black_box("hello")));
    });
    let sandboxed_call = measure(batches, small, || {
        black_box(tokio.block_on(noop.sanitize(black_box("hello"), &request)).expect("noop call"));
    });
    let mut session = tokio.block_on(noop.session(&request)).expect("noop session");
    let call_on_live_instance = measure(batches, small, || {
        black_box(tokio.block_on(session.push(black_box("hello"))).expect("noop push"));
    });
    let policy = Policy::default();
    let html_native = measure(batches, large, || {
        black_box(sanitize(black_box(PAGE), &policy));
    });
    let first_line_native = measure(batches, large, || {
        black_box(first_line_only(black_box(PAGE), &policy));
    });
    let first_line_output = first_line_only(PAGE, &policy).text;
    let second_line_native = measure(batches, large, || {
        black_box(verify(black_box(&first_line_output), &policy));
    });
    let html_wasm = measure(batches, large, || {
        black_box(tokio.block_on(html.sanitize(black_box(PAGE), &request)).expect("html call"));
    });

    let micros = |d: Duration| d.as_secs_f64() * 1e6;
    let tax = micros(sandboxed_call) - micros(native_call);
    let mb_per_s = |d: Duration| PAGE.len() as f64 / d.as_secs_f64() / 1e6;
    println!(
        "sandbox benchmark ({} iterations per batch, median of {batches} batches)",
        if quick { "quick" } else { "full" }
    );
    println!("  native no-op call                {:>10.3} µs", micros(native_call));
    println!(
        "  sandboxed no-op call             {:>10.3} µs  (fresh instance + call + teardown)",
        micros(sandboxed_call)
    );
    println!("  sandbox tax per call             {tax:>10.3} µs  (target < 10 µs: {})", verdict(tax < 10.0));
    println!(
        "  call into a live instance        {:>10.3} µs  (a stream's push: no instantiation)",
        micros(call_on_live_instance)
    );
    println!("  sandboxed / native call          {:>10.1}x", micros(sandboxed_call) / micros(native_call).max(1e-6));
    println!(
        "  html, {} KB page, native         {:>10.1} µs  ({:.1} MB/s)",
        PAGE.len() / 1024,
        micros(html_native),
        mb_per_s(html_native)
    );
    println!("    first line alone (lol_html)    {:>10.1} µs", micros(first_line_native));
    println!("    second line alone (html5ever)  {:>10.1} µs", micros(second_line_native));
    println!(
        "  html, {} KB page, Wasm           {:>10.1} µs  ({:.1} MB/s)",
        PAGE.len() / 1024,
        micros(html_wasm),
        mb_per_s(html_wasm)
    );
    let second_line_cost = micros(html_native) / micros(first_line_native);
    println!(
        "  html both lines / first line     {second_line_cost:>10.2}x  (target <= 2x: {})",
        verdict(second_line_cost <= 2.0)
    );
    let throughput = micros(html_native) / micros(html_wasm);
    println!(
        "  html Wasm / native throughput    {throughput:>10.2}x  (target >= 0.5x: {})",
        verdict(throughput >= 0.5)
    );
}

fn verdict(met: bool) -> &'static str {
    if met { "met" } else { "NOT met" }
}
