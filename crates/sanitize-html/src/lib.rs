//! Neutralises script execution in generated HTML pages.
//!
//! The page is tokenized by `lol_html`, a streaming HTML5 rewriter: nothing is parsed
//! with regular expressions, and everything the rules do not touch is copied byte for
//! byte, so benign markup (Tailwind classes, inline styles, images, fonts) survives
//! untouched. Each removal is reported as a [`Finding`].
//!
//! Two modes ([`Mode`]): `static` removes every inline script; `app` keeps inline
//! scripts (React/Vue output) and relies on the preview's sandbox and CSP for the rest.
//! External scripts and stylesheets are kept only from allowlisted hosts.
//!
//! [`StreamSanitizer`] takes the page in chunks and gives the same result as
//! [`sanitize`] on the whole page.
#![deny(missing_docs)]

mod decode;
mod rules;

use std::borrow::Cow;
use std::cell::RefCell;
use std::rc::Rc;

use lol_html::html_content::{Comment, Element, TextChunk};
use lol_html::{DocumentContentHandlers, ElementContentHandlers, HtmlRewriter, Selector, Settings};

/// Hosts from which `<script src>` is kept by default.
pub const DEFAULT_SCRIPT_HOSTS: &[&str] =
    &["cdn.tailwindcss.com", "unpkg.com", "cdn.jsdelivr.net", "cdnjs.cloudflare.com"];

/// Hosts from which stylesheets (and fonts) are kept besides the script hosts.
pub const STYLE_HOSTS: &[&str] = &["fonts.googleapis.com", "fonts.gstatic.com"];

/// How inline scripts are treated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mode {
    /// No inline scripts at all (plain HTML output).
    #[default]
    Static,
    /// Inline scripts kept (React/Vue output); the preview sandbox and CSP contain them.
    App,
}

impl std::str::FromStr for Mode {
    type Err = String;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        match value {
            "static" => Ok(Mode::Static),
            "app" => Ok(Mode::App),
            other => Err(format!("unknown mode `{other}`; expected `static` or `app`")),
        }
    }
}

/// What to allow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    /// Inline script handling.
    pub mode: Mode,
    /// Hosts (exact, case-insensitive) from which `<script src>` is kept; https only.
    pub script_hosts: Vec<String>,
}

impl Default for Policy {
    fn default() -> Self {
        Self { mode: Mode::Static, script_hosts: DEFAULT_SCRIPT_HOSTS.iter().map(|h| (*h).to_owned()).collect() }
    }
}

/// One thing removed, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// Kebab-case rule, e.g. `event-handler`.
    pub rule: &'static str,
    /// What was removed and why.
    pub message: String,
    /// Byte offset in the input of the element or comment concerned.
    pub offset: Option<u64>,
}

/// Sanitized text and its findings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sanitized {
    /// The sanitized page.
    pub text: String,
    /// What was removed, in document order.
    pub findings: Vec<Finding>,
}

/// Sanitizes a whole page.
pub fn sanitize(html: &str, policy: &Policy) -> Sanitized {
    let mut stream = StreamSanitizer::new(policy);
    let mut text = stream.push(html);
    let end = stream.finish();
    text.push_str(&end.text);
    Sanitized { text, findings: end.findings }
}

type Shared<T> = Rc<RefCell<T>>;

/// A page being sanitized as it arrives.
pub struct StreamSanitizer {
    rewriter: Option<HtmlRewriter<'static, OutputBuffer>>,
    output: Shared<Vec<u8>>,
    findings: Shared<Vec<Finding>>,
    failed: bool,
}

/// Collects the rewriter's output.
struct OutputBuffer(Shared<Vec<u8>>);

impl lol_html::OutputSink for OutputBuffer {
    fn handle_chunk(&mut self, chunk: &[u8]) {
        self.0.borrow_mut().extend_from_slice(chunk);
    }
}

impl StreamSanitizer {
    /// Starts a page under `policy`.
    pub fn new(policy: &Policy) -> Self {
        let output: Shared<Vec<u8>> = Rc::default();
        let findings: Shared<Vec<Finding>> = Rc::default();
        let rules = Rc::new(rules::Rules::new(policy));

        let (element_rules, element_findings) = (rules.clone(), findings.clone());
        let (style_rules, style_findings, style_text) = (rules, findings.clone(), Rc::new(RefCell::new(String::new())));
        let comment_findings = findings.clone();
        let all: Selector = "*".parse().expect("valid selector");
        let style: Selector = "style".parse().expect("valid selector");
        let settings = Settings::new()
            .append_element_content_handler((
                Cow::Owned(all),
                ElementContentHandlers::default().element(move |element: &mut Element<'_, '_>| {
                    element_rules.element(element, &mut element_findings.borrow_mut());
                    Ok(())
                }),
            ))
            .append_element_content_handler((
                Cow::Owned(style),
                ElementContentHandlers::default().text(move |chunk: &mut TextChunk<'_>| {
                    style_rules.style_text(chunk, &style_text, &mut style_findings.borrow_mut());
                    Ok(())
                }),
            ))
            .append_document_content_handler(DocumentContentHandlers::default().comments(
                move |comment: &mut Comment<'_>| {
                    rules::comment(comment, &mut comment_findings.borrow_mut());
                    Ok(())
                },
            ));
        let rewriter = HtmlRewriter::new(settings, OutputBuffer(output.clone()));
        Self { rewriter: Some(rewriter), output, findings, failed: false }
    }

    /// Feeds the next chunk; returns the sanitized text that is final so far.
    pub fn push(&mut self, chunk: &str) -> String {
        if let Some(rewriter) = self.rewriter.as_mut()
            && let Err(error) = rewriter.write(chunk.as_bytes())
        {
            self.fail(&error);
        }
        self.take_output(false)
    }

    /// Ends the page: the rest of the text and every finding.
    pub fn finish(mut self) -> Sanitized {
        if let Some(rewriter) = self.rewriter.take()
            && let Err(error) = rewriter.end()
        {
            self.fail(&error);
        }
        let text = self.take_output(true);
        Sanitized { text, findings: std::mem::take(&mut *self.findings.borrow_mut()) }
    }

    /// Fails closed: nothing after a rewriting error is emitted.
    fn fail(&mut self, error: &lol_html::errors::RewritingError) {
        self.rewriter = None;
        self.failed = true;
        self.output.borrow_mut().clear();
        self.findings.borrow_mut().push(Finding {
            rule: "rewrite-failed",
            message: format!("the rest of the page was dropped: the HTML could not be rewritten ({error})"),
            offset: None,
        });
    }

    /// The complete UTF-8 prefix of the output so far (all of it at the end).
    fn take_output(&mut self, at_end: bool) -> String {
        let mut output = self.output.borrow_mut();
        if self.failed {
            output.clear();
            return String::new();
        }
        let complete = if at_end { output.len() } else { complete_utf8_prefix(&output) };
        let bytes: Vec<u8> = output.drain(..complete).collect();
        String::from_utf8(bytes).unwrap_or_else(|error| String::from_utf8_lossy(error.as_bytes()).into_owned())
    }
}

/// The length of the longest prefix of `bytes` that does not end inside a character.
fn complete_utf8_prefix(bytes: &[u8]) -> usize {
    match std::str::from_utf8(bytes) {
        Ok(_) => bytes.len(),
        Err(error) if error.error_len().is_none() => error.valid_up_to(),
        Err(_) => bytes.len(),
    }
}
