//! Checks on CSS text (`style` attributes and `<style>` elements).
//!
//! The CSS is not rewritten: a dangerous construct makes the caller drop the whole
//! attribute or empty the whole `<style>` element. Before matching, CSS escapes are
//! decoded (`\65 xpression`, `java\script`), comments are removed (old IE ignored them
//! inside `expression`), case is folded and whitespace and control characters are
//! squeezed out, so the patterns are matched on what an (old) engine would have seen.

use crate::urls::{self, UrlKind};

/// A dangerous construct found in CSS text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Threat {
    /// Rule name of the finding.
    pub rule: &'static str,
    /// What was found, for the finding's message.
    pub what: String,
}

fn threat(rule: &'static str, what: impl Into<String>) -> Option<Threat> {
    Some(Threat { rule, what: what.into() })
}

/// Returns the first dangerous construct of `css`, if any. `hosts` are the lowercased
/// allowlisted hosts (for `@import`).
pub(crate) fn check(css: &str, hosts: &[String]) -> Option<Threat> {
    // Cheap exit for the common case: every pattern needs one of these characters.
    if !css.bytes().any(|b| matches!(b, b'(' | b':' | b'@' | b'\\' | b'-')) {
        return None;
    }
    let a = unescape(&strip_comments(css));
    let b = strip_comments(&unescape(css));
    check_decoded(&a, hosts).or_else(|| if a == b { None } else { check_decoded(&b, hosts) })
}

fn check_decoded(css: &str, hosts: &[String]) -> Option<Threat> {
    let lower = css.to_lowercase();
    let squeezed: String = lower.chars().filter(|c| *c > ' ' && *c != '\u{7f}').collect();
    if squeezed.contains("expression(") {
        return threat("css-expression", "an IE `expression()`, which runs script");
    }
    for scheme in ["javascript:", "vbscript:"] {
        if squeezed.contains(scheme) {
            return threat("css-script-url", format!("a `{scheme}` URL, which runs script"));
        }
    }
    if squeezed.contains("-moz-binding") {
        return threat("css-binding", "`-moz-binding`, which attaches script (XBL)");
    }
    if has_property(&squeezed, "behavior:") || has_property(&squeezed, "behaviour:") {
        return threat("css-binding", "an IE `behavior`, which attaches script (HTC)");
    }
    if let Some(url) = bad_import(&lower, hosts) {
        return threat("css-import", format!("`@import` of `{}` (not https on an allowlisted host)", clip(&url)));
    }
    None
}

/// True when `name` (e.g. `behavior:`) occurs as a property name, not as the tail of
/// another one such as `scroll-behavior:`.
fn has_property(squeezed: &str, name: &str) -> bool {
    squeezed
        .match_indices(name)
        .any(|(i, _)| !squeezed[..i].chars().next_back().is_some_and(|c| c.is_alphanumeric() || c == '-'))
}

/// Returns the URL of the first `@import` that is neither relative nor https on an
/// allowlisted host. `css` is lowercased, unescaped and comment-free.
fn bad_import(css: &str, hosts: &[String]) -> Option<String> {
    for (i, _) in css.match_indices("@import") {
        let rest = css[i + "@import".len()..].trim_start();
        let url = if let Some(r) = rest.strip_prefix("url(") {
            let r = r.trim_start();
            match r.chars().next() {
                Some(q @ ('"' | '\'')) => r[1..].split(q).next().unwrap_or(""),
                _ => r.split(')').next().unwrap_or("").trim_end(),
            }
        } else {
            match rest.chars().next() {
                Some(q @ ('"' | '\'')) => rest[1..].split(q).next().unwrap_or(""),
                // Not a form we understand: treat as not allowed.
                _ => return Some(rest.chars().take(40).collect()),
            }
        };
        let allowed = matches!(urls::classify(url), UrlKind::Relative) || urls::https_on_hosts(url, hosts);
        if !allowed {
            return Some(url.to_string());
        }
    }
    None
}

fn clip(s: &str) -> String {
    if s.chars().count() > 80 {
        let mut t: String = s.chars().take(77).collect();
        t.push_str("...");
        t
    } else {
        s.to_string()
    }
}

/// Removes `/* ... */` comments (an unterminated comment runs to the end).
pub(crate) fn strip_comments(css: &str) -> String {
    let mut out = String::with_capacity(css.len());
    let mut rest = css;
    while let Some(start) = rest.find("/*") {
        out.push_str(&rest[..start]);
        match rest[start + 2..].find("*/") {
            Some(end) => rest = &rest[start + 2 + end + 2..],
            None => {
                rest = "";
                break;
            }
        }
    }
    out.push_str(rest);
    out
}

/// Decodes CSS escapes: `\` + 1–6 hex digits (+ one optional whitespace), `\` +
/// newline (removed), `\` + any other character (that character).
pub(crate) fn unescape(css: &str) -> String {
    if !css.contains('\\') {
        return css.to_string();
    }
    let mut out = String::with_capacity(css.len());
    let mut chars = css.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.peek().copied() {
            None => out.push('\u{FFFD}'),
            Some(h) if h.is_ascii_hexdigit() => {
                let mut value = 0u32;
                let mut n = 0;
                while n < 6 {
                    match chars.peek().and_then(|c| c.to_digit(16)) {
                        Some(d) => {
                            value = value * 16 + d;
                            chars.next();
                            n += 1;
                        }
                        None => break,
                    }
                }
                match chars.peek().copied() {
                    Some('\r') => {
                        chars.next();
                        if chars.peek() == Some(&'\n') {
                            chars.next();
                        }
                    }
                    Some(' ' | '\t' | '\n' | '\x0c') => {
                        chars.next();
                    }
                    _ => {}
                }
                let decoded = match value {
                    0 => '\u{FFFD}',
                    v => char::from_u32(v).unwrap_or('\u{FFFD}'),
                };
                out.push(decoded);
            }
            Some('\n' | '\x0c') => {
                chars.next();
            }
            Some('\r') => {
                chars.next();
                if chars.peek() == Some(&'\n') {
                    chars.next();
                }
            }
            Some(other) => {
                chars.next();
                out.push(other);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(css: &str) -> Option<&'static str> {
        check(css, &["fonts.googleapis.com".to_string()]).map(|t| t.rule)
    }

    #[test]
    fn benign_css_passes() {
        assert_eq!(rule("color: red; margin: 0 auto"), None);
        assert_eq!(rule("html { scroll-behavior: smooth; overscroll-behavior: none }"), None);
        assert_eq!(rule("background:url(https://images.example/a.png)"), None);
        assert_eq!(rule("background-image:url('data:image/svg+xml,%3Csvg%3E')"), None);
        assert_eq!(rule("@import url('https://fonts.googleapis.com/css2?family=Inter');"), None);
        assert_eq!(rule("@import \"local.css\";"), None);
        assert_eq!(rule(".a::before { content: '\\201C' }"), None);
    }

    #[test]
    fn dangerous_css_is_found() {
        assert_eq!(rule("width: expression(alert(1))"), Some("css-expression"));
        assert_eq!(rule("width: \\65 xpression(alert(1))"), Some("css-expression"));
        assert_eq!(rule("width: exp/**/ression(alert(1))"), Some("css-expression"));
        assert_eq!(rule("width: EXPRESSION (alert(1))"), Some("css-expression"));
        assert_eq!(rule("background:url(javascript:alert(1))"), Some("css-script-url"));
        assert_eq!(rule("background:url( \"java\\script:alert(1)\")"), Some("css-script-url"));
        assert_eq!(rule("background:url(\\6a avascript:alert(1))"), Some("css-script-url"));
        assert_eq!(rule("background:url(vbscript:msgbox(1))"), Some("css-script-url"));
        assert_eq!(rule("-moz-binding: url(x.xml#xss)"), Some("css-binding"));
        assert_eq!(rule("behavior: url(x.htc)"), Some("css-binding"));
        assert_eq!(rule("a{behavior:url(x.htc)}"), Some("css-binding"));
        assert_eq!(rule("@import url(https://evil.example/x.css);"), Some("css-import"));
        assert_eq!(rule("@import '//evil.example/x.css';"), Some("css-import"));
        assert_eq!(rule("@im\\port 'http://fonts.googleapis.com/x';"), Some("css-import"));
    }

    #[test]
    fn unescape_rules() {
        assert_eq!(unescape("\\65 x"), "ex");
        assert_eq!(unescape("\\000065x"), "ex");
        assert_eq!(unescape("a\\\nb"), "ab");
        assert_eq!(unescape("\\'"), "'");
        assert_eq!(unescape("\\0"), "\u{FFFD}");
        assert_eq!(strip_comments("a/*x*/b/*"), "ab");
    }
}
