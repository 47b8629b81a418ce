//! Neutralises script execution in LLM-generated HTML before it is previewed.
//!
//! The input is parsed by [`lol_html`]'s streaming rewriter (never with regular
//! expressions) and is copied through untouched except where something dangerous is
//! found: dangerous elements are removed with their content, dangerous attributes are
//! removed, dangerous CSS is dropped, and every change is reported as a [`Finding`].
//! Benign markup (Tailwind classes, inline styles, images, fonts, SVG icons, the
//! Tailwind CDN script) comes out byte for byte as it went in.
//!
//! Two entry points share one code path: [`sanitize`] for a whole document, and
//! [`StreamSanitizer`] for text that arrives in chunks (an LLM streaming code). For any
//! split of an input, the concatenated output of the stream equals the output of
//! [`sanitize`] on the whole input, and so do the findings.
//!
//! What is neutralised, in both [`Mode`]s unless noted, with the rule names of the
//! findings:
//!
//! | rule | what |
//! |---|---|
//! | `script-inline` | inline `<script>` removed ([`Mode::Static`] only); inline content of a kept external script cleared |
//! | `script-external` | `<script src>` not `https:`/`//` on an allowlisted host ([`Policy::script_hosts`]) |
//! | `svg-script` | `<script>` inside SVG/MathML |
//! | `event-handler` | `on*` attribute, on every element including SVG |
//! | `javascript-url` | `javascript:`/`vbscript:` URL in a URL-bearing attribute (`href`, `src`, `action`, `formaction`, `xlink:href`, `srcset`, `ping`, `poster`, `background`, ...) |
//! | `data-url` | `data:` URL, except raster `data:image/*` in `<img src/srcset>`, `<source srcset>`, SVG `<image href>`, `<link rel=icon>` |
//! | `iframe` | `<iframe>`, `<frame>`, `<frameset>`, `<portal>`, `<fencedframe>` (with content) |
//! | `plugin` | `<object>`, `<embed>`, `<applet>` (with content) |
//! | `base` | `<base>` |
//! | `meta-refresh` | `<meta http-equiv=refresh>` |
//! | `meta-http-equiv` | other `<meta http-equiv>` than content-type, content-language, x-ua-compatible, content-security-policy, default-style, x-dns-prefetch-control |
//! | `link-import` | `<link rel=import>` |
//! | `link-external` | fetching `<link>` (stylesheet, preload, modulepreload, prefetch, prerender, preconnect, dns-prefetch, manifest, ...) to an absolute URL that is not https on an allowlisted host |
//! | `svg-animate` | `<animate>`/`<set>`/... targeting `href`/`xlink:href`/`src`/`on*`, or animating to a script or `data:` URL |
//! | `svg-use-external` | `<use href>` that is not a `#fragment` |
//! | `svg-foreign-object` | `<foreignObject>` (with content) |
//! | `mathml-maction` | `<maction>` (with content) |
//! | `form-action` | `action`/`formaction` to another origin (absolute or protocol-relative) |
//! | `srcdoc` | `srcdoc` attribute |
//! | `css-expression`, `css-script-url`, `css-binding`, `css-import` | dangerous CSS (`expression()`, script URLs, `-moz-binding`/`behavior`, `@import` of a non-allowlisted host) after decoding CSS escapes and comments: `style` attribute dropped, `<style>` element emptied |
//! | `conditional-comment` | `<!--[if ...]>` and `<![if ...]>` comments |
//! | `noscript-breakout`, `noscript-nesting` | `<noscript>` content (raw text for a scripting browser, markup for a non-scripting one) is sanitized as markup too; it is dropped if it would then close the element or nests too deeply |
//! | `unremovable-attribute` | element removed because a dangerous attribute could not be removed on its own |
//! | `unfinished-tag` | the input ended inside a start tag: dropped, so markup appended later cannot complete it |
//! | `parse-error` | lol_html met markup it cannot parse unambiguously (strict mode, e.g. `<select><xmp>`), or an `<svg>` or `<math>` inside another (`<svg><svg><i><![CDATA[…`), or an HTML start tag that leaves SVG/MathML inside an SVG/MathML element being removed with its content (`<svg><script><p>`), which lol_html and browsers parse differently (or would, once the content is gone): fail closed, the output stops before the last start tag or comment seen before that point |
//!
//! URL checks decode character references (`&#106;`, `&#x6A`, `&colon;`, `&Tab;`,
//! `&NewLine;`, ...) and squeeze out whitespace and control characters before reading
//! the scheme, case-insensitively.
//!
//! Removed elements and conditional comments are replaced by an empty comment
//! (`<!---->`), so that text on both sides of a removed element can never join into
//! new markup (`<<script></script>img onerror=...>`). A removed element never takes the
//! structure around it along, so a browser reads the rest of the output in the context
//! the sanitizer read it in: an ancestor's end tag that closed it implicitly stays
//! (`<svg><script>…</svg>`), and inside `<svg>`/`<math>` an element that ends foreign
//! content for a browser (`<meta>`, `<embed>`, `<p>`, ...) is replaced by `<span></span>`,
//! which ends it too.
//!
//! Findings about the content of a removed element (an `<iframe>` inside a removed
//! `<foreignObject>`) are reported too.

#![deny(missing_docs)]

mod css;
mod entities;
mod rewrite;
mod urls;
mod verify;

use std::fmt;
use std::str::FromStr;
use std::sync::{Arc, Mutex, PoisonError};

use lol_html::send::{HtmlRewriter, SendHandlerTypes};

pub use verify::verify;

/// What kind of document is being previewed, which decides how inline scripts are
/// treated.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum Mode {
    /// A static page: no inline script at all. External scripts from allowlisted hosts
    /// (e.g. the Tailwind CDN) are kept.
    #[default]
    Static,
    /// An application (React, Vue, ... output): inline scripts are kept, including
    /// `type="module"` and `type="text/babel"`; containment then relies on the preview
    /// sandbox and its CSP. Everything else is neutralised as in [`Mode::Static`].
    App,
}

impl Mode {
    /// The name of the mode, as accepted by [`Mode::from_str`].
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Static => "static",
            Mode::App => "app",
        }
    }
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The error of [`Mode::from_str`]: the text was not one of the allowed values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseModeError {
    input: String,
}

impl fmt::Display for ParseModeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "unknown sanitizer mode {:?}: expected one of \"static\", \"app\"", self.input)
    }
}

impl std::error::Error for ParseModeError {}

impl FromStr for Mode {
    type Err = ParseModeError;

    /// Parses `"static"` or `"app"` (ASCII case-insensitive, surrounding whitespace
    /// ignored).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        if t.eq_ignore_ascii_case("static") {
            Ok(Mode::Static)
        } else if t.eq_ignore_ascii_case("app") {
            Ok(Mode::App)
        } else {
            Err(ParseModeError { input: s.to_string() })
        }
    }
}

/// Hosts from which external resources are kept by default: `<script src>` (https
/// only), `<link rel=stylesheet|preconnect|preload|...>`, and CSS `@import`.
///
/// These are the CDNs generated front-end code commonly uses (Tailwind Play CDN,
/// npm CDNs, cdnjs, Google Fonts). Note that the npm CDNs serve any published
/// package, so the allowlist is a policy, not a containment boundary: that is the
/// preview sandbox's job.
pub const DEFAULT_SCRIPT_HOSTS: &[&str] = &[
    "cdn.tailwindcss.com",
    "unpkg.com",
    "cdn.jsdelivr.net",
    "cdnjs.cloudflare.com",
    "fonts.googleapis.com",
    "fonts.gstatic.com",
];

/// What to keep: the [`Mode`] and the allowlisted hosts for external resources.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    /// How inline scripts are treated.
    pub mode: Mode,
    /// Hosts (exact, case-insensitive match; no wildcards, no ports) from which
    /// external scripts, stylesheets and other fetching `<link>`s are kept.
    pub script_hosts: Vec<String>,
}

impl Policy {
    /// A policy with the given mode and [`DEFAULT_SCRIPT_HOSTS`].
    pub fn new(mode: Mode) -> Self {
        Policy { mode, script_hosts: DEFAULT_SCRIPT_HOSTS.iter().map(|h| h.to_string()).collect() }
    }
}

impl Policy {
    /// The allowlisted hosts as the checks compare them: trimmed, lowercased, non-empty.
    pub(crate) fn lowercase_hosts(&self) -> Vec<String> {
        self.script_hosts.iter().map(|h| h.trim().to_ascii_lowercase()).filter(|h| !h.is_empty()).collect()
    }
}

impl Default for Policy {
    /// [`Mode::Static`] with [`DEFAULT_SCRIPT_HOSTS`].
    fn default() -> Self {
        Policy::new(Mode::Static)
    }
}

/// One thing that was removed or changed, and why.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Finding {
    /// Kebab-case name of the rule that fired, e.g. `script-inline`,
    /// `event-handler`, `javascript-url`, `iframe`.
    pub rule: &'static str,
    /// What was removed and why, for a human.
    pub message: String,
    /// Byte offset in the input of the element, attribute, comment or text the finding
    /// is about, when known.
    pub offset: Option<u64>,
}

/// The result of sanitizing a document.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Sanitized {
    /// The sanitized HTML; empty when [`blocked`](Self::blocked).
    pub text: String,
    /// Everything that was removed or changed, in document order, followed by the
    /// `second-line` findings when blocked.
    pub findings: Vec<Finding>,
    /// Why the output must not be used at all: the second line ([`verify`]) found a
    /// script-capable construct in the first line's output.
    pub blocked: Option<String>,
}

/// Sanitizes a whole document: the first line as one [`StreamSanitizer::push`] of
/// `html` followed by [`StreamSanitizer::finish`], then the second line ([`verify`]) on
/// the result, which blocks it if anything is found.
pub fn sanitize(html: &str, policy: &Policy) -> Sanitized {
    let first_line = first_line_only(html, policy);
    let second_line = verify(&first_line.text, policy);
    conclude(first_line, second_line)
}

/// The first line alone, without the second line's check: for benchmarks that price
/// the second line. Never use its output as safe.
#[doc(hidden)]
pub fn first_line_only(html: &str, policy: &Policy) -> Sanitized {
    sanitize_with(html, Arc::new(rewrite::Config::new(policy, 0)))
}

/// The first line alone, on a whole document.
pub(crate) fn sanitize_with(html: &str, config: Arc<rewrite::Config>) -> Sanitized {
    let mut stream = StreamSanitizer::with_config(config);
    let mut text = stream.push_first_line(html);
    let rest = stream.finish_first_line();
    text.push_str(&rest.text);
    Sanitized { text, ..rest }
}

/// Fails closed: a first-line result `end` with `second_line` findings (of [`verify`] on
/// everything the first line emitted) is blocked, its text withheld.
pub(crate) fn conclude(mut end: Sanitized, second_line: Vec<Finding>) -> Sanitized {
    if let Some(first) = second_line.first() {
        let more = match second_line.len() {
            1 => String::new(),
            n => format!(" (and {} more)", n - 1),
        };
        end.blocked = Some(format!("{}{more}; the page was withheld", first.message));
        end.text.clear();
        end.findings.extend(second_line);
    }
    end
}

/// The rewriter's output, collected by [`Sink`] and handed out by
/// [`StreamSanitizer::push`].
#[derive(Debug, Default)]
pub(crate) struct Output {
    /// Bytes not handed out yet.
    buf: Vec<u8>,
    /// Bytes ever written by the rewriter.
    written: usize,
    /// Bytes handed out (or dropped) so far: `buf` starts there.
    released: usize,
    /// `written` when the last start tag or comment reached a handler: everything
    /// before it is final and independent of how the input was chunked.
    mark: usize,
}

impl Output {
    /// Called by the handlers of start tags and comments (see [`Output::mark`]).
    pub(crate) fn set_mark(&mut self) {
        self.mark = self.written;
    }
}

/// The output sink of the rewriter.
struct Sink(Arc<Mutex<Output>>);

impl lol_html::OutputSink for Sink {
    fn handle_chunk(&mut self, chunk: &[u8]) {
        let mut out = lock(&self.0);
        out.buf.extend_from_slice(chunk);
        out.written += chunk.len();
    }
}

pub(crate) fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Sanitizes a document that arrives in chunks (an LLM streaming code).
///
/// [`push`](Self::push) returns the sanitized text that is final so far: everything
/// before the last start tag or comment seen. The rest is held back (an unfinished
/// tag, the text of a `<style>` element until it is complete, text after the last tag)
/// until later input or [`finish`](Self::finish) decides it. For any split of an
/// input, the concatenation of all `push` outputs and of `finish`'s text equals
/// [`sanitize`]'s text for the whole input, and the findings are equal (in order).
///
/// Streamed chunks are first-line only: the second line ([`verify`]) needs the whole
/// page, so [`finish`](Self::finish) runs it on everything emitted and, if it finds
/// anything, withholds the tail and sets [`Sanitized::blocked`]. The caller must then
/// discard what it has already passed on (as [`sanitize`] returns no text at all).
pub struct StreamSanitizer {
    rewriter: Option<HtmlRewriter<'static, Sink>>,
    config: Arc<rewrite::Config>,
    /// Everything [`push`](Self::push) returned, for the second line.
    emitted: String,
    output: Arc<Mutex<Output>>,
    state: Arc<Mutex<rewrite::State>>,
    /// Trailing bytes of the output that do not form a complete UTF-8 sequence yet.
    pending: Vec<u8>,
    /// Input bytes pushed so far.
    consumed: u64,
}

impl StreamSanitizer {
    /// A sanitizer for one document under `policy`.
    pub fn new(policy: &Policy) -> Self {
        Self::with_config(Arc::new(rewrite::Config::new(policy, 0)))
    }

    fn with_config(config: Arc<rewrite::Config>) -> Self {
        let output = Arc::new(Mutex::new(Output::default()));
        let state = Arc::new(Mutex::new(rewrite::State::default()));
        let settings = rewrite::settings(config.clone(), state.clone(), output.clone());
        let rewriter = HtmlRewriter::new(settings, Sink(output.clone()));
        StreamSanitizer {
            rewriter: Some(rewriter),
            config,
            emitted: String::new(),
            output,
            state,
            pending: Vec::new(),
            consumed: 0,
        }
    }

    /// Feeds the next chunk and returns the sanitized text that is final so far (may be
    /// empty while the rewriter holds back undecided bytes).
    pub fn push(&mut self, chunk: &str) -> String {
        let text = self.push_first_line(chunk);
        self.emitted.push_str(&text);
        text
    }

    /// Ends the document: returns the remaining text and all findings of the stream,
    /// blocked (no text) if the second line finds anything in the whole output.
    pub fn finish(mut self) -> Sanitized {
        let mut emitted = std::mem::take(&mut self.emitted);
        let policy = self.config.policy().clone();
        let end = self.finish_first_line();
        emitted.push_str(&end.text);
        conclude(end, verify(&emitted, &policy))
    }

    /// [`push`](Self::push) without keeping a copy for the second line.
    fn push_first_line(&mut self, chunk: &str) -> String {
        self.consumed += chunk.len() as u64;
        if let Some(rewriter) = self.rewriter.as_mut()
            && let Err(e) = rewriter.write(chunk.as_bytes())
        {
            self.rewriter = None;
            self.fail(&e);
        }
        self.take_output(false)
    }

    /// [`finish`](Self::finish) without the second line.
    fn finish_first_line(mut self) -> Sanitized {
        if let Some(rewriter) = self.rewriter.take() {
            // What `end` emits is the tail the rewriter held back to the end (an
            // unfinished token, the text of an unclosed element).
            let before = lock(&self.output).buf.len();
            match rewriter.end() {
                Err(e) => self.fail(&e),
                Ok(()) => self.drop_unfinished_tag(before),
            }
        }
        let text = self.take_output(true);
        let findings = std::mem::take(&mut lock(&self.state).findings);
        Sanitized { text, findings, blocked: None }
    }

    /// A document that ends inside a start tag (an LLM output cut off mid-tag) comes
    /// out of lol_html verbatim. Browsers drop such a tag at the end of the input, but
    /// markup appended after the sanitized text (a wrapper's `</body>`) would complete
    /// it, attributes and all: drop it here.
    fn drop_unfinished_tag(&mut self, tail_start: usize) {
        let mut out = lock(&self.output);
        let tail = &out.buf[tail_start..];
        let Some(at) = unfinished_tag_start(tail) else {
            return;
        };
        let dropped = tail.len() - at;
        let shown: String = String::from_utf8_lossy(&tail[at..]).chars().take(60).collect();
        out.buf.truncate(tail_start + at);
        drop(out);
        lock(&self.state).findings.push(Finding {
            rule: "unfinished-tag",
            message: format!(
                "removed an unfinished start tag at the end of the input ({shown:?}): \
                 markup appended after the output could complete it"
            ),
            offset: self.consumed.checked_sub(dropped as u64),
        });
    }

    /// Fails closed: the output stops before the last start tag or comment that reached
    /// a handler (a point that does not depend on chunking), nothing after is emitted.
    fn fail(&mut self, error: &lol_html::errors::RewritingError) {
        let reason = match error {
            lol_html::errors::RewritingError::ParsingAmbiguity(e) => {
                // The first sentence of lol_html's message names the tag.
                let full = e.to_string();
                full.split(". ").next().unwrap_or(&full).to_string()
            }
            other => other.to_string(),
        };
        {
            let mut out = lock(&self.output);
            let keep = out.mark.saturating_sub(out.released);
            out.buf.truncate(keep);
        }
        lock(&self.state).findings.push(Finding {
            rule: "parse-error",
            message: format!(
                "the HTML could not be parsed safely ({reason}); \
                 the rest of the document was dropped"
            ),
            offset: None,
        });
    }

    /// Takes the final part of the output (all of it if `last`), keeping an incomplete
    /// trailing UTF-8 sequence back unless `last`.
    fn take_output(&mut self, last: bool) -> String {
        let mut bytes = std::mem::take(&mut self.pending);
        {
            let mut out = lock(&self.output);
            let n = if last { out.buf.len() } else { out.mark.saturating_sub(out.released).min(out.buf.len()) };
            bytes.extend(out.buf.drain(..n));
            out.released += n;
        }
        let keep_from = match std::str::from_utf8(&bytes) {
            Ok(_) => bytes.len(),
            Err(e) if e.error_len().is_none() && !last => e.valid_up_to(),
            Err(_) => bytes.len(),
        };
        self.pending = bytes.split_off(keep_from);
        match String::from_utf8(bytes) {
            Ok(s) => s,
            // Unreachable in practice: the input is a `str` and every insertion is a
            // `str`. Stay total anyway.
            Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
        }
    }
}

impl fmt::Debug for StreamSanitizer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StreamSanitizer")
            .field("failed", &self.rewriter.is_none())
            .field("held", &lock(&self.output).buf.len())
            .finish_non_exhaustive()
    }
}

/// Where an unfinished start tag begins in `tail` (the bytes the rewriter emitted at
/// the end of the input), if the tail ends inside one.
///
/// This is not a parser: lol_html already decided what the tail is. It only follows
/// the start-tag states of the HTML tokenizer (tag name, attributes, quoted values) to
/// tell whether a `<` + letter in the tail is closed by a `>`. Where it could disagree
/// with the tokenizer (a quote after `=` that does not open a value), it errs towards
/// "unfinished", that is towards dropping.
fn unfinished_tag_start(tail: &[u8]) -> Option<usize> {
    let ws = |b: u8| matches!(b, b' ' | b'\t' | b'\n' | b'\r' | b'\x0c');
    let mut i = 0;
    while i < tail.len() {
        if tail[i] != b'<' || !tail.get(i + 1).is_some_and(u8::is_ascii_alphabetic) {
            i += 1;
            continue;
        }
        // Tag name.
        let mut k = i + 1;
        while k < tail.len() && !ws(tail[k]) && !matches!(tail[k], b'/' | b'>') {
            k += 1;
        }
        // Attributes, up to the closing `>`.
        loop {
            match tail.get(k) {
                None => return Some(i),
                Some(b'>') => break,
                Some(b'=') => {
                    k += 1;
                    while tail.get(k).is_some_and(|b| ws(*b)) {
                        k += 1;
                    }
                    if let Some(&q @ (b'"' | b'\'')) = tail.get(k) {
                        match tail[k + 1..].iter().position(|b| *b == q) {
                            Some(len) => k += len + 2,
                            None => return Some(i),
                        }
                    }
                }
                Some(_) => k += 1,
            }
        }
        i = k + 1;
    }
    None
}

#[allow(dead_code)]
fn assert_send() {
    fn is_send<T: Send>() {}
    is_send::<StreamSanitizer>();
    let _ = std::marker::PhantomData::<SendHandlerTypes>;
}

#[cfg(test)]
mod tests {
    use super::{Finding, Sanitized, conclude, unfinished_tag_start};

    #[test]
    fn second_line_findings_withhold_the_page() {
        let first_line = || Sanitized {
            text: "<p>page</p>".into(),
            findings: vec![Finding { rule: "event-handler", message: "removed onclick".into(), offset: Some(3) }],
            blocked: None,
        };
        assert_eq!(conclude(first_line(), Vec::new()), first_line());
        let found =
            |construct: &str| Finding { rule: "second-line", message: format!("found {construct}"), offset: None };
        let end = conclude(first_line(), vec![found("<base>"), found("<embed>")]);
        assert_eq!(end.text, "");
        assert_eq!(end.blocked.as_deref(), Some("found <base> (and 1 more); the page was withheld"));
        let rules: Vec<&str> = end.findings.iter().map(|f| f.rule).collect();
        assert_eq!(rules, ["event-handler", "second-line", "second-line"]);
    }

    #[test]
    fn unfinished_tags() {
        let f = |s: &str| unfinished_tag_start(s.as_bytes());
        assert_eq!(f("<svg onload=alert(1)//"), Some(0));
        assert_eq!(f("text <img title=\"a>b\" onerror=x"), Some(5));
        assert_eq!(f("<img title='<b>"), Some(0));
        assert_eq!(f("<p>ok</p><div class=\"x"), Some(9));
        assert_eq!(f("<p>ok</p>"), None);
        assert_eq!(f("a < b, a<1, </di"), None);
        assert_eq!(f("<!-- <b"), Some(5));
        assert_eq!(f(""), None);
    }
}
