//! `airlock plugin list` and `airlock plugin inspect`.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::Subcommand;
use serde_json::json;

use crate::config::Config;
use crate::plugins::{PluginSummary, Plugins};
use crate::runtime::{LoadError, Runtime};

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
}

impl PluginCommand {
    pub(super) async fn run(self, config: &Config) -> anyhow::Result<ExitCode> {
        let runtime = Runtime::new(&config.engine, Some(&config.code_cache_dir()))?;
        match self {
            PluginCommand::List { json } => list(&runtime, config, json).await,
            PluginCommand::Inspect { file, json } => inspect(&runtime, config, &file, json).await,
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
