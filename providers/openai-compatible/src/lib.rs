//! The bundled `openai-compatible` provider: any server speaking OpenAI's Chat
//! Completions format (Ollama, vLLM, LM Studio, OpenRouter) at the base URL the
//! operator configures.
//!
//! Its manifest lists the host `*`: the operator's configuration alone decides where it
//! may connect. A key, when configured, goes in `authorization: Bearer {key}`.

use airlock_openai_chat::ChatDecoder;
use airlock_pdk::provider::http::{self, Request};
use airlock_pdk::provider::stream::SseGeneration;
use airlock_pdk::provider::{
    CredentialPlacement, GenerateRequest, HeaderCredential, ModelInfo, PluginError, Provider, ProviderManifest,
};
use serde_json::Value;

struct OpenAiCompatible;

fn base_url(base_url: Option<String>) -> Result<String, PluginError> {
    base_url.ok_or_else(|| {
        PluginError::InvalidRequest(
            "the openai-compatible provider needs a base URL: set `providers.openai-compatible.base_url`".into(),
        )
    })
}

impl Provider for OpenAiCompatible {
    type Generation = SseGeneration<ChatDecoder>;

    fn manifest() -> ProviderManifest {
        ProviderManifest {
            name: "openai-compatible".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            description: "Any OpenAI-compatible server (Ollama, vLLM, LM Studio, OpenRouter) at a configured base URL"
                .into(),
            models: Vec::new(),
            hosts: vec!["*".into()],
            credential: CredentialPlacement::Header(HeaderCredential {
                name: "authorization".into(),
                format: "Bearer {key}".into(),
            }),
        }
    }

    /// Asks the server's `GET /models`.
    fn list_models(base: Option<String>) -> Result<Vec<ModelInfo>, PluginError> {
        let url = format!("{}/models", base_url(base)?.trim_end_matches('/'));
        let mut response = http::send(Request::get(url))?;
        let body = response.body.read_to_end(4 << 20)?;
        if !(200..300).contains(&response.status) {
            let message = airlock_pdk::provider::stream::error_message(response.status, &body, None);
            return Err(http::upstream(response.status, message));
        }
        let json: Value = serde_json::from_slice(&body)
            .map_err(|error| http::upstream(502, format!("the model list is not JSON: {error}")))?;
        let models = json.get("data").and_then(Value::as_array).into_iter().flatten();
        Ok(models
            .filter_map(|model| model.get("id").and_then(Value::as_str))
            .map(|id| ModelInfo { id: id.to_owned(), vision: false, context_window: None })
            .collect())
    }

    fn generate(request: GenerateRequest) -> Result<Self::Generation, PluginError> {
        airlock_openai_chat::generate(&base_url(request.base_url.clone())?, &request)
    }
}

airlock_pdk::export_provider!(OpenAiCompatible);
