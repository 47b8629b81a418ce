//! Turning component bytes into a ready plugin: check, compile (or hit the cache), link.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use wasmtime::component::{Component, Linker};

use super::code_cache::{CacheOutcome, CodeCache, sha256_hex};
use super::egress::{
    AllowedHost, Credential, EgressLimits, EgressPolicy, EgressStats, Gate, GateConfig, NameLookup, SystemLookup,
};
use super::engine::{EngineConfig, PluginEngine};
use super::limits::{DEFAULT_PROVIDER_LIMITS, Limits};
use super::linker::{GuestState, provider_linker, sanitizer_linker};
use super::provider::{ProviderManifest, ProviderPlugin, ProviderSetup};
use super::sanitizer::SanitizerPlugin;
use super::world::{Interfaces, World, WorldError};
use crate::metrics::Metrics;

/// How the operator configured one plugin.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PluginSettings {
    /// Its resource limits.
    pub limits: Limits,
    /// Options passed on every call unless the request overrides them.
    pub options: BTreeMap<String, String>,
}

/// How the operator configured one provider.
#[derive(Debug, Default)]
pub struct ProviderSettings {
    /// Its resource limits.
    pub limits: Option<Limits>,
    /// The base URL passed to the guest (a vendor-compatible server, a proxy).
    pub base_url: Option<String>,
    /// The options passed to the guest, each one its manifest lists.
    pub options: Vec<(String, String)>,
    /// Hosts the operator allows it to reach (intersected with its manifest's).
    pub hosts: Vec<AllowedHost>,
    /// The operator's key, if any.
    pub api_key: Option<String>,
    /// The hosts the key may be sent to.
    pub credential_hosts: Vec<AllowedHost>,
    /// Caps on its requests.
    pub egress: EgressLimits,
}

/// `options` with each name spelled as one of the manifest's `accepted` names where the
/// two differ only in `_` for `-` (an environment variable cannot spell `-`:
/// `…__OPTIONS__API_VERSION` sets `api-version`); other names are kept as written.
pub fn in_manifest_spelling(options: BTreeMap<String, String>, accepted: &[&str]) -> BTreeMap<String, String> {
    let same = |known: &str, name: &str| known.replace('-', "_") == name.replace('-', "_");
    options
        .into_iter()
        .map(|(name, value)| match accepted.iter().find(|known| same(known, &name)) {
            Some(known) => ((*known).to_owned(), value),
            None => (name, value),
        })
        .collect()
}

/// Where the loader gets the operator's settings for a plugin, once its manifest has
/// said its name.
pub trait Settings {
    /// The settings of the sanitizer called `name`.
    fn sanitizer(&self, name: &str) -> PluginSettings;

    /// The settings of a provider; `bundled` says whether it ships with Airlock.
    ///
    /// # Errors
    ///
    /// When the configuration for it is invalid.
    fn provider(&self, manifest: &ProviderManifest, bundled: bool) -> anyhow::Result<ProviderSettings>;
}

/// Sanitizer settings by name; a provider gets no hosts and no key (no network).
impl<F: Fn(&str) -> PluginSettings> Settings for F {
    fn sanitizer(&self, name: &str) -> PluginSettings {
        self(name)
    }

    fn provider(&self, _manifest: &ProviderManifest, _bundled: bool) -> anyhow::Result<ProviderSettings> {
        Ok(ProviderSettings::default())
    }
}

/// What every egress gate of a runtime shares.
pub struct EgressEnvironment {
    /// How host names are resolved.
    pub lookup: Arc<dyn NameLookup>,
    /// CA certificates trusted besides the system's roots.
    pub extra_roots: Vec<reqwest::Certificate>,
    /// Where gates count what they do.
    pub stats: Arc<EgressStats>,
}

impl Default for EgressEnvironment {
    fn default() -> Self {
        Self { lookup: Arc::new(SystemLookup), extra_roots: Vec::new(), stats: Arc::default() }
    }
}

/// Why a component could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The bytes are not a valid component for this engine.
    #[error("not a valid WebAssembly component: {0}")]
    Invalid(String),
    /// Its world or imports are not acceptable.
    #[error(transparent)]
    World(#[from] WorldError),
    /// It failed to link or its manifest call failed.
    #[error("the component failed to start: {0:#}")]
    Start(anyhow::Error),
}

/// A component that passed the checks, with what was learned about it.
pub struct Checked {
    /// sha256 of its bytes.
    pub sha256: String,
    /// Its imports and exports.
    pub interfaces: Interfaces,
    /// Its world.
    pub world: World,
    /// Whether the compiled code came from the cache.
    pub cache: CacheOutcome,
    component: Component,
}

/// A loaded plugin and where it came from.
#[derive(Clone)]
pub struct LoadedPlugin {
    /// Where it came from: `bundled`, the file it was read from, or who uploaded it
    /// (`admin-api`, `watched-dir`) with its digest.
    pub source: String,
    /// When it was loaded, in milliseconds since the Unix epoch.
    pub loaded_at_ms: u64,
    /// sha256 of its bytes.
    pub sha256: String,
    /// Its imports and exports.
    pub interfaces: Interfaces,
    /// The plugin, ready to call.
    pub plugin: Plugin,
}

/// A ready plugin of either kind.
#[derive(Clone)]
pub enum Plugin {
    /// A sanitizer.
    Sanitizer(Arc<SanitizerPlugin>),
    /// A provider.
    Provider(Arc<ProviderPlugin>),
}

impl LoadedPlugin {
    /// Its name.
    pub fn name(&self) -> &str {
        match &self.plugin {
            Plugin::Sanitizer(sanitizer) => sanitizer.name(),
            Plugin::Provider(provider) => provider.name(),
        }
    }

    /// Its world.
    pub fn world(&self) -> World {
        match &self.plugin {
            Plugin::Sanitizer(_) => World::Sanitizer,
            Plugin::Provider(_) => World::Provider,
        }
    }

    /// Its version, from its manifest.
    pub fn version(&self) -> &str {
        match &self.plugin {
            Plugin::Sanitizer(sanitizer) => &sanitizer.manifest().version,
            Plugin::Provider(provider) => &provider.manifest().version,
        }
    }

    /// The sanitizer, if it is one.
    pub fn sanitizer(&self) -> Option<&Arc<SanitizerPlugin>> {
        match &self.plugin {
            Plugin::Sanitizer(sanitizer) => Some(sanitizer),
            Plugin::Provider(_) => None,
        }
    }

    /// The provider, if it is one.
    pub fn provider(&self) -> Option<&Arc<ProviderPlugin>> {
        match &self.plugin {
            Plugin::Provider(provider) => Some(provider),
            Plugin::Sanitizer(_) => None,
        }
    }

    /// Its manifest as JSON.
    pub fn manifest_json(&self) -> serde_json::Value {
        let manifest = match &self.plugin {
            Plugin::Sanitizer(sanitizer) => serde_json::to_value(sanitizer.manifest()),
            Plugin::Provider(provider) => serde_json::to_value(provider.manifest()),
        };
        manifest.unwrap_or_default()
    }
}

/// The engine, the linkers and the code cache: everything needed to load plugins.
pub struct Runtime {
    engine: PluginEngine,
    sanitizer_linker: Linker<GuestState>,
    provider_linker: Linker<GuestState>,
    cache: CodeCache,
    egress: EgressEnvironment,
    metrics: Arc<Metrics>,
}

impl Runtime {
    /// A runtime whose compiled code is cached in `cache_dir` (or not cached, if `None`).
    ///
    /// # Errors
    ///
    /// When the engine cannot be built or the cache directory cannot be opened.
    pub fn new(config: &EngineConfig, cache_dir: Option<&Path>) -> anyhow::Result<Self> {
        let engine = PluginEngine::new(config)?;
        let sanitizer_linker = sanitizer_linker(engine.engine())?;
        let provider_linker = provider_linker(engine.engine())?;
        let cache = match cache_dir {
            Some(dir) => CodeCache::open(dir, engine.engine())?,
            None => CodeCache::disabled(engine.engine()),
        };
        let egress = EgressEnvironment::default();
        Ok(Self { engine, sanitizer_linker, provider_linker, cache, egress, metrics: Arc::default() })
    }

    /// The same runtime with another egress environment (a test resolver, a test CA).
    #[must_use]
    pub fn with_egress(mut self, egress: EgressEnvironment) -> Self {
        self.egress = egress;
        self
    }

    /// What the egress gates counted.
    pub fn egress_stats(&self) -> &Arc<EgressStats> {
        &self.egress.stats
    }

    /// The metrics of this runtime's plugins, and of the server built on it.
    pub fn metrics(&self) -> &Arc<Metrics> {
        &self.metrics
    }

    /// Compiles `bytes` (or loads them from the cache) and checks world and imports.
    ///
    /// # Errors
    ///
    /// [`LoadError::Invalid`] for bytes that are no component, [`LoadError::World`] for a
    /// component that exports no plugin interface or imports what its world forbids.
    pub fn check(&self, bytes: &[u8]) -> Result<Checked, LoadError> {
        let engine = self.engine.engine();
        let sha256 = sha256_hex(bytes);
        let (component, cache) =
            self.cache.load(engine, &sha256, bytes).map_err(|error| LoadError::Invalid(format!("{error:#}")))?;
        let interfaces = Interfaces::of(engine, &component);
        let world = interfaces.world()?;
        Ok(Checked { sha256, interfaces, world, cache, component })
    }

    /// Checks, compiles and links a component, then reads its manifest.
    ///
    /// `settings` gives the operator's settings for the plugin, once the manifest has
    /// told its name; `source` is `bundled` or where the bytes came from.
    ///
    /// # Errors
    ///
    /// As [`Runtime::check`], plus [`LoadError::Start`] when linking, the manifest call
    /// or the plugin's settings fail.
    pub async fn load(&self, bytes: &[u8], source: &str, settings: impl Settings) -> Result<LoadedPlugin, LoadError> {
        let checked = self.check(bytes)?;
        let engine = self.engine.engine();
        let plugin = match checked.world {
            World::Sanitizer => Plugin::Sanitizer(Arc::new(
                SanitizerPlugin::load(engine, &self.sanitizer_linker, &checked.component, &self.metrics, |name| {
                    settings.sanitizer(name)
                })
                .await
                .map_err(LoadError::Start)?,
            )),
            World::Provider => {
                let setup = |manifest: &ProviderManifest| {
                    let provider = settings.provider(manifest, source == "bundled")?;
                    self.provider_setup(manifest, provider)
                };
                Plugin::Provider(Arc::new(
                    ProviderPlugin::load(engine, &self.provider_linker, &checked.component, setup)
                        .await
                        .map_err(LoadError::Start)?,
                ))
            }
        };
        let loaded_at_ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |since| u64::try_from(since.as_millis()).unwrap_or(u64::MAX));
        Ok(LoadedPlugin {
            source: source.to_owned(),
            loaded_at_ms,
            sha256: checked.sha256,
            interfaces: checked.interfaces,
            plugin,
        })
    }

    fn provider_setup(&self, manifest: &ProviderManifest, settings: ProviderSettings) -> anyhow::Result<ProviderSetup> {
        let policy = EgressPolicy::new(&manifest.hosts, &settings.hosts);
        let credential = settings.api_key.map(|key| Arc::new(Credential::new(key, settings.credential_hosts.clone())));
        let name: Arc<str> = Arc::from(manifest.name.as_str());
        let gate = Gate::new(GateConfig {
            plugin: name.clone(),
            policy,
            placement: manifest.placement().clone(),
            credential,
            credential_hosts: settings.credential_hosts,
            limits: settings.egress,
            extra_roots: self.egress.extra_roots.clone(),
            lookup: self.egress.lookup.clone(),
            stats: self.egress.stats.clone(),
            metrics: self.metrics.clone(),
        })?;
        Ok(ProviderSetup {
            limits: settings.limits.unwrap_or(DEFAULT_PROVIDER_LIMITS),
            base_url: settings.base_url,
            options: settings.options,
            gate,
            calls: self.metrics.plugin_calls(&name, World::Provider.name()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn option_names_take_the_manifests_spelling_of_dashes() {
        let configured: BTreeMap<String, String> = [("api_version", "1"), ("max_chars", "2"), ("other", "3")]
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .into();
        let spelled = in_manifest_spelling(configured, &["api-version", "max_chars"]);
        let names: Vec<&str> = spelled.keys().map(String::as_str).collect();
        assert_eq!(names, ["api-version", "max_chars", "other"]);
    }
}
