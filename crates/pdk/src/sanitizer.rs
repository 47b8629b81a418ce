//! The `sanitizer` world: a sanitizer imports nothing and exports `sanitizer-api`.

use std::cell::RefCell;
use std::marker::PhantomData;

/// Bindings generated from `wit/plugin.wit` for the `sanitizer` world.
#[allow(missing_docs, clippy::all)]
pub mod bindings {
    wit_bindgen::generate!({
        path: "wit",
        world: "sanitizer",
        pub_export_macro: true,
        export_macro_name: "export_sanitizer_world",
        default_bindings_module: "airlock_pdk::sanitizer::bindings",
    });
}

pub use bindings::exports::airlock::plugin::sanitizer_api::{
    Finding, PluginError, Rewrite, SanitizeContext, SanitizerManifest, Stage, StreamEnd, Verdict,
};
use bindings::exports::airlock::plugin::sanitizer_api::{Guest, GuestSession};

/// A sanitizer, as one trait: what [`export_sanitizer!`](crate::export_sanitizer) turns into the component's exports.
pub trait Sanitizer: 'static {
    /// The state of one streaming session.
    type Stream: SanitizerStream;

    /// Describes the sanitizer (name, version, stages, content types, options).
    fn manifest() -> SanitizerManifest;

    /// Sanitizes a whole text.
    ///
    /// # Errors
    ///
    /// `PluginError::InvalidRequest` for options the sanitizer does not accept.
    fn sanitize(content: String, context: SanitizeContext) -> Result<Verdict, PluginError>;

    /// Starts a streaming session.
    ///
    /// # Errors
    ///
    /// As [`Sanitizer::sanitize`]; the host sees the error on the first `push`.
    fn stream(context: SanitizeContext) -> Result<Self::Stream, PluginError>;
}

/// One streaming session: text in, final text out, with findings at the end.
pub trait SanitizerStream: 'static {
    /// Feeds a chunk; returns the sanitized text that is final so far.
    ///
    /// # Errors
    ///
    /// Whatever the sanitizer reports; the host then ends the stream.
    fn push(&mut self, chunk: &str) -> Result<String, PluginError>;

    /// Ends the stream; returns the held-back tail and every finding.
    ///
    /// # Errors
    ///
    /// Whatever the sanitizer reports.
    fn finish(self) -> Result<StreamEnd, PluginError>;
}

/// [`Verdict::Pass`] when nothing changed, else [`Verdict::Rewritten`].
pub fn verdict(original: &str, text: String, findings: Vec<Finding>) -> Verdict {
    if findings.is_empty() && text == original { Verdict::Pass } else { Verdict::Rewritten(Rewrite { text, findings }) }
}

/// Glue between [`Sanitizer`] and the generated `Guest` trait; used by [`export_sanitizer!`].
#[doc(hidden)]
pub struct Adapter<S>(PhantomData<S>);

impl<S: Sanitizer> Guest for Adapter<S> {
    type Session = Session<S>;

    fn manifest() -> SanitizerManifest {
        S::manifest()
    }

    fn sanitize(content: String, context: SanitizeContext) -> Result<Verdict, PluginError> {
        S::sanitize(content, context)
    }
}

/// A streaming session resource; a failed start is reported by the first `push`.
#[doc(hidden)]
pub struct Session<S: Sanitizer> {
    state: RefCell<Result<Option<S::Stream>, PluginError>>,
}

impl<S: Sanitizer> GuestSession for Session<S> {
    fn new(context: SanitizeContext) -> Self {
        Self { state: RefCell::new(S::stream(context).map(Some)) }
    }

    fn push(&self, chunk: String) -> Result<String, PluginError> {
        match &mut *self.state.borrow_mut() {
            Ok(Some(stream)) => stream.push(&chunk),
            Ok(None) => Err(stream_finished()),
            Err(error) => Err(error.clone()),
        }
    }

    fn finish(&self) -> Result<StreamEnd, PluginError> {
        match &mut *self.state.borrow_mut() {
            Ok(stream) => stream.take().ok_or_else(stream_finished)?.finish(),
            Err(error) => Err(error.clone()),
        }
    }
}

fn stream_finished() -> PluginError {
    PluginError::InvalidRequest("the stream has already finished".into())
}

/// Exports a [`Sanitizer`] implementation as the component's `sanitizer-api`.
#[macro_export]
macro_rules! export_sanitizer {
    ($sanitizer:ty) => {
        type AirlockExportedSanitizer = $crate::sanitizer::Adapter<$sanitizer>;
        $crate::sanitizer::bindings::export_sanitizer_world!(AirlockExportedSanitizer with_types_in $crate::sanitizer::bindings);
    };
}
