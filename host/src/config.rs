//! The configuration: defaults, then a TOML file, then `AIRLOCK_*` environment
//! variables, then command-line flags — each layer overriding the one before.
//!
//! Nested keys use `__` in environment variables:
//! `AIRLOCK_SANITIZERS__HTML__OPTIONS__MODE=app` sets `sanitizers.html.options.mode`.
//! Every field, with its default, is listed in README.md.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::Context;
use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};

use crate::runtime::{EngineConfig, Limits, PluginSettings};

/// Everything the server and the CLI read from configuration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Address the API listens on. By default `127.0.0.1:8080`.
    pub listen: SocketAddr,
    /// Directory for the server's data (compiled-code cache, later the store).
    /// By default `./airlock-data`.
    pub data_dir: PathBuf,
    /// Largest request body, in KiB. By default 4 096 (4 MiB).
    pub max_body_kib: u32,
    /// Seconds in-flight requests get to finish after a shutdown signal. By default 30.
    pub shutdown_grace_secs: u64,
    /// Engine-wide settings (instance pool).
    pub engine: EngineConfig,
    /// Plugin components to load besides the bundled ones; a plugin with a bundled
    /// plugin's name replaces it.
    pub plugins: Vec<PathBuf>,
    /// Settings per sanitizer, by name (e.g. `[sanitizers.html]`).
    pub sanitizers: BTreeMap<String, SanitizerConfig>,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            data_dir: PathBuf::from("airlock-data"),
            max_body_kib: 4096,
            shutdown_grace_secs: 30,
            engine: EngineConfig::default(),
            plugins: Vec::new(),
            sanitizers: BTreeMap::new(),
        }
    }
}

/// Operator settings for one sanitizer.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SanitizerConfig {
    /// Its resource limits (each field defaults to the sanitizer default).
    pub limits: Limits,
    /// Options passed on every call, e.g. `mode = "app"` for `html`.
    pub options: BTreeMap<String, String>,
}

/// Top-level keys, so unrelated `AIRLOCK_*` variables are not mistaken for settings.
const KEYS: &[&str] = &["listen", "data_dir", "max_body_kib", "shutdown_grace_secs", "engine", "plugins", "sanitizers"];

impl Config {
    /// Loads the layers; `file` must exist when given. `overrides` are flag values.
    ///
    /// # Errors
    ///
    /// When the file cannot be read or a value has the wrong type or an unknown key.
    pub fn load(file: Option<&Path>, overrides: Figment) -> anyhow::Result<Self> {
        let mut figment = Figment::from(Serialized::defaults(Config::default()));
        if let Some(file) = file {
            anyhow::ensure!(file.is_file(), "the config file {} does not exist", file.display());
            figment = figment.merge(Toml::file(file));
        }
        let env = Env::prefixed("AIRLOCK_").split("__").filter(|key| {
            let top = key.as_str().split('.').next().unwrap_or_default();
            KEYS.contains(&top)
        });
        figment.merge(env).merge(overrides).extract().context("reading the configuration")
    }

    /// The settings for the sanitizer called `name`.
    pub fn sanitizer_settings(&self, name: &str) -> PluginSettings {
        let config = self.sanitizers.get(name).cloned().unwrap_or_default();
        PluginSettings { limits: config.limits, options: config.options }
    }

    /// Where compiled plugin code is cached.
    pub fn code_cache_dir(&self) -> PathBuf {
        self.data_dir.join("code-cache")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_then_flags_override_defaults() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("airlock.toml");
        std::fs::write(
            &file,
            "listen = \"127.0.0.1:9000\"\n[sanitizers.html]\noptions = { mode = \"app\" }\nlimits = { memory_mib = 32 }\n",
        )
        .unwrap();
        let config = Config::load(Some(&file), Figment::new().merge(("data_dir", "/tmp/x"))).unwrap();
        assert_eq!(config.listen, SocketAddr::from(([127, 0, 0, 1], 9000)));
        assert_eq!(config.data_dir, PathBuf::from("/tmp/x"));
        let html = config.sanitizer_settings("html");
        assert_eq!(html.options.get("mode").map(String::as_str), Some("app"));
        assert_eq!(html.limits, Limits { memory_mib: 32, ..Limits::default() });
        assert_eq!(config.sanitizer_settings("secrets"), PluginSettings::default());
    }

    #[test]
    fn unknown_key_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("airlock.toml");
        std::fs::write(&file, "lisen = \"127.0.0.1:9000\"\n").unwrap();
        let error = format!("{:#}", Config::load(Some(&file), Figment::new()).unwrap_err());
        assert!(error.contains("unknown field") && error.contains("lisen"), "{error}");
    }

    #[test]
    fn missing_file_is_an_error() {
        let error = Config::load(Some(Path::new("/nonexistent/airlock.toml")), Figment::new()).unwrap_err();
        assert_eq!(error.to_string(), "the config file /nonexistent/airlock.toml does not exist");
    }
}
