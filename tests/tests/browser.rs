//! The browser app in real Chromium (Debian's, driven by `playwright-core` from npm)
//! against the real server and a fake OpenAI upstream: upload of a real-size screenshot
//! (4 MB, which must reach the upstream byte for byte), two streamed variants,
//! preview, update and undo, hostile model output that must not run, a bad image.
//! The steps are in `tests/browser/app.mjs`; screenshots land in
//! `target/browser-artifacts/`. And an attacker's site on another origin
//! (`tests/browser/cross_site.mjs`): a cross-site form POST, a `no-cors` fetch and a
//! DNS-rebound host name, all refused by the gateway.
//!
//! Needs `/usr/bin/chromium` and `npm ci` in `tests/browser` (`.ci/run` does both).
//! Without them the test says so loudly and skips — except under CI (`CI` set), where
//! it fails.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use airlock_fake_upstream::{TestCa, Vendor};
use common::vendor_setup;

fn missing_tools(browser_dir: &Path) -> Option<String> {
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    if !Path::new(&chromium).exists() {
        return Some(format!("{chromium} is missing (apt-get install chromium)"));
    }
    if !browser_dir.join("node_modules/playwright-core").exists() {
        return Some(format!("playwright-core is missing (npm ci in {})", browser_dir.display()));
    }
    None
}

/// The browser's folder, or `None` (after saying so loudly) when the tools are missing
/// outside CI.
fn browser_dir() -> Option<PathBuf> {
    let browser_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("browser");
    if let Some(missing) = missing_tools(&browser_dir) {
        assert!(std::env::var_os("CI").is_none(), "browser test cannot run under CI: {missing}");
        eprintln!("\n!!!!! SKIPPING the browser test: {missing} !!!!!\n");
        return None;
    }
    Some(browser_dir)
}

/// Runs `node SCRIPT ARGS…` from the browser folder and fails with its report unless it
/// succeeds.
async fn run_script(browser_dir: PathBuf, script: &'static str, args: Vec<PathBuf>) {
    let output =
        tokio::task::spawn_blocking(move || Command::new("node").arg(browser_dir.join(script)).args(args).output())
            .await
            .expect("join")
            .expect("node runs");
    let report = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    println!("{report}");
    assert!(output.status.success(), "browser steps of {script} failed:\n{report}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_app_in_chromium() {
    let Some(browser_dir) = browser_dir() else { return };
    let ca = TestCa::new();
    let (upstream, gateway) = vendor_setup(&ca, Vendor::OpenAi, "openai", "api.openai.com").await;
    let artifacts = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/browser-artifacts");
    let screenshot = airlock_tests::screenshots::png(4.0, 7);
    let upload = tempfile::tempdir().expect("temp dir");
    let screenshot_path = upload.path().join("landing.png");
    std::fs::write(&screenshot_path, &screenshot).expect("writing the screenshot");
    run_script(browser_dir, "app.mjs", vec![gateway.base.clone().into(), artifacts, screenshot_path]).await;
    let first = upstream.requests().into_iter().next().expect("the upload reached the upstream");
    let images = first.images();
    assert_eq!(images.len(), 1);
    assert_eq!(images[0].0, "image/png");
    assert!(images[0].1 == screenshot, "the upstream got the screenshot byte for byte");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_site_cannot_use_the_local_server() {
    let Some(browser_dir) = browser_dir() else { return };
    let ca = TestCa::new();
    let (upstream, gateway) = vendor_setup(&ca, Vendor::OpenAi, "openai", "api.openai.com").await;
    run_script(browser_dir, "cross_site.mjs", vec![gateway.base.clone().into()]).await;
    assert!(upstream.requests().is_empty(), "an attacker's page reached the upstream: {:?}", upstream.requests().len());
}
