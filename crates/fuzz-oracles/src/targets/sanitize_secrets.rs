//! The `sanitize_secrets` target: the secrets sanitizer.

use crate::Input;
use airlock_sanitize_secrets::{CustomPattern, Redacted, Redactor};

/// The secrets sanitizer (`airlock_sanitize_secrets`), natively: the same code the
/// bundled `secrets` plugin runs, for input (prompts) and output (generated code).
///
/// Oracles:
/// - streamed (the input split as the fuzzer says) == whole, text and findings;
/// - the output holds no secret by the redactor's own rules (redacting it again
///   changes nothing);
/// - findings point into the input, in order.
///
/// A flag bit adds an operator pattern made from the input's first line (as
/// `name=REGEX`), which exercises pattern validation and the merging of custom spans.
pub fn sanitize_secrets(data: &[u8]) {
    let input = Input::new(data);
    let mut text = input.text();
    let mut custom = Vec::new();
    if input.flags & 1 == 1 {
        let (spec, rest) = text.split_once('\n').unwrap_or((&text, ""));
        // Bounded, so the regex compiler stays fast.
        if spec.len() <= 64
            && let Ok(pattern) = CustomPattern::parse(spec)
        {
            custom.push(pattern);
        }
        text = rest.to_owned();
    }
    let custom_given = !custom.is_empty();
    let redactor = Redactor::new(custom);

    let whole = redactor.redact(&text);

    let mut stream = redactor.clone().into_stream();
    let mut out = String::new();
    for chunk in input.str_chunks(&text) {
        out.push_str(&stream.push(chunk));
        assert!(stream.held_back() <= text.len());
    }
    let end = stream.finish();
    out.push_str(&end.text);
    let streamed = Redacted { text: out, findings: end.findings };
    // Custom patterns that match whitespace may be cut by the stream (documented).
    if !custom_given {
        assert!(streamed == whole, "streamed != whole\n input: {text:?}\n whole: {whole:?}\n streamed: {streamed:?}");
    }

    let mut last = None;
    for finding in &whole.findings {
        let offset = finding.offset.expect("every finding has an offset");
        assert!(offset < text.len() as u64 || text.is_empty(), "offset out of range: {finding:?}");
        assert!(last.is_none_or(|last| offset > last), "findings out of order: {:?}", whole.findings);
        last = Some(offset);
        assert!(!finding.message.is_empty());
    }

    if !custom_given {
        let again = Redactor::default().redact(&whole.text);
        assert!(
            again.findings.is_empty() && again.text == whole.text,
            "the output still holds a secret\n input: {text:?}\n output: {:?}\n again: {again:?}",
            whole.text
        );
    }
}
