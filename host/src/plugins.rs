//! The set of loaded plugins: the bundled ones, then the operator's.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::Context;

use crate::bundled::BUNDLED;
use crate::config::Config;
use crate::runtime::{LoadedPlugin, Runtime};

/// Loaded plugins by name.
pub struct Plugins {
    by_name: BTreeMap<String, LoadedPlugin>,
}

impl Plugins {
    /// Loads every bundled plugin and every plugin file the config lists.
    ///
    /// A configured plugin that fails to load stops start-up: the operator asked for it,
    /// and running without it would be failing open.
    ///
    /// # Errors
    ///
    /// Naming the plugin and why it was refused.
    pub async fn load(runtime: &Runtime, config: &Config) -> anyhow::Result<Self> {
        let mut by_name = BTreeMap::new();
        for (package, bytes) in BUNDLED {
            let plugin = runtime
                .load(bytes, "bundled", |name| config.sanitizer_settings(name))
                .await
                .with_context(|| format!("loading the bundled plugin {package}"))?;
            by_name.insert(plugin.sanitizer.name().to_owned(), plugin);
        }
        for path in &config.plugins {
            let plugin = load_file(runtime, config, path).await?;
            let name = plugin.sanitizer.name().to_owned();
            if let Some(replaced) = by_name.insert(name.clone(), plugin) {
                tracing::info!(plugin = %name, replaced = %replaced.source, by = %path.display(), "configured plugin replaces another");
            }
        }
        Ok(Self { by_name })
    }

    /// The plugin called `name`.
    pub fn get(&self, name: &str) -> Option<&LoadedPlugin> {
        self.by_name.get(name)
    }

    /// Every plugin, by name.
    pub fn iter(&self) -> impl Iterator<Item = &LoadedPlugin> {
        self.by_name.values()
    }

    /// How many plugins are loaded.
    pub fn len(&self) -> usize {
        self.by_name.len()
    }

    /// Whether none are.
    pub fn is_empty(&self) -> bool {
        self.by_name.is_empty()
    }
}

/// Loads one plugin file with the config's settings for its name.
///
/// # Errors
///
/// When the file cannot be read or the component is refused.
pub async fn load_file(runtime: &Runtime, config: &Config, path: &Path) -> anyhow::Result<LoadedPlugin> {
    let bytes = std::fs::read(path).with_context(|| format!("reading the plugin {}", path.display()))?;
    runtime
        .load(&bytes, &path.display().to_string(), |name| config.sanitizer_settings(name))
        .await
        .with_context(|| format!("loading the plugin {}", path.display()))
}

/// What `airlock plugin list` and `GET /v1/plugins` show of a plugin.
#[derive(Debug, Clone, serde::Serialize)]
pub struct PluginSummary<'a> {
    /// Its name.
    pub name: &'a str,
    /// `sanitizer` or `provider`.
    pub kind: crate::runtime::World,
    /// Its version.
    pub version: &'a str,
    /// sha256 of its component.
    pub sha256: &'a str,
    /// `bundled` or the file it came from.
    pub source: &'a str,
    /// Its imports, as declared.
    pub imports: &'a [String],
    /// Its manifest.
    pub manifest: &'a crate::runtime::SanitizerManifest,
}

impl<'a> From<&'a LoadedPlugin> for PluginSummary<'a> {
    fn from(plugin: &'a LoadedPlugin) -> Self {
        let manifest = plugin.sanitizer.manifest();
        Self {
            name: &manifest.name,
            kind: crate::runtime::World::Sanitizer,
            version: &manifest.version,
            sha256: &plugin.sha256,
            source: &plugin.source,
            imports: &plugin.interfaces.imports,
            manifest,
        }
    }
}
