//! `POST /v1/sanitize` runs one sanitizer over a text; `GET /v1/plugins` lists plugins.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::error::ErrorBody;
use super::{ApiError, ApiJson, AppState};
use crate::plugins::PluginSummary;
use crate::runtime::{Finding, SanitizeRequest, Stage, Verdict};

/// The body of `POST /v1/sanitize`.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({ "plugin": "secrets", "content": "Hello, world." }))]
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

/// Where a sanitizer runs: on the way in (prompts) or out (answers).
#[derive(Debug, Default, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
enum StageName {
    Input,
    #[default]
    Output,
}

/// A sanitizer's verdict on a text.
#[derive(Debug, Serialize, ToSchema)]
#[serde(tag = "verdict", rename_all = "lowercase")]
enum SanitizeAnswer {
    /// Nothing to change: `text` is the input.
    Pass {
        /// The text.
        text: String,
        /// Always empty.
        findings: Vec<Finding>,
    },
    /// The text, changed.
    Rewritten {
        /// The sanitized text.
        text: String,
        /// What was changed.
        findings: Vec<Finding>,
    },
    /// The text is refused.
    Blocked {
        /// Why.
        reason: String,
    },
}

/// `POST /v1/sanitize`: runs one sanitizer over a text; `x-airlock-plugins` names its version.
#[utoipa::path(post, path = "/v1/sanitize", tag = "plugins", request_body = SanitizeBody, responses(
    (status = 200, description = "The verdict.", body = SanitizeAnswer),
    (status = 400, description = "The plugin is a provider, does not run at that stage, or refused the input.", body = ErrorBody),
    (status = 403, description = "The key's role may not call the API, or the plugin denied the request.", body = ErrorBody),
    (status = 404, description = "No such plugin is loaded.", body = ErrorBody),
    (status = 500, description = "The plugin failed (crashed, exceeded a limit).", body = ErrorBody),
    (status = 503, description = "No free instance slot.", body = ErrorBody),
))]
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
        Verdict::Pass => SanitizeAnswer::Pass { text: body.content, findings: Vec::new() },
        Verdict::Rewritten { text, findings } => SanitizeAnswer::Rewritten { text, findings },
        Verdict::Blocked(reason) => SanitizeAnswer::Blocked { reason },
    };
    let mut response = Json(answer).into_response();
    super::set_plugins_header(&mut response, &format!("{}@{}", manifest.name, manifest.version));
    Ok(response)
}

/// `GET /v1/plugins`'s answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct PluginList<'a> {
    /// The plugins in service.
    plugins: Vec<PluginSummary<'a>>,
}

/// `GET /v1/plugins`: the plugins in service.
#[utoipa::path(get, path = "/v1/plugins", tag = "plugins", responses(
    (status = 200, description = "The plugins.", body = PluginList),
))]
pub async fn list_plugins(State(state): State<AppState>) -> Response {
    let current = state.plugins.current();
    let plugins: Vec<PluginSummary<'_>> = current.iter().map(PluginSummary::from).collect();
    Json(PluginList { plugins }).into_response()
}
