//! `airlock sanitize`: one sanitizer over standard input.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, ValueEnum};
use serde_json::json;

use crate::config::Config;
use crate::plugins::{Plugins, load_file};
use crate::runtime::{SanitizeRequest, Stage, Verdict};

/// Exit status when the sanitizer blocks the text.
const EXIT_BLOCKED: u8 = 3;

#[derive(Debug, Args)]
pub(super) struct SanitizeArgs {
    /// A loaded plugin's name (e.g. `html`, `secrets`) or a component file.
    #[arg(long, value_name = "NAME|FILE")]
    plugin: String,
    /// Shorthand for `--option mode=MODE` (the html sanitizer's `static` or `app`).
    #[arg(long)]
    mode: Option<String>,
    /// A plugin option as `NAME=VALUE`; repeatable.
    #[arg(long = "option", value_name = "NAME=VALUE", value_parser = parse_option)]
    options: Vec<(String, String)>,
    /// Where in the pipeline the text comes from.
    #[arg(long, value_enum, default_value_t = StageArg::Output)]
    stage: StageArg,
    /// The text's media type; by default the plugin's first declared type.
    #[arg(long)]
    content_type: Option<String>,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum StageArg {
    Input,
    Output,
}

fn parse_option(raw: &str) -> Result<(String, String), String> {
    raw.split_once('=')
        .map(|(name, value)| (name.to_owned(), value.to_owned()))
        .ok_or_else(|| format!("`{raw}` is not NAME=VALUE"))
}

impl SanitizeArgs {
    pub(super) async fn run(self, config: &Config) -> anyhow::Result<ExitCode> {
        let runtime = crate::plugins::runtime(config)?;
        let plugin = if Path::new(&self.plugin).is_file() {
            load_file(&runtime, config, Path::new(&self.plugin)).await?
        } else {
            let plugins = Plugins::load(&runtime, config).await?;
            let known: Vec<String> =
                plugins.iter().filter(|p| p.sanitizer().is_some()).map(|p| p.name().to_owned()).collect();
            plugins.get(&self.plugin).cloned().with_context(|| {
                format!("no plugin called `{}` (loaded: {}; or pass a .wasm file)", self.plugin, known.join(", "))
            })?
        };
        let mut input = String::new();
        std::io::stdin().read_to_string(&mut input).context("reading standard input as UTF-8 text")?;

        let mut options: BTreeMap<String, String> = self.options.into_iter().collect();
        if let Some(mode) = self.mode {
            options.insert("mode".into(), mode);
        }
        let sanitizer =
            plugin.sanitizer().with_context(|| format!("`{}` is a provider, not a sanitizer", plugin.name()))?;
        let manifest = sanitizer.manifest();
        let content_type = self
            .content_type
            .or_else(|| manifest.content_types.first().cloned())
            .unwrap_or_else(|| "text/plain".into());
        let stage = match self.stage {
            StageArg::Input => Stage::Input,
            StageArg::Output => Stage::Output,
        };
        let request = SanitizeRequest { stage, content_type, options };
        let verdict = sanitizer.sanitize(&input, &request).await?;

        let (text, report, code) = match verdict {
            Verdict::Pass => (Some(input), json!({ "verdict": "pass", "findings": [] }), ExitCode::SUCCESS),
            Verdict::Rewritten { text, findings } => {
                (Some(text), json!({ "verdict": "rewritten", "findings": findings }), ExitCode::SUCCESS)
            }
            Verdict::Blocked(reason) => {
                (None, json!({ "verdict": "blocked", "reason": reason }), ExitCode::from(EXIT_BLOCKED))
            }
        };
        if let Some(text) = text {
            std::io::stdout().write_all(text.as_bytes())?;
        }
        let mut report = report;
        report["plugin"] = json!(format!("{}@{}", manifest.name, manifest.version));
        eprintln!("{report}");
        Ok(code)
    }
}
