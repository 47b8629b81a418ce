//! Replays the committed fuzz corpus: every file of `fuzz/corpus/<target>/` (seeds and
//! the regression inputs past fuzzing runs found) through its target's oracle, the same
//! function the libFuzzer target in `fuzz/` runs. Deterministic, so a failure here is a
//! regression. Each target is one test; it reports every failing input, not just the
//! first.

use std::any::Any;
use std::panic;
use std::path::{Path, PathBuf};
use std::time::Instant;

use airlock_fuzz_oracles::targets;

/// The committed inputs of `target`, sorted by file name.
fn corpus(target: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus").join(target);
    let entries = std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("reading the corpus {}: {e}", dir.display()));
    let mut files: Vec<PathBuf> = entries
        .map(|entry| entry.unwrap_or_else(|e| panic!("reading the corpus {}: {e}", dir.display())).path())
        .filter(|path| path.is_file())
        .collect();
    files.sort();
    assert!(!files.is_empty(), "the corpus {} has no inputs", dir.display());
    files
}

/// What a panic said.
fn message(payload: &(dyn Any + Send)) -> String {
    match (payload.downcast_ref::<&str>(), payload.downcast_ref::<String>()) {
        (Some(message), _) => (*message).to_owned(),
        (None, Some(message)) => message.clone(),
        (None, None) => "(a panic without a message)".to_owned(),
    }
}

/// Runs every corpus input of `target` through `oracle`, each on its own (a panic is
/// caught and recorded), and fails listing every input that failed.
fn replay(target: &str, oracle: fn(&[u8])) {
    let started = Instant::now();
    let files = corpus(target);
    let mut failures = Vec::new();
    for path in &files {
        let name = path.file_name().unwrap_or_default().to_string_lossy();
        let data = std::fs::read(path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
        if let Err(payload) = panic::catch_unwind(|| oracle(&data)) {
            failures.push(format!("{target}/{name}: {}", message(&*payload)));
        }
    }
    println!("{target}: {} inputs replayed in {:.2?}", files.len(), started.elapsed());
    assert!(
        failures.is_empty(),
        "{} of {} inputs of fuzz/corpus/{target} fail:\n\n{}",
        failures.len(),
        files.len(),
        failures.join("\n\n")
    );
}

#[test]
fn api_requests() {
    replay("api_requests", targets::api_requests);
}

#[test]
fn image_check() {
    replay("image_check", targets::image_check);
}

#[test]
fn output_pipeline() {
    replay("output_pipeline", targets::output_pipeline);
}

#[test]
fn sanitize_html() {
    replay("sanitize_html", targets::sanitize_html);
}

#[test]
fn sanitize_secrets() {
    replay("sanitize_secrets", targets::sanitize_secrets);
}

#[test]
fn sse() {
    replay("sse", targets::sse);
}
