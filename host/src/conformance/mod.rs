//! The conformance kit behind `airlock plugin test FILE`: runs a plugin against what
//! the host expects of its kind and reports each check, readable or as JSON.
//!
//! - `sanitizer.rs` — benign text kept, known-bad HTML neutralised, idempotence,
//!   streamed output equal to whole-text output at several chunk sizes, a large input
//!   within limits;
//! - `provider.rs` — against a built-in fake upstream speaking the vendor's wire format
//!   over TLS: a streamed answer, the key added by the host, 401/429/500/malformed
//!   mapped to errors, cancellation.

mod provider;
mod replay;
mod sanitizer;

use serde::Serialize;

pub use provider::Wire;

/// What `--wire` names: a wire format to fake, or a directory of transcripts to replay
/// (in the format guessed from the provider's hosts).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WireChoice {
    /// Fake this vendor's format.
    Format(Wire),
    /// Also replay the transcripts in this directory.
    Transcripts(std::path::PathBuf),
}

impl std::str::FromStr for WireChoice {
    type Err = String;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        let path = std::path::Path::new(value);
        if path.is_dir() {
            return Ok(WireChoice::Transcripts(path.to_path_buf()));
        }
        <Wire as clap::ValueEnum>::from_str(value, true).map(WireChoice::Format).map_err(|_| {
            format!(
                "`{value}` is neither a wire format (openai, anthropic, gemini, azure) nor a directory of transcripts"
            )
        })
    }
}

/// One check and how it went.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Check {
    /// What was checked.
    pub name: String,
    /// Whether it passed.
    pub passed: bool,
    /// What was seen.
    pub detail: String,
}

impl Check {
    fn new(name: impl Into<String>, outcome: Result<String, String>) -> Self {
        let name = name.into();
        match outcome {
            Ok(detail) => Self { name, passed: true, detail },
            Err(detail) => Self { name, passed: false, detail },
        }
    }
}

/// Everything a run found.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// `name@version`.
    pub plugin: String,
    /// `sanitizer` or `provider`.
    pub kind: &'static str,
    /// The checks, in order.
    pub checks: Vec<Check>,
}

impl Report {
    /// Whether every check passed.
    pub fn passed(&self) -> bool {
        self.checks.iter().all(|check| check.passed)
    }

    /// The report for people.
    pub fn text(&self) -> String {
        let mut text = format!("{} ({})\n", self.plugin, self.kind);
        for check in &self.checks {
            let mark = if check.passed { "PASS" } else { "FAIL" };
            text.push_str(&format!("  {mark}  {}: {}\n", check.name, check.detail));
        }
        let failed = self.checks.iter().filter(|check| !check.passed).count();
        text.push_str(&if failed == 0 {
            format!("all {} checks passed\n", self.checks.len())
        } else {
            format!("{failed} of {} checks failed\n", self.checks.len())
        });
        text
    }
}

/// Runs the kit on a component.
///
/// # Errors
///
/// When the component cannot be loaded at all (the report would have nothing to say).
pub async fn run(
    bytes: &[u8],
    wire: Option<WireChoice>,
    engine: &crate::runtime::EngineConfig,
) -> anyhow::Result<Report> {
    let runtime = crate::runtime::Runtime::new(engine, None)?;
    let checked = runtime.check(bytes)?;
    match checked.world {
        crate::runtime::World::Sanitizer => sanitizer::run(&runtime, bytes).await,
        crate::runtime::World::Provider => {
            let (format, transcripts) = match wire {
                Some(WireChoice::Format(format)) => (Some(format), None),
                Some(WireChoice::Transcripts(dir)) => (None, Some(dir)),
                None => (None, None),
            };
            provider::run(engine, bytes, format, transcripts.as_deref()).await
        }
    }
}
