//! Finds credentials in text and replaces them with `[REDACTED:<rule>]`.
//!
//! The built-in rules (API keys of the big vendors, tokens, private key blocks) are
//! matched by one Aho-Corasick automaton over their prefixes plus hand-written checks of
//! what follows, so building a [`Redactor`] takes microseconds: it runs inside a Wasm
//! sandbox that starts fresh for every call. Operators may add regex rules
//! ([`CustomPattern`]).
//!
//! Text that arrives in pieces goes through a [`StreamRedactor`], which returns the same
//! text [`Redactor::redact`] returns for the whole, holding back only what could still
//! turn out to be part of a secret (see [`StreamRedactor`]).
//!
//! On generated pages this sanitizer runs after the html sanitizer, so a redaction never
//! changes how an HTML parser splits the text around it: a private key keeps its BEGIN
//! and END lines and only its body (base64 and header lines, never markup) is replaced;
//! a redacted token never ends in `-` and is never followed by `]>`. The output holds no
//! secret by the built-in rules (redacting it again changes nothing).
#![deny(missing_docs)]

mod rules;
mod stream;

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, AhoCorasickKind, Input, MatchKind};
use regex::Regex;

pub use rules::RULE_NAMES;
pub use stream::StreamRedactor;

use rules::{RULES, Rule};

/// One redaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// The rule that matched, e.g. `openai-key` (or a custom pattern's name).
    pub rule: String,
    /// What was redacted; never the secret itself.
    pub message: String,
    /// Byte offset of the redacted text in the input.
    pub offset: Option<u64>,
}

/// Redacted text and what was redacted.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Redacted {
    /// The text with every secret replaced.
    pub text: String,
    /// One finding per redaction, in order.
    pub findings: Vec<Finding>,
}

/// An operator-defined rule: a name and a regular expression.
#[derive(Debug, Clone)]
pub struct CustomPattern {
    name: String,
    regex: Regex,
}

/// Why a custom pattern was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PatternError {
    /// The spec has no `=`.
    #[error("expected `name=REGEX`, e.g. `internal-token=itk_[0-9a-f]{{32}}`")]
    MissingName,
    /// The name is not kebab-case.
    #[error("the name `{0}` must be lowercase letters, digits and `-`")]
    BadName(String),
    /// The regex does not compile.
    #[error("invalid regular expression: {0}")]
    BadRegex(String),
    /// The regex matches the empty string, which would redact everywhere.
    #[error("the regular expression matches the empty string")]
    MatchesEmpty,
}

impl CustomPattern {
    /// Parses `name=REGEX`.
    ///
    /// # Errors
    ///
    /// [`PatternError`] naming what is wrong.
    pub fn parse(spec: &str) -> Result<Self, PatternError> {
        let (name, pattern) = spec.split_once('=').ok_or(PatternError::MissingName)?;
        let name = name.trim();
        let valid_name =
            !name.is_empty() && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if !valid_name {
            return Err(PatternError::BadName(name.to_owned()));
        }
        let regex = Regex::new(pattern).map_err(|error| PatternError::BadRegex(error.to_string()))?;
        if regex.is_match("") {
            return Err(PatternError::MatchesEmpty);
        }
        Ok(Self { name: name.to_owned(), regex })
    }
}

/// A secret's location: `[start, end)` is replaced; the rule names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Span {
    start: usize,
    end: usize,
    rule: RuleRef,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RuleRef {
    BuiltIn(usize),
    Custom(usize),
}

/// The built-in rules plus any custom patterns.
#[derive(Debug, Clone)]
pub struct Redactor {
    prefixes: AhoCorasick,
    prefix_rule: Vec<usize>,
    custom: Vec<CustomPattern>,
}

impl Default for Redactor {
    fn default() -> Self {
        Self::new(Vec::new())
    }
}

impl Redactor {
    /// The built-in rules and `custom`.
    pub fn new(custom: Vec<CustomPattern>) -> Self {
        let mut prefixes = Vec::new();
        let mut prefix_rule = Vec::new();
        for (index, rule) in RULES.iter().enumerate() {
            for prefix in rule.prefixes {
                prefixes.push(*prefix);
                prefix_rule.push(index);
            }
        }
        let prefixes = AhoCorasickBuilder::new()
            .match_kind(MatchKind::LeftmostLongest)
            .kind(Some(AhoCorasickKind::ContiguousNFA))
            .ascii_case_insensitive(true)
            .build(&prefixes)
            .expect("the built-in prefixes form a valid automaton");
        Self { prefixes, prefix_rule, custom }
    }

    /// Redacts every secret in `text`.
    pub fn redact(&self, text: &str) -> Redacted {
        self.redact_at(text, 0)
    }

    /// Streams text through this redactor.
    pub fn into_stream(self) -> StreamRedactor {
        StreamRedactor::new(self)
    }

    /// Redacts `text`, which starts at byte `offset` of the whole input.
    fn redact_at(&self, text: &str, offset: usize) -> Redacted {
        let spans = self.spans(text);
        let mut redacted = Redacted { text: String::with_capacity(text.len()), findings: Vec::new() };
        let mut copied = 0;
        for span in spans {
            let (name, message) = match span.rule {
                RuleRef::BuiltIn(index) => (RULES[index].name.to_owned(), RULES[index].message.to_owned()),
                RuleRef::Custom(index) => {
                    let name = &self.custom[index].name;
                    (name.clone(), format!("redacted text matching the operator pattern `{name}`"))
                }
            };
            redacted.text.push_str(&text[copied..span.start]);
            redacted.text.push_str("[REDACTED:");
            redacted.text.push_str(&name);
            redacted.text.push(']');
            copied = span.end;
            redacted.findings.push(Finding { rule: name, message, offset: Some((offset + span.start) as u64) });
        }
        redacted.text.push_str(&text[copied..]);
        redacted
    }

    /// Every secret in `text`, in order, not overlapping.
    fn spans(&self, text: &str) -> Vec<Span> {
        let mut spans: Vec<Span> = Vec::new();
        let mut position = 0;
        while let Some(found) = self.prefixes.find(Input::new(text).span(position..text.len())) {
            let index = self.prefix_rule[found.pattern().as_usize()];
            let rule: &Rule = &RULES[index];
            let after_redaction = spans.last().is_some_and(|last| last.end == found.start());
            match rule.matches(text, found.start(), found.end(), after_redaction) {
                Some((start, end)) => {
                    spans.push(Span { start, end, rule: RuleRef::BuiltIn(index) });
                    position = end;
                }
                None => position = found.start() + 1,
            }
        }
        if self.custom.is_empty() {
            return spans;
        }
        for (index, pattern) in self.custom.iter().enumerate() {
            spans.extend(pattern.regex.find_iter(text).map(|m| Span {
                start: m.start(),
                end: m.end(),
                rule: RuleRef::Custom(index),
            }));
        }
        spans.sort_by_key(|span| (span.start, std::cmp::Reverse(span.end)));
        let mut merged: Vec<Span> = Vec::with_capacity(spans.len());
        for span in spans {
            if merged.last().is_none_or(|last| span.start >= last.end) {
                merged.push(span);
            }
        }
        merged
    }
}
