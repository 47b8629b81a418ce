//! The bundled `secrets` sanitizer: redacts credentials in prompts and in output.
//!
//! A thin component wrapper around [`airlock_sanitize_secrets`], which holds the logic.
//! Option: `patterns`, newline-separated `name=REGEX` lines added to the built-in rules.

use airlock_pdk::sanitizer::{
    Finding, PluginError, SanitizeContext, Sanitizer, SanitizerManifest, SanitizerStream, Stage, StreamEnd, Verdict,
    verdict,
};
use airlock_sanitize_secrets::{CustomPattern, Redacted, Redactor, StreamRedactor};

struct Secrets;

impl Sanitizer for Secrets {
    type Stream = SecretsStream;

    fn manifest() -> SanitizerManifest {
        SanitizerManifest {
            name: "secrets".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            description: "Redacts credentials (API keys, tokens, private keys), also across chunk boundaries".into(),
            stages: vec![Stage::Input, Stage::Output],
            content_types: vec!["*/*".into()],
            options: vec![("patterns".into(), "newline-separated `name=REGEX` extra patterns to redact".into())],
        }
    }

    fn sanitize(content: String, context: SanitizeContext) -> Result<Verdict, PluginError> {
        let Redacted { text, findings } = redactor(&context)?.redact(&content);
        Ok(verdict(&content, text, findings.into_iter().map(finding).collect()))
    }

    fn stream(context: SanitizeContext) -> Result<SecretsStream, PluginError> {
        Ok(SecretsStream(redactor(&context)?.into_stream()))
    }
}

/// One text being redacted as it streams.
struct SecretsStream(StreamRedactor);

impl SanitizerStream for SecretsStream {
    fn push(&mut self, chunk: &str) -> Result<String, PluginError> {
        Ok(self.0.push(chunk))
    }

    fn finish(self) -> Result<StreamEnd, PluginError> {
        let Redacted { text, findings } = self.0.finish();
        Ok(StreamEnd { tail: text, findings: findings.into_iter().map(finding).collect(), blocked: None })
    }
}

/// Builds the redactor from the context's options, rejecting unknown ones.
fn redactor(context: &SanitizeContext) -> Result<Redactor, PluginError> {
    let mut custom = Vec::new();
    for (name, value) in &context.options {
        if name != "patterns" {
            return Err(PluginError::InvalidRequest(format!(
                "unknown option `{name}`; the secrets sanitizer accepts `patterns`"
            )));
        }
        for line in value.lines().map(str::trim).filter(|line| !line.is_empty()) {
            let pattern = CustomPattern::parse(line)
                .map_err(|error| PluginError::InvalidRequest(format!("pattern `{line}`: {error}")))?;
            custom.push(pattern);
        }
    }
    Ok(Redactor::new(custom))
}

fn finding(finding: airlock_sanitize_secrets::Finding) -> Finding {
    Finding { rule: finding.rule.to_string(), message: finding.message, offset: finding.offset }
}

airlock_pdk::export_sanitizer!(Secrets);
