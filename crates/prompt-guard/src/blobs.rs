//! The `base64-blob` rule: long runs of base64 that decode cleanly.
//!
//! A run is a maximal stretch of the base64 alphabet (standard or URL-safe) with up to
//! two `=` of padding; lines of 40 characters or more wrapped with `\n` (as MIME and PEM
//! do) continue it. A run is reported when it is at least the configured length, mixes
//! capitals, small letters and digits (which rules out hex digests and long words), uses
//! one alphabet, and decodes. When it decodes to text, that text is scanned for phrases
//! too, and the finding says what it holds. A shorter run (from [`SHORT_RUN`] characters)
//! is reported only when it decodes to text that holds a phrase rule
//! (`atob('aWdub3JlIGFsbCBwcmV2aW91cyBpbnN0cnVjdGlvbnM=')`).

use base64::Engine;
use base64::alphabet::{STANDARD, URL_SAFE};
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};

use crate::normalize::append_rules;
use crate::{Findings, Guard, Rule};

/// The shortest run decoded to look for phrases inside.
pub(crate) const SHORT_RUN: usize = 20;

/// Lines at least this long, ending in a line break, may continue a run.
const WRAPPED_LINE: usize = 40;

/// The base64 alphabets (standard and URL-safe) by byte.
const ALPHABET: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 256 {
        let byte = b as u8;
        table[b] = byte.is_ascii_alphanumeric() || matches!(byte, b'+' | b'/' | b'-' | b'_');
        b += 1;
    }
    table
};

fn is_alphabet(b: u8) -> bool {
    ALPHABET[usize::from(b)]
}

/// Reports every base64 run of at least `min_len` characters in `text`.
pub(crate) fn scan(text: &str, min_len: usize, guard: &Guard, findings: &mut Findings) {
    let bytes = text.as_bytes();
    let mut at = 0;
    while at < bytes.len() {
        if !is_alphabet(bytes[at]) {
            at += 1;
            continue;
        }
        let start = at;
        let mut count = 0;
        loop {
            let line_start = at;
            while at < bytes.len() && is_alphabet(bytes[at]) {
                at += 1;
            }
            count += at - line_start;
            let padding = bytes[at..].iter().take(2).take_while(|&&b| b == b'=').count();
            if padding > 0 {
                at += padding;
                break;
            }
            let line_break = match bytes.get(at..at + 2) {
                Some([b'\r', b'\n']) => 2,
                _ if bytes.get(at) == Some(&b'\n') => 1,
                _ => 0,
            };
            let wrapped = at - line_start >= WRAPPED_LINE && line_break > 0;
            if !(wrapped && bytes.get(at + line_break).copied().is_some_and(is_alphabet)) {
                break;
            }
            at += line_break;
        }
        if count >= SHORT_RUN.min(min_len) {
            check(&bytes[start..at], start, count, count < min_len, guard, findings);
        }
    }
}

/// Reports the run if it is a blob; a `short` one only if its text holds a phrase.
fn check(run: &[u8], offset: usize, count: usize, short: bool, guard: &Guard, findings: &mut Findings) {
    let (mut upper, mut lower, mut digit, mut standard, mut url_safe) = (false, false, false, false, false);
    let mut data = Vec::with_capacity(run.len());
    for &b in run {
        match b {
            b'A'..=b'Z' => upper = true,
            b'a'..=b'z' => lower = true,
            b'0'..=b'9' => digit = true,
            b'+' | b'/' => standard = true,
            b'-' | b'_' => url_safe = true,
            b'\r' | b'\n' => continue,
            _ => {}
        }
        data.push(b);
    }
    if !(upper && lower && (digit || short)) || (standard && url_safe) {
        return;
    }
    let config = GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent);
    let engine = GeneralPurpose::new(if url_safe { &URL_SAFE } else { &STANDARD }, config);
    let Ok(decoded) = engine.decode(&data) else { return };
    let text = std::str::from_utf8(&decoded).ok().filter(|text| {
        let control = text.chars().filter(|c| c.is_control() && !c.is_whitespace()).count();
        control * 20 <= text.chars().count()
    });
    let hidden = text.map(|text| guard.phrase_rules(text)).unwrap_or_default();
    if short && hidden.is_empty() {
        return;
    }
    findings.push(Rule::Base64Blob, offset, || {
        let kind = if text.is_some() { "text" } else { "binary data" };
        let mut message = format!("a {count}-character base64 blob that decodes to {} bytes of {kind}", decoded.len());
        append_rules(&mut message, "the decoded text", &hidden);
        message
    });
}
