//! `POST /v1/sanitize` runs one sanitizer over a text; `GET /v1/plugins` lists plugins.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;

use super::{ApiError, ApiJson, AppState};
use crate::plugins::PluginSummary;
use crate::runtime::{SanitizeRequest, Stage, Verdict};

/// The body of `POST /v1/sanitize`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SanitizeBody {
    /// The sanitizer's name.
    plugin: String,
    /// The text.
    content: String,
    /// `input` or `output`; by default `output`.
    #[serde(default)]
    stage: StageName,
    /// The text's media type; by default the plugin's first declared type.
    content_type: Option<String>,
    /// Options for the plugin.
    #[serde(default)]
    options: BTreeMap<String, String>,
}

#[derive(Debug, Default, Clone, Copy, Deserialize)]
#[serde(rename_all = "lowercase")]
enum StageName {
    Input,
    #[default]
    Output,
}

/// `POST /v1/sanitize`.
pub async fn sanitize(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<SanitizeBody>,
) -> Result<Response, ApiError> {
    let plugins = state.plugins.current();
    let plugin = plugins
        .get(&body.plugin)
        .ok_or_else(|| ApiError::not_found(format!("no plugin called `{}` is loaded", body.plugin)))?;
    let sanitizer = plugin
        .sanitizer()
        .ok_or_else(|| ApiError::invalid_request(format!("`{}` is a provider, not a sanitizer", body.plugin)))?;
    let manifest = sanitizer.manifest();
    let (stage, stage_name) = match body.stage {
        StageName::Input => (Stage::Input, "input"),
        StageName::Output => (Stage::Output, "output"),
    };
    if !manifest.stages.contains(&stage_name) {
        return Err(ApiError::invalid_request(format!(
            "the `{}` sanitizer does not run at the {stage_name} stage (it runs at: {})",
            manifest.name,
            manifest.stages.join(", ")
        )));
    }
    let content_type =
        body.content_type.or_else(|| manifest.content_types.first().cloned()).unwrap_or_else(|| "text/plain".into());
    let request = SanitizeRequest { stage, content_type, options: body.options };
    let verdict = sanitizer.sanitize(&body.content, &request).await?;
    let answer = match verdict {
        Verdict::Pass => json!({ "verdict": "pass", "text": body.content, "findings": [] }),
        Verdict::Rewritten { text, findings } => json!({ "verdict": "rewritten", "text": text, "findings": findings }),
        Verdict::Blocked(reason) => json!({ "verdict": "blocked", "reason": reason }),
    };
    let mut response = Json(answer).into_response();
    super::set_plugins_header(&mut response, &format!("{}@{}", manifest.name, manifest.version));
    Ok(response)
}

/// `GET /v1/plugins`.
pub async fn list_plugins(State(state): State<AppState>) -> Json<serde_json::Value> {
    let current = state.plugins.current();
    let plugins: Vec<PluginSummary<'_>> = current.iter().map(PluginSummary::from).collect();
    Json(json!({ "plugins": plugins }))
}
