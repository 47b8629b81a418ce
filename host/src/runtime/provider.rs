//! Loaded provider plugins and generations through them.
//!
//! A [`ProviderPlugin`] is a pre-instantiated component plus its egress [`Gate`]. Each
//! generation gets a fresh store whose `wasi:http` hooks are that gate (with the
//! caller's own key, if any), and one instance for its whole stream; every `next` gets
//! a fresh CPU budget and the plugin's wall-clock budget.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

use wasmtime::component::{Component, Linker, ResourceAny};
use wasmtime::{Engine, Store};

use super::call_error::{CallError, Failure, Reported};
use super::egress::{CallHooks, Credential, Gate, Placement};
use super::guest_log::{CallLog, LogRate};
use super::limits::Limits;
use super::linker::{GuestState, new_store, reset_cpu_budget};
use super::sanitizer::is_valid_name;
use crate::metrics::PluginCalls;

/// Host bindings for the `provider` world.
#[allow(missing_docs)]
mod bindings {
    wasmtime::component::bindgen!({
        path: "../wit",
        world: "provider",
        exports: { default: async },
        with: {
            "wasi:http": wasmtime_wasi_http::p2::bindings::http,
            "wasi:io": wasmtime_wasi::p2::bindings::io,
            "wasi:clocks": wasmtime_wasi::p2::bindings::clocks,
        },
    });
}

use bindings::airlock::plugin::types as wit;
use bindings::exports::airlock::plugin::provider_api as api;

/// A model a provider knows.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct ModelInfo {
    /// The vendor's model id.
    pub id: String,
    /// Whether it accepts images.
    pub vision: bool,
    /// Its context window in tokens, when known.
    pub context_window: Option<u32>,
}

/// What a provider says about itself (from its `manifest()` export).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ProviderManifest {
    /// Its name, by which operators and requests refer to it.
    pub name: String,
    /// Its version.
    pub version: String,
    /// One line for operators.
    pub description: String,
    /// Models it knows.
    pub models: Vec<ModelInfo>,
    /// Hosts it needs (`*`: whatever the operator configures).
    pub hosts: Vec<String>,
    /// Where the host puts the key, e.g. `header authorization: Bearer {key}`.
    pub credential: String,
    /// The options it accepts (`providers.NAME.options`), with a line of help each.
    pub options: BTreeMap<String, String>,
    #[serde(skip)]
    placement: Placement,
}

impl ProviderManifest {
    /// Where the host puts the key.
    pub fn placement(&self) -> &Placement {
        &self.placement
    }
}

/// Who speaks a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Instructions.
    System,
    /// The user.
    User,
    /// The model.
    Assistant,
}

/// One part of a message.
#[derive(Debug, Clone, PartialEq)]
pub enum Part {
    /// Text.
    Text(String),
    /// An image: media type and bytes.
    Image {
        /// `image/png`, ...
        media_type: String,
        /// The bytes.
        data: Vec<u8>,
    },
}

/// One message of a conversation.
#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    /// Who speaks.
    pub role: Role,
    /// What is said.
    pub parts: Vec<Part>,
}

/// What to generate.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct GenerateRequest {
    /// The model id.
    pub model: String,
    /// The conversation.
    pub messages: Vec<Message>,
    /// Largest number of tokens to generate.
    pub max_tokens: Option<u32>,
    /// Sampling temperature.
    pub temperature: Option<f32>,
    /// Nucleus sampling.
    pub top_p: Option<f32>,
    /// Stop sequences.
    pub stop: Vec<String>,
}

/// One event of a generation.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(rename_all = "snake_case", tag = "type")]
pub enum Chunk {
    /// More text of the answer.
    Text {
        /// The text.
        text: String,
    },
    /// The model's reasoning or thought summary: never part of the answer. The
    /// screenshot flow and `/v1/chat/completions` drop it; the provider route forwards it.
    Reasoning {
        /// The text.
        text: String,
    },
    /// Token counts.
    Usage {
        /// Prompt tokens.
        prompt_tokens: u32,
        /// Generated tokens.
        completion_tokens: u32,
    },
    /// The generation ended, and why (`stop`, `length`, `other`); a refusal is an error.
    Finished {
        /// Why.
        reason: &'static str,
    },
}

/// A key for one request, bound to the operator's credential hosts, or to those of
/// them it names.
pub struct RequestKey {
    key: zeroize::Zeroizing<String>,
    hosts: Vec<String>,
}

impl RequestKey {
    /// `key`, for every host the operator binds keys to.
    pub fn new(key: impl Into<String>) -> Self {
        Self { key: zeroize::Zeroizing::new(key.into()), hosts: Vec::new() }
    }

    /// `key`, only for those of the operator's credential hosts in `hosts`
    /// (`https://host:port` form; empty: all of them).
    pub fn bound_to(key: impl Into<String>, hosts: Vec<String>) -> Self {
        Self { key: zeroize::Zeroizing::new(key.into()), hosts }
    }
}

impl std::fmt::Debug for RequestKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RequestKey").field("hosts", &self.hosts).finish_non_exhaustive()
    }
}

/// A provider component, linked, with its gate.
pub struct ProviderPlugin {
    name: Arc<str>,
    manifest: ProviderManifest,
    engine: Engine,
    pre: bindings::ProviderPre<GuestState>,
    limits: Limits,
    base_url: Option<String>,
    options: Vec<(String, String)>,
    gate: Arc<Gate>,
    log_rate: Arc<LogRate>,
    calls: PluginCalls,
}

/// What the operator configured for one provider, given its manifest.
pub struct ProviderSetup {
    /// Its resource limits.
    pub limits: Limits,
    /// The base URL passed to the guest.
    pub base_url: Option<String>,
    /// The options passed to the guest, each one its manifest lists.
    pub options: Vec<(String, String)>,
    /// Its gate.
    pub gate: Gate,
    /// Where its calls are counted.
    pub calls: PluginCalls,
}

impl ProviderPlugin {
    /// Links `component`, reads its manifest (in a store with no network), then builds
    /// its gate from the operator's `setup` for that manifest.
    ///
    /// # Errors
    ///
    /// When the component does not link, its manifest is invalid, or `setup` fails.
    pub async fn load(
        engine: &Engine,
        linker: &Linker<GuestState>,
        component: &Component,
        setup: impl FnOnce(&ProviderManifest) -> anyhow::Result<ProviderSetup>,
    ) -> anyhow::Result<Self> {
        let instance_pre = linker.instantiate_pre(component).map_err(anyhow::Error::from)?;
        let pre = bindings::ProviderPre::new(instance_pre).map_err(anyhow::Error::from)?;
        let limits = Limits::default();
        let log_rate = Arc::new(LogRate::default());
        let log = CallLog::new(Arc::from("(loading)"), log_rate.clone(), limits.log_bytes());
        let mut store = new_store(engine, &limits, &log, None);
        let manifest = async {
            let instance = pre.instantiate_async(&mut store).await?;
            instance.airlock_plugin_provider_api().call_manifest(&mut store).await
        };
        let manifest = tokio::time::timeout(limits.wall_time(), manifest)
            .await
            .map_err(|_| anyhow::anyhow!("the manifest call ran past {} ms", limits.wall_ms))?
            .map_err(|error| anyhow::anyhow!("the manifest call failed: {error:#}"))?;
        let manifest = convert_manifest(manifest)?;
        let ProviderSetup { limits, base_url, options, gate, calls } = setup(&manifest)?;
        Ok(Self {
            name: Arc::from(manifest.name.as_str()),
            manifest,
            engine: engine.clone(),
            pre,
            limits,
            base_url,
            options,
            gate: Arc::new(gate),
            log_rate,
            calls,
        })
    }

    /// Its name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Its manifest.
    pub fn manifest(&self) -> &ProviderManifest {
        &self.manifest
    }

    /// Its gate.
    pub fn gate(&self) -> &Gate {
        &self.gate
    }

    /// Starts a generation; `key`, when given, replaces the operator's key for this
    /// request (a caller's own key, or their tenant's).
    ///
    /// # Errors
    ///
    /// [`CallError`] when the guest fails, is refused egress, or reports an error.
    pub async fn generate(
        self: &Arc<Self>,
        request: &GenerateRequest,
        key: Option<RequestKey>,
    ) -> Result<Generation, CallError> {
        let own_key = key.map(|key| {
            let hosts = self
                .gate
                .credential_hosts()
                .iter()
                .filter(|host| key.hosts.is_empty() || key.hosts.contains(&host.to_string()))
                .cloned()
                .collect();
            Arc::new(Credential::new(key.key.to_string(), hosts))
        });
        let hooks = self.gate.hooks(own_key);
        let log = CallLog::new(self.name.clone(), self.log_rate.clone(), self.limits.log_bytes());
        let mut store = new_store(&self.engine, &self.limits, &log, Some(hooks));
        let wit_request = self.wit_request(request);
        let (instance, resource) = self
            .guarded(&log, &mut store, async |store| {
                let instance = self.pre.instantiate_async(&mut *store).await?;
                let generation =
                    instance.airlock_plugin_provider_api().call_generate(&mut *store, &wit_request).await?;
                Ok(generation.map(|resource| (instance, resource)))
            })
            .await?;
        Ok(Generation { plugin: self.clone(), store, log, instance, resource, done: false })
    }

    /// Lists the models, asking the upstream when the provider can.
    ///
    /// # Errors
    ///
    /// As [`ProviderPlugin::generate`].
    pub async fn list_models(self: &Arc<Self>) -> Result<Vec<ModelInfo>, CallError> {
        let hooks = self.gate.hooks(None);
        let log = CallLog::new(self.name.clone(), self.log_rate.clone(), self.limits.log_bytes());
        let mut store = new_store(&self.engine, &self.limits, &log, Some(hooks));
        let base_url = self.base_url.clone();
        let models = self
            .guarded(&log, &mut store, async |store| {
                let instance = self.pre.instantiate_async(&mut *store).await?;
                instance.airlock_plugin_provider_api().call_list_models(&mut *store, base_url.as_deref()).await
            })
            .await?;
        Ok(models.into_iter().map(model_info).collect())
    }

    fn wit_request(&self, request: &GenerateRequest) -> api::GenerateRequest {
        let messages = request
            .messages
            .iter()
            .map(|message| wit::Message {
                role: match message.role {
                    Role::System => wit::Role::System,
                    Role::User => wit::Role::User,
                    Role::Assistant => wit::Role::Assistant,
                },
                content: message
                    .parts
                    .iter()
                    .map(|part| match part {
                        Part::Text(text) => wit::ContentPart::Text(text.clone()),
                        Part::Image { media_type, data } => {
                            wit::ContentPart::Image(wit::Image { media_type: media_type.clone(), data: data.clone() })
                        }
                    })
                    .collect(),
            })
            .collect();
        api::GenerateRequest {
            model: request.model.clone(),
            messages,
            params: wit::GenerationParams {
                max_tokens: request.max_tokens,
                temperature: request.temperature,
                top_p: request.top_p,
                stop: request.stop.clone(),
            },
            base_url: self.base_url.clone(),
            options: self.options.clone(),
        }
    }

    /// Runs one call under the wall-clock budget and counts it; a failure the gate
    /// caused is reported as the gate's refusal, whatever the plugin made of it.
    async fn guarded<R>(
        &self,
        log: &CallLog,
        store: &mut Store<GuestState>,
        call: impl AsyncFnOnce(&mut Store<GuestState>) -> wasmtime::Result<Result<R, wit::PluginError>>,
    ) -> Result<R, CallError> {
        let started = Instant::now();
        let outcome = tokio::time::timeout(self.limits.wall_time(), call(store)).await;
        log.flush();
        let failure = match outcome {
            Ok(Ok(Ok(value))) => {
                self.calls.observe(None, started.elapsed());
                return Ok(value);
            }
            Ok(Ok(Err(error))) => Failure::Reported(reported(error)),
            Ok(Err(error)) => Failure::from_wasmtime(&self.name, &error, log),
            Err(_elapsed) => Failure::WallClock { limit_ms: self.limits.wall_ms },
        };
        let error = self.fail(store, failure);
        self.calls.observe(Some(&error.failure), started.elapsed());
        Err(error)
    }

    /// A failure, replaced by the gate's refusal when the gate refused something in
    /// this call: that is the real reason, whatever the guest made of it.
    fn fail(&self, store: &Store<GuestState>, failure: Failure) -> CallError {
        let refusal = store.data().http_hooks().and_then(|hooks: &CallHooks| hooks.refusals().into_iter().next());
        let failure = match refusal {
            Some(refusal) => Failure::Egress(refusal),
            None => failure,
        };
        CallError { plugin: self.name.clone(), failure }
    }
}

/// A running generation: one instance, one upstream stream.
pub struct Generation {
    plugin: Arc<ProviderPlugin>,
    store: Store<GuestState>,
    log: CallLog,
    instance: bindings::Provider,
    resource: ResourceAny,
    done: bool,
}

impl Generation {
    /// The next chunk, or `None` after the last.
    ///
    /// # Errors
    ///
    /// [`CallError`] as for [`ProviderPlugin::generate`]; the generation is then over.
    pub async fn next(&mut self) -> Result<Option<Chunk>, CallError> {
        if self.done {
            return Ok(None);
        }
        reset_cpu_budget(&mut self.store);
        let (plugin, resource, instance) = (&self.plugin, self.resource, &self.instance);
        let chunk = plugin
            .guarded(&self.log, &mut self.store, async |store| {
                instance.airlock_plugin_provider_api().generation().call_next(&mut *store, resource).await
            })
            .await
            .inspect_err(|_| self.done = true)?;
        self.done = chunk.is_none();
        Ok(chunk.map(|chunk| match chunk {
            api::Chunk::Text(text) => Chunk::Text { text },
            api::Chunk::Reasoning(text) => Chunk::Reasoning { text },
            api::Chunk::Usage(usage) => {
                Chunk::Usage { prompt_tokens: usage.prompt_tokens, completion_tokens: usage.completion_tokens }
            }
            api::Chunk::Finished(reason) => Chunk::Finished {
                reason: match reason {
                    api::FinishReason::Stop => "stop",
                    api::FinishReason::Length => "length",
                    api::FinishReason::Other => "other",
                },
            },
        }))
    }
}

fn reported(error: wit::PluginError) -> Reported {
    match error {
        wit::PluginError::InvalidRequest(message) => Reported::InvalidRequest(message),
        wit::PluginError::Upstream(upstream) => {
            Reported::Upstream { status: upstream.status, message: upstream.message }
        }
        wit::PluginError::Denied(message) => Reported::Denied(message),
        wit::PluginError::Refused(refusal) => Reported::Refused { reason: refusal.reason, message: refusal.message },
        wit::PluginError::Internal(message) => Reported::Internal(message),
    }
}

fn model_info(model: api::ModelInfo) -> ModelInfo {
    ModelInfo { id: model.id, vision: model.vision, context_window: model.context_window }
}

fn convert_manifest(manifest: api::ProviderManifest) -> anyhow::Result<ProviderManifest> {
    anyhow::ensure!(
        is_valid_name(&manifest.name),
        "the manifest's name `{}` is not a lowercase identifier (a-z, 0-9, -)",
        manifest.name
    );
    let (placement, credential) = match manifest.credential {
        api::CredentialPlacement::Header(header) => (
            Placement::header(&header.name, &header.format)?,
            format!("header {}: {}", header.name.to_ascii_lowercase(), header.format),
        ),
        api::CredentialPlacement::Query(name) => (Placement::query(&name)?, format!("query parameter {name}")),
        api::CredentialPlacement::None => (Placement::None, "none".to_owned()),
    };
    Ok(ProviderManifest {
        name: manifest.name,
        version: manifest.version,
        description: manifest.description,
        models: manifest.models.into_iter().map(model_info).collect(),
        hosts: manifest.hosts,
        credential,
        options: manifest.options.into_iter().collect(),
        placement,
    })
}
