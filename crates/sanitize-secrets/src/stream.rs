//! Redaction of text that arrives in pieces.
//!
//! The stream emits text only up to a *safe cut*: a position right after whitespace
//! that no secret can straddle. Built-in secrets never contain whitespace, except these
//! shapes, which the cut steps around:
//! - `Bearer <token>` and `aws_secret_access_key = <value>`: the cut moves back before a
//!   word that can join the next one (ends with `bearer`, contains the AWS label, or
//!   ends with `=` or `:`);
//! - PEM private key blocks, whose BEGIN and END lines contain spaces: no cut falls
//!   inside one, and an open one is held until its END line or `finish`.
//!
//! So what is held back is the last unfinished word (plus at most the few words that
//! may join it), or an open private key block. Custom patterns get the same guarantee
//! when they do not match whitespace.

use crate::rules::{BodyEnd, private_key_body_end, private_key_header_end};
use crate::{Finding, Redacted, Redactor};

/// Words that may join the next word into one secret, looked at before a cut.
const MAX_JOINED_WORDS: usize = 3;

/// A redaction in progress. Concatenating what [`push`](Self::push) returns and the text
/// of [`finish`](Self::finish) gives exactly [`Redactor::redact`] of the whole input.
#[derive(Debug, Clone)]
pub struct StreamRedactor {
    redactor: Redactor,
    held: String,
    emitted_input: usize,
    findings: Vec<Finding>,
}

impl StreamRedactor {
    pub(crate) fn new(redactor: Redactor) -> Self {
        Self { redactor, held: String::new(), emitted_input: 0, findings: Vec::new() }
    }

    /// Feeds the next piece; returns the redacted text that is final so far.
    pub fn push(&mut self, chunk: &str) -> String {
        self.held.push_str(chunk);
        let cut = safe_cut(&self.held);
        if cut == 0 {
            return String::new();
        }
        let Redacted { text, findings } = self.redactor.redact_at(&self.held[..cut], self.emitted_input);
        self.held.drain(..cut);
        self.emitted_input += cut;
        self.findings.extend(findings);
        text
    }

    /// Bytes of input held back, waiting for more text.
    pub fn held_back(&self) -> usize {
        self.held.len()
    }

    /// Ends the stream: the rest of the text and every finding of the stream.
    pub fn finish(mut self) -> Redacted {
        let Redacted { text, findings } = self.redactor.redact_at(&self.held, self.emitted_input);
        self.findings.extend(findings);
        Redacted { text, findings: self.findings }
    }
}

/// The largest prefix length of `text` that can be redacted on its own.
fn safe_cut(text: &str) -> usize {
    let blocks = private_key_blocks(text);
    let mut limit = text.len();
    loop {
        let cut = whitespace_cut(&text[..limit]);
        match blocks.iter().find(|block| block.start < cut && cut < block.end) {
            Some(block) => limit = block.start,
            None => return cut,
        }
    }
}

/// The cut after the last whitespace, moved before words that may join the next one.
fn whitespace_cut(text: &str) -> usize {
    let Some(mut cut) = text.rfind(|c: char| c.is_whitespace()).map(|at| at + whitespace_len(text, at)) else {
        return 0;
    };
    for _ in 0..=MAX_JOINED_WORDS {
        let before = text[..cut].trim_end_matches(char::is_whitespace);
        let word_start = before.rfind(char::is_whitespace).map_or(0, |at| at + whitespace_len(before, at));
        if !joins_next_word(&before[word_start..]) {
            return cut;
        }
        cut = word_start;
        if cut == 0 {
            return 0;
        }
    }
    0
}

fn whitespace_len(text: &str, at: usize) -> usize {
    text[at..].chars().next().map_or(1, char::len_utf8)
}

/// Whether `word` may be the first part of a secret that continues after whitespace.
fn joins_next_word(word: &str) -> bool {
    let lower = word.to_ascii_lowercase();
    lower.ends_with("bearer") || lower.contains("aws_secret_access_key") || lower.ends_with('=') || lower.ends_with(':')
}

/// Ranges no cut may fall inside: private key blocks (header to END line, or to the
/// first byte no PEM body has), and (open-ended, `usize::MAX`) blocks whose body has not
/// ended yet and `-----BEGIN` lines not yet complete.
fn private_key_blocks(text: &str) -> Vec<std::ops::Range<usize>> {
    let mut blocks = Vec::new();
    let mut search = 0;
    while let Some(found) = text[search..].find("-----BEGIN") {
        let start = search + found;
        match private_key_header_end(text, start) {
            Some(header_end) => {
                let (end, next) = match private_key_body_end(text, header_end) {
                    // The next `-----BEGIN` may share the dashes that end the END line
                    // (`KEY-----BEGIN`), as it does for `Redactor::redact`.
                    BodyEnd::Footer { block_end, .. } => (block_end, block_end - "-----".len()),
                    // The byte that ended the body decides how much of it is redacted
                    // (see `rules::Rule::span`): it goes with the block.
                    BodyEnd::Stray(at) => {
                        let end = at + whitespace_len(text, at);
                        (end, end)
                    }
                    BodyEnd::Open => {
                        blocks.push(start..usize::MAX);
                        break;
                    }
                };
                blocks.push(start..end);
                search = next;
            }
            None => {
                // Not a private key header: undecided only while its line is unfinished.
                let line_end = text[start..].find('\n').map_or(text.len(), |at| start + at);
                if line_end == text.len() && !text[start..].trim_end().ends_with("-----") {
                    blocks.push(start..usize::MAX);
                }
                search = start + "-----BEGIN".len();
            }
        }
        if search >= text.len() {
            break;
        }
    }
    blocks
}
