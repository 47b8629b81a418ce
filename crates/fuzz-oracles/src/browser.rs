//! The browser oracle: parses sanitized HTML with html5ever (a WHATWG-conformant parser,
//! independent of the sanitizer's lol_html) into the DOM a browser with scripting on
//! would build, and lists whatever in that DOM could run script.
//!
//! It checks the sanitizer's promises that are about script execution, as a browser
//! sees the page (so text that merely looks like markup is never flagged):
//! - no element that runs or embeds other documents (`iframe`, `frame`, `frameset`,
//!   `portal`, `fencedframe`, `object`, `embed`, `applet`, `base`, SVG
//!   `foreignObject`, MathML `maction`);
//! - no `on*` attribute on any element, no `srcdoc`;
//! - no `javascript:`/`vbscript:` URL (as the URL parser reads it: leading C0 controls
//!   and spaces trimmed, tabs and newlines removed) in a URL attribute;
//! - no SVG `<script>`; an HTML `<script src>` only `https:` on an allowlisted host;
//!   in static mode no inline script, not even inside a kept external one;
//! - no `<meta http-equiv=refresh>`; no SVG animation of `href`/`on*`.
//!
//! It does not judge CSS, form targets or `data:` images: those rules of the sanitizer
//! are about what a page may load, not about script.

use html5ever::tendril::TendrilSink;
use html5ever::tree_builder::TreeBuilderOpts;
use html5ever::{ParseOpts, parse_document};
use markup5ever_rcdom::{Handle, NodeData, RcDom};

const EMBEDDING: &[&str] = &[
    "iframe",
    "frame",
    "frameset",
    "portal",
    "fencedframe",
    "object",
    "embed",
    "applet",
    "base",
    "foreignobject",
    "maction",
];

const URL_ATTRIBUTES: &[&str] = &["href", "src", "action", "formaction", "data", "codebase", "xlink:href"];

const ANIMATIONS: &[&str] = &["animate", "set", "animatetransform", "animatemotion"];

const HTML_NS: &str = "http://www.w3.org/1999/xhtml";
const SVG_NS: &str = "http://www.w3.org/2000/svg";

/// The scheme a browser would see, lowercased, if the value has one.
fn scheme(value: &str) -> String {
    let trimmed = value.trim_start_matches(|c: char| c <= ' ');
    let squeezed: String = trimmed.chars().filter(|c| !matches!(c, '\t' | '\n' | '\r')).collect();
    match squeezed.find(':') {
        Some(colon) => squeezed[..colon].to_ascii_lowercase(),
        None => String::new(),
    }
}

/// Whether a `<script src>` value is `https://` (or `//`) on one of `hosts`.
fn allowlisted_script(src: &str, hosts: &[&str]) -> bool {
    let trimmed = src.trim_matches(|c: char| c <= ' ');
    let squeezed: String = trimmed.chars().filter(|c| !matches!(c, '\t' | '\n' | '\r')).collect();
    let lower = squeezed.to_ascii_lowercase();
    let Some(rest) = lower.strip_prefix("https://").or_else(|| lower.strip_prefix("//")) else {
        return false;
    };
    let authority = &rest[..rest.find(['/', '\\', '?', '#']).unwrap_or(rest.len())];
    if authority.contains(['@', '%']) {
        return false;
    }
    let host = match authority.split_once(':') {
        Some((host, "443")) => host,
        Some(_) => return false,
        None => authority,
    };
    hosts.contains(&host)
}

fn text_of(node: &Handle) -> String {
    let mut text = String::new();
    for child in node.children.borrow().iter() {
        if let NodeData::Text { contents } = &child.data {
            text.push_str(&contents.borrow());
        }
    }
    text
}

/// Everything in `html`'s DOM that could run script; empty when the page is clean.
/// `inline_scripts` is true for the sanitizer's app mode.
pub fn script_vectors(html: &str, inline_scripts: bool, hosts: &[&str]) -> Vec<String> {
    let opts = ParseOpts {
        tree_builder: TreeBuilderOpts { scripting_enabled: true, ..TreeBuilderOpts::default() },
        ..ParseOpts::default()
    };
    let dom = parse_document(RcDom::default(), opts).one(html);
    let mut found = Vec::new();
    // An explicit stack: generated pages can nest deeper than the fuzzer's thread stack.
    let mut stack = vec![dom.document.clone()];
    while let Some(node) = stack.pop() {
        stack.extend(node.children.borrow().iter().cloned());
        let NodeData::Element { name, attrs, template_contents, .. } = &node.data else {
            continue;
        };
        if let Some(contents) = template_contents.borrow().as_ref() {
            stack.push(contents.clone());
        }
        let tag = name.local.to_ascii_lowercase();
        let ns: &str = &name.ns;
        let attrs = attrs.borrow();
        let attr = |wanted: &str| {
            attrs.iter().find(|a| (*a.name.local).eq_ignore_ascii_case(wanted)).map(|a| a.value.to_string())
        };
        if EMBEDDING.contains(&tag.as_str()) {
            found.push(format!("<{tag}> element"));
        }
        for a in attrs.iter() {
            let local = (*a.name.local).to_ascii_lowercase();
            let qualified = match &a.name.prefix {
                Some(prefix) => format!("{prefix}:{local}"),
                None => local.clone(),
            };
            if local.starts_with("on") || local == "srcdoc" {
                found.push(format!("<{tag} {qualified}={:?}>", &*a.value));
            }
            if URL_ATTRIBUTES.contains(&local.as_str()) || URL_ATTRIBUTES.contains(&qualified.as_str()) {
                let scheme = scheme(&a.value);
                if scheme == "javascript" || scheme == "vbscript" {
                    found.push(format!("<{tag} {qualified}={:?}>: script URL", &*a.value));
                }
            }
        }
        match tag.as_str() {
            // In app mode inline scripts run anyway; an SVG one adds nothing unless it loads
            // a script from elsewhere.
            "script" if ns == SVG_NS && (!inline_scripts || attr("href").is_some()) => {
                found.push("SVG <script>".to_owned());
            }
            "script" if ns == HTML_NS => match attr("src") {
                Some(src) if !allowlisted_script(&src, hosts) => {
                    found.push(format!("<script src={src:?}> not on an allowlisted host"));
                }
                Some(_) if !inline_scripts && !text_of(&node).trim().is_empty() => {
                    found.push(format!("inline text in an external <script>: {:?}", text_of(&node)));
                }
                Some(_) => {}
                None if !inline_scripts => found.push(format!("inline <script>: {:?}", text_of(&node))),
                None => {}
            },
            "meta" if attr("http-equiv").is_some_and(|v| v.trim().eq_ignore_ascii_case("refresh")) => {
                found.push("<meta http-equiv=refresh>".to_owned());
            }
            t if ANIMATIONS.contains(&t) => {
                if let Some(target) = attr("attributename") {
                    let target = target.trim().to_ascii_lowercase();
                    if target.ends_with("href") || target.starts_with("on") {
                        found.push(format!("<{tag}> animating {target}"));
                    }
                }
            }
            _ => {}
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOSTS: &[&str] = &["cdn.tailwindcss.com"];

    #[test]
    fn clean_pages_have_no_vectors() {
        let page = "<!doctype html><script src=\"https://cdn.tailwindcss.com\"></script>\
                    <textarea><img src=x onerror=alert(1)></textarea><a href=\"/x\">x</a>\
                    <noscript><img src=x onerror=alert(1)></noscript><!-- <script>x</script> -->";
        assert_eq!(script_vectors(page, false, HOSTS), Vec::<String>::new());
    }

    #[test]
    fn vectors_are_found() {
        let found = |html: &str| script_vectors(html, false, HOSTS);
        assert_eq!(found("<img src=x onerror=alert(1)>").len(), 1);
        assert_eq!(found("<a href=\" java\tscript:alert(1)\">x</a>").len(), 1);
        assert_eq!(found("<svg><a xlink:href=\"javascript:alert(1)\"></a></svg>").len(), 1);
        assert_eq!(found("<script>alert(1)</script>").len(), 1);
        assert!(script_vectors("<script>alert(1)</script>", true, HOSTS).is_empty());
        assert_eq!(found("<script src=\"https://cdn.tailwindcss.com@evil.example/\"></script>").len(), 1);
        assert_eq!(found("<template><iframe srcdoc=x></iframe></template>").len(), 2);
        assert_eq!(found("<svg><set attributeName=href to=x /></svg>").len(), 1);
    }
}
