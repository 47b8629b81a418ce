//! The bundled `openai-compatible` provider: any server speaking OpenAI's Chat
//! Completions format (Ollama, vLLM, LM Studio, OpenRouter) at the base URL the
//! operator configures.
//!
//! Its manifest lists the host `*`: the operator's configuration alone decides where it
//! may connect. A key, when configured, goes in `authorization: Bearer {key}`.
//! The options `http-referer` and `x-title` send OpenRouter's app attribution headers.

use airlock_openai_chat::ChatDecoder;
use airlock_pdk::provider::http::{self, Request};
use airlock_pdk::provider::stream::{self, SseGeneration};
use airlock_pdk::provider::{
    CredentialPlacement, GenerateRequest, HeaderCredential, ModelInfo, PluginError, Provider, ProviderManifest, option,
};

/// Options sent as the request header of the same name: (option, help).
const HEADER_OPTIONS: &[(&str, &str)] = &[
    ("http-referer", "your site's URL, sent as `HTTP-Referer` (OpenRouter's app attribution)"),
    ("x-title", "your app's name, sent as `X-Title` (OpenRouter's app attribution)"),
];
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
            options: HEADER_OPTIONS.iter().map(|(name, help)| ((*name).into(), (*help).into())).collect(),
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
        let url = format!("{}/chat/completions", base_url(request.base_url.clone())?.trim_end_matches('/'));
        let mut outgoing = Request::post_json(url, airlock_openai_chat::body(&request));
        for (name, _) in HEADER_OPTIONS {
            if let Some(value) = option(&request, name) {
                outgoing = outgoing.header(name, value);
            }
        }
        stream::start(airlock_openai_chat::send(outgoing)?, ChatDecoder::default())
    }
}

airlock_pdk::export_provider!(OpenAiCompatible);
