//! The options an operator or a request sets, as `name = value` strings.

use std::str::FromStr;

use crate::Rule;

/// Every option with one line of help, for the sanitizer's manifest.
pub const OPTIONS: &[(&str, &str)] = &[
    (
        "action",
        "`flag` (default) lets the prompt through unchanged with the findings; `block` refuses a prompt with any finding",
    ),
    ("max_chars", "most characters a prompt may have before an `oversize` finding (default 100000; 0 = no limit)"),
    ("max_lines", "most lines a prompt may have before an `oversize` finding (default 10000; 0 = no limit)"),
    ("base64_min_len", "shortest run of base64 characters reported as `base64-blob` (default 200, at least 16)"),
    ("disable", "comma-separated rule ids not to report, e.g. `base64-blob,homoglyph`"),
];

/// What a finding means for the prompt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Action {
    /// Let the prompt through unchanged and report the findings.
    #[default]
    Flag,
    /// Refuse a prompt with any finding.
    Block,
}

impl FromStr for Action {
    type Err = OptionError;

    fn from_str(value: &str) -> Result<Self, OptionError> {
        match value.trim() {
            "flag" => Ok(Action::Flag),
            "block" => Ok(Action::Block),
            other => {
                Err(OptionError::BadValue { option: "action", value: other.to_owned(), expected: "`flag` or `block`" })
            }
        }
    }
}

/// The guard's settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// What a finding means.
    pub action: Action,
    /// Most characters before `oversize`; `None` for no limit.
    pub max_chars: Option<usize>,
    /// Most lines before `oversize`; `None` for no limit.
    pub max_lines: Option<usize>,
    /// Shortest base64 run reported.
    pub base64_min_len: usize,
    /// Rules not reported.
    pub disabled: Vec<Rule>,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            action: Action::Flag,
            max_chars: Some(100_000),
            max_lines: Some(10_000),
            base64_min_len: 200,
            disabled: Vec::new(),
        }
    }
}

/// An option the guard cannot accept.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OptionError {
    /// Not one of [`OPTIONS`].
    #[error(
        "unknown option `{0}`; the prompt-guard sanitizer accepts action, max_chars, max_lines, base64_min_len and disable"
    )]
    Unknown(String),
    /// A value of the wrong form.
    #[error("option `{option}`: `{value}` is not {expected}")]
    BadValue {
        /// The option.
        option: &'static str,
        /// The value given.
        value: String,
        /// What it should be.
        expected: &'static str,
    },
}

impl Options {
    /// The defaults overridden by `pairs`.
    ///
    /// # Errors
    ///
    /// [`OptionError`] for an unknown option or a malformed value.
    pub fn from_pairs<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Result<Self, OptionError> {
        let mut options = Options::default();
        for (name, value) in pairs {
            match name {
                "action" => options.action = value.parse()?,
                "max_chars" => options.max_chars = limit("max_chars", value)?,
                "max_lines" => options.max_lines = limit("max_lines", value)?,
                "base64_min_len" => {
                    options.base64_min_len =
                        value.trim().parse().ok().filter(|&len| len >= 16).ok_or_else(|| OptionError::BadValue {
                            option: "base64_min_len",
                            value: value.to_owned(),
                            expected: "a whole number of at least 16",
                        })?;
                }
                "disable" => {
                    for id in value.split(',').map(str::trim).filter(|id| !id.is_empty()) {
                        let rule = Rule::from_id(id).ok_or_else(|| OptionError::BadValue {
                            option: "disable",
                            value: id.to_owned(),
                            expected: "a rule id (instruction-override, prompt-leak, jailbreak, role-header, \
                                       zero-width, bidi-control, tag-characters, homoglyph, base64-blob, oversize)",
                        })?;
                        if !options.disabled.contains(&rule) {
                            options.disabled.push(rule);
                        }
                    }
                }
                other => return Err(OptionError::Unknown(other.to_owned())),
            }
        }
        Ok(options)
    }
}

/// A limit: a whole number, `0` for none.
fn limit(option: &'static str, value: &str) -> Result<Option<usize>, OptionError> {
    let number: usize = value.trim().parse().map_err(|_| OptionError::BadValue {
        option,
        value: value.to_owned(),
        expected: "a whole number (0 for no limit)",
    })?;
    Ok((number > 0).then_some(number))
}
