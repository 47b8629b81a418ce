//! The built-in rules: a prefix found by the automaton, then a check of what follows.

/// How a rule checks the text after its prefix.
#[derive(Debug)]
pub(crate) enum Shape {
    /// The prefix, then a body of `body` bytes; at least `min` long, exactly `min` if
    /// `exact`. The whole token is redacted. Prefix case must match.
    Token { body: fn(u8) -> bool, min: usize, exact: bool },
    /// `Bearer`, spaces, a token of at least 16 token bytes; the token is redacted.
    Bearer,
    /// `aws_secret_access_key`, a `=` or `:`, then 40 key bytes; the value is redacted.
    LabelledAwsSecret,
    /// A JSON Web Token: three base64url segments joined by dots.
    Jwt,
    /// A PEM private key block, BEGIN to END (or to the end of the text).
    PrivateKeyBlock,
}

/// One built-in rule.
#[derive(Debug)]
pub(crate) struct Rule {
    pub(crate) name: &'static str,
    pub(crate) message: &'static str,
    pub(crate) prefixes: &'static [&'static str],
    pub(crate) shape: Shape,
}

fn key_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'-' || b == b'_'
}

fn upper_alnum(b: u8) -> bool {
    b.is_ascii_uppercase() || b.is_ascii_digit()
}

fn alnum(b: u8) -> bool {
    b.is_ascii_alphanumeric()
}

fn word_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

fn slack_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'-'
}

fn token_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"._~+/=-".contains(&b)
}

fn base64url_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'-' || b == b'_'
}

fn aws_secret_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'/' || b == b'+' || b == b'='
}

/// Every built-in rule. Longer prefixes win over shorter ones at the same position
/// (`sk-ant-` is Anthropic's, not OpenAI's).
pub(crate) const RULES: &[Rule] = &[
    Rule {
        name: "anthropic-key",
        message: "redacted an Anthropic API key",
        prefixes: &["sk-ant-"],
        shape: Shape::Token { body: key_byte, min: 20, exact: false },
    },
    Rule {
        name: "openai-key",
        message: "redacted an OpenAI API key",
        prefixes: &["sk-", "sk-proj-", "sk-svcacct-", "sk-admin-"],
        shape: Shape::Token { body: key_byte, min: 20, exact: false },
    },
    Rule {
        name: "aws-access-key-id",
        message: "redacted an AWS access key id",
        prefixes: &["AKIA", "ASIA"],
        shape: Shape::Token { body: upper_alnum, min: 16, exact: true },
    },
    Rule {
        name: "aws-secret-access-key",
        message: "redacted an AWS secret access key",
        prefixes: &["aws_secret_access_key"],
        shape: Shape::LabelledAwsSecret,
    },
    Rule {
        name: "google-api-key",
        message: "redacted a Google API key",
        prefixes: &["AIza"],
        shape: Shape::Token { body: key_byte, min: 35, exact: true },
    },
    Rule {
        name: "github-token",
        message: "redacted a GitHub token",
        prefixes: &["ghp_", "gho_", "ghu_", "ghs_", "ghr_"],
        shape: Shape::Token { body: alnum, min: 36, exact: false },
    },
    Rule {
        name: "github-token",
        message: "redacted a GitHub fine-grained token",
        prefixes: &["github_pat_"],
        shape: Shape::Token { body: word_byte, min: 22, exact: false },
    },
    Rule {
        name: "slack-token",
        message: "redacted a Slack token",
        prefixes: &["xoxb-", "xoxp-", "xoxa-", "xoxr-", "xoxs-", "xapp-"],
        shape: Shape::Token { body: slack_byte, min: 10, exact: false },
    },
    Rule {
        name: "stripe-key",
        message: "redacted a Stripe secret key",
        prefixes: &["sk_live_", "rk_live_"],
        shape: Shape::Token { body: alnum, min: 16, exact: false },
    },
    Rule { name: "jwt", message: "redacted a JSON Web Token", prefixes: &["eyJ"], shape: Shape::Jwt },
    Rule { name: "bearer-token", message: "redacted a bearer token", prefixes: &["bearer"], shape: Shape::Bearer },
    Rule {
        name: "private-key",
        message: "redacted a PEM private key block",
        prefixes: &["-----BEGIN "],
        shape: Shape::PrivateKeyBlock,
    },
];

/// The names of the built-in rules.
pub const RULE_NAMES: &[&str] = &[
    "anthropic-key",
    "openai-key",
    "aws-access-key-id",
    "aws-secret-access-key",
    "google-api-key",
    "github-token",
    "slack-token",
    "stripe-key",
    "jwt",
    "bearer-token",
    "private-key",
];

/// How many bytes from `from` satisfy `accept`.
fn run_length(bytes: &[u8], from: usize, accept: fn(u8) -> bool) -> usize {
    bytes[from.min(bytes.len())..].iter().take_while(|&&b| accept(b)).count()
}

fn skip_blanks(bytes: &[u8], from: usize) -> usize {
    from + bytes[from.min(bytes.len())..].iter().take_while(|&&b| b == b' ' || b == b'\t').count()
}

/// Whether a secret may start at `start`: not glued to a preceding word.
pub(crate) fn is_boundary_before(bytes: &[u8], start: usize) -> bool {
    start == 0 || !word_byte(bytes[start - 1])
}

impl Rule {
    /// The span to redact when the prefix found at `start..prefix_end` begins a secret.
    /// `after_redaction` says that `start` is where the previous redacted span ended,
    /// which counts as a boundary: the replacement leaves no word to be glued to.
    ///
    /// The span never changes how an HTML parser splits the text around it (the html
    /// sanitizer runs before this one on generated pages): see [`markup_safe_end`], and
    /// a private key keeps its BEGIN and END lines, only its body is replaced.
    pub(crate) fn matches(
        &self,
        text: &str,
        start: usize,
        prefix_end: usize,
        after_redaction: bool,
    ) -> Option<(usize, usize)> {
        let bytes = text.as_bytes();
        if !after_redaction && !is_boundary_before(bytes, start) {
            return None;
        }
        let (start, end) = self.span(text, start, prefix_end)?;
        if matches!(self.shape, Shape::PrivateKeyBlock) {
            return Some((start, end));
        }
        Some((start, markup_safe_end(bytes, start, end)))
    }

    fn span(&self, text: &str, start: usize, prefix_end: usize) -> Option<(usize, usize)> {
        let bytes = text.as_bytes();
        match &self.shape {
            Shape::Token { body, min, exact } => {
                if !self.prefixes.contains(&&text[start..prefix_end]) {
                    return None;
                }
                let length = run_length(bytes, prefix_end, *body);
                let long_enough = if *exact { length == *min } else { length >= *min };
                long_enough.then_some((start, prefix_end + length))
            }
            Shape::Bearer => {
                let token_start = skip_blanks(bytes, prefix_end);
                let length = run_length(bytes, token_start, token_byte);
                (token_start > prefix_end && length >= 16).then_some((token_start, token_start + length))
            }
            Shape::LabelledAwsSecret => {
                let mut at = prefix_end;
                if matches!(bytes.get(at), Some(b'"' | b'\'')) {
                    at += 1;
                }
                at = skip_blanks(bytes, at);
                if !matches!(bytes.get(at), Some(b'=' | b':')) {
                    return None;
                }
                at = skip_blanks(bytes, at + 1);
                if matches!(bytes.get(at), Some(b'"' | b'\'')) {
                    at += 1;
                }
                let length = run_length(bytes, at, aws_secret_byte);
                (length == 40).then_some((at, at + length))
            }
            Shape::Jwt => {
                if &text[start..prefix_end] != "eyJ" {
                    return None;
                }
                let mut end = start;
                for segment in 0..3 {
                    if segment > 0 {
                        if bytes.get(end) != Some(&b'.') {
                            return None;
                        }
                        end += 1;
                    }
                    let length = run_length(bytes, end, base64url_byte);
                    if length < 10 {
                        return None;
                    }
                    end += length;
                }
                Some((start, end))
            }
            Shape::PrivateKeyBlock => {
                let header_end = private_key_header_end(text, start)?;
                let (body, stray) = private_key_body(text, header_end);
                let body_text = &text[body.clone()];
                let first = body.start + (body_text.len() - body_text.trim_start().len());
                let mut last = body.start + body_text.trim_end().len();
                if stray && last > first + 1 {
                    // The body ends at markup: its last byte stays, and with it any
                    // dashes, so the replacement's `]` never meets what follows (`]>`
                    // would make `]]>`, `--` before `>` stays `-->`).
                    last = markup_safe_end(text.as_bytes(), first, last - 1);
                } else if stray {
                    return None;
                }
                (first < last).then_some((first, last))
            }
        }
    }
}

/// The end of `-----BEGIN <LABEL> PRIVATE KEY-----` starting at `start`, if it is one.
pub(crate) fn private_key_header_end(text: &str, start: usize) -> Option<usize> {
    let rest = text.get(start..)?.strip_prefix("-----BEGIN ")?;
    let label_length = rest.bytes().take_while(|&b| b.is_ascii_uppercase() || b == b' ').count();
    let label = &rest[..label_length];
    let after = &rest[label_length..];
    (label.ends_with("PRIVATE KEY") && after.starts_with("-----")).then(|| text.len() - after.len() + 5)
}

/// Whether a PEM body may hold `b`: base64 (also base64url), whitespace, the
/// characters of `Proc-Type:`/`DEK-Info:` header lines, and `\` for keys written
/// with escaped newlines inside string literals. None of these is markup in HTML, so
/// replacing a body never changes the structure of a page around it.
fn pem_body_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b" \t\r\n+/=-_:,.\\".contains(&b)
}

/// How the body of a private key block that starts at `from` (after its header) ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BodyEnd {
    /// At the `-----END ... PRIVATE KEY-----` line starting at `body_end`, which ends at
    /// `block_end`.
    Footer { body_end: usize, block_end: usize },
    /// At a byte no PEM body has (markup, quotes, ...): the block ends there.
    Stray(usize),
    /// Not yet: the text ends inside the body.
    Open,
}

/// Where the body of the block whose header ends at `from` ends.
pub(crate) fn private_key_body_end(text: &str, from: usize) -> BodyEnd {
    let bytes = text.as_bytes();
    let mut at = from;
    while at < bytes.len() {
        if bytes[at] == b'-'
            && let Some(block_end) = private_key_footer_end(text, at)
        {
            return BodyEnd::Footer { body_end: at, block_end };
        }
        if !pem_body_byte(bytes[at]) {
            return BodyEnd::Stray(at);
        }
        at += 1;
    }
    BodyEnd::Open
}

/// The body of the block whose header ends at `from`: up to its END line, the first
/// byte no PEM body has (then also true), or the end of the text.
fn private_key_body(text: &str, from: usize) -> (std::ops::Range<usize>, bool) {
    match private_key_body_end(text, from) {
        BodyEnd::Footer { body_end, .. } => (from..body_end, false),
        BodyEnd::Stray(body_end) => (from..body_end, true),
        BodyEnd::Open => (from..text.len(), false),
    }
}

/// The end of `-----END <LABEL> PRIVATE KEY-----` starting at `at`, if it is one.
fn private_key_footer_end(text: &str, at: usize) -> Option<usize> {
    let rest = text.get(at..)?.strip_prefix("-----END ")?;
    let label_length = rest.bytes().take_while(|&b| b.is_ascii_uppercase() || b == b' ').count();
    let after = &rest[label_length..];
    (rest[..label_length].ends_with("PRIVATE KEY") && after.starts_with("-----")).then(|| text.len() - after.len() + 5)
}

/// Moves the end of a redacted span back so that its replacement, `[REDACTED:<rule>]`,
/// cannot join the text after it into markup the original did not have: a span does
/// not end in `-` (a token's trailing `--` before `>` closes an HTML comment; the
/// replacement would not, and what the comment then swallowed could reopen as live
/// markup further on), and is not followed by `]>` (the replacement's `]` would make
/// that `]]>`, the end of a CDATA section in SVG). What stays visible is a dash or one
/// character of the secret.
pub(crate) fn markup_safe_end(bytes: &[u8], start: usize, mut end: usize) -> usize {
    loop {
        while end > start + 1 && bytes[end - 1] == b'-' {
            end -= 1;
        }
        if end > start + 1 && bytes[end..].starts_with(b"]>") {
            end -= 1;
            continue;
        }
        return end;
    }
}
