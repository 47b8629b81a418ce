//! The `sanitize_html` target: the html output sanitizer.

use crate::Input;
use crate::browser::script_vectors;
use airlock_sanitize_html::{DEFAULT_SCRIPT_HOSTS, Mode, Policy, Sanitized, StreamSanitizer, sanitize};

/// The html output sanitizer (`airlock_sanitize_html`), natively: the same code the
/// bundled `html` plugin runs in its sandbox.
///
/// Oracles:
/// - the second line ([`airlock_sanitize_html::verify`]) never blocks: if it does, the
///   first line let a script-capable construct through (a first-line bug to fix; the
///   page was withheld, so it is no bypass);
/// - streamed (the input split as the fuzzer says) == whole, text and findings;
/// - the output is a fixed point: sanitizing it again changes nothing and
///   finds nothing (but may drop what still looks like the start of a tag at the very end);
/// - a browser's view of the output (html5ever, scripting on) has nothing that runs
///   script: no `on*` attribute, no script URL, no inline script in static mode, no
///   frames or plugins (see [`crate::browser`]).
pub fn sanitize_html(data: &[u8]) {
    let input = Input::new(data);
    let html = input.text();
    let mode = if input.flags & 1 == 0 { Mode::Static } else { Mode::App };
    let policy = Policy::new(mode);

    let whole = sanitize(&html, &policy);
    assert!(
        whole.blocked.is_none(),
        "the second line blocked what the first line thought safe\n input: {html:?}\n {:#?}",
        whole.findings
    );

    let mut stream = StreamSanitizer::new(&policy);
    let mut text = String::new();
    for chunk in input.str_chunks(&html) {
        text.push_str(&stream.push(chunk));
    }
    let end = stream.finish();
    text.push_str(&end.text);
    let streamed = Sanitized { text, ..end };
    assert!(streamed == whole, "streamed != whole\n input: {html:?}\n whole: {whole:?}\n streamed: {streamed:?}");

    let again = sanitize(&whole.text, &policy);
    // One exception: the end of the output may still look like the start of a tag to the
    // byte-level `unfinished-tag` check (inside script text, `<script><!--<s<s` loses one
    // `<s` per pass); the browser oracle below judges whether that matters.
    let only_trailing_fragment =
        again.findings.iter().all(|f| f.rule == "unfinished-tag") && whole.text.starts_with(&again.text);
    assert!(
        (again.text == whole.text && again.findings.is_empty()) || only_trailing_fragment,
        "the output is not clean by the sanitizer's own rules\n input: {html:?}\n output: {:?}\n again: {again:?}",
        whole.text
    );

    let vectors = script_vectors(&whole.text, mode == Mode::App, DEFAULT_SCRIPT_HOSTS);
    assert!(
        vectors.is_empty(),
        "a browser sees script in the output\n input: {html:?}\n output: {:?}\n {vectors:#?}",
        whole.text
    );
}
