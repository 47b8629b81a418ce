//! `airlock plugin test FILE --wire DIR`: recorded vendor responses, replayed byte for
//! byte through the provider.
//!
//! DIR holds transcripts: `NAME.body`, the response body exactly as the vendor sent it
//! (CRLF framing, padding, a missing last newline), and `NAME.json`, what it is:
//!
//! ```json
//! { "wire": "anthropic", "status": 200, "expect": "answer", "source": "where it comes from" }
//! ```
//!
//! `expect` is `answer` (the answer and reasoning must be what [`reference`] reads from
//! the body in the vendor's own format, not what any plugin made of it), `refused` with
//! `reason` (the vendor's code), or `upstream_error` with `reported_status`. Only the
//! transcripts of the provider's wire format are replayed (OpenAI's too for Azure, which
//! streams the same format).

use std::path::Path;

use anyhow::Context;
use serde::Deserialize;

use super::Check;
use super::provider::{Collected, Wire};
use crate::runtime::{CallError, Failure, Reported};
use airlock_fake_upstream::Replay;

mod reference;

/// What a transcript is, from its `NAME.json`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Transcript {
    wire: Wire,
    #[serde(default = "ok")]
    status: u16,
    expect: Expect,
    /// The vendor's code of a refusal.
    reason: Option<String>,
    /// The status an upstream error is reported with.
    reported_status: Option<u16>,
    /// Where the body comes from.
    source: String,
}

fn ok() -> u16 {
    200
}

/// How a transcript must come out.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Expect {
    Answer,
    Refused,
    UpstreamError,
}

/// One check per transcript of `wire` in `dir`: `replay` answers with it while
/// `generate` runs a generation to its end.
///
/// # Errors
///
/// When `dir` cannot be read or a transcript is malformed (that is the author's
/// mistake, not the plugin's).
pub(super) async fn checks(
    dir: &Path,
    wire: Wire,
    replay: &Replay,
    generate: impl AsyncFn(&str) -> Result<Collected, CallError>,
) -> anyhow::Result<Vec<Check>> {
    let mut names: Vec<_> = std::fs::read_dir(dir)
        .with_context(|| format!("reading the transcripts in {}", dir.display()))?
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
        .collect();
    names.sort();
    let mut checks = Vec::new();
    for sidecar in names {
        let transcript: Transcript = serde_json::from_slice(&std::fs::read(&sidecar)?)
            .with_context(|| format!("{} is not a transcript description", sidecar.display()))?;
        // Azure streams OpenAI's format: it replays OpenAI transcripts too.
        if transcript.wire != wire && !(wire == Wire::Azure && transcript.wire == Wire::Openai) {
            continue;
        }
        let body_path = sidecar.with_extension("body");
        let body = std::fs::read(&body_path).with_context(|| format!("reading {}", body_path.display()))?;
        let name = sidecar.file_stem().map(|stem| stem.to_string_lossy().into_owned()).unwrap_or_default();
        replay.set(transcript.status, body.clone());
        let outcome = judge(&transcript, &body, generate("replay-model").await);
        checks.push(Check::new(format!("replays {name} ({})", transcript.source), outcome));
    }
    anyhow::ensure!(!checks.is_empty(), "{} holds no transcript of the {wire:?} wire format", dir.display());
    Ok(checks)
}

fn judge(transcript: &Transcript, body: &[u8], outcome: Result<Collected, CallError>) -> Result<String, String> {
    match (transcript.expect, outcome) {
        (Expect::Answer, Ok(collected)) => {
            let text = std::str::from_utf8(body).map_err(|_| "the transcript is not UTF-8".to_owned())?;
            let expected = reference::read(transcript.wire, text);
            if collected.answer != expected.answer {
                return Err(format!("the answer should be {:?}, got {:?}", expected.answer, collected.answer));
            }
            if collected.reasoning != expected.reasoning {
                return Err(format!("the reasoning should be {:?}, got {:?}", expected.reasoning, collected.reasoning));
            }
            Ok(format!("{} bytes of answer, {} of reasoning", collected.answer.len(), collected.reasoning.len()))
        }
        (Expect::Refused, Err(CallError { failure: Failure::Reported(Reported::Refused { reason, message }), .. }))
            if transcript.reason.as_deref() == Some(reason.as_str()) =>
        {
            Ok(format!("refused ({reason}): {message}"))
        }
        (
            Expect::UpstreamError,
            Err(CallError { failure: Failure::Reported(Reported::Upstream { status, message }), .. }),
        ) if transcript.reported_status == Some(status) => Ok(format!("upstream error {status}: {message}")),
        (expect, Ok(collected)) => Err(format!("expected {expect:?}, got the answer {:?}", collected.answer)),
        (expect, Err(error)) => Err(format!(
            "expected {expect:?} (reason {:?}, status {:?}), got: {error}",
            transcript.reason, transcript.reported_status
        )),
    }
}
