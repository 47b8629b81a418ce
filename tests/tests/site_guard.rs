//! Other web sites cannot use a local server: a cross-site form or `fetch` that changes
//! state is refused on both listeners, and so is any request naming a foreign `Host`
//! (DNS rebinding) — while the app's own requests, bearer-key clients from anywhere and
//! the origins the operator lists keep working. (Real Chromium tries the same in
//! `browser.rs`.)

mod common;

use airlock::config::Config;
use airlock_fake_upstream::{TestCa, Vendor};
use common::{Gateway, PNG};
use reqwest::{Method, RequestBuilder};
use serde_json::{Value, json};

const HOST: &str = "api.openai.com";

async fn setup(configure: impl FnOnce(&mut Config)) -> (airlock_fake_upstream::FakeUpstream, Gateway) {
    let ca = TestCa::new();
    common::vendor_setup_with(&ca, Vendor::OpenAi, "openai", HOST, common::make_owner, configure).await
}

/// A screenshot upload as a plain HTML form sends it: multipart, no preflight.
fn form_post(gateway: &Gateway) -> RequestBuilder {
    let options = json!({ "stack": "html_tailwind", "provider": "openai", "model": "gpt-4o", "variants": 1 });
    let image = reqwest::multipart::Part::bytes(PNG.to_vec()).file_name("shot.png").mime_str("image/png").unwrap();
    let form = reqwest::multipart::Form::new().text("request", options.to_string()).part("image", image);
    gateway.client.post(format!("{}/v1/generations", gateway.base)).multipart(form)
}

/// Status, error type and message of a refusal (or of whatever came back).
async fn answer(request: RequestBuilder) -> (u16, Value, reqwest::header::HeaderMap) {
    let response = request.send().await.expect("the gateway answers");
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let text = response.text().await.expect("body");
    (status, serde_json::from_str(&text).unwrap_or(Value::String(text)), headers)
}

fn assert_refused(answer: &(u16, Value, reqwest::header::HeaderMap), status: u16, kind: &str, setting: &str) {
    let (got, body, _) = answer;
    assert_eq!(*got, status, "{body}");
    assert_eq!(body["error"]["type"], kind, "{body}");
    assert!(body["error"]["message"].as_str().unwrap().contains(setting), "{body}");
}

#[tokio::test]
async fn a_cross_site_form_post_is_refused_and_reaches_no_upstream() {
    let (upstream, gateway) = setup(|_| {}).await;
    let from_evil = answer(form_post(&gateway).header("origin", "https://evil.test")).await;
    assert_refused(&from_evil, 403, "cross_site_request", "cors.allowed_origins");
    let marked = answer(form_post(&gateway).header("sec-fetch-site", "cross-site")).await;
    assert_refused(&marked, 403, "cross_site_request", "cors.allowed_origins");
    let null_origin = answer(form_post(&gateway).header("origin", "null")).await;
    assert_refused(&null_origin, 403, "cross_site_request", "`null`");
    // Another port on the same machine is another origin.
    let other_port = answer(form_post(&gateway).header("origin", "http://127.0.0.1:1")).await;
    assert_refused(&other_port, 403, "cross_site_request", "cors.allowed_origins");
    assert!(upstream.requests().is_empty(), "a refused request reached the upstream");

    // The app's own page, and a client that is not a browser, are served.
    let own = answer(form_post(&gateway).header("origin", &gateway.base).header("sec-fetch-site", "same-origin")).await;
    assert_eq!(own.0, 200, "{}", own.1);
    assert_eq!(answer(form_post(&gateway)).await.0, 200);
    assert_eq!(upstream.requests().len(), 2);
}

#[tokio::test]
async fn a_foreign_host_is_refused_on_both_listeners() {
    let (_upstream, gateway) = setup(|_| {}).await;
    let owner = gateway.owner.clone().unwrap();
    let rebound =
        |base: &str, path: &str| gateway.client.get(format!("{base}{path}")).header("host", "rebind.attacker.example");
    for request in [
        rebound(&gateway.base, "/v1/providers"),
        rebound(&gateway.base, "/v1/generations/some-id"),
        rebound(&gateway.base, "/"),
        rebound(&gateway.admin, "/v1/tenants").bearer_auth(&owner),
    ] {
        let refused = answer(request).await;
        assert_refused(&refused, 421, "host_not_allowed", "public_hosts");
        assert!(refused.1["error"]["message"].as_str().unwrap().contains("rebind.attacker.example"));
    }
    // The machine's own names are served, with or without a port.
    let port = gateway.base.rsplit(':').next().unwrap().to_owned();
    for host in [format!("localhost:{port}"), format!("127.0.0.1:{port}"), "localhost".to_owned()] {
        let served = answer(gateway.client.get(format!("{}/v1/providers", gateway.base)).header("host", &host)).await;
        assert_eq!(served.0, 200, "{host}: {}", served.1);
    }
    let tenants = answer(gateway.client.get(format!("{}/v1/tenants", gateway.admin)).bearer_auth(&owner)).await;
    assert_eq!(tenants.0, 200, "{}", tenants.1);
}

#[tokio::test]
async fn public_hosts_admit_the_operators_names() {
    let (_upstream, gateway) = setup(|config| config.public_hosts = vec!["Airlock.Example.com".into()]).await;
    let get = |host: &str| gateway.client.get(format!("{}/v1/providers", gateway.base)).header("host", host);
    assert_eq!(answer(get("airlock.example.com")).await.0, 200);
    assert_eq!(answer(get("airlock.example.com:8443")).await.0, 200);
    assert_refused(&answer(get("airlock.example.com.evil.test")).await, 421, "host_not_allowed", "public_hosts");
}

#[tokio::test]
async fn bearer_key_calls_work_from_any_origin() {
    let (upstream, gateway) = setup(|_| {}).await;
    let owner = gateway.owner.clone().unwrap();
    let key = common::tenant_key(&gateway, "acme").await;
    let chat = json!({ "model": "openai/gpt-4o", "messages": [{ "role": "user", "content": "make a page" }] });
    let with_key = gateway
        .client
        .post(format!("{}/v1/chat/completions", gateway.base))
        .bearer_auth(&key)
        .header("origin", "https://evil.test")
        .json(&chat);
    let served = answer(with_key).await;
    assert_eq!(served.0, 200, "{}", served.1);
    assert_eq!(upstream.requests().len(), 1);

    // The control plane: a key is required anyway, and a browser cannot add one cross-site.
    let create = |key: Option<&str>| {
        let request = gateway
            .client
            .request(Method::POST, format!("{}/v1/tenants", gateway.admin))
            .header("origin", "https://evil.test")
            .json(&json!({ "id": "beta" }));
        match key {
            Some(key) => request.bearer_auth(key),
            None => request,
        }
    };
    assert_refused(&answer(create(None)).await, 403, "cross_site_request", "cors.allowed_origins");
    assert_eq!(answer(create(Some(&owner))).await.0, 201);
}

#[tokio::test]
async fn listed_origins_get_cors_answers_and_others_do_not() {
    const APP: &str = "http://app.example.test:3000";
    let (_upstream, gateway) = setup(|config| config.cors.allowed_origins = vec![APP.into()]).await;
    let sanitize = json!({ "plugin": "html", "content": "<p onclick=x()>hi</p>" });
    let preflight = |origin: &str| {
        gateway
            .client
            .request(Method::OPTIONS, format!("{}/v1/sanitize", gateway.base))
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header("access-control-request-headers", "content-type")
    };
    let (status, _, headers) = answer(preflight(APP)).await;
    assert!(status < 300, "preflight: {status}");
    assert_eq!(headers["access-control-allow-origin"], APP);
    assert!(headers["access-control-allow-methods"].to_str().unwrap().contains("POST"));
    let (_, _, headers) = answer(preflight("https://evil.test")).await;
    assert!(headers.get("access-control-allow-origin").is_none(), "{headers:?}");

    let post = |origin: &str| {
        gateway.client.post(format!("{}/v1/sanitize", gateway.base)).header("origin", origin).json(&sanitize)
    };
    let (status, body, headers) = answer(post(APP)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(headers["access-control-allow-origin"], APP);
    let refused = answer(post("https://evil.test")).await;
    assert_refused(&refused, 403, "cross_site_request", "https://evil.test");
    assert!(refused.2.get("access-control-allow-origin").is_none());
}

#[tokio::test]
async fn settings_that_cannot_work_stop_the_start() {
    let data = tempfile::tempdir().unwrap();
    let mut config = Config {
        listen: "127.0.0.1:0".parse().unwrap(),
        data_dir: data.path().to_path_buf(),
        gateway: airlock::config::GatewayConfig { admin_listen: None, ..Default::default() },
        ..Config::default()
    };
    config.cors.allowed_origins = vec!["*".into()];
    let error = format!("{:#}", airlock::server::Server::bind(&config).await.err().expect("refused"));
    assert!(error.contains("cors.allowed_origins") && error.contains("no path, no wildcard"), "{error}");
    config.cors.allowed_origins.clear();
    config.public_hosts = vec!["https://airlock.example.com/".into()];
    let error = format!("{:#}", airlock::server::Server::bind(&config).await.err().expect("refused"));
    assert!(error.contains("`public_hosts`"), "{error}");
}
