//! URL checks on (already entity-decoded) attribute values.
//!
//! These functions never try to be a full URL parser. They answer narrow questions
//! ("which scheme would a browser see?", "is this https on exactly that host?") and
//! answer them conservatively: anything unusual counts as dangerous or as *not*
//! allowlisted.

/// Schemes that run script when navigated to or loaded.
const SCRIPT_SCHEMES: &[&str] = &["javascript", "vbscript", "livescript", "mocha"];

/// Raster image types allowed in `data:` URLs of image contexts.
const DATA_IMAGE_TYPES: &[&str] = &["image/png", "image/jpeg", "image/jpg", "image/gif", "image/webp", "image/avif"];

/// Attributes holding one URL.
const URL_ATTRIBUTES: &[&str] = &[
    "href",
    "xlink:href",
    "src",
    "action",
    "formaction",
    "poster",
    "background",
    "cite",
    "lowsrc",
    "dynsrc",
    "data",
    "codebase",
    "manifest",
    "longdesc",
    "classid",
    "icon",
    "profile",
    "usemap",
    "xml:base",
];

/// Attributes holding a list of URLs separated by whitespace (or commas).
const URL_LIST_ATTRIBUTES: &[&str] = &["ping", "archive"];

/// Attributes holding a `srcset`.
const SRCSET_ATTRIBUTES: &[&str] = &["srcset", "imagesrcset"];

/// `<link rel>` values for which a raster `data:image/*` URL is kept.
const ICON_RELS: &[&str] = &["icon", "apple-touch-icon", "apple-touch-icon-precomposed"];

/// How an attribute holds URLs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum UrlAttribute {
    /// One URL (`href`, `src`, `xlink:href`, any `*:href`, ...).
    One,
    /// URLs separated by whitespace or commas (`ping`, `archive`).
    List,
    /// A `srcset`.
    Srcset,
}

impl UrlAttribute {
    /// How the attribute `name` (lowercased, with its prefix) holds URLs, if it does.
    pub(crate) fn of(name: &str) -> Option<Self> {
        if URL_ATTRIBUTES.contains(&name) || name.ends_with(":href") {
            Some(UrlAttribute::One)
        } else if URL_LIST_ATTRIBUTES.contains(&name) {
            Some(UrlAttribute::List)
        } else if SRCSET_ATTRIBUTES.contains(&name) {
            Some(UrlAttribute::Srcset)
        } else {
            None
        }
    }

    /// The URLs of an (entity-decoded) attribute value.
    pub(crate) fn urls(self, value: &str) -> Vec<&str> {
        match self {
            UrlAttribute::One => vec![value],
            UrlAttribute::List => {
                value.split(|c: char| c.is_ascii_whitespace() || c == ',').filter(|s| !s.is_empty()).collect()
            }
            UrlAttribute::Srcset => srcset_urls(value),
        }
    }
}

/// Whether a raster `data:image/*` URL is kept in attribute `attr` of element `tag`
/// (both lowercased): `<img src/srcset>`, `<source srcset>`, SVG `<image href>` (`svg`:
/// the element is in the SVG namespace), `<link rel=icon href>` (`rel`: the decoded
/// `rel` value).
pub(crate) fn data_image_allowed(tag: &str, attr: &str, svg: bool, rel: Option<&str>) -> bool {
    match (tag, attr) {
        ("img", "src" | "srcset") | ("source", "srcset") => true,
        ("image", "href" | "xlink:href") => svg,
        ("link", "href") => rel.is_some_and(|rel| {
            rel.split_ascii_whitespace().any(|r| ICON_RELS.iter().any(|icon| r.eq_ignore_ascii_case(icon)))
        }),
        _ => false,
    }
}

/// What a URL value is, as far as the checks care.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum UrlKind {
    /// `javascript:` and friends.
    Script,
    /// `data:image/<raster>` (png, jpeg, gif, webp, avif).
    DataImage,
    /// Any other `data:` URL.
    Data,
    /// Absolute URL with another scheme (`https:`, `mailto:`, ...).
    Absolute,
    /// Protocol-relative (`//host/...`, also with backslashes).
    ProtocolRelative,
    /// Relative reference (path, `?query`, `#fragment`, empty).
    Relative,
}

/// Removes what browsers ignore or tolerate around and inside a scheme: leading and
/// trailing C0 controls and spaces, and (more aggressively than the URL standard,
/// which strips only tab and newline) every C0 control and space inside.
fn squeeze(value: &str) -> String {
    value.chars().filter(|c| *c > ' ' && *c != '\u{7f}').collect()
}

/// Returns the lowercased scheme of `value` (entity-decoded), if it has one.
pub(crate) fn scheme(value: &str) -> Option<String> {
    let s = squeeze(value);
    let colon = s.find(':')?;
    let candidate = &s[..colon];
    let mut chars = candidate.chars();
    let first = chars.next()?;
    if !first.is_ascii_alphabetic() {
        return None;
    }
    if chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.')) {
        Some(candidate.to_ascii_lowercase())
    } else {
        None
    }
}

/// Classifies an entity-decoded URL value.
pub(crate) fn classify(value: &str) -> UrlKind {
    match scheme(value).as_deref() {
        Some(s) if SCRIPT_SCHEMES.contains(&s) => UrlKind::Script,
        Some("data") => {
            let s = squeeze(value);
            let body = s[s.find(':').map_or(0, |i| i + 1)..].to_ascii_lowercase();
            let media = body.split([';', ',']).next().unwrap_or("");
            if DATA_IMAGE_TYPES.contains(&media) { UrlKind::DataImage } else { UrlKind::Data }
        }
        Some(_) => UrlKind::Absolute,
        None => {
            let t = value.trim_start_matches(|c: char| c <= ' ');
            let t: String = t.chars().filter(|c| !matches!(c, '\t' | '\n' | '\r')).take(2).collect();
            let mut it = t.chars();
            if matches!((it.next(), it.next()), (Some('/' | '\\'), Some('/' | '\\'))) {
                UrlKind::ProtocolRelative
            } else {
                UrlKind::Relative
            }
        }
    }
}

/// True when `value` is an `https:` (or protocol-relative `//`) URL whose host is
/// exactly one of `hosts` (already lowercased). Userinfo, percent-encoding, unusual
/// slashes, non-default ports and anything else unusual make it *not* allowlisted.
pub(crate) fn https_on_hosts(value: &str, hosts: &[String]) -> bool {
    host_of_https(value).is_some_and(|h| hosts.contains(&h))
}

/// The lowercased host of a plain `https://host[:443]/...` or `//host/...` URL.
fn host_of_https(value: &str) -> Option<String> {
    // The URL parser trims C0 controls and spaces, but a NUL never reaches it: the HTML
    // tokenizer has turned it into U+FFFD, which makes `\0https://host/` a relative URL.
    if value.contains('\0') {
        return None;
    }
    let t = value.trim_matches(|c: char| c <= ' ');
    let t: String = t.chars().filter(|c| !matches!(c, '\t' | '\n' | '\r')).collect();
    let rest =
        if t.get(..8).is_some_and(|p| p.eq_ignore_ascii_case("https://")) { &t[8..] } else { t.strip_prefix("//")? };
    let end = rest.find(['/', '\\', '?', '#']).unwrap_or(rest.len());
    let authority = &rest[..end];
    let host = match authority.split_once(':') {
        Some((h, "443")) => h,
        Some(_) => return None,
        None => authority,
    };
    if host.is_empty() || !host.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-') {
        return None;
    }
    Some(host.to_ascii_lowercase())
}

/// The URLs of a `srcset` value (entity-decoded), following the candidate-splitting
/// rules of the HTML standard closely enough for scheme checks: a `data:` URL keeps
/// its commas because URLs end at whitespace.
pub(crate) fn srcset_urls(value: &str) -> Vec<&str> {
    let is_ws = |c: char| matches!(c, ' ' | '\t' | '\n' | '\r' | '\x0c');
    let mut urls = Vec::new();
    let mut rest = value;
    loop {
        rest = rest.trim_start_matches(|c: char| is_ws(c) || c == ',');
        if rest.is_empty() {
            break;
        }
        let end = rest.find(is_ws).unwrap_or(rest.len());
        let mut url = &rest[..end];
        rest = &rest[end..];
        if url.ends_with(',') {
            url = url.trim_end_matches(',');
        } else {
            // Skip descriptors up to the next comma that is not inside parentheses.
            let mut depth = 0u32;
            let mut cut = rest.len();
            for (i, c) in rest.char_indices() {
                match c {
                    '(' => depth += 1,
                    ')' => depth = depth.saturating_sub(1),
                    ',' if depth == 0 => {
                        cut = i + 1;
                        break;
                    }
                    _ => {}
                }
            }
            rest = &rest[cut..];
        }
        if !url.is_empty() {
            urls.push(url);
        }
    }
    urls
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schemes() {
        assert_eq!(scheme("javascript:alert(1)").as_deref(), Some("javascript"));
        assert_eq!(scheme(" \u{1}JaVa\tScRiPt :x").as_deref(), Some("javascript"));
        assert_eq!(scheme("java\nscript:x").as_deref(), Some("javascript"));
        assert_eq!(scheme("/path:with-colon"), None);
        assert_eq!(scheme("?a=b:c"), None);
        assert_eq!(scheme("1abc:x"), None);
        assert_eq!(classify("data:image/png;base64,AAAA"), UrlKind::DataImage);
        assert_eq!(classify("data: IMAGE/JPEG,AAAA"), UrlKind::DataImage);
        assert_eq!(classify("data:image/svg+xml,<svg/>"), UrlKind::Data);
        assert_eq!(classify("data:text/html,<script>"), UrlKind::Data);
        assert_eq!(classify("vbscript:msgbox"), UrlKind::Script);
        assert_eq!(classify("https://x"), UrlKind::Absolute);
        assert_eq!(classify("\\/evil.example"), UrlKind::ProtocolRelative);
        assert_eq!(classify(" /\t/evil.example"), UrlKind::ProtocolRelative);
        assert_eq!(classify("/ok"), UrlKind::Relative);
        assert_eq!(classify("#top"), UrlKind::Relative);
    }

    #[test]
    fn hosts() {
        let hosts = vec!["cdn.tailwindcss.com".to_string()];
        assert!(https_on_hosts("https://cdn.tailwindcss.com", &hosts));
        assert!(https_on_hosts("HTTPS://CDN.TailwindCSS.com/3.4?plugins=forms", &hosts));
        assert!(https_on_hosts("//cdn.tailwindcss.com/x.js", &hosts));
        assert!(https_on_hosts("https://cdn.tailwindcss.com:443/x.js", &hosts));
        assert!(!https_on_hosts("http://cdn.tailwindcss.com/x.js", &hosts));
        assert!(!https_on_hosts("https://cdn.tailwindcss.com@evil.example/", &hosts));
        assert!(!https_on_hosts("https://cdn.tailwindcss.com.evil.example/", &hosts));
        assert!(!https_on_hosts("https://evil.example/cdn.tailwindcss.com", &hosts));
        assert!(!https_on_hosts("https:cdn.tailwindcss.com", &hosts));
        assert!(!https_on_hosts("https:///cdn.tailwindcss.com", &hosts));
        assert!(!https_on_hosts("https://cdn%2etailwindcss.com", &hosts));
        assert!(!https_on_hosts("https://cdn.tailwindcss.com:8443/", &hosts));
        assert!(!https_on_hosts("/relative.js", &hosts));
    }

    #[test]
    fn srcset() {
        assert_eq!(srcset_urls("a.png 1x, b.png 2x,c.png"), vec!["a.png", "b.png", "c.png"]);
        assert_eq!(
            srcset_urls("data:image/png;base64,AA== 1x, javascript:alert(1) 2x"),
            vec!["data:image/png;base64,AA==", "javascript:alert(1)"]
        );
        assert_eq!(srcset_urls("x.png,, y.png"), vec!["x.png", "y.png"]);
    }
}
