//! Passes every text: the baseline for the sandbox's per-call cost.

use airlock_pdk::sanitizer::{
    PluginError, SanitizeContext, Sanitizer, SanitizerManifest, SanitizerStream, Stage, StreamEnd, Verdict,
};

struct Noop;

impl Sanitizer for Noop {
    type Stream = Noop;

    fn manifest() -> SanitizerManifest {
        SanitizerManifest {
            name: "noop".into(),
            version: "0.1.0".into(),
            description: "passes everything".into(),
            stages: vec![Stage::Input, Stage::Output],
            content_types: vec!["*/*".into()],
            options: Vec::new(),
        }
    }

    fn sanitize(_: String, _: SanitizeContext) -> Result<Verdict, PluginError> {
        Ok(Verdict::Pass)
    }

    fn stream(_: SanitizeContext) -> Result<Noop, PluginError> {
        Ok(Noop)
    }
}

impl SanitizerStream for Noop {
    fn push(&mut self, chunk: &str) -> Result<String, PluginError> {
        Ok(chunk.to_owned())
    }

    fn finish(self) -> Result<StreamEnd, PluginError> {
        Ok(StreamEnd { tail: String::new(), findings: Vec::new(), blocked: None })
    }
}

airlock_pdk::export_sanitizer!(Noop);
