//! The `output_pipeline` target: the html sanitizer, then secrets, as a user is shown generated code.

use crate::Input;
use crate::browser::script_vectors;
use airlock_sanitize_html::{DEFAULT_SCRIPT_HOSTS, Mode, Policy, StreamSanitizer, sanitize};
use airlock_sanitize_secrets::Redactor;

/// What a user is shown of generated code: the `html` sanitizer, then `secrets`, in
/// that order, streamed chunk by chunk and on the whole page, as
/// `host/src/generation/output.rs` composes the two bundled plugins.
///
/// Oracles: the html stage's second line never blocks (see `sanitize_html`),
/// streamed == whole, and a browser's view of the final page (html5ever,
/// scripting on) has nothing that runs script. Redaction runs after the html
/// sanitizer, so it must never change the page's markup structure.
pub fn output_pipeline(data: &[u8]) {
    let input = Input::new(data);
    let html = input.text();
    let mode = if input.flags & 1 == 0 { Mode::Static } else { Mode::App };
    let policy = Policy::new(mode);
    let redactor = Redactor::default();

    let sanitized = sanitize(&html, &policy);
    assert!(sanitized.blocked.is_none(), "the second line blocked the html stage's output\n input: {html:?}");
    let page = redactor.redact(&sanitized.text).text;

    let mut html_stream = StreamSanitizer::new(&policy);
    let mut secrets_stream = redactor.into_stream();
    let mut shown = String::new();
    for chunk in input.str_chunks(&html) {
        shown.push_str(&secrets_stream.push(&html_stream.push(chunk)));
    }
    shown.push_str(&secrets_stream.push(&html_stream.finish().text));
    shown.push_str(&secrets_stream.finish().text);
    assert!(shown == page, "streamed != whole\n input: {html:?}\n whole: {page:?}\n streamed: {shown:?}");

    let vectors = script_vectors(&page, mode == Mode::App, DEFAULT_SCRIPT_HOSTS);
    assert!(
        vectors.is_empty(),
        "a browser sees script in the page shown\n input: {html:?}\n page: {page:?}\n {vectors:#?}"
    );
}
