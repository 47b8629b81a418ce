//! Turning component bytes into a ready plugin: check, compile (or hit the cache), link.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use wasmtime::component::{Component, Linker};

use super::code_cache::{CacheOutcome, CodeCache, sha256_hex};
use super::engine::{EngineConfig, PluginEngine};
use super::limits::Limits;
use super::linker::{GuestState, sanitizer_linker};
use super::sanitizer::SanitizerPlugin;
use super::world::{Interfaces, World, WorldError};

/// How the operator configured one plugin.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PluginSettings {
    /// Its resource limits.
    pub limits: Limits,
    /// Options passed on every call unless the request overrides them.
    pub options: BTreeMap<String, String>,
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
    /// It targets a world this build cannot run yet.
    #[error("`{0}` plugins cannot be loaded by this version of Airlock")]
    Unsupported(World),
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
    /// `bundled` or the file it was read from.
    pub source: String,
    /// sha256 of its bytes.
    pub sha256: String,
    /// Its imports and exports.
    pub interfaces: Interfaces,
    /// The sanitizer, ready to call.
    pub sanitizer: Arc<SanitizerPlugin>,
}

/// The engine, the linkers and the code cache: everything needed to load plugins.
pub struct Runtime {
    engine: PluginEngine,
    sanitizer_linker: Linker<GuestState>,
    cache: CodeCache,
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
        let cache = match cache_dir {
            Some(dir) => CodeCache::open(dir, engine.engine())?,
            None => CodeCache::disabled(engine.engine()),
        };
        Ok(Self { engine, sanitizer_linker, cache })
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
    /// `settings` gives the operator's settings for the plugin's name, once the manifest
    /// has told its name.
    ///
    /// # Errors
    ///
    /// As [`Runtime::check`], plus [`LoadError::Start`] when linking or the manifest call
    /// fails.
    pub async fn load(
        &self,
        bytes: &[u8],
        source: &str,
        settings: impl Fn(&str) -> PluginSettings,
    ) -> Result<LoadedPlugin, LoadError> {
        let checked = self.check(bytes)?;
        if checked.world != World::Sanitizer {
            return Err(LoadError::Unsupported(checked.world));
        }
        let sanitizer =
            SanitizerPlugin::load(self.engine.engine(), &self.sanitizer_linker, &checked.component, settings)
                .await
                .map_err(LoadError::Start)?;
        Ok(LoadedPlugin {
            source: source.to_owned(),
            sha256: checked.sha256,
            interfaces: checked.interfaces,
            sanitizer: Arc::new(sanitizer),
        })
    }
}
