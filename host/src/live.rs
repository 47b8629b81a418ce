//! The plugins in service, swappable while requests run.
//!
//! A request takes one snapshot ([`LivePlugins::current`]) and uses it to the end, so
//! an in-flight call finishes on the version it started with while new requests get
//! the new one. Activation and rollback replace the snapshot atomically (`arc-swap`);
//! writers are serialised. Every loaded component stays known by its sha256, so any
//! version can be activated again, and each name keeps the versions it replaced for
//! [`LivePlugins::rollback`]. With a [`RegistryStore`], uploads and the active set are
//! saved before a swap takes effect, and [`LivePlugins::restore`] brings them back at
//! start.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError};

use arc_swap::ArcSwap;

use anyhow::Context;

use crate::config::Config;
use crate::metrics::{Metrics, SwapEvent};
use crate::plugins::Plugins;
use crate::registry_store::RegistryStore;
use crate::runtime::{LoadedPlugin, Runtime};

/// Why a swap was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SwapError {
    /// No loaded component has this sha256.
    #[error("no uploaded or loaded plugin has sha256 `{0}`")]
    UnknownDigest(String),
    /// Nothing to roll back to.
    #[error("`{0}` has no earlier version to roll back to")]
    NothingToRollBack(String),
    /// The new active set could not be saved; nothing was swapped.
    #[error("the active plugin set could not be saved, so it was not changed: {0}")]
    Persist(String),
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
    store: Option<RegistryStore>,
    metrics: Arc<Metrics>,
}

impl LivePlugins {
    /// Starts with `plugins` in service, saving changes in `store` if given and
    /// counting them in `metrics`.
    pub fn new(plugins: Plugins, store: Option<RegistryStore>, metrics: Arc<Metrics>) -> Self {
        let by_digest = plugins.iter().map(|plugin| (plugin.sha256.clone(), plugin.clone())).collect();
        let known = Mutex::new(Known { by_digest, replaced: BTreeMap::new() });
        Self { current: ArcSwap::from_pointee(plugins), known, store, metrics }
    }

    /// Brings back the active set saved in the store: each saved component is loaded
    /// (from the set at hand or its kept blob, whose signature is checked again),
    /// self-tested and activated.
    ///
    /// # Errors
    ///
    /// Naming the plugin that cannot be restored: starting with another version than
    /// the operator activated would be wrong.
    pub async fn restore(&self, runtime: &Runtime, settings: &Config) -> anyhow::Result<()> {
        let Some(store) = &self.store else { return Ok(()) };
        for (name, sha256) in store.active()? {
            if self.current().get(&name).is_some_and(|plugin| plugin.sha256 == sha256) {
                continue;
            }
            let known = self.known.lock().unwrap_or_else(PoisonError::into_inner).by_digest.contains_key(&sha256);
            if !known {
                let context = || format!("restoring the active plugin `{name}` ({sha256})");
                let bytes = store.blob(&sha256).with_context(context)?;
                let signature = store.signature(&sha256)?;
                settings.plugin_signatures.check(&bytes, signature.as_deref()).with_context(context)?;
                let plugin =
                    runtime.load(&bytes, &format!("restored:{sha256}"), settings).await.with_context(context)?;
                crate::validate::self_test(&plugin).await.map_err(anyhow::Error::msg).with_context(context)?;
                self.known.lock().unwrap_or_else(PoisonError::into_inner).by_digest.insert(sha256.clone(), plugin);
            }
            self.activate(&sha256)?;
        }
        Ok(())
    }

    /// The set in service now; hold it for the whole request.
    pub fn current(&self) -> Arc<Plugins> {
        self.current.load_full()
    }

    /// Keeps a validated component (its `bytes` and `signature`, in the store), not yet
    /// in service.
    ///
    /// # Errors
    ///
    /// When the store cannot keep the bytes.
    pub fn stage(&self, plugin: LoadedPlugin, bytes: &[u8], signature: Option<&str>) -> anyhow::Result<()> {
        if let Some(store) = &self.store {
            store.save_blob(&plugin.sha256, bytes)?;
            if let Some(signature) = signature {
                store.save_signature(&plugin.sha256, signature)?;
            }
        }
        self.metrics.swap(plugin.name(), plugin.world().name(), SwapEvent::Load);
        self.known.lock().unwrap_or_else(PoisonError::into_inner).by_digest.insert(plugin.sha256.clone(), plugin);
        Ok(())
    }

    /// Saves `next` as the active set, then puts it in service.
    fn swap(&self, next: Plugins) -> Result<(), SwapError> {
        if let Some(store) = &self.store {
            let active = next.iter().map(|plugin| (plugin.name().to_owned(), plugin.sha256.clone())).collect();
            store.save_active(&active).map_err(|error| SwapError::Persist(format!("{error:#}")))?;
        }
        self.current.store(Arc::new(next));
        Ok(())
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
        let replaced = current.get(plugin.name()).cloned();
        if replaced.as_ref().is_some_and(|replaced| replaced.sha256 == plugin.sha256) {
            return Ok(plugin);
        }
        self.swap(current.with(plugin.clone()))?;
        if let Some(replaced) = replaced {
            known.replaced.entry(plugin.name().to_owned()).or_default().push(replaced);
        }
        self.metrics.swap(plugin.name(), plugin.world().name(), SwapEvent::Activate);
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
            .get(name)
            .and_then(|versions| versions.last().cloned())
            .ok_or_else(|| SwapError::NothingToRollBack(name.to_owned()))?;
        self.swap(self.current.load_full().with(previous.clone()))?;
        known.replaced.get_mut(name).and_then(Vec::pop);
        self.metrics.swap(name, previous.world().name(), SwapEvent::Rollback);
        tracing::info!(plugin = %name, version = %previous.version(), sha256 = %previous.sha256, "plugin rolled back");
        Ok(previous)
    }
}
