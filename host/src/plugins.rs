//! The set of loaded plugins: the bundled ones, then the operator's.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::Context;

use crate::bundled::BUNDLED;
use crate::config::Config;
use crate::runtime::{EgressEnvironment, LoadedPlugin, Runtime};

/// Loaded plugins by name.
#[derive(Clone)]
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
                .load(bytes, "bundled", config)
                .await
                .with_context(|| format!("loading the bundled plugin {package}"))?;
            by_name.insert(plugin.name().to_owned(), plugin);
        }
        for path in &config.plugins {
            let plugin = load_file(runtime, config, path).await?;
            let name = plugin.name().to_owned();
            if let Some(replaced) = by_name.insert(name.clone(), plugin) {
                tracing::info!(plugin = %name, replaced = %replaced.source, by = %path.display(), "configured plugin replaces another");
            }
        }
        Ok(Self { by_name })
    }

    /// The same set with `plugin` in place of the one of its name.
    #[must_use]
    pub fn with(&self, plugin: LoadedPlugin) -> Self {
        let mut by_name = self.by_name.clone();
        by_name.insert(plugin.name().to_owned(), plugin);
        Self { by_name }
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

/// The runtime the config describes: engine, code cache and egress environment.
///
/// # Errors
///
/// When the engine cannot be built, the cache directory is unusable or a CA file
/// cannot be read.
pub fn runtime(config: &Config) -> anyhow::Result<Runtime> {
    let mut egress = EgressEnvironment::default();
    for file in &config.egress.extra_ca_files {
        let pem = std::fs::read(file).with_context(|| format!("reading the CA file {}", file.display()))?;
        let certificates = reqwest::Certificate::from_pem_bundle(&pem)
            .with_context(|| format!("the CA file {} holds no valid PEM certificate", file.display()))?;
        egress.extra_roots.extend(certificates);
    }
    Ok(Runtime::new(&config.engine, Some(&config.code_cache_dir()))?.with_egress(egress))
}

/// Loads one plugin file with the config's settings for its name.
///
/// # Errors
///
/// When the file cannot be read or the component is refused.
pub async fn load_file(runtime: &Runtime, config: &Config, path: &Path) -> anyhow::Result<LoadedPlugin> {
    let bytes = std::fs::read(path).with_context(|| format!("reading the plugin {}", path.display()))?;
    runtime
        .load(&bytes, &path.display().to_string(), config)
        .await
        .with_context(|| format!("loading the plugin {}", path.display()))
}

/// What `airlock plugin list` and `GET /v1/plugins` show of a plugin.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
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
    #[schema(value_type = Object)]
    pub manifest: serde_json::Value,
}

impl<'a> From<&'a LoadedPlugin> for PluginSummary<'a> {
    fn from(plugin: &'a LoadedPlugin) -> Self {
        Self {
            name: plugin.name(),
            kind: plugin.world(),
            version: plugin.version(),
            sha256: &plugin.sha256,
            source: &plugin.source,
            imports: &plugin.interfaces.imports,
            manifest: plugin.manifest_json(),
        }
    }
}
