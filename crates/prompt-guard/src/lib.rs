//! Inspects a prompt before it goes to an LLM and reports what looks like an attack:
//! instruction overrides, requests for the system prompt, jailbreak personas, fake
//! chat-template turns, hidden text (zero-width, bidi, tag characters, homoglyphs),
//! base64 blobs, and prompts too large or oddly shaped.
//!
//! The text is never changed. The operator chooses per tenant what a finding means
//! ([`Action`]): `flag` lets the prompt through with the findings, `block` refuses it.
//!
//! How it works, in linear time and without regexes:
//! 1. one pass over the characters folds the text into lowercase ASCII words (accents,
//!    full-width and mathematical letters, Cyrillic/Greek look-alikes and leetspeak
//!    digits fold to Latin; invisible characters vanish; punctuation and whitespace
//!    separate words; runs of single letters such as `i g n o r e` or `i.g.n.o.r.e` are
//!    joined), and on the way counts hidden characters and mixed-script words;
//! 2. each folded word is looked up in the vocabulary of the phrase grammar
//!    (`grammar.rs`, a data table compiled into static tables by the build script);
//!    joined letter runs are cut into vocabulary words by an Aho-Corasick automaton;
//! 3. each phrase is a short sequence of word slots (required, optional, up to a few
//!    filler words) matched forward from its first word;
//! 4. separate byte scans find chat-template tokens, fake `### system:` headers and
//!    base64 runs (checked by decoding them, and their decoded text scanned again).
//!
//! A [`Guard`] costs nothing to build (its tables are static): it runs in a Wasm sandbox
//! that starts fresh for every call. [`StreamGuard`] gives the same verdict for text that
//! arrives in pieces.
#![deny(missing_docs)]

mod blobs;
#[cfg(test)]
mod compile;
mod grammar;
mod markers;
mod normalize;
mod options;
mod phrases;

use std::fmt;

pub use options::{Action, OPTIONS, OptionError, Options};

/// The most findings reported per rule; more of the same add nothing for an operator.
pub const MAX_FINDINGS_PER_RULE: usize = 20;

/// A detection rule; [`Rule::id`] is its stable, machine-readable name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Rule {
    /// "ignore all previous instructions", "new instructions:", "you are now ...".
    InstructionOverride,
    /// "reveal your system prompt", "repeat the words above".
    PromptLeak,
    /// DAN, "do anything now", developer mode, "pretend you have no restrictions".
    Jailbreak,
    /// Chat-template tokens (`<|im_start|>`, `[INST]`, `</s>`) and `### system:` headers.
    RoleHeader,
    /// Zero-width characters (U+200B..U+200D, U+2060, U+FEFF, ...).
    ZeroWidth,
    /// Bidirectional controls (U+202A..U+202E, U+2066..U+2069).
    BidiControl,
    /// Unicode tag characters (U+E0000..U+E007F), which can spell invisible ASCII.
    TagCharacters,
    /// Words mixing Latin letters with Cyrillic or Greek look-alikes.
    Homoglyph,
    /// A long run of base64 that decodes cleanly.
    Base64Blob,
    /// More characters or lines than the operator allows.
    Oversize,
}

impl Rule {
    /// Every rule, in the order findings of one offset are reported.
    pub const ALL: [Rule; 10] = [
        Rule::InstructionOverride,
        Rule::PromptLeak,
        Rule::Jailbreak,
        Rule::RoleHeader,
        Rule::ZeroWidth,
        Rule::BidiControl,
        Rule::TagCharacters,
        Rule::Homoglyph,
        Rule::Base64Blob,
        Rule::Oversize,
    ];

    /// The stable rule id, e.g. `instruction-override`.
    pub fn id(self) -> &'static str {
        match self {
            Rule::InstructionOverride => "instruction-override",
            Rule::PromptLeak => "prompt-leak",
            Rule::Jailbreak => "jailbreak",
            Rule::RoleHeader => "role-header",
            Rule::ZeroWidth => "zero-width",
            Rule::BidiControl => "bidi-control",
            Rule::TagCharacters => "tag-characters",
            Rule::Homoglyph => "homoglyph",
            Rule::Base64Blob => "base64-blob",
            Rule::Oversize => "oversize",
        }
    }

    /// The rule with id `id`.
    pub fn from_id(id: &str) -> Option<Rule> {
        Rule::ALL.into_iter().find(|rule| rule.id() == id)
    }

    fn index(self) -> usize {
        self as usize
    }
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

/// One thing the guard noticed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// The rule that fired.
    pub rule: Rule,
    /// What was found, in words; never quotes the prompt.
    pub message: String,
    /// Byte offset in the prompt where it starts.
    pub offset: usize,
}

/// What the guard makes of a prompt under the configured [`Action`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Nothing found.
    Pass,
    /// Findings, and the action is [`Action::Flag`]: the prompt goes on unchanged.
    Flagged(Vec<Finding>),
    /// Findings, and the action is [`Action::Block`]: the prompt must not be used.
    Blocked {
        /// Names the rules that fired, never the text.
        reason: String,
        /// What was found.
        findings: Vec<Finding>,
    },
}

/// The reason given for a blocked prompt: the ids of the rules that fired.
pub fn block_reason(findings: &[Finding]) -> String {
    let mut rules: Vec<Rule> = findings.iter().map(|finding| finding.rule).collect();
    rules.sort_unstable();
    rules.dedup();
    let ids: Vec<&str> = rules.into_iter().map(Rule::id).collect();
    format!("the prompt was blocked by the input guard (rules: {})", ids.join(", "))
}

/// The detectors, ready to scan; cheap to build.
#[derive(Debug, Clone)]
pub struct Guard {
    phrases: phrases::Phrases,
    markers: markers::Markers,
}

impl Default for Guard {
    fn default() -> Self {
        Self::new()
    }
}

impl Guard {
    /// The built-in rules; their tables are static, so this costs nothing.
    pub fn new() -> Self {
        Self { phrases: phrases::Phrases::new(), markers: markers::Markers::new() }
    }

    /// Every finding in `text`, by offset, at most [`MAX_FINDINGS_PER_RULE`] per rule,
    /// leaving out the rules `options` disables.
    pub fn scan(&self, text: &str, options: &Options) -> Vec<Finding> {
        let mut findings = Findings::new(options);
        let normalized = normalize::normalize(text);
        self.phrases.scan(&normalized, &mut |rule, what, offset| {
            findings.push(rule, offset, || what.to_owned());
        });
        normalized.hidden.report(self, &mut findings);
        self.markers.scan(text, &mut findings);
        if findings.enabled(Rule::Base64Blob) {
            blobs::scan(text, options.base64_min_len, self, &mut findings);
        }
        shape(text, options, &mut findings);
        findings.into_sorted()
    }

    /// Scans `text` and applies the action of `options`.
    pub fn check(&self, text: &str, options: &Options) -> Outcome {
        decide(self.scan(text, options), options.action)
    }

    /// A session for text that arrives in pieces.
    pub fn into_stream(self, options: Options) -> StreamGuard {
        StreamGuard { guard: self, options, buffer: String::new() }
    }

    /// The phrase rules that fire in `text` (decoded hidden text, a base64 blob's
    /// content), without looking for hidden text or blobs inside it again.
    fn phrase_rules(&self, text: &str) -> Vec<Rule> {
        let mut rules = Vec::new();
        self.phrases.scan(&normalize::normalize(text), &mut |rule, _, _| {
            if !rules.contains(&rule) {
                rules.push(rule);
            }
        });
        let mut markers = Findings::all();
        self.markers.scan(text, &mut markers);
        if !markers.list.is_empty() {
            rules.push(Rule::RoleHeader);
        }
        rules
    }
}

/// The outcome of `findings` under `action`.
pub fn decide(findings: Vec<Finding>, action: Action) -> Outcome {
    match (findings.is_empty(), action) {
        (true, _) => Outcome::Pass,
        (false, Action::Flag) => Outcome::Flagged(findings),
        (false, Action::Block) => Outcome::Blocked { reason: block_reason(&findings), findings },
    }
}

/// A prompt checked as it arrives.
///
/// The guard decides on the whole text, so it keeps it until [`StreamGuard::finish`].
/// Under [`Action::Flag`] the text is never changed, so [`StreamGuard::push`] returns each
/// piece at once; under [`Action::Block`] it holds everything back and `finish` returns
/// the whole text, or nothing and the reason. Either way the text returned equals what
/// [`Guard::check`] lets through for the whole prompt.
#[derive(Debug, Clone)]
pub struct StreamGuard {
    guard: Guard,
    options: Options,
    buffer: String,
}

/// The end of a stream: the held-back text and the verdict on the whole.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamEnd {
    /// The text not yet returned by [`StreamGuard::push`] (empty when blocked).
    pub tail: String,
    /// Every finding of the whole text.
    pub findings: Vec<Finding>,
    /// Set when the prompt is blocked.
    pub blocked: Option<String>,
}

impl StreamGuard {
    /// Feeds the next piece; returns the text that is final so far.
    pub fn push(&mut self, chunk: &str) -> String {
        self.buffer.push_str(chunk);
        match self.options.action {
            Action::Flag => chunk.to_owned(),
            Action::Block => String::new(),
        }
    }

    /// Ends the stream and decides on the whole text.
    pub fn finish(self) -> StreamEnd {
        let findings = self.guard.scan(&self.buffer, &self.options);
        match self.options.action {
            Action::Flag => StreamEnd { tail: String::new(), findings, blocked: None },
            Action::Block if findings.is_empty() => StreamEnd { tail: self.buffer, findings, blocked: None },
            Action::Block => StreamEnd { tail: String::new(), blocked: Some(block_reason(&findings)), findings },
        }
    }
}

/// Findings being collected: per-rule caps and the rules the operator disabled.
pub(crate) struct Findings {
    list: Vec<Finding>,
    counts: [usize; Rule::ALL.len()],
    disabled: [bool; Rule::ALL.len()],
}

impl Findings {
    fn new(options: &Options) -> Self {
        let mut disabled = [false; Rule::ALL.len()];
        for rule in &options.disabled {
            disabled[rule.index()] = true;
        }
        Self { list: Vec::new(), counts: [0; Rule::ALL.len()], disabled }
    }

    fn all() -> Self {
        Self { list: Vec::new(), counts: [0; Rule::ALL.len()], disabled: [false; Rule::ALL.len()] }
    }

    pub(crate) fn enabled(&self, rule: Rule) -> bool {
        !self.disabled[rule.index()]
    }

    /// Records a finding unless its rule is disabled or full; `message` is only built
    /// when the finding is kept.
    pub(crate) fn push(&mut self, rule: Rule, offset: usize, message: impl FnOnce() -> String) {
        let count = &mut self.counts[rule.index()];
        if self.disabled[rule.index()] || *count >= MAX_FINDINGS_PER_RULE {
            return;
        }
        *count += 1;
        self.list.push(Finding { rule, message: message(), offset });
    }

    fn into_sorted(mut self) -> Vec<Finding> {
        self.list.sort_by_key(|finding| (finding.offset, finding.rule));
        self.list
    }
}

/// The `oversize` rule: characters and lines against the operator's limits.
fn shape(text: &str, options: &Options, findings: &mut Findings) {
    if !findings.enabled(Rule::Oversize) {
        return;
    }
    if let Some(max) = options.max_chars
        && text.len() > max
        && let Some((offset, _)) = text.char_indices().nth(max)
    {
        let chars = max + 1 + text[offset..].chars().skip(1).count();
        findings.push(Rule::Oversize, offset, || {
            format!("the prompt has {chars} characters, more than the limit of {max}")
        });
    }
    if let Some(max) = options.max_lines {
        let newlines = text.bytes().filter(|&b| b == b'\n').count();
        let lines = newlines + usize::from(!text.is_empty() && !text.ends_with('\n'));
        if lines > max {
            // The line after the last one allowed starts after the `max`-th line break.
            let offset = text.match_indices('\n').nth(max - 1).map_or(0, |(at, _)| at + 1);
            findings
                .push(Rule::Oversize, offset, || format!("the prompt has {lines} lines, more than the limit of {max}"));
        }
    }
}
