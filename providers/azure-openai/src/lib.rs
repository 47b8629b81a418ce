//! The bundled `azure-openai` provider: Azure OpenAI's Chat Completions on a deployment,
//! `{base_url}/openai/deployments/{deployment}/chat/completions?api-version=…`, streamed,
//! with images, in OpenAI's wire format.
//!
//! The request's model names the deployment; the operator's `base_url` is the resource's
//! endpoint (`https://RESOURCE.openai.azure.com`), one host of the families the manifest
//! lists. The key goes in `api-key`, added by the host. A prompt that Azure's content
//! filter blocks (a 400 with the code `content_filter`) is a refusal, like a stream that
//! ends with `finish_reason: content_filter`.

use airlock_openai_chat::ChatDecoder;
use airlock_pdk::provider::http::{self, Request};
use airlock_pdk::provider::stream::{self, SseGeneration};
use airlock_pdk::provider::{
    CredentialPlacement, GenerateRequest, HeaderCredential, PluginError, Provider, ProviderManifest, option,
};
use serde_json::Value;

/// The GA API version used when the operator sets none.
const DEFAULT_API_VERSION: &str = "2024-10-21";

/// Largest error body read to find Azure's code.
const ERROR_BODY_LIMIT: usize = 64 * 1024;

struct AzureOpenAi;

impl Provider for AzureOpenAi {
    type Generation = SseGeneration<ChatDecoder>;

    fn manifest() -> ProviderManifest {
        ProviderManifest {
            name: "azure-openai".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            description: "Azure OpenAI Chat Completions on a deployment (streaming, image input)".into(),
            // Deployments are the operator's names; requests name one as the model.
            models: Vec::new(),
            hosts: vec!["*.openai.azure.com".into(), "*.cognitiveservices.azure.com".into()],
            credential: CredentialPlacement::Header(HeaderCredential {
                name: "api-key".into(),
                format: "{key}".into(),
            }),
            options: vec![(
                "api-version".into(),
                format!("the Azure OpenAI API version of every request (default {DEFAULT_API_VERSION})"),
            )],
        }
    }

    fn generate(request: GenerateRequest) -> Result<Self::Generation, PluginError> {
        let base = request.base_url.as_deref().ok_or_else(|| {
            PluginError::InvalidRequest(
                "the azure-openai provider needs the resource's endpoint: set `providers.azure-openai.base_url` \
                 to `https://RESOURCE.openai.azure.com`"
                    .into(),
            )
        })?;
        let deployment = checked("deployment", &request.model)?;
        let version = checked("api-version", option(&request, "api-version").unwrap_or(DEFAULT_API_VERSION))?;
        let url = format!(
            "{}/openai/deployments/{deployment}/chat/completions?api-version={version}",
            base.trim_end_matches('/')
        );
        let mut response = airlock_openai_chat::send(Request::post_json(url, airlock_openai_chat::body(&request)))?;
        if response.status == 400 {
            let body = response.body.read_to_end(ERROR_BODY_LIMIT)?;
            let message = stream::error_message(400, &body, None);
            let code = serde_json::from_slice::<Value>(&body)
                .ok()
                .and_then(|json| json["error"]["code"].as_str().map(str::to_owned));
            return Err(match code.as_deref() {
                Some("content_filter") => stream::refused("content_filter", message),
                _ => http::upstream(400, message),
            });
        }
        stream::start(response, ChatDecoder::default())
    }
}

/// `value`, if it can stand in a URL's path or query as it is (letters, digits, `-`, `_`, `.`).
fn checked<'a>(what: &str, value: &'a str) -> Result<&'a str, PluginError> {
    if !value.is_empty() && value.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b)) {
        Ok(value)
    } else {
        Err(PluginError::InvalidRequest(format!("`{value}` is not an Azure OpenAI {what} name")))
    }
}

airlock_pdk::export_provider!(AzureOpenAi);
