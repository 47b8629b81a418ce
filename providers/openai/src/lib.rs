//! The bundled `openai` provider: OpenAI's Chat Completions API, streamed, with images.
//!
//! The key goes in `authorization: Bearer {key}`, added by the host.

use airlock_openai_chat::ChatDecoder;
use airlock_pdk::provider::stream::SseGeneration;
use airlock_pdk::provider::{
    CredentialPlacement, GenerateRequest, HeaderCredential, ModelInfo, PluginError, Provider, ProviderManifest,
};

const BASE_URL: &str = "https://api.openai.com/v1";

struct OpenAi;

impl Provider for OpenAi {
    type Generation = SseGeneration<ChatDecoder>;

    fn manifest() -> ProviderManifest {
        let model = |id: &str, window| ModelInfo { id: id.into(), vision: true, context_window: Some(window) };
        ProviderManifest {
            name: "openai".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            description: "OpenAI Chat Completions (streaming, image input)".into(),
            models: vec![model("gpt-4o", 128_000), model("gpt-4o-mini", 128_000), model("gpt-4.1", 1_047_576)],
            hosts: vec!["api.openai.com".into()],
            credential: CredentialPlacement::Header(HeaderCredential {
                name: "authorization".into(),
                format: "Bearer {key}".into(),
            }),
            options: Vec::new(),
        }
    }

    fn generate(request: GenerateRequest) -> Result<Self::Generation, PluginError> {
        airlock_openai_chat::generate(request.base_url.as_deref().unwrap_or(BASE_URL), &request)
    }
}

airlock_pdk::export_provider!(OpenAi);
