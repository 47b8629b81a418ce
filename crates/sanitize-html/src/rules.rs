//! The rules: what is removed from an element, a `<style>` text or a comment, and why.

use std::cell::RefCell;

use lol_html::html_content::{Comment, ContentType, Element, TextChunk};

use crate::decode::{css_for_check, html_entities, url_for_scheme_check};
use crate::{Finding, Mode, Policy, STYLE_HOSTS};

/// Elements removed with their content wherever they appear.
const REMOVED_ELEMENTS: &[&str] =
    &["iframe", "frame", "frameset", "object", "embed", "applet", "base", "portal", "foreignobject", "noembed"];

/// Attributes that hold a URL (or a list of them) a browser may navigate to or load.
const URL_ATTRIBUTES: &[&str] = &[
    "href",
    "src",
    "action",
    "formaction",
    "xlink:href",
    "poster",
    "background",
    "cite",
    "ping",
    "lowsrc",
    "dynsrc",
    "data",
    "codebase",
    "manifest",
    "longdesc",
    "classid",
    "archive",
    "profile",
    "icon",
    "srcset",
    "imagesrcset",
];

/// SVG animation elements, which can rewrite another element's attributes.
const SVG_ANIMATIONS: &[&str] = &["animate", "set", "animatetransform", "animatemotion"];

/// Image types allowed as `data:` URLs in images (not SVG: it can carry script).
const DATA_IMAGE_TYPES: &[&str] =
    &["data:image/png", "data:image/jpeg", "data:image/jpg", "data:image/gif", "data:image/webp", "data:image/avif"];

/// CSS that can run script or load from anywhere.
const DANGEROUS_CSS: &[&str] = &["expression(", "javascript:", "vbscript:", "-moz-binding", "behavior:", "behaviour:"];

/// The policy, prepared for lookups.
pub(crate) struct Rules {
    mode: Mode,
    script_hosts: Vec<String>,
}

fn find(findings: &mut Vec<Finding>, rule: &'static str, message: String, offset: usize) {
    findings.push(Finding { rule, message, offset: Some(offset as u64) });
}

impl Rules {
    pub(crate) fn new(policy: &Policy) -> Self {
        Self { mode: policy.mode, script_hosts: policy.script_hosts.iter().map(|h| h.to_ascii_lowercase()).collect() }
    }

    /// Applies every element rule to one start tag.
    pub(crate) fn element(&self, element: &mut Element<'_, '_>, findings: &mut Vec<Finding>) {
        let tag = element.tag_name();
        let offset = element.source_location().bytes().start;
        let namespace = element.namespace_uri();
        let is_html = namespace == "http://www.w3.org/1999/xhtml";

        if REMOVED_ELEMENTS.contains(&tag.as_str()) {
            element.remove();
            return find(
                findings,
                "embedded-content",
                format!("removed <{tag}>: it embeds or retargets content"),
                offset,
            );
        }
        if tag == "script" && !self.keep_script(element, is_html, offset, findings) {
            element.remove();
            return;
        }
        if tag == "meta"
            && let Some(equiv) = element.get_attribute("http-equiv")
        {
            let equiv = equiv.trim().to_ascii_lowercase();
            if ["refresh", "set-cookie", "content-security-policy"].contains(&equiv.as_str()) {
                element.remove();
                return find(findings, "meta-http-equiv", format!("removed <meta http-equiv={equiv}>"), offset);
            }
        }
        if tag == "link" && !self.keep_link(element, offset, findings) {
            element.remove();
            return;
        }
        if SVG_ANIMATIONS.contains(&tag.as_str()) && is_script_animation(element) {
            element.remove();
            return find(findings, "svg-animation", format!("removed <{tag}>: it animates a link or handler"), offset);
        }
        self.attributes(element, &tag, offset, findings);
    }

    /// Whether a `<script>` stays; records why not.
    fn keep_script(
        &self,
        element: &Element<'_, '_>,
        is_html: bool,
        offset: usize,
        findings: &mut Vec<Finding>,
    ) -> bool {
        if !is_html {
            find(findings, "script-foreign", "removed a <script> inside SVG or MathML".into(), offset);
            return false;
        }
        match element.get_attribute("src") {
            Some(src) if self.is_allowed_host(&src, &[]) => true,
            Some(src) => {
                let host = host_of(&html_entities(&src)).unwrap_or_default();
                let message = format!(
                    "removed <script src> from `{}`: scripts load only over https from {}",
                    if host.is_empty() { "a non-https URL".to_owned() } else { host },
                    self.script_hosts.join(", ")
                );
                find(findings, "script-src", message, offset);
                false
            }
            None if self.mode == Mode::App => true,
            None => {
                find(findings, "script-inline", "removed an inline <script> (static mode)".into(), offset);
                false
            }
        }
    }

    /// Whether a `<link>` stays: imports never; stylesheets and preloads only from
    /// allowlisted hosts.
    fn keep_link(&self, element: &Element<'_, '_>, offset: usize, findings: &mut Vec<Finding>) -> bool {
        let rel = element.get_attribute("rel").unwrap_or_default().to_ascii_lowercase();
        let rels: Vec<&str> = rel.split_ascii_whitespace().collect();
        if rels.contains(&"import") {
            find(findings, "link-import", "removed <link rel=import>".into(), offset);
            return false;
        }
        let loads = rels.iter().any(|r| ["stylesheet", "preload", "modulepreload", "prefetch"].contains(r));
        let href = element.get_attribute("href").unwrap_or_default();
        if loads && !self.is_allowed_host(&href, STYLE_HOSTS) {
            find(
                findings,
                "link-src",
                format!("removed <link rel=\"{rel}\">: it loads from a host not on the allowlist"),
                offset,
            );
            return false;
        }
        true
    }

    /// Removes dangerous attributes from an element that stays.
    fn attributes(&self, element: &mut Element<'_, '_>, tag: &str, offset: usize, findings: &mut Vec<Finding>) {
        let attributes: Vec<(String, String)> =
            element.attributes().iter().map(|attribute| (attribute.name(), attribute.value())).collect();
        for (name, value) in attributes {
            if let Some((rule, message)) = self.attribute_problem(tag, &name, &value) {
                element.remove_attribute(&name);
                find(findings, rule, message, offset);
            }
        }
    }

    /// Why an attribute must go, if it must.
    fn attribute_problem(&self, tag: &str, name: &str, value: &str) -> Option<(&'static str, String)> {
        if name.starts_with("on") {
            return Some(("event-handler", format!("removed the `{name}` event handler from <{tag}>")));
        }
        if name == "srcdoc" {
            return Some(("srcdoc", format!("removed `srcdoc` from <{tag}>")));
        }
        if name == "style" && is_dangerous_css(value) {
            return Some((
                "dangerous-css",
                format!("removed a `style` attribute with script-capable CSS from <{tag}>"),
            ));
        }
        if (name == "action" && tag == "form") || name == "formaction" {
            let url = url_for_scheme_check(value);
            if url.starts_with("//") || url.contains("://") || url.starts_with("\\\\") {
                return Some((
                    "form-action",
                    format!("removed `{name}` on <{tag}>: forms may not post to another origin"),
                ));
            }
        }
        if (name == "href" || name == "xlink:href") && tag == "use" && !value.trim_start().starts_with('#') {
            return Some(("svg-use-external", "removed an external reference from SVG <use>".into()));
        }
        if URL_ATTRIBUTES.contains(&name) {
            let allows_data_image =
                (tag == "img" && name == "src") || (tag == "source" && (name == "srcset" || name == "src"));
            let urls: Vec<&str> = if name.ends_with("srcset") { value.split(',').collect() } else { vec![value] };
            for url in urls {
                if let Some(scheme) = dangerous_scheme(url, allows_data_image) {
                    return Some((
                        "dangerous-url",
                        format!("removed `{name}` from <{tag}>: `{scheme}` URLs can run script"),
                    ));
                }
            }
        }
        None
    }

    /// Whether `url` is https (or protocol-relative) on a script host or one of `extra`.
    fn is_allowed_host(&self, url: &str, extra: &[&str]) -> bool {
        host_of(&html_entities(url))
            .is_some_and(|host| self.script_hosts.contains(&host) || extra.contains(&host.as_str()))
    }

    /// Buffers a `<style>` element's text and emits it whole at its end, or nothing if it
    /// holds script-capable CSS (so the decision sees the whole text, however it streamed).
    pub(crate) fn style_text(&self, chunk: &mut TextChunk<'_>, buffer: &RefCell<String>, findings: &mut Vec<Finding>) {
        let mut css = buffer.borrow_mut();
        css.push_str(chunk.as_str());
        if !chunk.last_in_text_node() {
            chunk.remove();
            return;
        }
        let whole = std::mem::take(&mut *css);
        if is_dangerous_css(&whole) || self.has_foreign_import(&whole) {
            chunk.remove();
            findings.push(Finding {
                rule: "dangerous-css",
                message:
                    "emptied a <style> element with script-capable CSS or an import from a host not on the allowlist"
                        .into(),
                offset: None,
            });
        } else {
            chunk.replace(&whole, ContentType::Html);
        }
    }

    /// Whether CSS imports from anywhere but the allowlisted hosts.
    fn has_foreign_import(&self, css: &str) -> bool {
        let css = css_for_check(css);
        css.match_indices("@import").any(|(at, _)| {
            let target = css[at + "@import".len()..].trim_start_matches("url(").trim_start_matches(['"', '\'']);
            !self.is_allowed_host(target, STYLE_HOSTS)
        })
    }
}

/// Removes conditional comments (`<!--[if IE]>…`), which old engines execute as markup.
pub(crate) fn comment(comment: &mut Comment<'_>, findings: &mut Vec<Finding>) {
    let text = comment.text();
    let text = text.trim_start();
    if text.starts_with("[if") || text.starts_with("[endif") {
        comment.remove();
        findings.push(Finding {
            rule: "conditional-comment",
            message: "removed a conditional comment".into(),
            offset: None,
        });
    }
}

/// Whether an SVG animation targets a link or an event handler, or animates to a script URL.
fn is_script_animation(element: &Element<'_, '_>) -> bool {
    let target = element.get_attribute("attributename").unwrap_or_default().trim().to_ascii_lowercase();
    let targets_link = target == "href" || target == "xlink:href" || target.starts_with("on");
    let animates_to_script = ["values", "to", "from", "by"].iter().any(|name| {
        element.get_attribute(name).is_some_and(|value| {
            let value = url_for_scheme_check(&value);
            value.contains("javascript:") || value.contains("vbscript:") || value.contains("data:")
        })
    });
    targets_link || animates_to_script
}

/// The dangerous scheme of `url`, if it has one.
fn dangerous_scheme(url: &str, allows_data_image: bool) -> Option<&'static str> {
    let url = url_for_scheme_check(url);
    if url.starts_with("javascript:") {
        Some("javascript:")
    } else if url.starts_with("vbscript:") {
        Some("vbscript:")
    } else if url.starts_with("data:") && !(allows_data_image && DATA_IMAGE_TYPES.iter().any(|t| url.starts_with(t))) {
        Some("data:")
    } else {
        None
    }
}

fn is_dangerous_css(css: &str) -> bool {
    let css = css_for_check(css);
    DANGEROUS_CSS.iter().any(|pattern| css.contains(pattern))
}

/// The lowercase host of an `https://` or protocol-relative URL; `None` for anything
/// else or for an authority a browser could read differently (backslashes, userinfo).
fn host_of(url: &str) -> Option<String> {
    let url = url.trim();
    let rest =
        if url.len() >= 8 && url[..8].eq_ignore_ascii_case("https://") { &url[8..] } else { url.strip_prefix("//")? };
    let authority = rest.split(['/', '?', '#']).next()?;
    if authority.contains(['\\', '@', '%']) || authority.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return None;
    }
    let host = authority.rsplit_once(':').map_or(authority, |(host, _port)| host).to_ascii_lowercase();
    (!host.is_empty()).then_some(host)
}

#[cfg(test)]
mod tests {
    use super::host_of;

    #[test]
    fn hosts_are_read_as_a_browser_would_or_refused() {
        assert_eq!(host_of("https://cdn.tailwindcss.com/3.4.1").as_deref(), Some("cdn.tailwindcss.com"));
        assert_eq!(host_of("//UNPKG.com:443/react").as_deref(), Some("unpkg.com"));
        assert_eq!(host_of("http://unpkg.com/react"), None);
        assert_eq!(host_of("https://unpkg.com@evil.example/x"), None);
        assert_eq!(host_of("https://evil.example\\@unpkg.com/x"), None);
        assert_eq!(host_of("/local/script.js"), None);
    }
}
