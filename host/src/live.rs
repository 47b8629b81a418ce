//! The plugins in service, swappable while requests run.
//!
//! A request takes one snapshot ([`LivePlugins::current`]) and uses it to the end, so
//! an in-flight call finishes on the version it started with while new requests get
//! the new one. Activation and rollback replace the snapshot atomically (`arc-swap`);
//! writers are serialised. Every loaded component stays known by its sha256, so any
//! version can be activated again, and each name keeps the versions it replaced for
//! [`LivePlugins::rollback`].

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError};

use arc_swap::ArcSwap;

use crate::plugins::Plugins;
use crate::runtime::LoadedPlugin;

/// Why a swap was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SwapError {
    /// No loaded component has this sha256.
    #[error("no uploaded or loaded plugin has sha256 `{0}`")]
    UnknownDigest(String),
    /// Nothing to roll back to.
    #[error("`{0}` has no earlier version to roll back to")]
    NothingToRollBack(String),
}

#[derive(Default)]
struct Known {
    /// Every component loaded, by sha256.
    by_digest: BTreeMap<String, LoadedPlugin>,
    /// Per name, the versions replaced by activations, newest last.
    replaced: BTreeMap<String, Vec<LoadedPlugin>>,
}

/// The plugin set in service.
pub struct LivePlugins {
    current: ArcSwap<Plugins>,
    known: Mutex<Known>,
}

impl LivePlugins {
    /// Starts with `plugins` in service.
    pub fn new(plugins: Plugins) -> Self {
        let by_digest = plugins.iter().map(|plugin| (plugin.sha256.clone(), plugin.clone())).collect();
        Self {
            current: ArcSwap::from_pointee(plugins),
            known: Mutex::new(Known { by_digest, replaced: BTreeMap::new() }),
        }
    }

    /// The set in service now; hold it for the whole request.
    pub fn current(&self) -> Arc<Plugins> {
        self.current.load_full()
    }

    /// Keeps a validated component, not yet in service.
    pub fn stage(&self, plugin: LoadedPlugin) {
        self.known.lock().unwrap_or_else(PoisonError::into_inner).by_digest.insert(plugin.sha256.clone(), plugin);
    }

    /// Every component known, by sha256.
    pub fn known(&self) -> Vec<LoadedPlugin> {
        self.known.lock().unwrap_or_else(PoisonError::into_inner).by_digest.values().cloned().collect()
    }

    /// Puts the component with `sha256` in service under its name; returns it.
    ///
    /// # Errors
    ///
    /// [`SwapError::UnknownDigest`].
    pub fn activate(&self, sha256: &str) -> Result<LoadedPlugin, SwapError> {
        let mut known = self.known.lock().unwrap_or_else(PoisonError::into_inner);
        let plugin = known.by_digest.get(sha256).cloned().ok_or_else(|| SwapError::UnknownDigest(sha256.to_owned()))?;
        let current = self.current.load_full();
        if let Some(replaced) = current.get(plugin.name()) {
            if replaced.sha256 == plugin.sha256 {
                return Ok(plugin);
            }
            known.replaced.entry(plugin.name().to_owned()).or_default().push(replaced.clone());
        }
        self.current.store(Arc::new(current.with(plugin.clone())));
        tracing::info!(plugin = %plugin.name(), version = %plugin.version(), sha256 = %plugin.sha256, "plugin activated");
        Ok(plugin)
    }

    /// Puts back the version of `name` that the last activation replaced; returns it.
    ///
    /// # Errors
    ///
    /// [`SwapError::NothingToRollBack`].
    pub fn rollback(&self, name: &str) -> Result<LoadedPlugin, SwapError> {
        let mut known = self.known.lock().unwrap_or_else(PoisonError::into_inner);
        let previous = known
            .replaced
            .get_mut(name)
            .and_then(Vec::pop)
            .ok_or_else(|| SwapError::NothingToRollBack(name.to_owned()))?;
        let current = self.current.load_full();
        self.current.store(Arc::new(current.with(previous.clone())));
        tracing::info!(plugin = %name, version = %previous.version(), sha256 = %previous.sha256, "plugin rolled back");
        Ok(previous)
    }
}
