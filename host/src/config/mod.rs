//! The configuration: defaults, then a TOML file, then `AIRLOCK_*` environment
//! variables, then command-line flags — each layer overriding the one before.
//!
//! Nested keys use `__` in environment variables:
//! `AIRLOCK_SANITIZERS__HTML__OPTIONS__MODE=app` sets `sanitizers.html.options.mode`,
//! and `_` in a plugin's name stands for `-` (see [`env`]).
//! Every field, with its default, is listed in README.md.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::Context;
use figment::Figment;
use figment::providers::{Format, Serialized, Toml};
use serde::{Deserialize, Serialize};

mod env;
mod gateway;
mod observability;
mod transport;

pub use gateway::{GatewayConfig, ModelAlias, Price};
pub use observability::{MetricsConfig, TelemetryConfig};
pub use transport::{TlsConfig, TransportLimits};

use crate::generation::{ImageLimits, Retention};
use crate::runtime::{
    AllowedHost, DEFAULT_PROVIDER_LIMITS, EgressLimits, EngineConfig, Limits, LimitsPatch, PluginSettings,
    ProviderManifest, ProviderSettings, Settings,
};
use crate::signature::PublicKey;

/// Everything the server and the CLI read from configuration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Address the API listens on. By default `127.0.0.1:8080`.
    pub listen: SocketAddr,
    /// Directory for the server's data (compiled-code cache, later the store).
    /// By default `./airlock-data`.
    pub data_dir: PathBuf,
    /// Largest request body of the routes that carry no images, in KiB. By default
    /// 4 096 (4 MiB).
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
    /// Settings per provider, by name (e.g. `[providers.openai]`).
    pub providers: BTreeMap<String, ProviderConfig>,
    /// Settings shared by every provider's egress gate.
    pub egress: EgressConfig,
    /// Screenshot-to-code generations.
    pub generations: GenerationsConfig,
    /// The operator's token for `/admin/…` (`AIRLOCK_ADMIN_TOKEN`); without one the
    /// admin endpoints do not exist.
    pub admin_token: Option<Secret>,
    /// Which signatures uploaded plugins need.
    pub plugin_signatures: SignaturePolicy,
    /// A directory watched for plugins to activate (`NAME.wasm`, `NAME.wasm.minisig`).
    pub watch_dir: Option<PathBuf>,
    /// The multi-tenant gateway: control plane, anonymous access, model aliases, prices.
    pub gateway: GatewayConfig,
    /// TLS termination on the API listener; none: plain HTTP.
    pub tls: Option<TlsConfig>,
    /// Limits on the API listener's connections and requests.
    pub limits: TransportLimits,
    /// The Prometheus endpoint.
    pub metrics: MetricsConfig,
    /// Trace export.
    pub telemetry: TelemetryConfig,
    /// Host names this server is reached by besides `localhost`, `127.0.0.1`, `[::1]`
    /// and its listen address (e.g. `airlock.example.com` behind a proxy); requests
    /// naming any other `Host` are refused, which stops DNS rebinding.
    pub public_hosts: Vec<String>,
    /// Other web origins the browser may call this server from.
    pub cors: CorsConfig,
}

/// The `[cors]` table.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CorsConfig {
    /// Origins (`https://app.example.com`, `http://localhost:3000`) whose pages may send
    /// state-changing requests without an API key and read the answers. Empty by
    /// default: only the server's own pages may.
    pub allowed_origins: Vec<String>,
}

/// Signatures on uploaded plugins.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SignaturePolicy {
    /// Refuse uploads without a valid signature by a trusted key. Default false (a
    /// signature that is given is checked anyway).
    pub require: bool,
    /// Trusted public keys, in minisign's format (the `RW…` line of a `.pub` file).
    pub trusted_keys: Vec<String>,
}

impl SignaturePolicy {
    /// The trusted keys, parsed.
    ///
    /// # Errors
    ///
    /// Naming the key that does not parse.
    pub fn keys(&self) -> anyhow::Result<Vec<PublicKey>> {
        self.trusted_keys
            .iter()
            .map(|key| PublicKey::parse(key).with_context(|| format!("`plugin_signatures.trusted_keys`: `{key}`")))
            .collect()
    }

    /// Checks an upload's detached signature (minisign text), if any, under this policy.
    ///
    /// # Errors
    ///
    /// Why the upload is refused.
    pub fn check(&self, component: &[u8], signature: Option<&str>) -> anyhow::Result<()> {
        match signature {
            None if self.require => {
                anyhow::bail!("a signature by a trusted key is required (`plugin_signatures.require`)")
            }
            None => Ok(()),
            Some(signature) => {
                crate::signature::verify(component, signature, &self.keys()?)?;
                Ok(())
            }
        }
    }
}

/// A secret setting: never printed.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    /// A secret holding `value`.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The value, for comparing.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("<redacted>")
    }
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
            providers: BTreeMap::new(),
            egress: EgressConfig::default(),
            generations: GenerationsConfig::default(),
            admin_token: None,
            plugin_signatures: SignaturePolicy::default(),
            watch_dir: None,
            gateway: GatewayConfig::default(),
            tls: None,
            limits: TransportLimits::default(),
            metrics: MetricsConfig::default(),
            telemetry: TelemetryConfig::default(),
            public_hosts: Vec::new(),
            cors: CorsConfig::default(),
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

/// Operator settings for one provider.
///
/// Which hosts it may reach: `hosts` when given; otherwise, for a bundled provider, the
/// hosts its manifest lists, and for any other provider none. The host of `base_url`
/// is always added. A host in `base_url`, `hosts` or `local_hosts` that the manifest
/// does not list stops the load (it could never be reached): settings never widen a
/// plugin's manifest (one listing `*`, like `openai-compatible`'s, takes any host).
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ProviderConfig {
    /// The key, e.g. from `AIRLOCK_PROVIDERS__OPENAI__API_KEY`. Never logged.
    pub api_key: Option<String>,
    /// The base URL the provider sends to (e.g. `http://localhost:11434/v1` for Ollama).
    pub base_url: Option<String>,
    /// Hosts it may reach: `api.example.com`, `api.example.com:8443`, or
    /// `http://localhost:11434` for plain http.
    pub hosts: Option<Vec<AllowedHost>>,
    /// Hosts it may reach that resolve to internal addresses (loopback, private, ...),
    /// e.g. a self-hosted model server; `http://` entries are local anyway.
    pub local_hosts: Vec<AllowedHost>,
    /// Hosts the key may be sent to; by default every host it may reach.
    pub credential_hosts: Option<Vec<AllowedHost>>,
    /// Its resource limits (each field defaults to the provider default).
    pub limits: LimitsPatch,
    /// Caps on its outgoing requests.
    pub egress: EgressLimits,
    /// Options of the plugin, each one its manifest lists (e.g. Azure's `api-version`).
    pub options: BTreeMap<String, String>,
}

impl std::fmt::Debug for ProviderConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProviderConfig")
            .field("api_key", &self.api_key.as_ref().map(|_| "<redacted>"))
            .field("base_url", &self.base_url)
            .field("hosts", &self.hosts)
            .field("local_hosts", &self.local_hosts)
            .field("credential_hosts", &self.credential_hosts)
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

/// Settings every provider's egress gate shares.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EgressConfig {
    /// PEM files of CA certificates to trust besides the system's roots (a private CA,
    /// a test CA).
    pub extra_ca_files: Vec<PathBuf>,
}

/// Settings of `POST /v1/generations` (its body cap also holds for the other routes
/// that carry images).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GenerationsConfig {
    /// Largest request body, in MiB (images travel base64-encoded). Default 64.
    pub max_body_mib: u32,
    /// Largest image, in KiB. Default 10 240.
    pub max_image_kib: u32,
    /// Largest image width or height, in pixels. Default 8 192.
    pub max_image_side: u32,
    /// How long generation records (code, models, usage; never images) are kept.
    pub retention: Retention,
}

impl Default for GenerationsConfig {
    fn default() -> Self {
        let images = ImageLimits::default();
        Self {
            max_body_mib: 64,
            max_image_kib: u32::try_from(images.max_bytes >> 10).unwrap_or(u32::MAX),
            max_image_side: images.max_side,
            retention: Retention::default(),
        }
    }
}

impl GenerationsConfig {
    /// The caps on one screenshot.
    pub fn image_limits(&self) -> ImageLimits {
        ImageLimits {
            max_bytes: usize::try_from(u64::from(self.max_image_kib) << 10).unwrap_or(usize::MAX),
            max_side: self.max_image_side,
            ..ImageLimits::default()
        }
    }
}

/// Top-level keys, so unrelated `AIRLOCK_*` variables are not mistaken for settings.
const KEYS: &[&str] = &[
    "listen",
    "data_dir",
    "max_body_kib",
    "shutdown_grace_secs",
    "engine",
    "plugins",
    "sanitizers",
    "providers",
    "egress",
    "generations",
    "admin_token",
    "plugin_signatures",
    "watch_dir",
    "gateway",
    "tls",
    "limits",
    "metrics",
    "telemetry",
    "public_hosts",
    "cors",
];

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
        env::check_names(std::env::vars_os().filter_map(|(name, _)| name.into_string().ok()))?;
        figment.merge(env::layer()).merge(overrides).extract().context("reading the configuration")
    }

    /// The settings for the sanitizer called `name`.
    pub fn sanitizer_settings(&self, name: &str) -> PluginSettings {
        let config = self.sanitizers.get(name).cloned().unwrap_or_default();
        PluginSettings { limits: config.limits, options: config.options }
    }

    /// The settings for a provider with `manifest`; see [`ProviderConfig`] for the
    /// defaults.
    ///
    /// # Errors
    ///
    /// When `base_url` is not an http(s) URL with a host, or a configured host is one
    /// the manifest does not list.
    pub fn provider_settings(&self, manifest: &ProviderManifest, bundled: bool) -> anyhow::Result<ProviderSettings> {
        let config = self.providers.get(&manifest.name).cloned().unwrap_or_default();
        // Local entries first: where one names the same host and port as another, the
        // local one decides.
        let name = &manifest.name;
        let unlisted = |setting: &str, host: &AllowedHost| -> anyhow::Result<()> {
            anyhow::ensure!(
                host.listed_in(&manifest.hosts),
                "`providers.{name}.{setting}` names the host `{}`, which the `{name}` plugin may never reach: \
                 its manifest lists only {}, and settings cannot widen a plugin's manifest. For a proxy or \
                 another server that speaks the same API, configure `openai-compatible` (it may reach any host \
                 the operator names) or install a plugin whose manifest lists that host",
                host.host(),
                manifest.hosts.join(", ")
            );
            Ok(())
        };
        let mut hosts: Vec<AllowedHost> = config.local_hosts.into_iter().map(AllowedHost::into_local).collect();
        for host in &hosts {
            unlisted("local_hosts", host)?;
        }
        match config.hosts {
            Some(configured) => {
                for host in &configured {
                    unlisted("hosts", host)?;
                }
                hosts.extend(configured);
            }
            None if bundled => {
                hosts.extend(manifest.hosts.iter().filter(|host| *host != "*").filter_map(|h| h.parse().ok()));
            }
            None => {}
        }
        if let Some(base_url) = &config.base_url {
            let host =
                base_url_host(base_url).with_context(|| format!("`providers.{name}.base_url` = `{base_url}`"))?;
            unlisted("base_url", &host)?;
            hosts.push(host);
        }
        let credential_hosts = config.credential_hosts.unwrap_or_else(|| hosts.clone());
        let accepted: Vec<&str> = manifest.options.keys().map(String::as_str).collect();
        let options = crate::runtime::in_manifest_spelling(config.options, &accepted);
        if let Some(option) = options.keys().find(|option| !accepted.contains(&option.as_str())) {
            let accepts = if accepted.is_empty() { "none".to_owned() } else { accepted.join(", ") };
            let closest = accepted.iter().min_by_key(|known| strsim::levenshtein(known, option));
            let hint = closest.map(|known| format!("; did you mean `{known}`?")).unwrap_or_default();
            anyhow::bail!(
                "`providers.{name}.options.{option}` is not an option of the `{name}` plugin (it accepts: {accepts}){hint}"
            );
        }
        Ok(ProviderSettings {
            limits: Some(config.limits.over(DEFAULT_PROVIDER_LIMITS)),
            base_url: config.base_url,
            options: options.into_iter().collect(),
            hosts,
            api_key: config.api_key,
            credential_hosts,
            egress: config.egress,
        })
    }

    /// The hosts previews may load scripts, styles and fonts from: the `html`
    /// sanitizer's `script-hosts` option when the operator set it, else its default.
    pub fn preview_hosts(&self) -> Vec<String> {
        let configured = self.sanitizers.get("html").and_then(|html| {
            // As the plugin reads it: `script_hosts` (from the environment) is `script-hosts`.
            crate::runtime::in_manifest_spelling(html.options.clone(), &["script-hosts"]).remove("script-hosts")
        });
        match configured {
            Some(hosts) => hosts.split(',').map(str::trim).filter(|h| !h.is_empty()).map(str::to_owned).collect(),
            None => airlock_sanitize_html::DEFAULT_SCRIPT_HOSTS.iter().map(|h| (*h).to_owned()).collect(),
        }
    }

    /// Where compiled plugin code is cached.
    pub fn code_cache_dir(&self) -> PathBuf {
        self.data_dir.join("code-cache")
    }
}

impl Settings for &Config {
    fn sanitizer(&self, name: &str) -> PluginSettings {
        self.sanitizer_settings(name)
    }

    fn provider(&self, manifest: &ProviderManifest, bundled: bool) -> anyhow::Result<ProviderSettings> {
        self.provider_settings(manifest, bundled)
    }
}

/// The allowed-host entry for a base URL's scheme, host and port.
fn base_url_host(base_url: &str) -> anyhow::Result<AllowedHost> {
    let (scheme, rest) = base_url.split_once("://").context("it is not an absolute URL")?;
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    anyhow::ensure!(matches!(scheme, "http" | "https"), "only http and https base URLs are supported");
    anyhow::ensure!(!authority.is_empty() && !authority.contains('@'), "it names no host (or has credentials in it)");
    Ok(format!("{scheme}://{authority}").parse()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn preview_hosts_follow_the_html_option_in_either_spelling() {
        let mut config = Config::default();
        let html = config.sanitizers.entry("html".into()).or_default();
        html.options.insert("script_hosts".into(), "cdn.example.com, fonts.example.com".into());
        assert_eq!(config.preview_hosts(), ["cdn.example.com", "fonts.example.com"]);
    }

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
