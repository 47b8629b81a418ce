//! The bundled providers and the egress gate, end to end: a real server, real provider
//! components, and fake vendor APIs over TLS on 127.0.0.1 (with a test CA and a test
//! resolver standing in for the vendors' DNS).

mod common;

use std::path::PathBuf;

use airlock::config::ProviderConfig;
use airlock::runtime::EgressLimits;
use airlock_fake_upstream::{FakeUpstream, REFUSAL, TestCa, Vendor, answer_chunks, reasoning_chunks};
use airlock_tests::guests;
use common::{Gateway, KEY, image_base64, parse_events, screenshot_request, start, vendor_setup};
use serde_json::{Value, json};

#[tokio::test]
async fn each_bundled_provider_streams_an_answer_and_only_the_host_added_the_key() {
    let ca = TestCa::new();
    let cases = [
        (Vendor::OpenAi, "openai", "api.openai.com", "gpt-4o"),
        (Vendor::Anthropic, "anthropic", "api.anthropic.com", "claude-sonnet-4-5"),
        (Vendor::Gemini, "gemini", "generativelanguage.googleapis.com", "gemini-2.5-flash"),
        (Vendor::AzureOpenAi, "azure-openai", "airlock-test.openai.azure.com", "my-gpt-4o"),
    ];
    for (vendor, name, host, model) in cases {
        let (upstream, gateway) = vendor_setup(&ca, vendor, name, host).await;
        let answer = gateway.generate(name, screenshot_request(model), None).await;
        assert_eq!(answer.status, 200, "{name}: {answer:?}");
        assert_eq!(answer.text(), answer_chunks().concat(), "{name}");
        let chunks = answer.events.iter().filter(|(n, _)| n == "chunk").count();
        assert!(chunks >= answer_chunks().len(), "{name}: streamed in {chunks} chunks");
        assert_eq!(answer.event("finished"), Some(&json!({ "reason": "stop" })), "{name}");
        assert_eq!(answer.event("usage").map(|u| u["prompt_tokens"].clone()), Some(json!(42)), "{name}");
        assert!(answer.event("done").is_some(), "{name}");

        let requests = upstream.requests();
        assert_eq!(requests.len(), 1, "{name}");
        let seen = &requests[0];
        let (presented, image) = match vendor {
            Vendor::OpenAi | Vendor::AzureOpenAi => (
                seen.header(if vendor == Vendor::OpenAi { "authorization" } else { "api-key" }).map(str::to_owned),
                seen.json()["messages"][1]["content"][1]["image_url"]["url"].as_str().map(str::to_owned),
            ),
            Vendor::Anthropic => (
                seen.header("x-api-key").map(str::to_owned),
                seen.json()["messages"][0]["content"][1]["source"]["data"].as_str().map(str::to_owned),
            ),
            Vendor::Gemini => (
                seen.path_and_query.split("key=").nth(1).map(str::to_owned),
                seen.json()["contents"][0]["parts"][1]["inline_data"]["data"].as_str().map(str::to_owned),
            ),
        };
        let expected_key = if vendor == Vendor::OpenAi { format!("Bearer {KEY}") } else { KEY.to_owned() };
        assert_eq!(presented.as_deref(), Some(expected_key.as_str()), "{name}: the upstream saw the host's key");
        let image = image.unwrap_or_else(|| panic!("{name}: the image reached the upstream: {}", seen.json()));
        assert!(image.ends_with(&image_base64()), "{name}: {image}");
    }
}

/// Also OpenRouter's way: its app attribution headers come from the provider's options.
#[tokio::test]
async fn openai_compatible_reaches_a_local_plain_http_server_at_the_configured_base_url() {
    let ca = TestCa::new();
    let upstream = FakeUpstream::start(Vendor::OpenAi, KEY, None).await;
    let base_url = format!("http://127.0.0.1:{}/v1", upstream.port());
    let attribution = [("http-referer", "https://airlock.example"), ("x-title", "Airlock tests")];
    let gateway = start(&ca, &[], |config| {
        let options = attribution.iter().map(|(name, value)| ((*name).to_owned(), (*value).to_owned())).collect();
        config.providers.insert(
            "openai-compatible".into(),
            ProviderConfig {
                api_key: Some(KEY.into()),
                base_url: Some(base_url),
                options,
                ..ProviderConfig::default()
            },
        );
    })
    .await;
    let answer = gateway.generate("openai-compatible", screenshot_request("llava"), None).await;
    assert_eq!(answer.status, 200, "{answer:?}");
    assert_eq!(answer.text(), answer_chunks().concat());
    let sent = &upstream.requests()[0];
    assert_eq!(sent.header("authorization"), Some(format!("Bearer {KEY}").as_str()));
    for (header, value) in attribution {
        assert_eq!(sent.header(header), Some(value), "{header}");
    }

    // It asks the server for its models, through the gate too.
    let models: Value = gateway
        .client
        .get(format!("{}/v1/providers/openai-compatible/models", gateway.base))
        .send()
        .await
        .expect("answer")
        .json()
        .await
        .expect("JSON");
    assert_eq!(models["models"][0]["id"], "fake-model", "{models}");
    assert_eq!(upstream.requests()[1].path_and_query, "/v1/models");
}

/// Azure OpenAI: the model names the deployment, the key goes in `api-key` (never as a
/// bearer), `api-version` defaults to the GA version and follows the operator's option.
#[tokio::test]
async fn azure_openai_calls_the_deployment_with_the_key_in_api_key_and_the_api_version() {
    let host = "airlock-test.openai.azure.com";
    for (configured, expected) in [(None, "2024-10-21"), (Some("2025-01-01-preview"), "2025-01-01-preview")] {
        let ca = TestCa::for_hosts(&[host]);
        let (upstream, gateway) =
            common::vendor_setup_configured(&ca, Vendor::AzureOpenAi, "azure-openai", host, |config| {
                if let (Some(version), Some(azure)) = (configured, config.providers.get_mut("azure-openai")) {
                    azure.options.insert("api-version".into(), version.into());
                }
            })
            .await;
        let answer = gateway.generate("azure-openai", screenshot_request("my-gpt-4o"), None).await;
        assert_eq!(answer.status, 200, "{answer:?}");
        assert_eq!(answer.text(), answer_chunks().concat());
        let sent = &upstream.requests()[0];
        assert_eq!(
            sent.path_and_query,
            format!("/openai/deployments/my-gpt-4o/chat/completions?api-version={expected}")
        );
        assert_eq!(sent.header("authorization"), None, "the key goes in `api-key` only");

        let listed: Value =
            gateway.client.get(format!("{}/v1/providers", gateway.base)).send().await.unwrap().json().await.unwrap();
        let azure = listed["providers"].as_array().unwrap().iter().find(|p| p["name"] == "azure-openai").unwrap();
        assert!(azure["options"]["api-version"].as_str().unwrap().contains("2024-10-21"), "{azure}");

        let unsafe_name = gateway.generate("azure-openai", screenshot_request("../admin"), None).await;
        assert_eq!(unsafe_name.status, 400, "{unsafe_name:?}");
        assert_eq!(upstream.requests().len(), 1, "nothing was sent for a deployment name that is no name");
    }
}

/// The end of the body, as each vendor's SDK reads it: a stream whose last event lacks
/// its closing blank line is a whole answer; one cut in the middle of a line before the
/// answer finished is an error, never a short success.
#[tokio::test]
async fn every_provider_reads_the_end_of_a_stream_as_the_vendors_sdks_do() {
    for (vendor, name, host) in VENDORS {
        let ca = TestCa::for_hosts(&[host]);
        let (_upstream, gateway) = vendor_setup(&ca, vendor, name, host).await;
        let whole = gateway.generate(name, screenshot_request("fake-unterminated"), None).await;
        assert_eq!(whole.status, 200, "{name}: {whole:?}");
        assert!(whole.event("error").is_none(), "{name}: {whole:?}");
        assert_eq!(whole.text(), answer_chunks().concat(), "{name}");
        assert!(whole.event("done").is_some(), "{name}: {whole:?}");

        let cut = gateway.generate(name, screenshot_request("fake-cut-line"), None).await;
        let error = cut.event("error").unwrap_or_else(|| panic!("{name}: {cut:?}"));
        assert_eq!(error["error"]["type"], "upstream_error", "{name}: {error}");
        let message = error["error"]["message"].as_str().unwrap_or_default();
        assert!(message.contains("cut before the answer finished"), "{name}: {message}");
        assert!(cut.event("done").is_none(), "{name}: {cut:?}");
    }
}

/// The vendors' fake APIs: vendor, bundled provider, real host (one of Azure's family).
const VENDORS: [(Vendor, &str, &str); 4] = [
    (Vendor::OpenAi, "openai", "api.openai.com"),
    (Vendor::Anthropic, "anthropic", "api.anthropic.com"),
    (Vendor::Gemini, "gemini", "generativelanguage.googleapis.com"),
    (Vendor::AzureOpenAi, "azure-openai", "airlock-test.openai.azure.com"),
];

/// The three ways in, with a tenant's key: the provider route's stream,
/// `/v1/chat/completions` and the screenshot flow, each for `provider`'s model `model`.
struct Routes {
    _upstream: FakeUpstream,
    gateway: Gateway,
    provider: &'static str,
    key: String,
}

impl Routes {
    /// `provider` against its vendor's fake API, with an owner and a tenant key.
    async fn start(vendor: Vendor, provider: &'static str, host: &str) -> Self {
        let ca = TestCa::for_hosts(&[host]);
        let (upstream, gateway) =
            common::vendor_setup_with(&ca, vendor, provider, host, common::make_owner, |_| {}).await;
        let key = common::tenant_key(&gateway, "acme").await;
        Routes { _upstream: upstream, gateway, provider, key }
    }

    /// The provider route's answer: its status, and its events or its error.
    async fn stream(&self, model: &str) -> (u16, Vec<(String, Value)>, Value) {
        let path = format!("/v1/providers/{}/generate", self.provider);
        let (status, text) = self.gateway.post_json(&path, Some(&self.key), &screenshot_request(model)).await;
        if status == 200 {
            (status, parse_events(&text), Value::Null)
        } else {
            (status, Vec::new(), serde_json::from_str(&text).unwrap_or_else(|_| panic!("JSON: {text}")))
        }
    }

    async fn chat(&self, model: &str) -> (u16, Value) {
        let body = json!({
            "model": format!("{}/{model}", self.provider),
            "messages": [{ "role": "user", "content": "Build a page with one heading." }],
        });
        let (status, text) = self.gateway.post_json("/v1/chat/completions", Some(&self.key), &body).await;
        (status, serde_json::from_str(&text).unwrap_or_else(|_| panic!("{}: JSON: {text}", self.provider)))
    }

    /// The screenshot flow's events for one variant.
    async fn screenshot(&self, model: &str) -> Vec<(String, Value)> {
        let body = json!({
            "images": [{ "data": format!("data:image/png;base64,{}", image_base64()) }],
            "stack": "html_tailwind", "provider": self.provider, "model": model, "variants": 1,
        });
        let (status, text) = self.gateway.post_json("/v1/generations", Some(&self.key), &body).await;
        assert_eq!(status, 200, "{}: {text}", self.provider);
        parse_events(&text)
    }
}

fn event<'a>(events: &'a [(String, Value)], name: &str) -> Option<&'a Value> {
    events.iter().find(|(n, _)| n == name).map(|(_, data)| data)
}

/// A thinking model's reasoning, in each vendor's own format, never becomes answer
/// text: the provider route forwards it as `reasoning` events; the screenshot flow and
/// `/v1/chat/completions` (whose output sanitizers see only the answer) leave it out.
#[tokio::test]
async fn every_provider_keeps_a_thinking_models_reasoning_out_of_the_answer() {
    let (page, reasoning) = (answer_chunks().concat(), reasoning_chunks().concat());
    for (vendor, name, host) in VENDORS {
        let routes = Routes::start(vendor, name, host).await;
        let (status, events, error) = routes.stream("fake-thinking").await;
        assert_eq!(status, 200, "{name}: {error}");
        let texts = |kind: &str| -> String {
            events.iter().filter(|(event, _)| event == kind).filter_map(|(_, data)| data["text"].as_str()).collect()
        };
        assert_eq!(texts("chunk"), page, "{name}: {events:?}");
        assert_eq!(texts("reasoning"), reasoning, "{name}: {events:?}");

        let (status, completion) = routes.chat("fake-thinking").await;
        assert_eq!(status, 200, "{name}: {completion}");
        assert_eq!(completion["choices"][0]["message"]["content"], page, "{name}: {completion}");
        assert!(!completion.to_string().contains(reasoning_chunks()[0]), "{name}: {completion}");

        let events = routes.screenshot("fake-thinking").await;
        let completed = event(&events, "variant.completed").unwrap_or_else(|| panic!("{name}: {events:?}"));
        assert_eq!(completed["code"], page, "{name}");
        assert!(!format!("{events:?}").contains(reasoning_chunks()[0]), "{name}: {events:?}");
    }
}

/// A refusal (OpenAI `delta.refusal`, Anthropic `stop_reason: refusal`, Gemini
/// `promptFeedback.blockReason`) and a safety stop after part of an answer (OpenAI
/// `content_filter`, Gemini `finishReason: SAFETY`, a prompt Azure's content filter
/// blocks with a 400) are never an empty or short success: every route answers the typed
/// error `model_refused` with the vendor's reason.
#[tokio::test]
async fn every_provider_reports_a_refusal_as_a_typed_error_with_the_vendors_reason() {
    let reasons = [
        ("refusal", "content_filter"),
        ("refusal", "refusal"),
        ("PROHIBITED_CONTENT", "SAFETY"),
        ("refusal", "content_filter"),
    ];
    for ((vendor, name, host), (refused, filtered)) in VENDORS.into_iter().zip(reasons) {
        let routes = Routes::start(vendor, name, host).await;
        for (model, reason) in [("fake-refusal", refused), ("fake-filtered", filtered)] {
            let check = |route: &str, error: &Value| {
                assert_eq!(error["type"], "model_refused", "{name} {model} {route}: {error}");
                let message = error["message"].as_str().unwrap_or_default();
                assert!(
                    message.contains(&format!("declined to answer ({reason})")),
                    "{name} {model} {route}: {message}"
                );
                if matches!(vendor, Vendor::OpenAi | Vendor::AzureOpenAi) && model == "fake-refusal" {
                    assert!(message.contains(REFUSAL), "the model's own words: {message}");
                }
            };
            match routes.stream(model).await {
                (200, events, _) => {
                    check("provider stream", &event(&events, "error").unwrap_or_else(|| panic!("{events:?}"))["error"]);
                    assert!(event(&events, "done").is_none(), "{name} {model}: {events:?}");
                }
                (status, _, error) => {
                    assert_eq!(status, 422, "{name} {model}: {error}");
                    check("provider route", &error["error"]);
                }
            }
            let (status, body) = routes.chat(model).await;
            assert_eq!(status, 422, "{name} {model}: {body}");
            check("chat completions", &body["error"]);
            let events = routes.screenshot(model).await;
            let failed = event(&events, "variant.failed").unwrap_or_else(|| panic!("{name} {model}: {events:?}"));
            check("screenshot flow", &failed["error"]);
            assert!(event(&events, "variant.completed").is_none(), "{name} {model}: {events:?}");
        }
    }
}

#[tokio::test]
async fn upstream_errors_keep_their_meaning() {
    let ca = TestCa::new();
    let (_upstream, gateway) = vendor_setup(&ca, Vendor::OpenAi, "openai", "api.openai.com").await;

    let limited = gateway.generate("openai", screenshot_request("fake-429"), None).await;
    assert_eq!(limited.status, 429, "{limited:?}");
    assert_eq!(limited.retry_after.as_deref(), Some("7"));
    assert!(limited.error["error"]["message"].as_str().unwrap().contains("Rate limit reached"), "{limited:?}");

    let failed = gateway.generate("openai", screenshot_request("fake-500"), None).await;
    assert_eq!(failed.status, 502, "{failed:?}");
    assert_eq!(failed.error["error"]["type"], "upstream_error");

    // A caller's own wrong key is the caller's 401, and the upstream saw that key.
    let wrong = gateway.generate("openai", screenshot_request("gpt-4o"), Some("sk-callers-own")).await;
    assert_eq!(wrong.status, 401, "{wrong:?}");

    // Mid-stream failures arrive as an `error` event after the chunks already sent.
    for model in ["fake-malformed", "fake-reset"] {
        let answer = gateway.generate("openai", screenshot_request(model), None).await;
        assert_eq!(answer.status, 200, "{model}: {answer:?}");
        let error = answer.event("error").unwrap_or_else(|| panic!("{model}: {answer:?}"));
        assert_eq!(error["error"]["type"], "upstream_error", "{model}: {error}");
        assert!(answer.event("done").is_none(), "{model}");
    }

    // And the gateway keeps serving.
    let ok = gateway.generate("openai", screenshot_request("gpt-4o"), None).await;
    assert_eq!(ok.text(), answer_chunks().concat());
}

#[tokio::test]
async fn a_client_that_disconnects_ends_the_upstream_stream() {
    let ca = TestCa::new();
    let (upstream, gateway) = vendor_setup(&ca, Vendor::OpenAi, "openai", "api.openai.com").await;
    let response = gateway
        .client
        .post(format!("{}/v1/providers/openai/generate", gateway.base))
        .json(&screenshot_request("fake-slow"))
        .send()
        .await
        .expect("gateway answers");
    assert_eq!(response.status(), 200);
    let mut stream = response.bytes_stream();
    let first = futures_util::StreamExt::next(&mut stream).await.expect("a first event").expect("bytes");
    assert!(String::from_utf8_lossy(&first).contains("event: chunk"), "{first:?}");
    drop(stream);
    // The upstream notices within a few of its 50 ms ticks; give it up to 20 s on a
    // loaded machine (the stream would otherwise run for 30 s).
    for _ in 0..200 {
        if upstream.abandoned() == 1 {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("the upstream stream was not cancelled after the client went away");
}

#[tokio::test]
async fn a_callers_own_key_replaces_the_operators_for_that_request_only() {
    let ca = TestCa::new();
    let upstream = FakeUpstream::start(Vendor::Anthropic, "sk-ant-callers-own", Some(&ca)).await;
    let port = upstream.port();
    let gateway = start(&ca, &["api.anthropic.com"], |config| {
        config.providers.insert(
            "anthropic".into(),
            ProviderConfig {
                base_url: Some(upstream.base_url("api.anthropic.com")),
                local_hosts: vec![format!("api.anthropic.com:{port}").parse().unwrap()],
                ..ProviderConfig::default()
            },
        );
    })
    .await;
    let answer =
        gateway.generate("anthropic", screenshot_request("claude-sonnet-4-5"), Some("sk-ant-callers-own")).await;
    assert_eq!(answer.text(), answer_chunks().concat(), "{answer:?}");
    let without = gateway.generate("anthropic", screenshot_request("claude-sonnet-4-5"), None).await;
    assert_eq!(without.status, 401, "no operator key is configured: {without:?}");
    let seen: Vec<_> = upstream.requests().iter().map(|r| r.header("x-api-key").map(str::to_owned)).collect();
    assert_eq!(seen, [Some("sk-ant-callers-own".to_owned()), None]);
}

/// The hostile provider against a gateway whose operator allowed (by mistake, or on
/// purpose) some hosts its manifest lists — including internal addresses — with the key
/// bound to the vendor host only.
struct HostileSetup {
    vendor: FakeUpstream,
    attacker: FakeUpstream,
    gateway: Gateway,
}

async fn hostile_setup() -> HostileSetup {
    let ca = TestCa::new();
    let vendor = FakeUpstream::start(Vendor::OpenAi, KEY, Some(&ca)).await;
    let attacker = FakeUpstream::start(Vendor::OpenAi, "attacker-does-not-know-the-key", Some(&ca)).await;
    let (vendor_port, attacker_port) = (vendor.port(), attacker.port());
    let gateway = start(&ca, &["api.openai.com", "attacker.test", "rebind.test"], |config| {
        config.plugins = vec![PathBuf::from(guests::HOSTILE_PROVIDER)];
        let host = |entry: String| entry.parse().unwrap();
        config.providers.insert(
            "hostile-provider".into(),
            ProviderConfig {
                api_key: Some(KEY.into()),
                base_url: Some(vendor.base_url("api.openai.com")),
                hosts: Some(vec![
                    host(format!("rebind.test:{vendor_port}")),
                    host(format!("127.0.0.1:{vendor_port}")),
                    host("10.0.0.1".into()),
                    host("169.254.169.254".into()),
                    host(format!("[::ffff:127.0.0.1]:{vendor_port}")),
                ]),
                local_hosts: vec![
                    host(format!("api.openai.com:{vendor_port}")),
                    host(format!("attacker.test:{attacker_port}")),
                ],
                credential_hosts: Some(vec![host(format!("api.openai.com:{vendor_port}"))]),
                egress: EgressLimits {
                    first_byte_ms: 1_500,
                    request_kib: 4096,
                    response_kib: 1024,
                    ..EgressLimits::default()
                },
                ..ProviderConfig::default()
            },
        );
    })
    .await;
    HostileSetup { vendor, attacker, gateway }
}

#[tokio::test]
async fn hostile_provider_destinations_are_refused_with_the_reason() {
    let HostileSetup { vendor, attacker, gateway } = hostile_setup().await;
    let port = vendor.port();
    let cases = [
        ("https://not-allowed.example/steal".to_owned(), "`not-allowed.example:443` is not an allowed destination"),
        (format!("http://api.openai.com:{port}/v1/models"), "`http` is not allowed"),
        (format!("https://127.0.0.1:{port}/v1/models"), "127.0.0.1, a loopback address"),
        ("https://10.0.0.1/v1/models".to_owned(), "10.0.0.1, a private address"),
        ("https://169.254.169.254/latest/meta-data/".to_owned(), "169.254.169.254, a cloud metadata address"),
        (format!("https://[::ffff:127.0.0.1]:{port}/v1/models"), "::ffff:127.0.0.1, a loopback address"),
        (format!("https://rebind.test:{port}/v1/models"), "`rebind.test` resolves to 127.0.0.1, a loopback address"),
        ("https://api.openai.com/v1/models".to_owned(), "`api.openai.com:443` is not an allowed destination"),
    ];
    for (url, reason) in cases {
        let answer = gateway
            .generate(
                "hostile-provider",
                json!({ "model": url, "messages": [{ "role": "user", "content": "x" }] }),
                None,
            )
            .await;
        assert_eq!(answer.status, 403, "{url}: {answer:?}");
        assert_eq!(answer.error["error"]["type"], "egress_denied", "{url}");
        let message = answer.error["error"]["message"].as_str().unwrap();
        assert!(message.contains(reason), "{url}: `{message}` should contain `{reason}`");
        assert!(!message.contains(KEY));
    }
    assert!(vendor.requests().is_empty(), "no refused request reached the vendor");
    assert!(attacker.requests().is_empty());
    let stats = gateway.runtime_stats.snapshot();
    assert_eq!(stats.get("host_not_allowed"), Some(&2), "{stats:?}");
    assert_eq!(stats.get("forbidden_address"), Some(&5), "{stats:?}");
    assert_eq!(stats.get("insecure_scheme"), Some(&1), "{stats:?}");

    // The gateway still serves the same provider's allowed requests.
    let fine = gateway.generate("hostile-provider", json!({ "model": vendor.base_url("api.openai.com") + "/models", "messages": [{ "role": "user", "content": "x" }] }), None).await;
    assert_eq!(fine.status, 200, "{fine:?}");
    assert!(fine.text().contains("fake-model"), "{fine:?}");
}

#[tokio::test]
async fn the_key_goes_only_to_its_bound_host_whatever_the_guest_does() {
    let HostileSetup { vendor, attacker, gateway } = hostile_setup().await;
    let messages = json!([{ "role": "user", "content": "x" }]);

    // The manifest lists the attacker and the operator allowed it: the request goes out,
    // without the key.
    let exfil = format!("{}/chat/completions#gpt-4o", attacker.base_url("attacker.test"));
    let answer = gateway.generate("hostile-provider", json!({ "model": exfil, "messages": messages }), None).await;
    assert_eq!(answer.status, 200, "{answer:?}");
    assert!(answer.text().contains("Incorrect API key"), "the attacker got no key: {answer:?}");

    // Setting its own authorization header is refused; the vendor gets the host's key.
    let smuggle = format!("smuggle {}/models", vendor.base_url("api.openai.com"));
    let answer = gateway.generate("hostile-provider", json!({ "model": smuggle, "messages": messages }), None).await;
    assert!(answer.text().starts_with("header refused\n"), "{answer:?}");
    assert!(answer.text().contains("fake-model"), "{answer:?}");
    // Smuggling to the attacker is refused too, and the attacker sees no key.
    let smuggle = format!("smuggle {}/models", attacker.base_url("attacker.test"));
    let answer = gateway.generate("hostile-provider", json!({ "model": smuggle, "messages": messages }), None).await;
    assert!(answer.text().starts_with("header refused\n"), "{answer:?}");

    let vendor_saw: Vec<_> = vendor.requests().iter().map(|r| r.header("authorization").map(str::to_owned)).collect();
    assert_eq!(vendor_saw, [Some(format!("Bearer {KEY}"))]);
    for request in attacker.requests() {
        let everything = format!("{:?} {} {:?}", request.headers, request.path_and_query, request.body);
        assert!(!everything.contains(KEY), "the key leaked to the attacker: {everything}");
        assert!(!everything.contains("stolen-by-the-guest"));
    }
    assert_eq!(attacker.requests().len(), 2);
}

#[tokio::test]
async fn huge_and_hanging_responses_are_cut_off() {
    let HostileSetup { vendor, gateway, .. } = hostile_setup().await;
    let messages = json!([{ "role": "user", "content": "x" }]);
    let base = vendor.base_url("api.openai.com");

    let huge = gateway
        .generate(
            "hostile-provider",
            json!({ "model": format!("{base}/chat/completions#fake-huge"), "messages": messages }),
            None,
        )
        .await;
    assert_eq!(huge.status, 200, "the stream starts: {huge:?}");
    let error = huge.event("error").unwrap_or_else(|| panic!("{huge:?}"));
    assert_eq!(error["error"]["type"], "upstream_response_too_large", "{error}");
    assert!(error["error"]["message"].as_str().unwrap().contains("1024 KiB"), "{error}");
    let received: usize = huge.text().len();
    assert!(received <= 1024 * 1024, "at most the cap reached the client: {received}");

    let hang = gateway
        .generate(
            "hostile-provider",
            json!({ "model": format!("{base}/chat/completions#fake-hang"), "messages": messages }),
            None,
        )
        .await;
    assert_eq!(hang.status, 504, "{hang:?}");

    let fine = gateway
        .generate("hostile-provider", json!({ "model": format!("{base}/models"), "messages": messages }), None)
        .await;
    assert_eq!(fine.status, 200, "still serving: {fine:?}");
}

#[tokio::test]
async fn a_request_body_without_end_is_stopped_at_the_cap_while_others_are_served() {
    let HostileSetup { vendor, gateway, .. } = hostile_setup().await;
    let messages = json!([{ "role": "user", "content": "x" }]);
    let endless = format!("endless {}/chat/completions", vendor.base_url("api.openai.com"));
    let bystander = format!("{}/models", vendor.base_url("api.openai.com"));
    let (stopped, served) = tokio::join!(
        gateway.generate("hostile-provider", json!({ "model": endless, "messages": messages }), None),
        gateway.generate("hostile-provider", json!({ "model": bystander, "messages": messages }), None),
    );
    assert_eq!(stopped.status, 413, "{stopped:?}");
    assert_eq!(stopped.error["error"]["type"], "egress_request_too_large", "{stopped:?}");
    assert!(stopped.error["error"]["message"].as_str().unwrap().contains("4096 KiB"), "{stopped:?}");
    assert_eq!(served.status, 200, "{served:?}");
    assert!(served.text().contains("fake-model"), "{served:?}");
    let paths: Vec<String> = vendor.requests().iter().map(|r| r.path_and_query.clone()).collect();
    assert_eq!(paths, ["/v1/models"], "nothing of the endless body reached the vendor");
    assert_eq!(gateway.runtime_stats.snapshot().get("request_too_large"), Some(&1));
}
