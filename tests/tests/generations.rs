//! Screenshot-to-code over HTTP: `POST /v1/generations` against fake vendor upstreams,
//! with every streamed and final byte sanitized, one failing variant not failing the
//! others, bad input refused before any upstream call, and the preview's CSP.

mod common;

use airlock_fake_upstream::{TestCa, Vendor, answer_chunks};
use common::{Gateway, image_base64, parse_events, vendor_setup};
use serde_json::{Value, json};

async fn post(gateway: &Gateway, body: &Value) -> (u16, String) {
    gateway.post_json("/v1/generations", None, body).await
}

fn by_name<'a>(events: &'a [(String, Value)], name: &str) -> Vec<&'a Value> {
    events.iter().filter(|(n, _)| n == name).map(|(_, data)| data).collect()
}

fn streamed_text(events: &[(String, Value)], index: u64) -> String {
    by_name(events, "variant.chunk")
        .into_iter()
        .filter(|chunk| chunk["index"] == index)
        .filter_map(|chunk| chunk["text"].as_str())
        .collect()
}

fn body(model: &str, variants: usize) -> Value {
    json!({
        "images": [{ "data": format!("data:image/png;base64,{}", image_base64()) }],
        "stack": "html_tailwind", "provider": "openai", "model": model, "variants": variants,
    })
}

#[tokio::test]
async fn a_screenshot_becomes_two_streamed_variants() {
    let ca = TestCa::new();
    let (upstream, gateway) = vendor_setup(&ca, Vendor::OpenAi, "openai", "api.openai.com").await;
    let response = gateway
        .client
        .post(format!("{}/v1/generations", gateway.base))
        .json(&body("gpt-4o", 2))
        .send()
        .await
        .expect("gateway answers");
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["x-airlock-plugins"], "html@0.1.0, secrets@0.1.0, openai@0.1.0");
    let events = parse_events(&response.text().await.unwrap());
    assert_eq!(events.first().map(|(n, _)| n.as_str()), Some("generation.created"));
    assert_eq!(events.last().map(|(n, _)| n.as_str()), Some("generation.completed"));
    let page = answer_chunks().concat();
    for index in 0..2 {
        assert_eq!(streamed_text(&events, index), page, "variant {index} streamed the (benign) page unchanged");
    }
    let completed = by_name(&events, "variant.completed");
    assert_eq!(completed.len(), 2);
    for variant in completed {
        assert_eq!(variant["code"], page);
        assert_eq!(variant["usage"]["prompt_tokens"], 42);
    }
    assert_eq!(upstream.requests().len(), 2, "one upstream call per variant");
    let sent = upstream.requests()[0].json();
    assert!(sent["messages"][0]["content"][0]["text"].as_str().unwrap().contains("cdn.tailwindcss.com"));
    assert!(sent["messages"][1]["content"][0]["image_url"]["url"].as_str().unwrap().ends_with(&image_base64()));

    // The record keeps the code, not the image, and the preview serves it under a CSP.
    let id = events[0].1["id"].as_str().unwrap();
    let record: Value =
        gateway.client.get(format!("{}/v1/generations/{id}", gateway.base)).send().await.unwrap().json().await.unwrap();
    assert_eq!(record["variants"][1]["status"], "completed");
    assert!(!record.to_string().contains(&image_base64()));
    let preview =
        gateway.client.get(format!("{}/v1/generations/{id}/variants/0/preview", gateway.base)).send().await.unwrap();
    let csp = preview.headers()["content-security-policy"].to_str().unwrap().to_owned();
    for directive in ["default-src 'none'", "connect-src 'none'", "form-action 'none'", "sandbox allow-scripts"] {
        assert!(csp.contains(directive), "{csp}");
    }
    assert!(!csp.contains("'unsafe-inline' 'unsafe-eval'"), "a static stack runs no inline script: {csp}");
    assert_eq!(preview.text().await.unwrap(), page);
}

#[tokio::test]
async fn hostile_model_output_is_sanitized_while_it_streams_and_at_the_end() {
    let ca = TestCa::new();
    let (_upstream, gateway) = vendor_setup(&ca, Vendor::OpenAi, "openai", "api.openai.com").await;
    let (status, text) = post(&gateway, &body("fake-xss", 1)).await;
    assert_eq!(status, 200, "{text}");
    let events = parse_events(&text);
    let streamed = streamed_text(&events, 0);
    let completed = by_name(&events, "variant.completed");
    let code = completed[0]["code"].as_str().unwrap();
    for shown in [streamed.as_str(), code] {
        for vector in ["onerror", "<script", "evil.test", "javascript:", "sk-proj-AbCdEf"] {
            assert!(!shown.contains(vector), "`{vector}` reached the user: {shown}");
        }
        assert!(shown.contains("<h1>Pwned?</h1>"), "the benign part survives: {shown}");
    }
    assert!(code.starts_with("<!DOCTYPE html>") && code.ends_with("</html>"), "the page was extracted: {code}");
    let rules: Vec<&str> =
        completed[0]["findings"].as_array().unwrap().iter().filter_map(|f| f["rule"].as_str()).collect();
    for rule in ["event-handler", "script-inline", "javascript-url"] {
        assert!(rules.contains(&rule), "{rules:?}");
    }
    assert!(rules.iter().any(|rule| rule.contains("openai")), "the secrets sanitizer ran: {rules:?}");
}

#[tokio::test]
async fn one_failing_variant_does_not_fail_the_others() {
    let ca = TestCa::new();
    let (_upstream, gateway) = vendor_setup(&ca, Vendor::OpenAi, "openai", "api.openai.com").await;
    let request = json!({
        "description": "a pricing page", "stack": "react_tailwind",
        "variant_models": [{ "provider": "openai", "model": "gpt-4o" }, { "provider": "openai", "model": "fake-500" }],
    });
    let (status, text) = post(&gateway, &request).await;
    assert_eq!(status, 200, "{text}");
    let events = parse_events(&text);
    let completed = by_name(&events, "variant.completed");
    let failed = by_name(&events, "variant.failed");
    assert_eq!((completed.len(), failed.len()), (1, 1), "{events:?}");
    assert_eq!(completed[0]["index"], 0);
    assert_eq!(failed[0]["index"], 1);
    assert_eq!(failed[0]["error"]["type"], "upstream_error");
    assert!(by_name(&events, "generation.completed").len() == 1);
}

#[tokio::test]
async fn an_update_sends_the_current_code_and_the_instructions() {
    let ca = TestCa::new();
    let (upstream, gateway) = vendor_setup(&ca, Vendor::OpenAi, "openai", "api.openai.com").await;
    let request = json!({
        "stack": "html_css", "provider": "openai", "model": "gpt-4o", "variants": 1,
        "update": { "code": "<h1>Old</h1>", "history": ["make it blue", "bigger title"], "selector": "h1" },
    });
    let (status, text) = post(&gateway, &request).await;
    assert_eq!(status, 200, "{text}");
    let sent = upstream.requests()[0].json();
    let messages = sent["messages"].as_array().unwrap();
    assert_eq!(messages[2]["role"], "assistant");
    assert!(messages[2]["content"][0]["text"].as_str().unwrap().contains("<h1>Old</h1>"));
    let ask = messages[3]["content"][0]["text"].as_str().unwrap();
    assert!(ask.contains("- make it blue") && ask.contains("Now: bigger title") && ask.contains("`h1`"), "{ask}");
}

#[tokio::test]
async fn bad_requests_get_a_clear_error_and_reach_no_upstream() {
    let ca = TestCa::new();
    let (upstream, gateway) = vendor_setup(&ca, Vendor::OpenAi, "openai", "api.openai.com").await;
    let image = |data: String| json!({ "images": [{ "data": data }], "stack": "html_tailwind", "provider": "openai", "model": "gpt-4o" });
    let svg = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, b"<svg onload=alert(1)></svg>");
    let huge = {
        let mut png = common::PNG.to_vec();
        png.resize(30 << 20, 0);
        base64::Engine::encode(&base64::engine::general_purpose::STANDARD, png)
    };
    let cases = [
        (image("not base64!".into()), 400, "not valid base64"),
        (image(svg), 400, "an SVG image"),
        (image(huge), 413, "more than the limit"),
        (
            json!({ "description": "x", "stack": "cobol", "provider": "openai", "model": "m" }),
            422,
            "unknown variant `cobol`",
        ),
        (
            json!({ "description": "x", "stack": "html_css", "provider": "openai", "model": "m", "variants": 9 }),
            400,
            "`variants` must be 1 to 4",
        ),
        (json!({ "stack": "html_css", "provider": "openai", "model": "m" }), 400, "give `images`"),
        (
            json!({ "description": "x", "code": "<p>", "stack": "html_css", "provider": "openai", "model": "m" }),
            400,
            "only one of",
        ),
        (
            json!({ "description": "x", "stack": "html_css", "provider": "nope", "model": "m" }),
            400,
            "no provider called `nope`",
        ),
    ];
    for (request, expected, message) in cases {
        let (status, text) = post(&gateway, &request).await;
        assert_eq!(status, expected, "{text}");
        let error: Value = serde_json::from_str(&text).unwrap_or_else(|_| panic!("JSON error: {text}"));
        assert!(error["error"]["message"].as_str().unwrap().contains(message), "{text}");
    }
    assert!(upstream.requests().is_empty());
}

#[tokio::test]
async fn a_multipart_upload_works_like_json() {
    let ca = TestCa::new();
    let (upstream, gateway) = vendor_setup(&ca, Vendor::OpenAi, "openai", "api.openai.com").await;
    let options = json!({ "stack": "bootstrap", "provider": "openai", "model": "gpt-4o", "variants": 1 });
    let image =
        reqwest::multipart::Part::bytes(common::PNG.to_vec()).file_name("shot.png").mime_str("image/png").unwrap();
    let form = reqwest::multipart::Form::new().text("request", options.to_string()).part("image", image);
    let response =
        gateway.client.post(format!("{}/v1/generations", gateway.base)).multipart(form).send().await.expect("answer");
    assert_eq!(response.status(), 200);
    let events = parse_events(&response.text().await.unwrap());
    assert_eq!(by_name(&events, "variant.completed").len(), 1, "{events:?}");
    let sent = upstream.requests()[0].json();
    assert!(sent["messages"][1]["content"][0]["image_url"]["url"].as_str().unwrap().ends_with(&image_base64()));

    let svg = reqwest::multipart::Part::bytes(b"<svg/>".to_vec()).file_name("x.png");
    let form = reqwest::multipart::Form::new().text("request", options.to_string()).part("image", svg);
    let response =
        gateway.client.post(format!("{}/v1/generations", gateway.base)).multipart(form).send().await.expect("answer");
    assert_eq!(response.status(), 400);
}

#[tokio::test]
async fn a_client_that_leaves_cancels_the_upstream_streams() {
    let ca = TestCa::new();
    let (upstream, gateway) = vendor_setup(&ca, Vendor::OpenAi, "openai", "api.openai.com").await;
    let response = gateway
        .client
        .post(format!("{}/v1/generations", gateway.base))
        .json(&json!({ "description": "x", "stack": "html_css", "provider": "openai", "model": "fake-slow", "variants": 2 }))
        .send()
        .await
        .expect("answer");
    let mut stream = response.bytes_stream();
    let mut seen = String::new();
    while !seen.contains("variant.chunk") {
        let bytes = futures_util::StreamExt::next(&mut stream).await.expect("events").expect("bytes");
        seen.push_str(&String::from_utf8_lossy(&bytes));
    }
    drop(stream);
    // Both upstream streams end within a few 50 ms ticks; up to 20 s on a loaded machine
    // (they would otherwise run for 30 s).
    for _ in 0..200 {
        if upstream.abandoned() == 2 {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("{} of 2 upstream streams were cancelled after the client left", upstream.abandoned());
}
