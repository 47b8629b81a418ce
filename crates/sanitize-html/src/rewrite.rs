//! The lol_html handlers that do the work.

use std::borrow::Cow;
use std::sync::{Arc, Mutex};

use lol_html::html_content::{Comment, ContentType, TextChunk, TextType};
use lol_html::send::{DocumentContentHandlers, Element, ElementContentHandlers, Settings};
use lol_html::{HandlerResult, Selector};

use crate::urls::{self, UrlAttribute, UrlKind};
use crate::{Finding, Mode, Output, Policy, css, entities, lock};

/// What replaces a removed element or conditional comment: an empty comment, so text
/// on both sides can never join into new markup.
const REMOVED: &str = "<!---->";

/// What replaces a removed element that leaves SVG or MathML content (see
/// [`remove_element`]): an element that leaves it too, and is nothing.
const REMOVED_BREAKOUT: &str = "<span></span>";

/// Start tags that leave SVG and MathML content in a browser (`<font>` is decided by its
/// attributes, see [`breaks_out_of_foreign_content`]).
const BREAKOUT_ELEMENTS: &[&str] = &[
    "b",
    "big",
    "blockquote",
    "body",
    "br",
    "center",
    "code",
    "dd",
    "div",
    "dl",
    "dt",
    "em",
    "embed",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "head",
    "hr",
    "i",
    "img",
    "li",
    "listing",
    "menu",
    "meta",
    "nobr",
    "ol",
    "p",
    "pre",
    "ruby",
    "s",
    "small",
    "span",
    "strong",
    "strike",
    "sub",
    "sup",
    "table",
    "tt",
    "u",
    "ul",
    "var",
];

/// How deep `<noscript>` contents are sanitized recursively before they are dropped.
const MAX_NOSCRIPT_DEPTH: u32 = 4;

const HTML_NS: &str = "http://www.w3.org/1999/xhtml";
const SVG_NS: &str = "http://www.w3.org/2000/svg";

/// The immutable settings of one rewriter.
#[derive(Debug)]
pub(crate) struct Config {
    mode: Mode,
    /// Lowercased allowlisted hosts.
    hosts: Vec<String>,
    /// `<noscript>` nesting depth of this rewriter (0 for the document itself).
    depth: u32,
    /// The policy, for nested rewriters and the second line.
    policy: Policy,
}

impl Config {
    pub(crate) fn new(policy: &Policy, depth: u32) -> Self {
        Config { mode: policy.mode, hosts: policy.lowercase_hosts(), depth, policy: policy.clone() }
    }

    /// The policy this rewriter applies.
    pub(crate) fn policy(&self) -> &Policy {
        &self.policy
    }
}

/// A text node being collected across chunks.
#[derive(Debug, Default)]
struct TextBuf {
    text: String,
    start: Option<u64>,
    /// Whether some chunk of the node was already removed from the output.
    held: bool,
}

impl TextBuf {
    /// Adds `chunk`. Returns `None` while the node is incomplete (the chunk is then
    /// removed from the output), or the whole node and its start offset.
    fn collect(&mut self, chunk: &mut TextChunk<'_>) -> Option<(String, u64, bool)> {
        if self.start.is_none() {
            self.start = Some(chunk.source_location().bytes().start as u64);
        }
        self.text.push_str(chunk.as_str());
        if chunk.last_in_text_node() {
            let held = std::mem::take(&mut self.held);
            let start = self.start.take().unwrap_or(0);
            Some((std::mem::take(&mut self.text), start, held))
        } else {
            chunk.remove();
            self.held = true;
            None
        }
    }
}

/// A kept external script whose inline content is being removed (static mode).
#[derive(Debug)]
struct ClearScript {
    offset: u64,
    buf: TextBuf,
}

/// The mutable state shared by the handlers of one rewriter.
#[derive(Debug, Default)]
pub(crate) struct State {
    pub(crate) findings: Vec<Finding>,
    clear_script: Option<ClearScript>,
    style: TextBuf,
    noscript: TextBuf,
    /// Open `<svg>` and `<math>` elements, innermost last (see [`foreign_root`]).
    foreign: Vec<&'static str>,
    /// Open elements whose text a text handler reads, innermost last (see [`TextOwner`]).
    text_owners: Vec<TextOwner>,
    /// Open SVG/MathML elements being removed with their content (see [`on_element`]).
    removed_foreign: u32,
    /// An SVG/MathML element removed with its content has just ended: the next start tag
    /// must still be in foreign content (see [`on_element`]).
    after_removed_foreign: bool,
}

/// An element whose text one of the text handlers reads.
///
/// A text handler sees the text of every descendant of the elements its selector
/// matches, and its replacement of a chunk overwrites another handler's: in
/// `<svg><noscript><p><style>…` (a breakout leaves the SVG `<noscript>` open for
/// lol_html) the `<noscript>` handler wrote back the CSS the `<style>` handler had
/// removed (found by fuzzing). So a chunk belongs to the innermost of these elements only.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TextOwner {
    Style,
    /// `html`: raw text, the element a scripting browser reads; in SVG or MathML its
    /// content is markup that the other handlers see.
    Noscript {
        html: bool,
    },
    Script,
}

impl State {
    /// Whether the text being read is `owner`'s own.
    fn text_owned_by(&self, owner: TextOwner) -> bool {
        self.text_owners.last() == Some(&owner)
    }
}

/// Follows the elements whose text the text handlers read (see [`TextOwner`]).
fn track_text_owner(el: &mut Element<'_, '_>, owner: TextOwner, state: &Arc<Mutex<State>>) -> HandlerResult {
    if !el.can_have_content() {
        return Ok(());
    }
    lock(state).text_owners.push(owner);
    let state = state.clone();
    el.on_end_tag(Box::new(move |_| {
        let mut st = lock(&state);
        if let Some(at) = st.text_owners.iter().rposition(|open| *open == owner) {
            st.text_owners.truncate(at);
        }
        Ok(())
    }))
}

fn selector(s: &str) -> Cow<'static, Selector> {
    Cow::Owned(s.parse().expect("static selector is valid"))
}

/// Builds the rewriter settings.
pub(crate) fn settings(
    config: Arc<Config>,
    state: Arc<Mutex<State>>,
    output: Arc<Mutex<Output>>,
) -> Settings<'static, 'static> {
    // Fail closed on markup lol_html cannot parse unambiguously.
    let mut settings = Settings::new_send().with_strict(true);

    let (c, s, o) = (config.clone(), state.clone(), output.clone());
    settings = settings.append_element_content_handler((
        selector("*"),
        ElementContentHandlers::default().element(move |el: &mut Element<'_, '_>| {
            lock(&o).set_mark();
            on_element(el, &c, &s)
        }),
    ));

    let (c, s) = (config.clone(), state.clone());
    settings = settings.append_element_content_handler((
        selector("style"),
        ElementContentHandlers::default().text(move |t: &mut TextChunk<'_>| on_style_text(t, &c, &s)),
    ));

    let (c, s) = (config.clone(), state.clone());
    settings = settings.append_element_content_handler((
        selector("noscript"),
        ElementContentHandlers::default().text(move |t: &mut TextChunk<'_>| on_noscript_text(t, &c, &s)),
    ));

    if config.mode == Mode::Static {
        let s = state.clone();
        settings = settings.append_element_content_handler((
            selector("script"),
            ElementContentHandlers::default().text(move |t: &mut TextChunk<'_>| on_script_text(t, &s)),
        ));
    }

    let (s, o) = (state, output);
    settings.append_document_content_handler(DocumentContentHandlers::default().comments(move |c: &mut Comment<'_>| {
        lock(&o).set_mark();
        on_comment(c, &s)
    }))
}

/// Shortens a value for a message and escapes control characters.
pub(crate) fn show(value: &str) -> String {
    let clipped: String = if value.chars().count() > 60 {
        value.chars().take(57).chain("...".chars()).collect()
    } else {
        value.to_string()
    };
    format!("{clipped:?}")
}

fn finding(rule: &'static str, message: String, offset: u64) -> Finding {
    Finding { rule, message, offset: Some(offset) }
}

/// Elements removed with their content, with the rule and the reason.
pub(crate) fn removed_element(tag: &str) -> Option<(&'static str, &'static str)> {
    Some(match tag {
        "iframe" | "frame" | "frameset" | "portal" | "fencedframe" => {
            ("iframe", "frames load and run other documents (including `srcdoc`)")
        }
        "object" | "embed" | "applet" => ("plugin", "plugin content can run script"),
        "base" => ("base", "`<base>` redirects every relative URL (and script) of the page"),
        "foreignobject" => ("svg-foreign-object", "`<foreignObject>` embeds HTML inside SVG, a common filter bypass"),
        "maction" => ("mathml-maction", "`<maction>` is a MathML script/navigation vector"),
        _ => return None,
    })
}

/// `http-equiv` values that are harmless (a meta CSP can only add restrictions).
const HARMLESS_HTTP_EQUIV: &[&str] = &[
    "content-type",
    "content-language",
    "x-ua-compatible",
    "content-security-policy",
    "default-style",
    "x-dns-prefetch-control",
];

/// `<link rel>` values that make the browser fetch (or connect to) the `href`.
const FETCHING_RELS: &[&str] = &[
    "stylesheet",
    "preload",
    "modulepreload",
    "prefetch",
    "prerender",
    "preconnect",
    "dns-prefetch",
    "manifest",
    "serviceworker",
    "compression-dictionary",
];

/// SVG animation elements (lowercased).
pub(crate) const ANIMATION_ELEMENTS: &[&str] = &["animate", "set", "animatetransform", "animatemotion", "animatecolor"];

fn rel_tokens(el: &Element<'_, '_>) -> Vec<String> {
    el.get_attribute("rel")
        .map(|r| entities::decode(&r).to_ascii_lowercase().split_ascii_whitespace().map(str::to_string).collect())
        .unwrap_or_default()
}

/// Whether a raster `data:image/*` URL is fine in this attribute of this element.
fn data_image_allowed(el: &Element<'_, '_>, tag: &str, attr: &str) -> bool {
    let rel = el.get_attribute("rel").map(|r| entities::decode(&r).into_owned());
    urls::data_image_allowed(tag, attr, el.namespace_uri() == SVG_NS, rel.as_deref())
}

fn on_element(el: &mut Element<'_, '_>, config: &Config, state: &Arc<Mutex<State>>) -> HandlerResult {
    let tag = el.tag_name();
    let offset = el.source_location().bytes().start as u64;
    let mut found = Vec::new();
    match tag.as_str() {
        "svg" => foreign_root(el, "svg", state)?,
        "math" => foreign_root(el, "math", state)?,
        "style" => track_text_owner(el, TextOwner::Style, state)?,
        "script" => track_text_owner(el, TextOwner::Script, state)?,
        "noscript" => track_text_owner(el, TextOwner::Noscript { html: el.namespace_uri() == HTML_NS }, state)?,
        // In a MathML text integration point (`<mi>`, `<mtext>`, ...) every start tag is
        // HTML except these two, which stay MathML in a browser — and make a following
        // `<style>` MathML markup instead of raw text (`<math><mtext><mglyph><style><img
        // onerror=…>`). lol_html takes them for HTML; fail closed.
        "mglyph" | "malignmark" if el.namespace_uri() == HTML_NS && lock(state).foreign.contains(&"math") => {
            return Err(format!("<{tag}> inside <math> is parsed differently by browsers").into());
        }
        _ => {}
    }
    let (left_foreign, inside_removed_foreign) = {
        let mut st = lock(state);
        (std::mem::take(&mut st.after_removed_foreign), st.removed_foreign > 0)
    };
    // The content of a removed SVG/MathML element left foreign content for lol_html (an end
    // tag like `</p>` or `</br>` does, unseen by any handler): what follows was read as
    // HTML, but without that content a browser reads it as SVG (`<svg><script></p>
    // </script><style><img onerror=…>`; found by fuzzing). Fail closed.
    if left_foreign && el.namespace_uri() == HTML_NS && !breaks_out_of_foreign_content(el) && !is_integration_point(el)
    {
        return Err(format!("<{tag}> after a removed SVG/MathML element would be parsed differently without it").into());
    }
    if inside_removed_foreign {
        // An HTML start tag that leaves SVG/MathML inside an element removed with its
        // content (`<svg><script><p>…</script><script>`): what follows was read as HTML,
        // but without the removed content a browser would still read it as SVG (found by
        // fuzzing). Fail closed.
        if breaks_out_of_foreign_content(el) {
            return Err(
                format!("<{tag}> inside a removed SVG/MathML element would be parsed differently without it").into()
            );
        }
        if is_integration_point(el) {
            closed_by_own_end_tag(el);
        }
    }

    let drop = |el: &mut Element<'_, '_>, found: &mut Vec<Finding>, rule, why: String| {
        let what = if el.can_have_content() {
            format!("removed <{tag}> element and its content: {why}")
        } else {
            format!("removed <{tag}> element: {why}")
        };
        remove_element(el, state);
        found.push(finding(rule, what, offset));
    };

    if let Some((rule, why)) = removed_element(&tag) {
        drop(el, &mut found, rule, why.to_string());
    } else {
        match tag.as_str() {
            "script" => on_script(el, config, state, &mut found, &drop, offset),
            "meta" => {
                if let Some(v) = el.get_attribute("http-equiv") {
                    let v = entities::decode(&v).trim().to_ascii_lowercase();
                    if v == "refresh" {
                        drop(
                            el,
                            &mut found,
                            "meta-refresh",
                            "`<meta http-equiv=refresh>` navigates the preview (possibly to a script URL)".to_string(),
                        );
                    } else if !HARMLESS_HTTP_EQUIV.contains(&v.as_str()) {
                        drop(
                            el,
                            &mut found,
                            "meta-http-equiv",
                            format!("`http-equiv={}` overrides response headers", show(&v)),
                        );
                    }
                }
            }
            "link" => {
                let rels = rel_tokens(el);
                if rels.iter().any(|r| r == "import") {
                    drop(el, &mut found, "link-import", "HTML imports load and run another document".to_string());
                } else if rels.iter().any(|r| FETCHING_RELS.contains(&r.as_str()))
                    && let Some(href) = el.get_attribute("href")
                {
                    let d = entities::decode(&href);
                    let kind = urls::classify(&d);
                    if matches!(kind, UrlKind::Absolute | UrlKind::ProtocolRelative)
                        && !urls::https_on_hosts(&d, &config.hosts)
                    {
                        drop(
                            el,
                            &mut found,
                            "link-external",
                            format!(
                                "rel={} to {} is not https on an allowlisted host",
                                show(&rels.join(" ")),
                                show(&d)
                            ),
                        );
                    }
                }
            }
            t if ANIMATION_ELEMENTS.contains(&t) => {
                if let Some(why) =
                    dangerous_animation(|n| el.get_attribute(n).map(|v| entities::decode(&v).into_owned()))
                {
                    drop(el, &mut found, "svg-animate", why);
                }
            }
            _ => {}
        }
    }

    if !el.removed() {
        on_attributes(el, &tag, offset, state, &mut found);
    }
    if !found.is_empty() {
        lock(state).findings.append(&mut found);
    }
    Ok(())
}

/// Replaces `el` and its content with [`REMOVED`], or, inside `<svg>` or `<math>`, an
/// element that leaves foreign content with [`REMOVED_BREAKOUT`].
///
/// An HTML element like `<meta>` or `<p>` inside SVG ends the SVG for a browser (and for
/// lol_html), so what follows was read as HTML; without it, a browser would read it as
/// SVG: `<svg><meta http-equiv=refresh …><style><img onerror=…>` would become
/// `<svg><!----><style>…`, where the `<style>` holds markup and the `<img>` is live
/// (found by fuzzing). The replacement leaves foreign content the same way.
///
/// lol_html also removes the end tag that closes the element, and for an element without
/// an end tag of its own, that is an ancestor's: in `<svg><script>…</svg><style><img
/// onerror=…>` the `</svg>` would go, so a browser would still be in SVG, where the
/// `<style>` holds markup and the `<img>` breaks out live, while the rewriter had read
/// the `<style>` as raw text (found by fuzzing). So an ancestor's end tag is written back.
/// If the ancestor is removed too, its own end tag handler runs after this one (lol_html
/// runs them innermost first) and removes the tag again.
fn remove_element(el: &mut Element<'_, '_>, state: &Arc<Mutex<State>>) {
    let foreign_content = {
        let mut st = lock(state);
        let in_foreign = !st.foreign.is_empty();
        let replacement = if in_foreign && breaks_out_of_foreign_content(el) { REMOVED_BREAKOUT } else { REMOVED };
        el.replace(replacement, ContentType::Html);
        let foreign_content = el.can_have_content() && el.namespace_uri() != HTML_NS && !is_integration_point(el);
        if in_foreign && is_integration_point(el) {
            // Its HTML would outlive it for lol_html if another end tag closed it.
            closed_by_own_end_tag(el);
        }
        if foreign_content {
            st.removed_foreign += 1;
        }
        foreign_content
    };
    let tag = el.tag_name();
    let state = state.clone();
    if let Some(handlers) = el.end_tag_handlers() {
        handlers.push(Box::new(move |end| {
            if foreign_content {
                let mut st = lock(&state);
                st.removed_foreign = st.removed_foreign.saturating_sub(1);
                st.after_removed_foreign = true;
            }
            let name = end.name();
            if name != tag {
                end.replace(&format!("</{name}>"), ContentType::Html);
            }
            Ok(())
        }));
    }
}

/// Fails closed unless `el`, an integration point that is removed or inside an SVG/MathML
/// element being removed with its content, ends at its own end tag.
///
/// lol_html leaves the HTML of an integration point only at its end tag, not when the end
/// tag of an ancestor closes it: in `<svg><iframe><foreignObject></iframe><style><img
/// onerror=…>` (a browser ignores that `</iframe>`) the `<style>` was read as HTML raw text,
/// but with the removed `<iframe>`'s content gone a browser reads it as SVG, where the
/// `<img>` is live (found by fuzzing).
fn closed_by_own_end_tag(el: &mut Element<'_, '_>) {
    let tag = el.tag_name();
    if let Some(handlers) = el.end_tag_handlers() {
        handlers.push(Box::new(move |end| {
            let name = end.name();
            if name == tag {
                return Ok(());
            }
            Err(format!(
                "</{name}> closes <{tag}> inside a removed SVG/MathML element, which browsers parse differently"
            )
            .into())
        }));
    }
}

/// Whether `el`, inside SVG or MathML, is an element whose content is HTML (an HTML
/// integration point, a MathML text integration point; lol_html gives it the HTML
/// namespace already), where HTML start tags leave nothing.
fn is_integration_point(el: &Element<'_, '_>) -> bool {
    matches!(
        el.tag_name().as_str(),
        "foreignobject" | "desc" | "title" | "mi" | "mo" | "mn" | "ms" | "mtext" | "annotation-xml"
    )
}

/// Whether a browser leaves SVG or MathML content at `el` (WHATWG HTML, "parsing tokens
/// in foreign content": these start tags, and `<font>` with `color`, `face` or `size`).
fn breaks_out_of_foreign_content(el: &Element<'_, '_>) -> bool {
    let tag = el.tag_name();
    el.namespace_uri() == HTML_NS
        && (BREAKOUT_ELEMENTS.contains(&tag.as_str())
            || tag == "font" && ["color", "face", "size"].iter().any(|a| el.has_attribute(a)))
}

/// Tracks `<svg>` and `<math>` and fails closed when one opens inside another.
///
/// lol_html follows the foreign namespaces one root deep; a browser follows the tree:
/// - inside SVG, `<math>` is just an SVG element (and inside MathML, `<svg>` a MathML
///   one), but lol_html enters the inner namespace. `<svg><math><mtext><style><img
///   onerror=…>`: for lol_html, `<mtext>` is a MathML text integration point and the
///   `<style>` holds raw text; for a browser, the `<style>` is SVG, its content is
///   markup, and the `<img>` breaks out of SVG as a live element;
/// - an HTML element that breaks out of foreign content (`<i>`, `<p>`, `<img>`, …)
///   leaves every open `<svg>` for a browser, but only the innermost for lol_html.
///   `<svg><svg><i><![CDATA[><img onerror=…>`: lol_html still sees SVG and reads a
///   CDATA section holding text; a browser sees HTML, a bogus comment and a live
///   `<img>` (found by fuzzing).
///
/// The rewriter cannot follow the browser there, so the document ends before the inner
/// root (`parse-error`), as for the ambiguities lol_html reports itself.
///
/// The stack follows end tags; an element closed implicitly stays on it, which can only
/// make this check stricter.
fn foreign_root(el: &mut Element<'_, '_>, tag: &'static str, state: &Arc<Mutex<State>>) -> HandlerResult {
    let mut st = lock(state);
    if let Some(outer) = st.foreign.last() {
        return Err(format!("<{tag}> inside <{outer}> is parsed differently by browsers").into());
    }
    if !el.can_have_content() {
        return Ok(());
    }
    st.foreign.push(tag);
    drop(st);
    let state = state.clone();
    el.on_end_tag(Box::new(move |_| {
        let mut st = lock(&state);
        if let Some(at) = st.foreign.iter().rposition(|open| *open == tag) {
            st.foreign.truncate(at);
        }
        st.after_removed_foreign = false;
        Ok(())
    }))
}

type Drop<'a> = dyn Fn(&mut Element<'_, '_>, &mut Vec<Finding>, &'static str, String) + 'a;

fn on_script(
    el: &mut Element<'_, '_>,
    config: &Config,
    state: &Mutex<State>,
    found: &mut Vec<Finding>,
    drop: &Drop<'_>,
    offset: u64,
) {
    // Every script element decides afresh whether its text is being cleared.
    lock(state).clear_script = None;
    if el.namespace_uri() != HTML_NS {
        drop(el, found, "svg-script", "scripts inside SVG/MathML are never needed for a preview".to_string());
        return;
    }
    match el.get_attribute("src") {
        None => {
            if config.mode == Mode::Static {
                drop(el, found, "script-inline", "inline scripts are not allowed in static mode".to_string());
            }
        }
        Some(src) => {
            let d = entities::decode(&src);
            if !urls::https_on_hosts(&d, &config.hosts) {
                drop(el, found, "script-external", format!("src={} is not https on an allowlisted host", show(&d)));
            } else if config.mode == Mode::Static {
                lock(state).clear_script = Some(ClearScript { offset, buf: TextBuf::default() });
            }
        }
    }
}

/// Why an SVG animation element is dangerous, if it is. `attr` gives the decoded value of
/// an attribute by its lowercase name.
pub(crate) fn dangerous_animation(attr: impl Fn(&str) -> Option<String>) -> Option<String> {
    if let Some(name) = attr("attributename") {
        let n = name.trim().to_ascii_lowercase();
        if n.ends_with("href") || n.starts_with("on") || n == "src" {
            return Some(format!("animating attributeName={} can turn a link or handler into script", show(&n)));
        }
    }
    for name in ["values", "to", "from", "by"] {
        if let Some(v) = attr(name) {
            let d: String = v.chars().filter(|c| *c > ' ').collect::<String>().to_ascii_lowercase();
            for scheme in ["javascript:", "vbscript:", "data:"] {
                if d.contains(scheme) {
                    return Some(format!("{name}={} animates to a `{scheme}` URL", show(&v)));
                }
            }
        }
    }
    None
}

/// Why one attribute is dangerous: the rule and the reason.
fn dangerous_attribute(el: &Element<'_, '_>, tag: &str, name: &str, value: &str) -> Option<(&'static str, String)> {
    if name.starts_with("on") {
        return Some(("event-handler", "event handlers run script".to_string()));
    }
    if name == "srcdoc" {
        return Some(("srcdoc", "`srcdoc` embeds a whole document".to_string()));
    }
    if name == "style" {
        let decoded = entities::decode(value);
        return css::check(&decoded, &[]).map(|t| (t.rule, format!("the CSS contains {}", t.what)));
    }
    let kind = UrlAttribute::of(name)?;
    let decoded = entities::decode(value);
    for url in kind.urls(&decoded) {
        match urls::classify(url) {
            UrlKind::Script => {
                return Some(("javascript-url", "script URLs (javascript:, vbscript:) run script".to_string()));
            }
            UrlKind::DataImage if data_image_allowed(el, tag, name) => {}
            UrlKind::DataImage | UrlKind::Data => {
                return Some((
                    "data-url",
                    "`data:` URLs can carry documents and scripts (only raster images in image \
                     attributes are kept)"
                        .to_string(),
                ));
            }
            UrlKind::Absolute | UrlKind::ProtocolRelative if name == "action" || name == "formaction" => {
                return Some(("form-action", "forms must not submit to another origin".to_string()));
            }
            _ => {}
        }
    }
    if tag == "use" && (name == "href" || name == "xlink:href") && !decoded.trim().starts_with('#') {
        return Some(("svg-use-external", "`<use>` may only reference a `#fragment` of the same document".to_string()));
    }
    None
}

fn on_attributes(
    el: &mut Element<'_, '_>,
    tag: &str,
    offset: u64,
    state: &Arc<Mutex<State>>,
    found: &mut Vec<Finding>,
) {
    let mut remove: Vec<String> = Vec::new();
    for attr in el.attributes() {
        let name = attr.name();
        let value = attr.value();
        if let Some((rule, why)) = dangerous_attribute(el, tag, &name, &value) {
            let at = attr.name_source_location().map_or(offset, |l| l.bytes().start as u64);
            found.push(finding(rule, format!("removed attribute {name}={} from <{tag}>: {why}", show(&value)), at));
            if !remove.contains(&name) {
                remove.push(name);
            }
        }
    }
    if remove.is_empty() {
        return;
    }
    for name in &remove {
        el.remove_attribute(name);
    }
    // lol_html cannot remove attributes whose names it would not accept for
    // `set_attribute` (e.g. a leading `=`); never leave one behind. And a changed tag is
    // written out again with a space before each attribute: an attribute whose name
    // starts with `=` (`<img a /="…` reads as `a` and `="…`) would then become the value
    // of the one before it (`a ="…`), so a browser would split the rest of the page
    // differently (found by fuzzing). Either way the element goes.
    let left_behind = el.attributes().iter().any(|a| remove.contains(&a.name()) || a.name().starts_with('='));
    if left_behind {
        remove_element(el, state);
        found.push(finding(
            "unremovable-attribute",
            format!("removed <{tag}> element: a dangerous attribute could not be removed on its own"),
            offset,
        ));
    }
}

fn on_style_text(chunk: &mut TextChunk<'_>, config: &Config, state: &Mutex<State>) -> HandlerResult {
    let mut st = lock(state);
    if !st.text_owned_by(TextOwner::Style) {
        return Ok(());
    }
    let Some((text, start, held)) = st.style.collect(chunk) else {
        return Ok(());
    };
    let threat = if chunk.text_type() == TextType::Data {
        // SVG/MathML <style>: character references are decoded by the parser.
        css::check(&entities::decode(&text), &config.hosts)
    } else {
        css::check(&text, &config.hosts)
    };
    match threat {
        Some(t) => {
            chunk.replace("", ContentType::Html);
            st.findings.push(finding(
                t.rule,
                format!("removed the content of a <style> element: the CSS contains {}", t.what),
                start,
            ));
        }
        None if held => chunk.replace(&text, ContentType::Html),
        None => {}
    }
    Ok(())
}

fn on_script_text(chunk: &mut TextChunk<'_>, state: &Mutex<State>) -> HandlerResult {
    let mut st = lock(state);
    if !st.text_owned_by(TextOwner::Script) {
        return Ok(());
    }
    let Some(clear) = st.clear_script.as_mut() else {
        return Ok(());
    };
    let Some((text, _, held)) = clear.buf.collect(chunk) else {
        return Ok(());
    };
    let offset = clear.offset;
    st.clear_script = None;
    if text.trim().is_empty() {
        if held {
            chunk.replace(&text, ContentType::Html);
        }
    } else {
        chunk.replace("", ContentType::Html);
        st.findings.push(finding(
            "script-inline",
            format!(
                "removed the inline content of an external <script> ({} bytes): inline \
                 scripts are not allowed in static mode",
                text.len()
            ),
            offset,
        ));
    }
    Ok(())
}

fn on_noscript_text(chunk: &mut TextChunk<'_>, config: &Config, state: &Mutex<State>) -> HandlerResult {
    // Only raw text (a scripting parser's view) needs a second look; inside SVG the
    // content is ordinary markup that the other handlers see anyway.
    if chunk.text_type() != TextType::RawText {
        return Ok(());
    }
    let (text, start, held) = {
        let mut st = lock(state);
        if !st.text_owned_by(TextOwner::Noscript { html: true }) {
            return Ok(());
        }
        match st.noscript.collect(chunk) {
            Some(t) => t,
            None => return Ok(()),
        }
    };
    if text.is_empty() {
        return Ok(());
    }
    if config.depth >= MAX_NOSCRIPT_DEPTH {
        chunk.replace("", ContentType::Html);
        lock(state).findings.push(finding(
            "noscript-nesting",
            "removed the content of a <noscript> element: nested too deeply".to_string(),
            start,
        ));
        return Ok(());
    }
    // A browser without scripting parses this text as markup: sanitize it as such.
    let inner = crate::sanitize_with(&text, Arc::new(Config::new(&config.policy, config.depth + 1)));
    let mut st = lock(state);
    st.findings.extend(inner.findings.into_iter().map(|mut f| {
        f.offset = f.offset.map(|o| o + start);
        f
    }));
    let breaks_out = inner.text.as_bytes().windows(b"</noscript".len()).any(|w| w.eq_ignore_ascii_case(b"</noscript"));
    if breaks_out {
        chunk.replace("", ContentType::Html);
        st.findings.push(finding(
            "noscript-breakout",
            "removed the content of a <noscript> element: once sanitized it would close the \
             element early"
                .to_string(),
            start,
        ));
    } else if inner.text != text || held {
        chunk.replace(&inner.text, ContentType::Html);
    }
    Ok(())
}

fn on_comment(comment: &mut Comment<'_>, state: &Mutex<State>) -> HandlerResult {
    let text = comment.text();
    let t = text.trim_start().to_ascii_lowercase();
    if t.starts_with("[if") || t.starts_with("[endif") {
        comment.replace(REMOVED, ContentType::Html);
        lock(state).findings.push(finding(
            "conditional-comment",
            format!("removed conditional comment {}: IE ran its content as markup", show(&text)),
            comment.source_location().bytes().start as u64,
        ));
    }
    Ok(())
}
