//! `html` version 2.0.0: the bundled sanitizer's logic, with [`MARK`] appended to every
//! whole-text result, so a test can tell which version served a response.

use airlock_pdk::sanitizer::{
    Finding, PluginError, Rewrite, SanitizeContext, Sanitizer, SanitizerManifest, SanitizerStream, Stage, StreamEnd,
    Verdict,
};
use airlock_sanitize_html::{Policy, StreamSanitizer};

/// What version 2 adds to its output.
const MARK: &str = "<!-- html v2 -->";

struct HtmlV2;

impl Sanitizer for HtmlV2 {
    type Stream = Stream;

    fn manifest() -> SanitizerManifest {
        SanitizerManifest {
            name: "html".into(),
            version: "2.0.0".into(),
            description: "html, version 2 (marks its output)".into(),
            stages: vec![Stage::Output],
            content_types: vec!["text/html".into()],
            options: vec![("mode".into(), "static or app".into())],
        }
    }

    fn sanitize(content: String, _: SanitizeContext) -> Result<Verdict, PluginError> {
        let sanitized = airlock_sanitize_html::sanitize(&content, &Policy::default());
        Ok(Verdict::Rewritten(Rewrite { text: sanitized.text + MARK, findings: findings(sanitized.findings) }))
    }

    fn stream(_: SanitizeContext) -> Result<Stream, PluginError> {
        Ok(Stream(StreamSanitizer::new(&Policy::default())))
    }
}

struct Stream(StreamSanitizer);

impl SanitizerStream for Stream {
    fn push(&mut self, chunk: &str) -> Result<String, PluginError> {
        Ok(self.0.push(chunk))
    }

    fn finish(self) -> Result<StreamEnd, PluginError> {
        let end = self.0.finish();
        Ok(StreamEnd { tail: end.text + MARK, findings: findings(end.findings), blocked: end.blocked })
    }
}

fn findings(found: Vec<airlock_sanitize_html::Finding>) -> Vec<Finding> {
    found.into_iter().map(|f| Finding { rule: f.rule.into(), message: f.message, offset: f.offset }).collect()
}

airlock_pdk::export_sanitizer!(HtmlV2);
