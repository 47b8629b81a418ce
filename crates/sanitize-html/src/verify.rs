//! The second line: the sanitized page as a browser parses it.
//!
//! The first line rewrites the page as lol_html tokenizes it, and lol_html follows
//! namespaces (SVG, MathML, integration points, breakouts) in its own way, not with a
//! browser's tree builder: every bypass of that class is markup the two read
//! differently. The second line closes the class by construction: it parses the
//! *output* with html5ever, a WHATWG tree builder (scripting on, as in the preview),
//! into the DOM a browser would build ([`dom`]), checks every element of it,
//! `<template>` contents included, and reports every construct that can run script.
//! The first line should have removed all of them, so anything found is a first-line
//! bug, and the caller withholds the page.
//!
//! The checks reuse the first line's rules on values (URL schemes, allowlisted hosts,
//! CSS), applied to what the DOM holds (attribute values are already decoded).

use std::borrow::Cow;
use std::fmt::Display;

use html5ever::tendril::TendrilSink;
use html5ever::tree_builder::TreeBuilderOpts;
use html5ever::{Attribute, ParseOpts, parse_document};

use crate::rewrite::{ANIMATION_ELEMENTS, dangerous_animation, removed_element, show};
use crate::urls::{self, UrlAttribute, UrlKind};
use crate::{Finding, Mode, Policy, css};

mod dom;

const HTML_NS: &str = "http://www.w3.org/1999/xhtml";
const SVG_NS: &str = "http://www.w3.org/2000/svg";

/// The rule of every second-line finding.
const RULE: &str = "second-line";

/// Parses `html` (a page the first line has already sanitized) as a browser with
/// scripting on would and returns one `second-line` finding for every script-capable
/// construct in its DOM that `policy` does not allow, naming the first-line rule that
/// should have removed it. Empty for a clean page. Offsets are `None`: the DOM does not
/// know where in the input a node came from.
pub fn verify(html: &str, policy: &Policy) -> Vec<Finding> {
    let opts = ParseOpts {
        tree_builder: TreeBuilderOpts { scripting_enabled: true, ..TreeBuilderOpts::default() },
        ..ParseOpts::default()
    };
    let tree = parse_document(dom::Dom::default(), opts).one(html);
    let mut checker = Checker { mode: policy.mode, hosts: policy.lowercase_hosts(), found: Vec::new() };
    for el in tree.elements() {
        let name = el.name;
        checker.element(&Element {
            tag: lowercase(&name.local),
            ns: &name.ns,
            attrs: el.attrs,
            tree: &tree,
            id: el.id,
        });
    }
    checker.found
}

/// `s` in ASCII lowercase, without allocating when it already is.
fn lowercase(s: &str) -> Cow<'_, str> {
    if s.bytes().any(|b| b.is_ascii_uppercase()) { Cow::Owned(s.to_ascii_lowercase()) } else { Cow::Borrowed(s) }
}

/// The lowercased name of an attribute, with its prefix (`xlink:href`).
fn attribute_name(attr: &Attribute) -> Cow<'_, str> {
    match &attr.name.prefix {
        Some(prefix) => Cow::Owned(format!("{prefix}:{}", lowercase(&attr.name.local))),
        None => lowercase(&attr.name.local),
    }
}

/// An element of the DOM, as the checks see it.
struct Element<'a> {
    /// The local name, lowercased.
    tag: Cow<'a, str>,
    ns: &'a str,
    attrs: &'a [Attribute],
    tree: &'a dom::Tree,
    id: usize,
}

impl Element<'_> {
    /// The value of the unprefixed attribute `name` (lowercase).
    fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|a| a.name.prefix.is_none() && (*a.name.local).eq_ignore_ascii_case(name))
            .map(|a| &*a.value)
    }

    /// The element's child text content.
    fn text(&self) -> String {
        self.tree.text(self.id)
    }
}

/// The walk's findings and what it needs of the policy.
struct Checker {
    mode: Mode,
    /// Lowercased allowlisted hosts.
    hosts: Vec<String>,
    found: Vec<Finding>,
}

impl Checker {
    /// Reports `construct`, which the first-line rule `rule` should have removed.
    fn report(&mut self, construct: impl Display, rule: &str) {
        self.found.push(Finding {
            rule: RULE,
            message: format!("the second line found {construct} after sanitizing; the {rule} rule let it through"),
            offset: None,
        });
    }

    fn element(&mut self, el: &Element<'_>) {
        let tag = &*el.tag;
        if let Some((rule, _)) = removed_element(tag) {
            self.report(format_args!("<{tag}>"), rule);
        }
        match tag {
            "script" => self.script(el),
            "style" => self.css(el, &el.text(), "in <style>", true),
            "meta" if el.attr("http-equiv").is_some_and(|v| v.trim().eq_ignore_ascii_case("refresh")) => {
                self.report("<meta http-equiv=refresh>", "meta-refresh");
            }
            t if ANIMATION_ELEMENTS.contains(&t) => {
                if let Some(why) = dangerous_animation(|name| el.attr(name).map(str::to_owned)) {
                    self.report(format_args!("<{tag}> ({why})"), "svg-animate");
                }
            }
            _ => {}
        }
        for attr in el.attrs {
            self.attribute(el, &attribute_name(attr), &attr.value);
        }
    }

    fn script(&mut self, el: &Element<'_>) {
        if el.ns != HTML_NS {
            self.report("an SVG/MathML <script>", "svg-script");
            return;
        }
        let inline_allowed = self.mode == Mode::App;
        match el.attr("src") {
            None if !inline_allowed => self.report("an inline <script>", "script-inline"),
            None => {}
            Some(src) if !urls::https_on_hosts(src, &self.hosts) => {
                self.report(format_args!("<script src={}>", show(src)), "script-external");
            }
            Some(_) if !inline_allowed && !el.text().trim().is_empty() => {
                self.report("inline text in an external <script>", "script-inline");
            }
            Some(_) => {}
        }
    }

    /// Checks CSS text; `@import` is judged against the allowlist in a `<style>`
    /// element (`imports`) and never allowed in a `style` attribute, as in the first line.
    fn css(&mut self, el: &Element<'_>, css: &str, place: &str, imports: bool) {
        let hosts: &[String] = if imports { &self.hosts } else { &[] };
        if let Some(threat) = css::check(css, hosts) {
            self.report(format_args!("CSS {place} of <{}> with {}", el.tag, threat.what), threat.rule);
        }
    }

    fn attribute(&mut self, el: &Element<'_>, name: &str, value: &str) {
        let tag = &*el.tag;
        if name.starts_with("on") {
            self.report(format_args!("<{tag} {name}>"), "event-handler");
        } else if name == "srcdoc" {
            self.report(format_args!("<{tag} srcdoc>"), "srcdoc");
        } else if name == "style" {
            self.css(el, value, "in the style attribute", false);
        } else if let Some(kind) = UrlAttribute::of(name) {
            self.urls(el, name, kind.urls(value));
            if tag == "use" && matches!(name, "href" | "xlink:href") && !value.trim().starts_with('#') {
                self.report(format_args!("<use {name}={}>", show(value)), "svg-use-external");
            }
        }
    }

    /// Reports the first script or disallowed `data:` URL of attribute `name`.
    fn urls(&mut self, el: &Element<'_>, name: &str, urls: Vec<&str>) {
        let tag = &*el.tag;
        for url in urls {
            let rule = match urls::classify(url) {
                UrlKind::Script => "javascript-url",
                UrlKind::DataImage if urls::data_image_allowed(tag, name, el.ns == SVG_NS, el.attr("rel")) => continue,
                UrlKind::DataImage | UrlKind::Data => "data-url",
                _ => continue,
            };
            self.report(format_args!("<{tag} {name}={}>", show(url)), rule);
            return;
        }
    }
}
