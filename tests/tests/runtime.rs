//! The runtime's own promises: compiled code survives a restart, the bundled plugins
//! import nothing, and a stream gives what the whole text gives.

use std::collections::BTreeMap;

use airlock::bundled::BUNDLED;
use airlock::runtime::{CacheOutcome, EngineConfig, PluginSettings, Runtime, SanitizeRequest, Stage, Verdict, World};

fn html_bytes() -> &'static [u8] {
    BUNDLED.iter().find(|(package, _)| *package == "airlock-sanitizer-html").expect("bundled html").1
}

#[test]
fn compiled_code_is_cached_across_restarts() {
    let cache = tempfile::tempdir().expect("temp dir");
    let first = Runtime::new(&EngineConfig::default(), Some(cache.path())).expect("runtime");
    assert_eq!(first.check(html_bytes()).expect("valid").cache, CacheOutcome::Compiled);
    drop(first);

    let restarted = Runtime::new(&EngineConfig::default(), Some(cache.path())).expect("runtime");
    assert_eq!(restarted.check(html_bytes()).expect("valid").cache, CacheOutcome::Hit);

    // A corrupt entry is recompiled, not trusted.
    for entry in std::fs::read_dir(cache.path()).expect("cache dir") {
        std::fs::write(entry.expect("entry").path(), b"not a compiled component").expect("corrupting");
    }
    let after_corruption = Runtime::new(&EngineConfig::default(), Some(cache.path())).expect("runtime");
    assert_eq!(after_corruption.check(html_bytes()).expect("valid").cache, CacheOutcome::Compiled);
}

#[test]
fn bundled_plugins_import_only_what_their_world_serves() {
    let runtime = Runtime::new(&EngineConfig::default(), None).expect("runtime");
    for (package, bytes) in BUNDLED {
        let checked = runtime.check(bytes).expect("bundled plugins load");
        if package.contains("-sanitizer-") {
            assert_eq!(checked.world, World::Sanitizer, "{package}");
            assert_eq!(checked.interfaces.imports, Vec::<String>::new(), "{package}");
        } else {
            assert_eq!(checked.world, World::Provider, "{package}");
            for import in &checked.interfaces.imports {
                let network_only = ["wasi:http/", "wasi:io/", "wasi:clocks/monotonic-clock"];
                assert!(network_only.iter().any(|prefix| import.starts_with(prefix)), "{package} imports {import}");
            }
            assert!(
                checked.interfaces.imports.iter().any(|i| i.starts_with("wasi:http/outgoing-handler")),
                "{package}"
            );
        }
    }
}

#[tokio::test]
async fn a_stream_through_the_sandbox_equals_the_whole_text() {
    let runtime = Runtime::new(&EngineConfig::default(), None).expect("runtime");
    let request = SanitizeRequest { stage: Stage::Output, content_type: "text/html".into(), options: BTreeMap::new() };
    let page = "<html><body><h1 class=\"text-3xl\">Hi</h1><img src=x onerror=alert(1)>\
                <script>steal()</script><p>key: sk-proj-AbCdEfGhIjKlMnOpQrStUvWxYz0123</p></body></html>";
    for (package, bytes) in BUNDLED.iter().filter(|(package, _)| package.contains("-sanitizer-")) {
        let plugin = runtime
            .load(bytes, "bundled", |_: &str| PluginSettings::default())
            .await
            .expect("loads")
            .sanitizer()
            .expect("a sanitizer")
            .clone();
        if !plugin.manifest().stages.contains(&"output") {
            continue;
        }
        let whole = match plugin.sanitize(page, &request).await.expect("whole") {
            Verdict::Rewritten { text, .. } => text,
            other => panic!("{package}: expected a rewrite, got {other:?}"),
        };
        let mut session = plugin.session(&request).await.expect("session");
        let mut streamed = String::new();
        for piece in page.as_bytes().chunks(7) {
            streamed.push_str(&session.push(std::str::from_utf8(piece).expect("ASCII page")).await.expect("push"));
        }
        streamed.push_str(&session.finish().await.expect("finish").tail);
        assert_eq!(streamed, whole, "{package}");
    }
}

#[tokio::test]
async fn an_unknown_option_is_the_callers_error() {
    let runtime = Runtime::new(&EngineConfig::default(), None).expect("runtime");
    let plugin = runtime
        .load(html_bytes(), "bundled", |_: &str| PluginSettings::default())
        .await
        .expect("loads")
        .sanitizer()
        .expect("a sanitizer")
        .clone();
    let options = BTreeMap::from([("mode".to_owned(), "dynamic".to_owned())]);
    let request = SanitizeRequest { stage: Stage::Output, content_type: "text/html".into(), options };
    let error = plugin.sanitize("<p>x</p>", &request).await.expect_err("bad mode");
    assert_eq!(
        error.to_string(),
        "plugin `html` reported an invalid request: unknown sanitizer mode \"dynamic\": expected one of \"static\", \"app\""
    );
}
