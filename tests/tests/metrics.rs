//! `GET /metrics` against a running server: real requests (a tenant's chat completion,
//! streamed and not, a 401, sanitizer calls, a trapping plugin, an egress refusal, a
//! plugin upload) move exactly the counters they should, the exposition parses, and the
//! endpoint is not served on the API listener by default.

mod common;

use std::collections::BTreeMap;
use std::path::PathBuf;

use airlock::config::Secret;
use airlock_fake_upstream::{TestCa, Vendor};
use airlock_tests::guests;
use common::Gateway;
use serde_json::{Value, json};

const HOST: &str = "api.openai.com";
const ADMIN_TOKEN: &str = "metrics-test-admin-token"; // pragma: allowlist secret
const CHAT: &str = "/v1/chat/completions";

/// The samples of an exposition, `name{labels}` → value; panics on a line that is
/// neither a comment nor a sample.
fn parse(text: &str) -> BTreeMap<String, f64> {
    let mut samples = BTreeMap::new();
    for line in text.lines().filter(|line| !line.is_empty() && !line.starts_with('#')) {
        let (series, value) = line.rsplit_once(' ').unwrap_or_else(|| panic!("not a sample: `{line}`"));
        let name_end = series.find('{').unwrap_or(series.len());
        let name = &series[..name_end];
        assert!(
            !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':'),
            "bad metric name in `{line}`"
        );
        assert!(name_end == series.len() || series.ends_with('}'), "bad labels in `{line}`");
        let value = value.parse::<f64>().unwrap_or_else(|_| panic!("bad value in `{line}`"));
        samples.insert(series.to_owned(), value);
    }
    samples
}

/// A series' name with its labels in the order given.
fn series(name: &str, labels: &[(&str, &str)]) -> String {
    let labels: Vec<String> = labels.iter().map(|(key, value)| format!("{key}=\"{value}\"")).collect();
    format!("{name}{{{}}}", labels.join(","))
}

struct Scrape(BTreeMap<String, f64>);

impl Scrape {
    fn value(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        self.0.get(&series(name, labels)).copied().unwrap_or(0.0)
    }
}

async fn scrape(gateway: &Gateway) -> Scrape {
    let response = gateway.client.get(format!("{}/metrics", gateway.admin)).send().await.expect("scrape");
    assert_eq!(response.status(), 200);
    let content_type = response.headers()["content-type"].to_str().unwrap().to_owned();
    assert!(content_type.starts_with("text/plain; version=0.0.4"), "{content_type}");
    Scrape(parse(&response.text().await.expect("body")))
}

async fn chat(gateway: &Gateway, key: &str, stream: bool) -> (u16, String) {
    let body = json!({
        "model": "openai/gpt-4o",
        "messages": [{ "role": "user", "content": "make a page" }],
        "stream": stream,
        "stream_options": { "include_usage": true },
    });
    let response = gateway
        .client
        .post(format!("{}{CHAT}", gateway.base))
        .bearer_auth(key)
        .json(&body)
        .send()
        .await
        .expect("gateway answers");
    (response.status().as_u16(), response.text().await.expect("body"))
}

/// The `usage` of a completion, or of a stream's usage chunk.
fn usage(body: &str) -> (f64, f64) {
    let usage = body
        .lines()
        .filter_map(|line| line.strip_prefix("data: "))
        .chain([body])
        .filter_map(|data| serde_json::from_str::<Value>(data).ok())
        .find_map(|value| value.get("usage").filter(|usage| usage.is_object()).cloned())
        .expect("a usage object");
    (usage["prompt_tokens"].as_f64().unwrap(), usage["completion_tokens"].as_f64().unwrap())
}

async fn sanitize(gateway: &Gateway, plugin: &str) -> u16 {
    let body = json!({ "plugin": plugin, "content": "<p>hi</p>", "content_type": "text/html" });
    let response =
        gateway.client.post(format!("{}/v1/sanitize", gateway.base)).json(&body).send().await.expect("sanitize");
    response.status().as_u16()
}

#[tokio::test]
async fn requests_move_exactly_their_counters_and_the_exposition_parses() {
    let ca = TestCa::for_hosts(&[HOST]);
    let (_upstream, gateway) =
        common::vendor_setup_with(&ca, Vendor::OpenAi, "openai", HOST, common::make_owner, |config| {
            config.plugins = vec![PathBuf::from(guests::HOSTILE_TRAP), PathBuf::from(guests::HOSTILE_PROVIDER)];
            config.admin_token = Some(Secret::new(ADMIN_TOKEN));
        })
        .await;
    let key = common::tenant_key(&gateway, "acme").await;

    // Not on the API listener by default.
    let hidden = gateway.client.get(format!("{}/metrics", gateway.base)).send().await.unwrap().status().as_u16();
    assert!(hidden == 404 || hidden == 401, "{hidden}");

    // An upload first (its self-test calls the new html): loaded, then activated.
    let upload = gateway
        .client
        .post(format!("{}/admin/plugins?activate=true", gateway.base))
        .bearer_auth(ADMIN_TOKEN)
        .body(std::fs::read(guests::HTML_V2).expect("html v2 guest"))
        .send()
        .await
        .unwrap();
    assert_eq!(upload.status(), 200);
    let before = scrape(&gateway).await;
    let swaps = |event| {
        before.value("airlock_plugin_swaps_total", &[("plugin", "html"), ("kind", "sanitizer"), ("event", event)])
    };
    assert_eq!((swaps("load"), swaps("activate"), swaps("rollback")), (1.0, 1.0, 0.0));
    let upload = [("route", "/admin/plugins"), ("method", "POST"), ("status", "200"), ("tenant", "operator")];
    assert_eq!(before.value("airlock_http_requests_total", &upload), 1.0);

    let (status, whole) = chat(&gateway, &key, false).await;
    assert_eq!(status, 200, "{whole}");
    let (status, streamed) = chat(&gateway, &key, true).await;
    assert_eq!(status, 200, "{streamed}");
    let (status, _) = chat(&gateway, "ak_nope_not-a-real-key", false).await; // pragma: allowlist secret
    assert_eq!(status, 401);
    assert_eq!(sanitize(&gateway, "html").await, 200);
    assert_eq!(sanitize(&gateway, "hostile-trap").await, 500);
    let refused = gateway
        .generate(
            "hostile-provider",
            json!({ "model": "https://not-allowed.example/steal", "messages": [{ "role": "user", "content": "x" }] }),
            None,
        )
        .await;
    assert_eq!(refused.status, 403, "{refused:?}");
    // A stream's gauge and its tokens are recorded as its body ends, which may be just
    // after the client read the last byte: poll (bounded) until both settled.
    let ((prompt_a, completion_a), (prompt_b, completion_b)) = (usage(&whole), usage(&streamed));
    let token_labels = |kind| [("tenant", "acme"), ("provider", "openai"), ("kind", kind)];
    let settled = |after: &Scrape| {
        let delta = |kind| {
            after.value("airlock_tokens_total", &token_labels(kind))
                - before.value("airlock_tokens_total", &token_labels(kind))
        };
        after.value("airlock_active_streams", &[("route", CHAT)]) == 0.0
            && delta("prompt") == prompt_a + prompt_b
            && delta("completion") == completion_a + completion_b
    };
    let after = common::eventually(|| scrape(&gateway), settled).await;
    let delta = |name: &str, labels: &[(&str, &str)]| after.value(name, labels) - before.value(name, labels);

    // HTTP: by route template, method, status and tenant.
    let requests = "airlock_http_requests_total";
    let ok = [("route", CHAT), ("method", "POST"), ("status", "200"), ("tenant", "acme")];
    assert_eq!(delta(requests, &ok), 2.0);
    let denied = [("route", CHAT), ("method", "POST"), ("status", "401"), ("tenant", "anonymous")];
    assert_eq!(delta(requests, &denied), 1.0);
    let generate = [("route", "/v1/providers/{name}/generate"), ("method", "POST")];
    assert_eq!(delta(requests, &[generate[0], generate[1], ("status", "403"), ("tenant", "anonymous")]), 1.0);
    let duration = "airlock_http_request_duration_seconds";
    let chat_route = [("route", CHAT), ("method", "POST")];
    assert_eq!(delta(&format!("{duration}_count"), &chat_route), 3.0);
    assert!(delta(&format!("{duration}_sum"), &chat_route) > 0.0);
    let inf = [chat_route[0], chat_route[1], ("le", "+Inf")];
    assert_eq!(delta(&format!("{duration}_bucket"), &inf), 3.0);
    // The stream was counted while open and is closed now.
    assert!(after.0.contains_key(&series("airlock_active_streams", &[("route", CHAT)])), "{:?}", after.0.keys());
    assert_eq!(after.value("airlock_active_streams", &[("route", CHAT)]), 0.0);

    // Tokens, as the responses reported them.
    let tokens = |kind| delta("airlock_tokens_total", &token_labels(kind));
    assert_eq!(tokens("prompt"), prompt_a + prompt_b);
    assert_eq!(tokens("completion"), completion_a + completion_b);
    assert!(prompt_a > 0.0 && completion_a > 0.0);

    // Plugin calls, by outcome.
    let calls = |plugin, kind, outcome| {
        delta("airlock_plugin_calls_total", &[("plugin", plugin), ("kind", kind), ("outcome", outcome)])
    };
    assert_eq!(calls("html", "sanitizer", "ok"), 1.0);
    assert_eq!(calls("hostile-trap", "sanitizer", "trap"), 1.0);
    assert_eq!(calls("hostile-trap", "sanitizer", "ok"), 0.0);
    assert_eq!(calls("hostile-provider", "provider", "error"), 1.0);
    let openai_ok = calls("openai", "provider", "ok");
    assert!(openai_ok >= 4.0, "two generations, each started and read to its end: {openai_ok}");
    let plugin_duration = "airlock_plugin_call_duration_seconds";
    let openai = [("plugin", "openai"), ("kind", "provider")];
    assert_eq!(delta(&format!("{plugin_duration}_count"), &openai), openai_ok);
    // Buckets from 5 µs to 10 s, and +Inf.
    let buckets = series(&format!("{plugin_duration}_bucket"), &openai);
    let buckets = after.0.keys().filter(|key| key.starts_with(buckets.trim_end_matches('}'))).count();
    assert_eq!(buckets, 17);

    // The egress gate's refusal, by its reason.
    let egress = [("plugin", "hostile-provider"), ("reason", "host_not_allowed")];
    assert_eq!(delta("airlock_egress_denied_total", &egress), 1.0);

    let version = env!("CARGO_PKG_VERSION");
    assert_eq!(after.value("airlock_build_info", &[("version", version)]), 1.0);
}

#[tokio::test]
async fn the_api_listener_serves_metrics_only_when_made_public() {
    let ca = TestCa::for_hosts(&[HOST]);
    let gateway = common::start(&ca, &[], |config| config.metrics.public = true).await;
    let response = gateway.client.get(format!("{}/metrics", gateway.base)).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let exposition = parse(&response.text().await.unwrap());
    assert!(exposition.keys().any(|series| series.starts_with("airlock_build_info{")));
}
