//! The bundled `prompt-guard` input sanitizer: reports prompt injection, jailbreak
//! markers, hidden text, base64 blobs and oversize prompts before a prompt reaches an LLM.
//!
//! A thin component wrapper around [`airlock_prompt_guard`], which holds the logic.
//! The text is never changed: with `action` = `flag` (default) a prompt with findings
//! comes back as `rewritten` with the same text and the findings (the only verdict that
//! carries findings), one without as `pass`; with `action` = `block` a prompt with
//! findings is `blocked`, the reason naming the rules, never the text.
//! The other options are in [`airlock_prompt_guard::OPTIONS`].

use airlock_pdk::sanitizer::{
    Finding, PluginError, Rewrite, SanitizeContext, Sanitizer, SanitizerManifest, SanitizerStream, Stage, StreamEnd,
    Verdict,
};
use airlock_prompt_guard::{Guard, OPTIONS, Options, Outcome, StreamGuard};

struct PromptGuard;

impl Sanitizer for PromptGuard {
    type Stream = PromptGuardStream;

    fn manifest() -> SanitizerManifest {
        SanitizerManifest {
            name: "prompt-guard".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            description:
                "Flags or blocks prompt injection, jailbreak markers, hidden text, base64 blobs and oversize prompts"
                    .into(),
            stages: vec![Stage::Input],
            content_types: vec!["text/plain".into(), "*/*".into()],
            options: OPTIONS.iter().map(|(name, help)| ((*name).to_owned(), (*help).to_owned())).collect(),
        }
    }

    fn sanitize(content: String, context: SanitizeContext) -> Result<Verdict, PluginError> {
        Ok(match Guard::new().check(&content, &options(&context)?) {
            Outcome::Pass => Verdict::Pass,
            Outcome::Flagged(findings) => {
                Verdict::Rewritten(Rewrite { text: content, findings: findings.into_iter().map(finding).collect() })
            }
            Outcome::Blocked { reason, .. } => Verdict::Blocked(reason),
        })
    }

    fn stream(context: SanitizeContext) -> Result<PromptGuardStream, PluginError> {
        Ok(PromptGuardStream(Guard::new().into_stream(options(&context)?)))
    }
}

/// One prompt checked as it arrives; the guard decides at `finish`.
struct PromptGuardStream(StreamGuard);

impl SanitizerStream for PromptGuardStream {
    fn push(&mut self, chunk: &str) -> Result<String, PluginError> {
        Ok(self.0.push(chunk))
    }

    fn finish(self) -> Result<StreamEnd, PluginError> {
        let end = self.0.finish();
        Ok(StreamEnd {
            tail: end.tail,
            findings: end.findings.into_iter().map(finding).collect(),
            blocked: end.blocked,
        })
    }
}

/// The guard's options from the context, rejecting unknown ones and bad values.
fn options(context: &SanitizeContext) -> Result<Options, PluginError> {
    Options::from_pairs(context.options.iter().map(|(name, value)| (name.as_str(), value.as_str())))
        .map_err(|error| PluginError::InvalidRequest(error.to_string()))
}

fn finding(finding: airlock_prompt_guard::Finding) -> Finding {
    Finding { rule: finding.rule.id().to_owned(), message: finding.message, offset: Some(finding.offset as u64) }
}

airlock_pdk::export_sanitizer!(PromptGuard);
