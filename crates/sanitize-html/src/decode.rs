//! Undoing the encodings browsers undo before they act on a value: HTML character
//! references in attributes, CSS escapes and comments in styles.

/// Decodes numeric character references (`&#106;`, `&#x6A`, with or without `;`) and
/// the named ones that can hide a URL scheme or CSS syntax.
pub(crate) fn html_entities(value: &str) -> String {
    if !value.contains('&') {
        return value.to_owned();
    }
    let mut decoded = String::with_capacity(value.len());
    let mut rest = value;
    while let Some(at) = rest.find('&') {
        decoded.push_str(&rest[..at]);
        rest = &rest[at..];
        match reference(rest) {
            Some((character, length)) => {
                decoded.push(character);
                rest = &rest[length..];
            }
            None => {
                decoded.push('&');
                rest = &rest[1..];
            }
        }
    }
    decoded.push_str(rest);
    decoded
}

/// The character a reference at the start of `text` stands for, and its length.
fn reference(text: &str) -> Option<(char, usize)> {
    let body = &text[1..];
    if let Some(number) = body.strip_prefix('#') {
        let (digits, radix, skip) = match number.strip_prefix(['x', 'X']) {
            Some(hex) => (hex, 16, 3),
            None => (number, 10, 2),
        };
        let length = digits.bytes().take_while(|b| (*b as char).is_digit(radix)).count();
        if length == 0 {
            return None;
        }
        let code = u32::from_str_radix(&digits[..length.min(8)], radix).ok()?;
        let character = char::from_u32(code).unwrap_or('\u{FFFD}');
        let semicolon = usize::from(digits[length..].starts_with(';'));
        return Some((character, skip + length + semicolon));
    }
    const NAMED: &[(&str, char)] = &[
        ("colon;", ':'),
        ("tab;", '\t'),
        ("newline;", '\n'),
        ("lpar;", '('),
        ("rpar;", ')'),
        ("sol;", '/'),
        ("bsol;", '\\'),
        ("period;", '.'),
        ("comma;", ','),
        ("amp;", '&'),
        ("lt;", '<'),
        ("gt;", '>'),
        ("quot;", '"'),
        ("apos;", '\''),
        ("nbsp;", '\u{a0}'),
    ];
    NAMED.iter().find(|(name, _)| body.starts_with(name)).map(|(name, character)| (*character, name.len() + 1))
}

/// What a URL looks like to the browser's scheme check: references decoded, every
/// ASCII whitespace and control character removed, lowercased.
pub(crate) fn url_for_scheme_check(value: &str) -> String {
    html_entities(value).chars().filter(|c| !c.is_ascii_control() && *c != ' ').flat_map(char::to_lowercase).collect()
}

/// What CSS looks like to the parser: comments removed, escapes decoded, whitespace
/// removed, lowercased.
pub(crate) fn css_for_check(css: &str) -> String {
    let mut without_comments = String::with_capacity(css.len());
    let mut rest = css;
    while let Some(start) = rest.find("/*") {
        without_comments.push_str(&rest[..start]);
        rest = rest[start + 2..].find("*/").map_or("", |end| &rest[start + 2 + end + 2..]);
    }
    without_comments.push_str(rest);

    let mut decoded = String::with_capacity(without_comments.len());
    let mut chars = without_comments.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\\' {
            decoded.push(c);
            continue;
        }
        let mut hex = String::new();
        while hex.len() < 6 && chars.peek().is_some_and(char::is_ascii_hexdigit) {
            hex.extend(chars.next());
        }
        if hex.is_empty() {
            decoded.extend(chars.next());
        } else {
            decoded.push(u32::from_str_radix(&hex, 16).ok().and_then(char::from_u32).unwrap_or('\u{FFFD}'));
            if chars.peek().is_some_and(|c| c.is_whitespace()) {
                chars.next();
            }
        }
    }
    decoded.chars().filter(|c| !c.is_whitespace() && !c.is_control()).flat_map(char::to_lowercase).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entities_hide_nothing() {
        assert_eq!(url_for_scheme_check("&#106;ava&#x09;script&colon;alert(1)"), "javascript:alert(1)");
        assert_eq!(url_for_scheme_check("&#0000106&#0000097vascript:"), "javascript:");
        assert_eq!(url_for_scheme_check(" \u{1}JaVaScRiPt:x"), "javascript:x");
        assert_eq!(html_entities("a &unknown; b & c"), "a &unknown; b & c");
    }

    #[test]
    fn css_escapes_and_comments_hide_nothing() {
        assert_eq!(css_for_check("width: \\65 xpression(alert(1))"), "width:expression(alert(1))");
        assert_eq!(css_for_check("background:url(java\\script:x)"), "background:url(javascript:x)");
        assert_eq!(css_for_check("x: ex/**/pression(1)"), "x:expression(1)");
    }
}
