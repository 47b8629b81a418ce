//! Loaded sanitizer plugins and calls into them.
//!
//! A [`SanitizerPlugin`] holds a pre-instantiated component: linking and type checks
//! are done once at load, so each call only instantiates (from the pooling allocator)
//! into a fresh store, calls, and drops the store.
//! No state survives from one call to the next; a stream keeps one store for its
//! lifetime ([`SanitizerSession`]).

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::Arc;
use std::time::Instant;

use wasmtime::component::{Component, Linker, ResourceAny};
use wasmtime::{Engine, Store};

use super::call_error::{CallError, Failure, Reported};
use super::guest_log::{CallLog, LogRate};
use super::limits::Limits;
use super::linker::{GuestState, new_store, reset_cpu_budget};
use super::loader::PluginSettings;
use super::world::World;
use crate::metrics::{Metrics, PluginCalls};

/// Host bindings for the `sanitizer` world.
#[allow(missing_docs)]
mod bindings {
    wasmtime::component::bindgen!({
        path: "../wit",
        world: "sanitizer",
        exports: { default: async },
    });
}

use bindings::exports::airlock::plugin::sanitizer_api as api;

pub use api::Stage;

/// What a sanitizer says about itself (from its `manifest()` export).
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct SanitizerManifest {
    /// Its name, by which operators and requests refer to it.
    pub name: String,
    /// Its version.
    pub version: String,
    /// One line for operators.
    pub description: String,
    /// `input`, `output`, or both.
    pub stages: Vec<&'static str>,
    /// Media types it understands.
    pub content_types: Vec<String>,
    /// The options it accepts, with their help text.
    pub options: BTreeMap<String, String>,
}

/// One finding: what a sanitizer changed or noticed.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct Finding {
    /// Machine-readable rule.
    pub rule: String,
    /// Explanation for people.
    pub message: String,
    /// Byte offset in the input, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub offset: Option<u64>,
}

/// A sanitizer's answer for a whole text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Nothing to change.
    Pass,
    /// Changed text, with the reasons.
    Rewritten {
        /// The sanitized text.
        text: String,
        /// Why it changed.
        findings: Vec<Finding>,
    },
    /// The text must not be used.
    Blocked(String),
}

/// What ends a stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamEnd {
    /// The last piece of sanitized text.
    pub tail: String,
    /// Every finding of the stream.
    pub findings: Vec<Finding>,
    /// Set when the whole stream must be discarded.
    pub blocked: Option<String>,
}

/// What a caller passes with a text.
#[derive(Debug, Clone)]
pub struct SanitizeRequest {
    /// Where in the pipeline this runs.
    pub stage: Stage,
    /// The text's media type.
    pub content_type: String,
    /// Options for the plugin; they override the operator's defaults for it.
    pub options: BTreeMap<String, String>,
}

/// A sanitizer component, validated, linked and ready to instantiate.
pub struct SanitizerPlugin {
    name: Arc<str>,
    manifest: SanitizerManifest,
    engine: Engine,
    pre: bindings::SanitizerPre<GuestState>,
    limits: Limits,
    default_options: BTreeMap<String, String>,
    log_rate: Arc<LogRate>,
    calls: PluginCalls,
}

impl SanitizerPlugin {
    /// Links `component` and reads its manifest (one call, under the default limits),
    /// then applies the operator's `settings` for the name the manifest gives; its
    /// calls are counted in `metrics` from then on.
    ///
    /// # Errors
    ///
    /// When the component does not link against the sanitizer world or its manifest
    /// call fails.
    pub async fn load(
        engine: &Engine,
        linker: &Linker<GuestState>,
        component: &Component,
        metrics: &Metrics,
        settings: impl Fn(&str) -> PluginSettings,
    ) -> anyhow::Result<Self> {
        let instance_pre = linker.instantiate_pre(component).map_err(anyhow::Error::from)?;
        let pre = bindings::SanitizerPre::new(instance_pre).map_err(anyhow::Error::from)?;
        let mut plugin = Self {
            name: Arc::from("(loading)"),
            manifest: SanitizerManifest::default(),
            engine: engine.clone(),
            pre,
            limits: Limits::default(),
            default_options: BTreeMap::new(),
            log_rate: Arc::new(LogRate::default()),
            calls: PluginCalls::default(),
        };
        let manifest = plugin.call_manifest().await?;
        anyhow::ensure!(
            is_valid_name(&manifest.name),
            "the manifest's name `{}` is not a lowercase identifier (a-z, 0-9, -)",
            manifest.name
        );
        let PluginSettings { limits, options } = settings(&manifest.name);
        plugin.name = Arc::from(manifest.name.as_str());
        plugin.calls = metrics.plugin_calls(&plugin.name, World::Sanitizer.name());
        plugin.manifest = manifest;
        plugin.limits = limits;
        let accepted: Vec<&str> = plugin.manifest.options.keys().map(String::as_str).collect();
        plugin.default_options = super::loader::in_manifest_spelling(options, &accepted);
        Ok(plugin)
    }

    /// Its name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Its manifest.
    pub fn manifest(&self) -> &SanitizerManifest {
        &self.manifest
    }

    /// Its limits.
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    async fn call_manifest(&self) -> Result<SanitizerManifest, CallError> {
        let (mut store, log) = self.store();
        let manifest = self
            .guarded(&log, async {
                let instance = self.pre.instantiate_async(&mut store).await?;
                instance.airlock_plugin_sanitizer_api().call_manifest(&mut store).await.map(Ok)
            })
            .await?;
        Ok(SanitizerManifest {
            name: manifest.name,
            version: manifest.version,
            description: manifest.description,
            stages: manifest.stages.iter().map(|stage| stage_name(*stage)).collect(),
            content_types: manifest.content_types,
            options: manifest.options.into_iter().collect(),
        })
    }

    /// Sanitizes a whole text in a fresh instance.
    ///
    /// # Errors
    ///
    /// [`CallError`] when the guest traps, goes over a limit or reports an error.
    pub async fn sanitize(&self, content: &str, request: &SanitizeRequest) -> Result<Verdict, CallError> {
        let context = self.context(request);
        let (mut store, log) = self.store();
        let verdict = self
            .guarded(&log, async {
                let instance = self.pre.instantiate_async(&mut store).await?;
                instance.airlock_plugin_sanitizer_api().call_sanitize(&mut store, content, &context).await
            })
            .await?;
        let verdict = match verdict {
            api::Verdict::Pass => Verdict::Pass,
            api::Verdict::Rewritten(rewrite) => {
                Verdict::Rewritten { text: rewrite.text, findings: findings(rewrite.findings) }
            }
            api::Verdict::Blocked(reason) => Verdict::Blocked(reason),
        };
        self.check_output_size(output_size(&verdict))?;
        Ok(verdict)
    }

    /// Opens a streaming session in its own instance.
    ///
    /// # Errors
    ///
    /// [`CallError`] when the instance cannot start or the constructor traps.
    pub async fn session(self: &Arc<Self>, request: &SanitizeRequest) -> Result<SanitizerSession, CallError> {
        let context = self.context(request);
        let (mut store, log) = self.store();
        let (instance, session) = self
            .guarded(&log, async {
                let instance = self.pre.instantiate_async(&mut store).await?;
                let session =
                    instance.airlock_plugin_sanitizer_api().session().call_constructor(&mut store, &context).await?;
                Ok(Ok((instance, session)))
            })
            .await?;
        Ok(SanitizerSession { plugin: self.clone(), store, log, instance, session })
    }

    fn context(&self, request: &SanitizeRequest) -> api::SanitizeContext {
        let mut options = self.default_options.clone();
        options.extend(request.options.iter().map(|(name, value)| (name.clone(), value.clone())));
        api::SanitizeContext {
            stage: request.stage,
            content_type: request.content_type.clone(),
            options: options.into_iter().collect(),
        }
    }

    fn store(&self) -> (Store<GuestState>, CallLog) {
        let log = CallLog::new(self.name.clone(), self.log_rate.clone(), self.limits.log_bytes());
        (new_store(&self.engine, &self.limits, &log, None), log)
    }

    /// Runs one call under the wall-clock budget, classifies its failure (or the error
    /// the plugin reported) and counts it.
    async fn guarded<R>(
        &self,
        log: &CallLog,
        call: impl Future<Output = wasmtime::Result<Result<R, api::PluginError>>>,
    ) -> Result<R, CallError> {
        let started = Instant::now();
        let outcome = tokio::time::timeout(self.limits.wall_time(), call).await;
        log.flush();
        let result = match outcome {
            Ok(Ok(Ok(value))) => Ok(value),
            Ok(Ok(Err(error))) => Err(Failure::Reported(reported(error))),
            Ok(Err(error)) => Err(Failure::from_wasmtime(&self.name, &error, log)),
            Err(_elapsed) => Err(Failure::WallClock { limit_ms: self.limits.wall_ms }),
        };
        self.calls.observe(result.as_ref().err(), started.elapsed());
        result.map_err(|failure| self.fail(failure))
    }

    fn check_output_size(&self, size: usize) -> Result<(), CallError> {
        let limit = self.limits.output_bytes();
        if size > limit { Err(self.fail(Failure::OutputTooLarge { size, limit })) } else { Ok(()) }
    }

    fn fail(&self, failure: Failure) -> CallError {
        CallError { plugin: self.name.clone(), failure }
    }
}

/// A stream being sanitized: one instance for the whole stream, a fresh CPU budget for
/// each piece.
pub struct SanitizerSession {
    plugin: Arc<SanitizerPlugin>,
    store: Store<GuestState>,
    log: CallLog,
    instance: bindings::Sanitizer,
    session: ResourceAny,
}

impl SanitizerSession {
    /// Feeds a piece; returns the text that is final so far.
    ///
    /// # Errors
    ///
    /// [`CallError`] as for [`SanitizerPlugin::sanitize`]; the session is then unusable.
    pub async fn push(&mut self, chunk: &str) -> Result<String, CallError> {
        reset_cpu_budget(&mut self.store);
        let (plugin, store, session) = (&self.plugin, &mut self.store, self.session);
        let api = self.instance.airlock_plugin_sanitizer_api();
        let text = plugin.guarded(&self.log, api.session().call_push(store, session, chunk)).await?;
        plugin.check_output_size(text.len())?;
        Ok(text)
    }

    /// Ends the stream.
    ///
    /// # Errors
    ///
    /// [`CallError`] as for [`SanitizerPlugin::sanitize`].
    pub async fn finish(mut self) -> Result<StreamEnd, CallError> {
        reset_cpu_budget(&mut self.store);
        let (plugin, store, session) = (&self.plugin, &mut self.store, self.session);
        let api = self.instance.airlock_plugin_sanitizer_api();
        let end = plugin.guarded(&self.log, api.session().call_finish(store, session)).await?;
        let end = StreamEnd { tail: end.tail, findings: findings(end.findings), blocked: end.blocked };
        plugin.check_output_size(end.tail.len() + findings_size(&end.findings))?;
        Ok(end)
    }
}

fn reported(error: api::PluginError) -> Reported {
    match error {
        api::PluginError::InvalidRequest(message) => Reported::InvalidRequest(message),
        api::PluginError::Upstream(upstream) => {
            Reported::Upstream { status: upstream.status, message: upstream.message }
        }
        api::PluginError::Denied(message) => Reported::Denied(message),
        api::PluginError::Refused(refusal) => Reported::Refused { reason: refusal.reason, message: refusal.message },
        api::PluginError::Internal(message) => Reported::Internal(message),
    }
}

fn findings(findings: Vec<api::Finding>) -> Vec<Finding> {
    findings.into_iter().map(|f| Finding { rule: f.rule, message: f.message, offset: f.offset }).collect()
}

fn findings_size(findings: &[Finding]) -> usize {
    findings.iter().map(|finding| finding.rule.len() + finding.message.len() + 8).sum()
}

fn output_size(verdict: &Verdict) -> usize {
    match verdict {
        Verdict::Pass => 0,
        Verdict::Rewritten { text, findings } => text.len() + findings_size(findings),
        Verdict::Blocked(reason) => reason.len(),
    }
}

/// The name of a stage, as in WIT.
pub fn stage_name(stage: Stage) -> &'static str {
    match stage {
        Stage::Input => "input",
        Stage::Output => "output",
    }
}

/// Whether `name` is a valid plugin name: 1–64 of `a-z`, `0-9`, `-`, starting with a letter.
pub fn is_valid_name(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}
