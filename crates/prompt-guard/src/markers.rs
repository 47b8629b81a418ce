//! The `role-header` rule: chat-template control tokens and markdown headers that fake a
//! system or assistant turn inside the user's prompt.

use crate::{Findings, Rule};

/// Control tokens of common chat templates (ChatML, Llama 2/3, Gemma, Phi, Harmony),
/// matched without regard to ASCII case. Each starts with `<` or `[`.
const TOKENS: &[&str] = &[
    "<|im_start|>",
    "<|im_end|>",
    "<|im_sep|>",
    "<|system|>",
    "<|user|>",
    "<|assistant|>",
    "<|end|>",
    "<|endoftext|>",
    "<|begin_of_text|>",
    "<|start_header_id|>",
    "<|end_header_id|>",
    "<|eot_id|>",
    "<|start|>",
    "<|message|>",
    "<|channel|>",
    "[inst]",
    "[/inst]",
    "<<sys>>",
    "<</sys>>",
    "<start_of_turn>",
    "<end_of_turn>",
    "</s>",
];

/// The end-of-sequence token `</s>` is also HTML's strikethrough end tag.
const EOS: &str = "</s>";

/// Roles a `### Role:` header line may name.
const HEADER_ROLES: &[&str] = &["system", "assistant", "developer", "instruction", "instructions", "sys"];
/// Words that may follow the role before the colon (`### System prompt:`).
const HEADER_SUFFIXES: &[&str] = &["prompt", "message", "instructions", "note", "override"];

const TOKEN_MESSAGE: &str = "a chat-template control token that can fake a conversation turn";
const HEADER_MESSAGE: &str = "a header line that fakes a system or assistant turn";

/// The `role-header` scanner; it has nothing to build.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Markers;

impl Markers {
    pub(crate) fn new() -> Self {
        Self
    }

    /// Reports every control token and header line in `text`.
    pub(crate) fn scan(&self, text: &str, findings: &mut Findings) {
        if !findings.enabled(Rule::RoleHeader) {
            return;
        }
        let mut at = 0;
        while let Some((start, token)) = next_token(text.as_bytes(), at) {
            at = start + token.len();
            if token == EOS && is_strikethrough(text, start) {
                continue;
            }
            findings.push(Rule::RoleHeader, start, || TOKEN_MESSAGE.to_owned());
        }
        let bytes = text.as_bytes();
        let mut line_start = 0;
        while line_start < bytes.len() {
            let line_end =
                bytes[line_start..].iter().position(|&b| b == b'\n').map_or(bytes.len(), |at| line_start + at);
            if let Some(offset) = header(bytes, line_start, line_end) {
                findings.push(Rule::RoleHeader, offset, || HEADER_MESSAGE.to_owned());
            }
            line_start = line_end + 1;
        }
    }
}

/// The leftmost control token at or after `from`, the longest of those starting there
/// (as a leftmost-longest automaton would find them): its offset and which token.
fn next_token(bytes: &[u8], from: usize) -> Option<(usize, &'static str)> {
    let mut at = from;
    while let Some(found) = find_opener(bytes, at) {
        at = found;
        let rest = &bytes[at..];
        let longest = TOKENS
            .iter()
            .filter(|token| rest.get(..token.len()).is_some_and(|head| head.eq_ignore_ascii_case(token.as_bytes())))
            .max_by_key(|token| token.len());
        if let Some(token) = longest {
            return Some((at, token));
        }
        at += 1;
    }
    None
}

/// The first `<` or `[` at or after `from`, eight bytes at a time.
fn find_opener(bytes: &[u8], from: usize) -> Option<usize> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    // Whether some byte of `word` is zero (exact, for the any-byte question).
    let has_zero = |word: u64| word.wrapping_sub(ONES) & !word & HIGHS != 0;
    let mut at = from;
    while let Some(chunk) = bytes.get(at..at + 8) {
        let word = u64::from_le_bytes(chunk.try_into().expect("8 bytes"));
        if has_zero(word ^ (ONES * u64::from(b'<'))) || has_zero(word ^ (ONES * u64::from(b'['))) {
            break;
        }
        at += 8;
    }
    bytes.get(at..)?.iter().position(|&b| b == b'<' || b == b'[').map(|found| at + found)
}

/// `</s>` closes an HTML `<s>` opened earlier on the same line (and not Llama's `<s>[INST]`).
fn is_strikethrough(text: &str, at: usize) -> bool {
    let before = &text.as_bytes()[at.saturating_sub(256)..at];
    let line = before.iter().rposition(|&b| b == b'\n').map_or(before, |newline| &before[newline + 1..]);
    let Some(open) = line.windows(3).rposition(|window| window.eq_ignore_ascii_case(b"<s>")) else {
        return false;
    };
    let after = line[open + 3..].iter().find(|b| !b.is_ascii_whitespace());
    !matches!(after, Some(b'[' | b'<') | None)
}

/// The offset of a `### System:`-style header on the line `bytes[start..end]`.
fn header(bytes: &[u8], start: usize, end: usize) -> Option<usize> {
    let line = &bytes[start..end];
    let skip = |from: usize, what: fn(&u8) -> bool| {
        line[from..].iter().position(|b| !what(b)).map_or(line.len(), |at| from + at)
    };
    let hashes_start = skip(0, |b| *b == b' ' || *b == b'\t');
    let hashes_end = skip(hashes_start, |b| *b == b'#');
    if hashes_end == hashes_start || hashes_end - hashes_start > 6 {
        return None;
    }
    let mut at = skip(hashes_end, |b| *b == b' ' || *b == b'\t');
    let (role, next) = word(line, at)?;
    if !HEADER_ROLES.iter().any(|role_name| role_name.as_bytes().eq_ignore_ascii_case(role)) {
        return None;
    }
    at = skip(next, |b| *b == b' ' || *b == b'\t');
    if let Some((suffix, next)) = word(line, at)
        && HEADER_SUFFIXES.iter().any(|known| known.as_bytes().eq_ignore_ascii_case(suffix))
    {
        at = skip(next, |b| *b == b' ' || *b == b'\t');
    }
    (line.get(at) == Some(&b':')).then_some(start + hashes_start)
}

/// The ASCII word starting at `at` and where it ends.
fn word(line: &[u8], at: usize) -> Option<(&[u8], usize)> {
    let end = line[at..].iter().position(|b| !b.is_ascii_alphabetic()).map_or(line.len(), |len| at + len);
    (end > at).then(|| (&line[at..end], end))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens(text: &str) -> Vec<(usize, &'static str)> {
        let mut found = Vec::new();
        let mut at = 0;
        while let Some((start, token)) = next_token(text.as_bytes(), at) {
            found.push((start, token));
            at = start + token.len();
        }
        found
    }

    #[test]
    fn tokens_are_found_leftmost_longest_and_without_case() {
        assert!(TOKENS.iter().all(|token| token.starts_with(['<', '[']) && *token == token.to_ascii_lowercase()));
        assert_eq!(tokens("a <|END|> b <|endoftext|>"), [(2, "<|end|>"), (12, "<|endoftext|>")]);
        assert_eq!(tokens("<<<SYS>> [[/inst] <</SYS>>"), [(1, "<<sys>>"), (10, "[/inst]"), (18, "<</sys>>")]);
        assert_eq!(tokens("<|im_start|><|im_end|>"), [(0, "<|im_start|>"), (12, "<|im_end|>")]);
        assert!(tokens("a < b [c] <| |> <s").is_empty());
        assert_eq!(tokens("é</s>"), [(2, "</s>")]);
    }

    #[test]
    fn openers_are_found_at_any_offset() {
        for len in 0..40 {
            for at in 0..len {
                for opener in [b'<', b'['] {
                    let mut text = vec![b'a'; len];
                    text[at] = opener;
                    for from in 0..=at {
                        assert_eq!(find_opener(&text, from), Some(at));
                    }
                    assert_eq!(find_opener(&text, at + 1), None);
                }
            }
            assert_eq!(find_opener(&vec![0xFF; len], 0), None);
        }
    }

    #[test]
    fn end_of_sequence_is_told_apart_from_strikethrough() {
        assert!(is_strikethrough("a <s>old</s>", 8));
        assert!(!is_strikethrough("<s>[INST] hi [/INST] ok </s>", 24));
        assert!(!is_strikethrough("no open tag </s>", 12));
        assert!(!is_strikethrough("<s>old\nnext </s>", 12));
    }

    #[test]
    fn header_lines_need_hashes_a_role_and_a_colon() {
        let at = |line: &str| header(line.as_bytes(), 0, line.len());
        assert_eq!(at("### System:"), Some(0));
        assert_eq!(at("  ## assistant message :"), Some(2));
        assert_eq!(at("#SYS:"), Some(0));
        assert_eq!(at("### System requirements"), None);
        assert_eq!(at("System: Ubuntu"), None);
        assert_eq!(at("####### System:"), None);
        assert_eq!(at("### Systems:"), None);
        assert_eq!(at("#"), None);
    }
}
