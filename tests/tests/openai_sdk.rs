//! The official Python `openai` package, unmodified but for `base_url` and `api_key`,
//! passes `tests/python/openai_client.py` through Airlock to a fake OpenAI upstream.
//!
//! Needs `python3` with the package (`pip install -r tests/python/requirements.txt`,
//! which `scripts/test.sh` runs). Without it the test fails under CI and is skipped,
//! loudly, elsewhere.

mod common;

use std::path::Path;
use std::process::Command;

use airlock_fake_upstream::{TestCa, Vendor};
use serde_json::{Value, json};

const HOST: &str = "api.openai.com";

fn python_has_openai() -> bool {
    Command::new("python3").args(["-c", "import openai"]).output().is_ok_and(|output| output.status.success())
}

#[tokio::test]
async fn the_official_openai_python_client_works_through_airlock() {
    if !python_has_openai() {
        let message =
            "python3 with the `openai` package is missing: run `pip install -r tests/python/requirements.txt`";
        assert!(std::env::var_os("CI").is_none(), "{message}");
        eprintln!("\n\n*** SKIPPED the_official_openai_python_client_works_through_airlock: {message} ***\n\n");
        return;
    }
    let ca = TestCa::for_hosts(&[HOST]);
    let (_upstream, gateway) =
        common::vendor_setup_with(&ca, Vendor::OpenAi, "openai", HOST, common::make_owner, |_| {}).await;
    let owner = gateway.owner.clone().unwrap();
    let post = |path: &str, body: Value| {
        gateway.client.post(format!("{}{path}", gateway.admin)).bearer_auth(&owner).json(&body).send()
    };
    assert_eq!(post("/v1/tenants", json!({ "id": "sdk" })).await.unwrap().status(), 201);
    let created: Value = post("/v1/keys", json!({ "tenant": "sdk" })).await.unwrap().json().await.unwrap();
    let key = created["key"].as_str().unwrap();

    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("python/openai_client.py");
    let base = gateway.base.clone();
    let key = key.to_owned();
    let output = tokio::task::spawn_blocking(move || {
        Command::new("python3")
            .arg(script)
            .env("AIRLOCK_BASE_URL", base)
            .env("AIRLOCK_API_KEY", key)
            .env_remove("OPENAI_API_KEY")
            .env_remove("OPENAI_BASE_URL")
            .output()
            .expect("python3 runs")
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "the script failed:\n{stdout}\n{stderr}");
    assert!(stdout.contains("passed"), "{stdout}");
    eprintln!("{stdout}");
}
