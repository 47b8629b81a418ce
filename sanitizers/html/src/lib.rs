//! The bundled `html` output sanitizer: neutralises script execution in generated pages.
//!
//! A thin component wrapper around [`airlock_sanitize_html`], which holds the logic
//! (so it is tested and benchmarked natively too): the streaming first line, then the
//! second line on the whole page, which blocks it (fails closed) if a script-capable
//! construct survived the first.
//! Options: `mode` (`static` or `app`) and `script-hosts` (comma-separated hosts from
//! which `<script src>` is kept; replaces the default CDN list).

use airlock_pdk::sanitizer::{
    Finding, PluginError, SanitizeContext, Sanitizer, SanitizerManifest, SanitizerStream, Stage, StreamEnd, Verdict,
    verdict,
};
use airlock_sanitize_html::{DEFAULT_SCRIPT_HOSTS, Mode, Policy, Sanitized, StreamSanitizer};

struct Html;

impl Sanitizer for Html {
    type Stream = HtmlStream;

    fn manifest() -> SanitizerManifest {
        SanitizerManifest {
            name: "html".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            description: "Removes script execution vectors from generated HTML pages".into(),
            stages: vec![Stage::Output],
            content_types: vec!["text/html".into()],
            options: vec![
                (
                    "mode".into(),
                    "`static` (default) removes inline scripts; `app` keeps them for React/Vue output".into(),
                ),
                (
                    "script-hosts".into(),
                    format!(
                        "comma-separated hosts from which <script src> is kept (default: {})",
                        DEFAULT_SCRIPT_HOSTS.join(", ")
                    ),
                ),
            ],
        }
    }

    fn sanitize(content: String, context: SanitizeContext) -> Result<Verdict, PluginError> {
        let Sanitized { text, findings, blocked } = airlock_sanitize_html::sanitize(&content, &policy(&context)?);
        Ok(match blocked {
            Some(reason) => Verdict::Blocked(reason),
            None => verdict(&content, text, findings.into_iter().map(finding).collect()),
        })
    }

    fn stream(context: SanitizeContext) -> Result<HtmlStream, PluginError> {
        Ok(HtmlStream(StreamSanitizer::new(&policy(&context)?)))
    }
}

/// One page being sanitized as it streams.
struct HtmlStream(StreamSanitizer);

impl SanitizerStream for HtmlStream {
    fn push(&mut self, chunk: &str) -> Result<String, PluginError> {
        Ok(self.0.push(chunk))
    }

    fn finish(self) -> Result<StreamEnd, PluginError> {
        let Sanitized { text, findings, blocked } = self.0.finish();
        Ok(StreamEnd { tail: text, findings: findings.into_iter().map(finding).collect(), blocked })
    }
}

/// Reads the policy from the context's options, rejecting unknown ones.
fn policy(context: &SanitizeContext) -> Result<Policy, PluginError> {
    let mut policy = Policy::default();
    for (name, value) in &context.options {
        match name.as_str() {
            "mode" => {
                policy.mode = value.parse::<Mode>().map_err(|error| PluginError::InvalidRequest(error.to_string()))?;
            }
            "script-hosts" => {
                policy.script_hosts =
                    value.split(',').map(str::trim).filter(|host| !host.is_empty()).map(str::to_owned).collect();
            }
            other => {
                return Err(PluginError::InvalidRequest(format!(
                    "unknown option `{other}`; the html sanitizer accepts `mode` and `script-hosts`"
                )));
            }
        }
    }
    Ok(policy)
}

fn finding(finding: airlock_sanitize_html::Finding) -> Finding {
    Finding { rule: finding.rule.into(), message: finding.message, offset: finding.offset }
}

airlock_pdk::export_sanitizer!(Html);
