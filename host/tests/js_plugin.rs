//! A sanitizer written in JavaScript (`examples/js-sanitizer/`, built with
//! componentize-js from npm against `wit/plugin.wit`) is an ordinary plugin: it imports
//! nothing with authority, passes the conformance kit and redacts through
//! `airlock sanitize`.
//!
//! Needs `node` and `npm`; `npm ci` runs in the example when its `node_modules` is
//! missing (`scripts/test.sh` does it beforehand). Without them the test says so loudly
//! and skips — except under CI (`CI` set), where it fails.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn example_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/js-sanitizer")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Runs `airlock ARGS` with `stdin` and the data directory `data` (whose code cache
/// spares the next run compiling the same component again).
fn airlock(data: &Path, args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_airlock"))
        .args(args)
        .arg("--data-dir")
        .arg(data)
        .env("AIRLOCK_LOG", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("airlock runs");
    child.stdin.take().expect("stdin").write_all(stdin.as_bytes()).expect("writing stdin");
    child.wait_with_output().expect("airlock finishes")
}

/// Runs `npm ARGS` in the example's directory.
fn npm(dir: &Path, args: &[&str]) -> std::io::Result<Output> {
    Command::new("npm").args(args).current_dir(dir).output()
}

/// What keeps the JavaScript toolchain from running, if anything: no `node`, no `npm`,
/// or an `npm ci` that could not install the example's packages.
fn missing_tools(dir: &Path) -> Option<String> {
    for tool in ["node", "npm"] {
        match Command::new(tool).arg("--version").output() {
            Ok(output) if output.status.success() => {}
            _ => return Some(format!("`{tool}` is missing (install Node.js 20 or later)")),
        }
    }
    if dir.join("node_modules/@bytecodealliance/componentize-js").exists() {
        return None;
    }
    match npm(dir, &["ci", "--no-audit", "--no-fund"]) {
        Ok(output) if output.status.success() => None,
        Ok(output) => Some(format!("`npm ci` in {} failed:\n{}", dir.display(), text(&output.stderr))),
        Err(error) => Some(format!("`npm ci` in {} did not run: {error}", dir.display())),
    }
}

/// Builds the example with its own build script (`npm run build -- OUT`).
fn build(dir: &Path, out: &Path) -> Vec<u8> {
    let output = npm(dir, &["run", "build", "--", out.to_str().expect("utf-8 path")]).expect("npm runs");
    assert!(
        output.status.success(),
        "building the JavaScript sanitizer failed:\n{}{}",
        text(&output.stdout),
        text(&output.stderr)
    );
    std::fs::read(out).expect("the build wrote the component")
}

#[test]
fn a_javascript_sanitizer_builds_and_passes_the_conformance_kit() {
    let dir = example_dir();
    if let Some(missing) = missing_tools(&dir) {
        assert!(std::env::var_os("CI").is_none(), "the JavaScript plugin test cannot run under CI: {missing}");
        eprintln!("\n!!!!! SKIPPING the JavaScript plugin test: {missing} !!!!!\n");
        return;
    }
    let scratch = tempfile::tempdir().expect("temp dir");
    let component = scratch.path().join("emails.wasm");
    let data = scratch.path().join("data");
    let bytes = build(&dir, &component);
    let file = component.to_str().expect("utf-8 path");
    eprintln!("built {file}: {} bytes", bytes.len());

    // It targets the sanitizer world and imports nothing with authority: every WASI
    // feature of the JS engine is disabled in build.mjs.
    let output = airlock(&data, &["plugin", "inspect", file, "--json"], "");
    assert!(output.status.success(), "refused: {}{}", text(&output.stdout), text(&output.stderr));
    let inspected: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON");
    assert_eq!(inspected["world"], "sanitizer", "{inspected}");
    assert_eq!(inspected["imports"], serde_json::json!([]), "{inspected}");
    assert_eq!(inspected["manifest"]["name"], "emails", "{inspected}");

    let output = airlock(&data, &["plugin", "test", file, "--json"], "");
    let report: serde_json::Value = serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|_| panic!("no report: {}{}", text(&output.stdout), text(&output.stderr)));
    let checks = report["checks"].as_array().expect("checks");
    let failed: Vec<&serde_json::Value> = checks.iter().filter(|check| check["passed"] != true).collect();
    assert!(failed.is_empty() && output.status.success(), "conformance failures: {failed:#?}");
    assert!(checks.len() >= 6, "{report}");
    assert_eq!(report["plugin"], "emails@0.1.0");

    let output = airlock(&data, &["sanitize", "--plugin", file], "write to ada@example.org today");
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert_eq!(text(&output.stdout), "write to [email redacted] today");
    let findings: serde_json::Value = serde_json::from_slice(&output.stderr).expect("findings are JSON");
    assert_eq!(findings["verdict"], "rewritten", "{findings}");
    assert_eq!(findings["findings"][0]["rule"], "email-address", "{findings}");
    assert_eq!(findings["findings"][0]["offset"], 9, "{findings}");
}
