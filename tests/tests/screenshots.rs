//! Screenshots at the sizes users send them (multi-megabyte PNG and JPEG files, five at
//! once), through every bundled provider and every route that carries images, each
//! against its vendor's fake API: every request completes and the upstream receives
//! exactly the bytes that were sent. A body over the egress cap fails at once with
//! `egress_request_too_large`, never after the wall-clock budget.

mod common;

use airlock::config::Config;
use airlock::runtime::EgressLimits;
use airlock_fake_upstream::{FakeUpstream, TestCa, Vendor, answer_chunks};
use airlock_tests::screenshots;
use base64::Engine as _;
use common::{Gateway, make_owner, parse_events, tenant_key, vendor_setup_with};
use serde_json::{Value, json};

/// A bundled provider, its vendor, the host name its fake answers under, a model.
struct Case {
    name: &'static str,
    vendor: Vendor,
    host: &'static str,
    model: &'static str,
}

const CASES: [Case; 4] = [
    Case { name: "openai", vendor: Vendor::OpenAi, host: "api.openai.com", model: "gpt-4o" },
    Case { name: "anthropic", vendor: Vendor::Anthropic, host: "api.anthropic.com", model: "claude-sonnet-4-5" },
    Case {
        name: "gemini",
        vendor: Vendor::Gemini,
        host: "generativelanguage.googleapis.com",
        model: "gemini-2.5-flash",
    },
    Case { name: "openai-compatible", vendor: Vendor::OpenAi, host: "llm.example.test", model: "llava" },
];

fn base64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

async fn setup(case: &Case, configure: impl FnOnce(&mut Config)) -> (FakeUpstream, Gateway) {
    let ca = TestCa::for_hosts(&[case.host]);
    vendor_setup_with(&ca, case.vendor, case.name, case.host, make_owner, configure).await
}

/// Asserts that the upstream's last request carried exactly `sent` as its images.
fn assert_received(upstream: &FakeUpstream, sent: &[(&str, &[u8])], what: &str) {
    let requests = upstream.requests();
    let last = requests.last().unwrap_or_else(|| panic!("{what}: the upstream got no request"));
    let received = last.images();
    assert_eq!(received.len(), sent.len(), "{what}: number of images");
    for (index, ((media, bytes), (got_media, got))) in sent.iter().zip(&received).enumerate() {
        assert_eq!(got_media, media, "{what}: image {index}'s media type");
        assert!(
            got == bytes,
            "{what}: image {index} arrived changed ({} bytes sent, {} received)",
            bytes.len(),
            got.len()
        );
    }
}

/// `POST /v1/generations` with one screenshot, one variant: the events.
async fn generation(gateway: &Gateway, case: &Case, media: &str, image: &[u8]) -> Vec<(String, Value)> {
    let body = json!({
        "images": [{ "data": format!("data:{media};base64,{}", base64(image)) }],
        "stack": "html_tailwind", "provider": case.name, "model": case.model, "variants": 1,
    });
    let (status, text) = gateway.post_json("/v1/generations", None, &body).await;
    assert_eq!(status, 200, "{}: {text}", case.name);
    parse_events(&text)
}

fn completed_code(events: &[(String, Value)], what: &str) -> String {
    let completed = events.iter().find(|(name, _)| name == "variant.completed");
    let (_, variant) = completed.unwrap_or_else(|| panic!("{what}: no variant.completed in {events:?}"));
    variant["code"].as_str().expect("code").to_owned()
}

/// A chat completion with one image, whole or streamed: the answer's text.
async fn chat(gateway: &Gateway, key: &str, case: &Case, media: &str, image: &[u8], stream: bool) -> String {
    let body = json!({
        "model": format!("{}/{}", case.name, case.model),
        "messages": [{ "role": "user", "content": [
            { "type": "text", "text": "Build this page." },
            { "type": "image_url", "image_url": { "url": format!("data:{media};base64,{}", base64(image)) } },
        ]}],
        "stream": stream,
    });
    let (status, text) = gateway.post_json("/v1/chat/completions", Some(key), &body).await;
    assert_eq!(status, 200, "{} (stream {stream}): {text}", case.name);
    if !stream {
        let completion: Value = serde_json::from_str(&text).expect("a completion");
        return completion["choices"][0]["message"]["content"].as_str().expect("content").to_owned();
    }
    assert!(text.trim_end().ends_with("data: [DONE]"), "{}: the stream ends: {text}", case.name);
    text.lines()
        .filter_map(|line| line.strip_prefix("data: "))
        .filter_map(|data| serde_json::from_str::<Value>(data).ok())
        .filter_map(|chunk| chunk["choices"][0]["delta"]["content"].as_str().map(str::to_owned))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_provider_carries_real_size_screenshots_on_every_route() {
    let png = screenshots::png(5.0, 1);
    let jpeg = screenshots::jpeg(3.0, 2);
    assert!(png.len() > 4_900_000 && jpeg.len() > 2_900_000, "{} / {}", png.len(), jpeg.len());
    let answer = answer_chunks().concat();
    for case in &CASES {
        let (upstream, gateway) = setup(case, |_| {}).await;
        let key = tenant_key(&gateway, "acme").await;

        // The provider's own route, both formats.
        for (media, image) in [("image/png", &png), ("image/jpeg", &jpeg)] {
            let request = json!({
                "model": case.model,
                "messages": [{ "role": "user", "content": [
                    { "type": "text", "text": "Build this page." },
                    { "type": "image", "media_type": media, "data": base64(image) },
                ]}],
            });
            let what = format!("{} generate {media}", case.name);
            let streamed = gateway.generate(case.name, request, None).await;
            assert_eq!(streamed.status, 200, "{what}: {streamed:?}");
            assert_eq!(streamed.text(), answer, "{what}");
            assert_received(&upstream, &[(media, image)], &what);
        }

        // Screenshot-to-code.
        for (media, image) in [("image/png", &png), ("image/jpeg", &jpeg)] {
            let what = format!("{} generation {media}", case.name);
            let events = generation(&gateway, case, media, image).await;
            assert_eq!(completed_code(&events, &what), answer, "{what}");
            assert_received(&upstream, &[(media, image)], &what);
        }

        // The OpenAI-compatible gateway, whole and streamed.
        for (media, image, stream) in [("image/png", &png, false), ("image/jpeg", &jpeg, true)] {
            let what = format!("{} chat {media} stream {stream}", case.name);
            assert_eq!(chat(&gateway, &key, case, media, image, stream).await, answer, "{what}");
            assert_received(&upstream, &[(media, image)], &what);
        }
        assert_eq!(upstream.requests().len(), 6, "{}: one upstream call per request", case.name);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn five_4_mb_screenshots_make_one_generation() {
    let case = &CASES[0];
    let (upstream, gateway) = setup(case, |_| {}).await;
    let images: Vec<Vec<u8>> = (10..15).map(|seed| screenshots::png(4.0, seed)).collect();
    // As the browser app sends them: a multipart form, one `image` field per file.
    let mut form = reqwest::multipart::Form::new().text(
        "request",
        json!({ "stack": "html_tailwind", "provider": case.name, "model": case.model, "variants": 1 }).to_string(),
    );
    for (index, image) in images.iter().enumerate() {
        let part = reqwest::multipart::Part::bytes(image.clone()).file_name(format!("screen-{index}.png"));
        form = form.part("image", part.mime_str("image/png").expect("media type"));
    }
    let response = gateway
        .client
        .post(format!("{}/v1/generations", gateway.base))
        .multipart(form)
        .send()
        .await
        .expect("gateway answers");
    assert_eq!(response.status(), 200);
    let events = parse_events(&response.text().await.expect("body"));
    assert_eq!(completed_code(&events, "five screenshots"), answer_chunks().concat());
    let sent: Vec<(&str, &[u8])> = images.iter().map(|image| ("image/png", image.as_slice())).collect();
    assert_received(&upstream, &sent, "five screenshots");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_over_the_egress_cap_is_refused_at_once_and_others_go_on() {
    let case = &CASES[1];
    let (upstream, gateway) = setup(case, |config| {
        let provider = config.providers.get_mut(case.name).expect("configured");
        provider.egress = EgressLimits { request_kib: 1024, ..EgressLimits::default() };
        // Were the body to stall, the call would fail after this budget, as
        // `plugin_limit_exceeded`: the refusal must come first, and name the cap.
        provider.limits.wall_ms = Some(20_000);
    })
    .await;
    let big = screenshots::png(2.0, 3);
    let request = |image: &[u8]| {
        json!({
            "model": case.model,
            "messages": [{ "role": "user", "content": [
                { "type": "image", "media_type": "image/png", "data": base64(image) },
            ]}],
        })
    };
    let refused = gateway.generate(case.name, request(&big), None).await;
    assert_eq!(refused.status, 413, "{refused:?}");
    assert_eq!(refused.error["error"]["type"], "egress_request_too_large");
    assert!(refused.error["error"]["message"].as_str().unwrap().contains("1024 KiB"), "{refused:?}");

    let events = generation(&gateway, case, "image/png", &big).await;
    let failed = events.iter().find(|(name, _)| name == "variant.failed").map(|(_, data)| data);
    let failed = failed.unwrap_or_else(|| panic!("the variant fails: {events:?}"));
    assert_eq!(failed["error"]["type"], "egress_request_too_large", "{failed}");
    assert!(upstream.requests().is_empty(), "nothing over the cap left the gate");

    // A screenshot under the cap still goes through.
    let small = screenshots::png(0.5, 4);
    let fine = gateway.generate(case.name, request(&small), None).await;
    assert_eq!(fine.status, 200, "{fine:?}");
    assert_received(&upstream, &[("image/png", &small)], "under the cap");
}
