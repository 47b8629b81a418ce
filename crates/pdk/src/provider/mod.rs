//! The `provider` world: a provider translates Airlock's generate request into one
//! vendor's wire format and streams the answer back as chunks.
//!
//! It reaches the network only through [`http`], whose requests pass the host's egress
//! gate. It never sees an API key: its manifest says where the key goes
//! ([`CredentialPlacement`]) and the host puts it there after the request is built.

use std::cell::RefCell;
use std::marker::PhantomData;

pub mod http;
pub mod stream;

/// Bindings generated from `wit/plugin.wit` for the `provider` world.
#[allow(missing_docs, clippy::all)]
pub mod bindings {
    wit_bindgen::generate!({
        path: "wit",
        world: "provider",
        pub_export_macro: true,
        export_macro_name: "export_provider_world",
        default_bindings_module: "airlock_pdk::provider::bindings",
        generate_all,
    });
}

pub use bindings::airlock::plugin::types::{
    ContentPart, GenerationParams, Image, Message, PluginError, Refusal, Role, UpstreamError, Usage,
};
pub use bindings::exports::airlock::plugin::provider_api::{
    Chunk, CredentialPlacement, FinishReason, GenerateRequest, HeaderCredential, ModelInfo, ProviderManifest,
};
use bindings::exports::airlock::plugin::provider_api::{Guest, GuestGeneration};

/// A provider, as one trait: what [`export_provider!`](crate::export_provider) turns into
/// the component's exports.
pub trait Provider: 'static {
    /// A running generation.
    type Generation: Generation;

    /// Describes the provider: name, models, hosts it needs, where the key goes.
    fn manifest() -> ProviderManifest;

    /// Lists models; by default the manifest's.
    ///
    /// # Errors
    ///
    /// When the upstream cannot be asked.
    fn list_models(base_url: Option<String>) -> Result<Vec<ModelInfo>, PluginError> {
        let _ = base_url;
        Ok(Self::manifest().models)
    }

    /// Sends the request upstream and returns the generation that reads the answer.
    ///
    /// # Errors
    ///
    /// `InvalidRequest` for input the vendor cannot take, `Upstream` for an error
    /// status, `Denied` when the egress gate refused the request.
    fn generate(request: GenerateRequest) -> Result<Self::Generation, PluginError>;
}

/// A running generation: the host calls [`next`](Generation::next) until it returns
/// `None`.
pub trait Generation: 'static {
    /// The next chunk, or `None` after the last.
    ///
    /// # Errors
    ///
    /// When the upstream fails mid-stream.
    fn next(&mut self) -> Result<Option<Chunk>, PluginError>;
}

/// The operator's value of the option `name` (`providers.NAME.options`; the host passes
/// only options the manifest lists).
pub fn option<'a>(request: &'a GenerateRequest, name: &str) -> Option<&'a str> {
    request.options.iter().find(|(option, _)| option == name).map(|(_, value)| value.as_str())
}

/// An image's bytes in standard base64, as every vendor's JSON wants them.
pub fn base64_image(image: &Image) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(&image.data)
}

/// The names a vendor's JSON gives the generation parameters.
#[derive(Debug, Clone, Copy)]
pub struct ParamNames {
    /// e.g. `max_tokens`, `maxOutputTokens`.
    pub max_tokens: &'static str,
    /// e.g. `temperature`.
    pub temperature: &'static str,
    /// e.g. `top_p`, `topP`.
    pub top_p: &'static str,
    /// e.g. `stop`, `stop_sequences`, `stopSequences`.
    pub stop: &'static str,
}

/// Sets on the JSON object `target` the parameters `params` gives, under the vendor's
/// `names`; parameters the request leaves out are left out (or keep `target`'s value).
pub fn set_params(target: &mut serde_json::Value, params: &GenerationParams, names: &ParamNames) {
    use serde_json::json;
    if let Some(max) = params.max_tokens {
        target[names.max_tokens] = json!(max);
    }
    if let Some(temperature) = params.temperature {
        target[names.temperature] = json!(temperature);
    }
    if let Some(top_p) = params.top_p {
        target[names.top_p] = json!(top_p);
    }
    if !params.stop.is_empty() {
        target[names.stop] = json!(params.stop);
    }
}

/// Glue between [`Provider`] and the generated `Guest` trait; used by
/// [`export_provider!`](crate::export_provider).
#[doc(hidden)]
pub struct Adapter<P>(PhantomData<P>);

impl<P: Provider> Guest for Adapter<P> {
    type Generation = GenerationResource<P>;

    fn manifest() -> ProviderManifest {
        P::manifest()
    }

    fn list_models(base_url: Option<String>) -> Result<Vec<ModelInfo>, PluginError> {
        P::list_models(base_url)
    }

    fn generate(
        request: GenerateRequest,
    ) -> Result<bindings::exports::airlock::plugin::provider_api::Generation, PluginError> {
        let generation = P::generate(request)?;
        Ok(bindings::exports::airlock::plugin::provider_api::Generation::new(GenerationResource::<P> {
            inner: RefCell::new(generation),
        }))
    }
}

/// The `generation` resource around a [`Generation`].
#[doc(hidden)]
pub struct GenerationResource<P: Provider> {
    inner: RefCell<P::Generation>,
}

impl<P: Provider> GuestGeneration for GenerationResource<P> {
    fn next(&self) -> Result<Option<Chunk>, PluginError> {
        self.inner.borrow_mut().next()
    }
}

/// Exports a [`Provider`] implementation as the component's `provider-api`.
#[macro_export]
macro_rules! export_provider {
    ($provider:ty) => {
        type AirlockExportedProvider = $crate::provider::Adapter<$provider>;
        $crate::provider::bindings::export_provider_world!(AirlockExportedProvider with_types_in $crate::provider::bindings);
    };
}
