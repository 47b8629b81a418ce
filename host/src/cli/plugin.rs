//! `airlock plugin …`: list and inspect components locally; validate, sign and verify
//! them; upload, activate and roll back on a running server (see `registry.rs`).

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::Subcommand;
use serde_json::json;

use crate::config::Config;
use crate::plugins::{PluginSummary, Plugins};
use crate::runtime::{LoadError, Runtime};

/// `FILE.minisig`.
pub(super) fn minisig_path(file: &std::path::Path) -> PathBuf {
    let mut path = file.as_os_str().to_owned();
    path.push(".minisig");
    PathBuf::from(path)
}

#[derive(Debug, Subcommand)]
pub(super) enum PluginCommand {
    /// List every plugin the server would load: name, kind, version, sha256, imports.
    List {
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Show a component's world, imports, exports, manifest and sha256; exits non-zero
    /// when Airlock would refuse it.
    Inspect {
        /// The component file (`.wasm`).
        file: PathBuf,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Create a plugin crate with a working example.
    New {
        /// `provider` or `sanitizer`.
        #[arg(value_enum)]
        kind: super::scaffold::Kind,
        /// The plugin's name (a-z, 0-9, -).
        name: String,
        /// Where to create it; by default ./NAME.
        #[arg(long)]
        dir: Option<PathBuf>,
        /// Depend on the `airlock-pdk` crate in DIR instead of the published one of this
        /// host's WIT version (for work inside Airlock's repository).
        #[arg(long, value_name = "DIR")]
        pdk_path: Option<PathBuf>,
    },
    /// Build the plugin crate in DIR to a component (wasm32-wasip2, release).
    Build {
        /// The crate's directory.
        #[arg(default_value = ".")]
        dir: PathBuf,
    },
    /// Run the conformance kit: a sanitizer against samples (kept, neutralised,
    /// idempotent, streamed = whole, limits); a provider against a fake upstream of its
    /// vendor's wire format (streaming, key injection, error mapping, cancellation).
    Test {
        /// The component file.
        file: PathBuf,
        /// For a provider: the wire format to fake (openai, anthropic, gemini, azure; by
        /// default guessed from its hosts), or a directory of recorded transcripts to
        /// replay besides (NAME.body and NAME.json each).
        #[arg(long, value_name = "FORMAT|DIR")]
        wire: Option<crate::conformance::WireChoice>,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Check a component as an upload would be checked (world, imports, linking,
    /// self-test), without a server.
    Validate {
        /// The component file.
        file: PathBuf,
    },
    /// Make a signing key pair: PREFIX.key (secret, keep offline) and PREFIX.pub.
    Keygen {
        /// Where to write the two files.
        prefix: PathBuf,
    },
    /// Sign a component: writes FILE.minisig (minisign's format).
    Sign {
        /// The component file.
        file: PathBuf,
        /// The secret key from `airlock plugin keygen`.
        #[arg(long)]
        key: PathBuf,
        /// The trusted comment recorded in the signature.
        #[arg(long, default_value = "airlock plugin")]
        comment: String,
    },
    /// Verify FILE.minisig (or --signature) against a public key.
    Verify {
        /// The component file.
        file: PathBuf,
        /// The public key file (minisign's format).
        #[arg(long)]
        pubkey: PathBuf,
        /// The signature; by default FILE.minisig.
        #[arg(long)]
        signature: Option<PathBuf>,
    },
    /// Upload a component to a running server (staged; `--activate` to put it in service).
    Upload {
        /// The component file.
        file: PathBuf,
        /// Its signature; by default FILE.minisig when it exists.
        #[arg(long)]
        signature: Option<PathBuf>,
        /// Activate it at once.
        #[arg(long)]
        activate: bool,
        #[command(flatten)]
        server: Remote,
    },
    /// Put a component (by sha256) in service on a running server.
    Activate {
        /// Its sha256.
        sha256: String,
        #[command(flatten)]
        server: Remote,
    },
    /// Return a plugin to the version its last activation replaced.
    Rollback {
        /// The plugin's name.
        name: String,
        #[command(flatten)]
        server: Remote,
    },
    /// Every component a running server knows, and which are active.
    Show {
        #[command(flatten)]
        server: Remote,
    },
}

/// Where the server's admin API is.
#[derive(Debug, clap::Args)]
pub(super) struct Remote {
    /// The server's base URL.
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    pub(super) server: String,
    /// The operator's admin token.
    #[arg(long, env = "AIRLOCK_ADMIN_TOKEN", hide_env_values = true)]
    pub(super) token: String,
}

impl PluginCommand {
    pub(super) async fn run(self, config: &Config) -> anyhow::Result<ExitCode> {
        let runtime = || crate::plugins::runtime(config);
        match self {
            PluginCommand::List { json } => list(&runtime()?, config, json).await,
            PluginCommand::Inspect { file, json } => inspect(&runtime()?, config, &file, json).await,
            PluginCommand::New { kind, name, dir, pdk_path } => {
                super::scaffold::new(kind, &name, dir.as_deref(), pdk_path.as_deref())
            }
            PluginCommand::Build { dir } => super::scaffold::build(&dir),
            PluginCommand::Test { file, wire, json } => super::registry::conformance(config, &file, wire, json).await,
            PluginCommand::Validate { file } => super::registry::validate(&runtime()?, config, &file).await,
            PluginCommand::Keygen { prefix } => super::registry::keygen(&prefix),
            PluginCommand::Sign { file, key, comment } => super::registry::sign(&file, &key, &comment),
            PluginCommand::Verify { file, pubkey, signature } => {
                super::registry::verify(&file, &pubkey, signature.as_deref())
            }
            PluginCommand::Upload { file, signature, activate, server } => {
                let signature = signature.or_else(|| Some(minisig_path(&file)).filter(|path| path.is_file()));
                server.upload(&file, signature.as_deref(), activate).await
            }
            PluginCommand::Activate { sha256, server } => {
                server.post(&format!("/admin/plugins/{sha256}/activate")).await
            }
            PluginCommand::Rollback { name, server } => server.post(&format!("/admin/plugins/{name}/rollback")).await,
            PluginCommand::Show { server } => server.get("/admin/plugins").await,
        }
    }
}

async fn list(runtime: &Runtime, config: &Config, json: bool) -> anyhow::Result<ExitCode> {
    let plugins = Plugins::load(runtime, config).await?;
    let summaries: Vec<PluginSummary<'_>> = plugins.iter().map(PluginSummary::from).collect();
    if json {
        println!("{}", serde_json::to_string_pretty(&json!({ "plugins": summaries }))?);
    } else {
        println!("{:<12} {:<10} {:<8} {:<16} IMPORTS", "NAME", "KIND", "VERSION", "SHA256");
        for plugin in &summaries {
            let imports = if plugin.imports.is_empty() { "(none)".to_owned() } else { plugin.imports.join(", ") };
            println!(
                "{:<12} {:<10} {:<8} {:<16} {imports}",
                plugin.name,
                plugin.kind,
                plugin.version,
                &plugin.sha256[..16]
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

async fn inspect(runtime: &Runtime, config: &Config, file: &PathBuf, json: bool) -> anyhow::Result<ExitCode> {
    let bytes = std::fs::read(file).with_context(|| format!("reading {}", file.display()))?;
    let checked = match runtime.check(&bytes) {
        Ok(checked) => checked,
        Err(error) => return refused(file, &error, json),
    };
    let source = file.display().to_string();
    let manifest = match runtime.load(&bytes, &source, config).await {
        Ok(plugin) => plugin.manifest_json(),
        Err(error) => return refused(file, &error, json),
    };
    let imports_text = if checked.interfaces.imports.is_empty() {
        "(none)".to_owned()
    } else {
        checked.interfaces.imports.join("\n  ")
    };
    if json {
        let report = json!({
            "file": source, "accepted": true, "world": checked.world, "sha256": checked.sha256,
            "imports": checked.interfaces.imports, "exports": checked.interfaces.exports, "manifest": manifest,
        });
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        println!("file:     {source}");
        println!("world:    {}", checked.world);
        println!("sha256:   {}", checked.sha256);
        println!("imports:\n  {imports_text}");
        println!("exports:\n  {}", checked.interfaces.exports.join("\n  "));
        println!("manifest: {}", serde_json::to_string_pretty(&manifest)?);
    }
    Ok(ExitCode::SUCCESS)
}

/// Reports a refused component and exits with status 1.
fn refused(file: &std::path::Path, error: &LoadError, json: bool) -> anyhow::Result<ExitCode> {
    if json {
        let report = json!({ "file": file.display().to_string(), "accepted": false, "error": error.to_string() });
        println!("{}", serde_json::to_string_pretty(&report)?);
    }
    eprintln!("airlock: {} is refused: {error}", file.display());
    Ok(ExitCode::FAILURE)
}
