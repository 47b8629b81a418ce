//! The sanitizer checks.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::{Check, Report};
use crate::runtime::{PluginSettings, Runtime, SanitizeRequest, SanitizerPlugin, Stage};
use crate::validate::sanitized_text;

/// Texts every sanitizer gets: benign markup, hostile markup, a credential.
const SAMPLES: &[&str] = &[
    "<main class=\"p-4\"><h1 class=\"text-xl\">Hello</h1><p>World</p></main>",
    "<p>ok</p><img src=x onerror=alert(1)><script>alert(2)</script><a href=\"javascript:alert(3)\">x</a>",
    "config: OPENAI_API_KEY=sk-proj-AbCdEfGhIjKlMnOpQrStUvWxYz0123456789 and more text",
];

pub(super) async fn run(runtime: &Runtime, bytes: &[u8]) -> anyhow::Result<Report> {
    let loaded = runtime.load(bytes, "conformance", |_: &str| PluginSettings::default()).await?;
    let sanitizer = loaded.sanitizer().cloned().ok_or_else(|| anyhow::anyhow!("not a sanitizer"))?;
    let manifest = sanitizer.manifest().clone();
    let stage = if manifest.stages.contains(&"output") { Stage::Output } else { Stage::Input };
    let content_type = manifest.content_types.first().cloned().unwrap_or_else(|| "text/plain".into());
    let request = SanitizeRequest { stage, content_type, options: BTreeMap::new() };
    let mut checks = vec![
        Check::new("manifest", manifest_check(&manifest.stages, &manifest.content_types)),
        Check::new("imports within the sanitizer world", Ok(imports(&loaded.interfaces.imports))),
        Check::new("self-test", crate::validate::self_test(&loaded).await.map(|()| "passed".to_owned())),
    ];
    checks.push(Check::new("idempotent", idempotent(&sanitizer, &request).await));
    checks.push(Check::new("streamed output equals whole-text output", streamed(&sanitizer, &request).await));
    checks.push(Check::new("a 1 MiB input within the default limits", large(&sanitizer, &request).await));
    Ok(Report { plugin: format!("{}@{}", manifest.name, manifest.version), kind: "sanitizer", checks })
}

fn manifest_check(stages: &[&str], content_types: &[String]) -> Result<String, String> {
    if stages.is_empty() || content_types.is_empty() {
        return Err("the manifest must name at least one stage and one content type".into());
    }
    Ok(format!("stages {}, content types {}", stages.join(", "), content_types.join(", ")))
}

fn imports(imports: &[String]) -> String {
    if imports.is_empty() { "none".to_owned() } else { imports.join(", ") }
}

async fn idempotent(sanitizer: &SanitizerPlugin, request: &SanitizeRequest) -> Result<String, String> {
    for sample in SAMPLES {
        let Some(once) = sanitized_text(sanitizer, sample, request).await? else { continue };
        let twice = sanitized_text(sanitizer, &once, request).await?;
        if twice.as_deref() != Some(once.as_str()) {
            return Err(format!("sanitizing `{once}` again gave {twice:?}"));
        }
    }
    Ok(format!("{} samples", SAMPLES.len()))
}

async fn streamed(sanitizer: &Arc<SanitizerPlugin>, request: &SanitizeRequest) -> Result<String, String> {
    for sample in SAMPLES {
        let Some(expected) = sanitized_text(sanitizer, sample, request).await? else { continue };
        for size in [1, 7, 64] {
            let mut session = sanitizer.session(request).await.map_err(|error| error.to_string())?;
            let mut text = String::new();
            for piece in pieces(sample, size) {
                text.push_str(&session.push(piece).await.map_err(|error| error.to_string())?);
            }
            text.push_str(&session.finish().await.map_err(|error| error.to_string())?.tail);
            if text != expected {
                return Err(format!("in {size}-byte chunks `{sample}` gave `{text}`, whole it gives `{expected}`"));
            }
        }
    }
    Ok(format!("{} samples in 1-, 7- and 64-byte chunks", SAMPLES.len()))
}

/// `text` cut into pieces of about `size` bytes, on character boundaries.
fn pieces(text: &str, size: usize) -> Vec<&str> {
    let mut pieces = Vec::new();
    let mut start = 0;
    while start < text.len() {
        let mut end = (start + size).min(text.len());
        while !text.is_char_boundary(end) {
            end += 1;
        }
        pieces.push(&text[start..end]);
        start = end;
    }
    pieces
}

async fn large(sanitizer: &SanitizerPlugin, request: &SanitizeRequest) -> Result<String, String> {
    let text = SAMPLES[0].repeat((1 << 20) / SAMPLES[0].len());
    let started = std::time::Instant::now();
    sanitized_text(sanitizer, &text, request).await?;
    Ok(format!("{} KiB in {} ms", text.len() / 1024, started.elapsed().as_millis()))
}
