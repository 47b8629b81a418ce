//! `hostile!` turns one function into a complete sanitizer component whose `sanitize`
//! and stream `push` both run it, so each hostile behaviour is tested on both paths.

#[doc(hidden)]
pub use airlock_pdk;

/// Defines and exports a sanitizer named `$name` whose work is `$body(content)`.
#[macro_export]
macro_rules! hostile {
    ($name:literal, $body:expr) => {
        struct Hostile;

        fn run(content: String) -> Result<String, $crate::airlock_pdk::sanitizer::PluginError> {
            let body: fn(String) -> Result<String, $crate::airlock_pdk::sanitizer::PluginError> = $body;
            body(content)
        }

        impl $crate::airlock_pdk::sanitizer::Sanitizer for Hostile {
            type Stream = Hostile;

            fn manifest() -> $crate::airlock_pdk::sanitizer::SanitizerManifest {
                $crate::airlock_pdk::sanitizer::SanitizerManifest {
                    name: $name.into(),
                    version: "0.0.1".into(),
                    description: "hostile test guest".into(),
                    stages: vec![
                        $crate::airlock_pdk::sanitizer::Stage::Input,
                        $crate::airlock_pdk::sanitizer::Stage::Output,
                    ],
                    content_types: vec!["*/*".into()],
                    options: Vec::new(),
                }
            }

            fn sanitize(
                content: String,
                _: $crate::airlock_pdk::sanitizer::SanitizeContext,
            ) -> Result<$crate::airlock_pdk::sanitizer::Verdict, $crate::airlock_pdk::sanitizer::PluginError> {
                let text = run(content.clone())?;
                Ok($crate::airlock_pdk::sanitizer::verdict(&content, text, Vec::new()))
            }

            fn stream(
                _: $crate::airlock_pdk::sanitizer::SanitizeContext,
            ) -> Result<Hostile, $crate::airlock_pdk::sanitizer::PluginError> {
                Ok(Hostile)
            }
        }

        impl $crate::airlock_pdk::sanitizer::SanitizerStream for Hostile {
            fn push(&mut self, chunk: &str) -> Result<String, $crate::airlock_pdk::sanitizer::PluginError> {
                run(chunk.to_owned())
            }

            fn finish(
                self,
            ) -> Result<$crate::airlock_pdk::sanitizer::StreamEnd, $crate::airlock_pdk::sanitizer::PluginError> {
                Ok($crate::airlock_pdk::sanitizer::StreamEnd {
                    tail: String::new(),
                    findings: Vec::new(),
                    blocked: None,
                })
            }
        }

        $crate::airlock_pdk::export_sanitizer!(Hostile);
    };
}
