//! The self-test a component passes before it may be activated: a sanitizer of HTML
//! output (or any named `html`) must leave a benign page intact and neutralise a
//! known-bad one; any other must process a benign text without failing or blocking it; a provider must have answered its
//! manifest (checked at load).

use std::collections::BTreeMap;

use crate::runtime::{LoadedPlugin, SanitizeRequest, SanitizerPlugin, Stage, Verdict};

const BENIGN_PAGE: &str = "<main class=\"p-4\"><h1 class=\"text-xl\">Hello</h1><p>World</p></main>";
const BENIGN_KEPT: &str = "<h1 class=\"text-xl\">Hello</h1>";
const BAD_PAGE: &str = "<p>ok</p><img src=x onerror=alert(1)><script>alert(2)</script>";

/// Runs the self-test.
///
/// # Errors
///
/// Saying which sample failed and how.
pub async fn self_test(plugin: &LoadedPlugin) -> Result<(), String> {
    match plugin.sanitizer() {
        Some(sanitizer) => sanitizer_self_test(sanitizer).await,
        None => Ok(()),
    }
}

async fn run(
    sanitizer: &SanitizerPlugin,
    text: &str,
    stage: Stage,
    content_type: &str,
) -> Result<Option<String>, String> {
    let request = SanitizeRequest { stage, content_type: content_type.into(), options: BTreeMap::new() };
    sanitized_text(sanitizer, text, &request).await
}

/// The text a sanitizer makes of `text` (`None` when it blocks it), or why the call
/// failed.
///
/// # Errors
///
/// The call's failure, as text.
pub async fn sanitized_text(
    sanitizer: &SanitizerPlugin,
    text: &str,
    request: &SanitizeRequest,
) -> Result<Option<String>, String> {
    match sanitizer.sanitize(text, request).await.map_err(|error| error.to_string())? {
        Verdict::Pass => Ok(Some(text.to_owned())),
        Verdict::Rewritten { text, .. } => Ok(Some(text)),
        Verdict::Blocked(_) => Ok(None),
    }
}

async fn sanitizer_self_test(sanitizer: &SanitizerPlugin) -> Result<(), String> {
    let manifest = sanitizer.manifest();
    // Held to the HTML contract: output sanitizers that declare HTML, and anything
    // that would replace the `html` sanitizer.
    let html_output = manifest.stages.contains(&"output")
        && (manifest.content_types.iter().any(|t| t == "text/html") || manifest.name == "html");
    if html_output {
        let bad = run(sanitizer, BAD_PAGE, Stage::Output, "text/html").await?;
        if let Some(text) = bad.filter(|text| text.contains("onerror") || text.contains("<script>alert")) {
            return Err(format!("it let a known-bad page through: {text}"));
        }
        let benign = run(sanitizer, BENIGN_PAGE, Stage::Output, "text/html").await?;
        return match benign {
            Some(text) if text.contains(BENIGN_KEPT) => Ok(()),
            Some(text) => Err(format!("it damaged a benign page: {text}")),
            None => Err("it blocked a benign page".to_owned()),
        };
    }
    let stage = if manifest.stages.contains(&"output") { Stage::Output } else { Stage::Input };
    let content_type = manifest.content_types.first().cloned().unwrap_or_else(|| "text/plain".into());
    match run(sanitizer, "hello world", stage, &content_type).await? {
        Some(_) => Ok(()),
        None => Err("it blocked a benign text".to_owned()),
    }
}
