//! Decoding of HTML character references in attribute values.
//!
//! lol_html hands attribute values over exactly as they appear in the source, so
//! `&#106;avascript:` still contains the reference. Browsers decode references before
//! they look at the URL, so every check on a value runs on the decoded form.
//!
//! Only the references that matter for the checks are decoded: all numeric ones and
//! every named reference whose expansion is ASCII (the full list, generated from the
//! WHATWG table). Other named references expand to non-ASCII characters, which can
//! neither form a URL scheme nor a CSS keyword, so they are left as they are.

use std::borrow::Cow;

/// Named references (without the leading `&`) that expand to ASCII, with their
/// expansion. Names ending in `;` need it; the others are the legacy forms that
/// browsers also accept without the semicolon.
const NAMED: &[(&str, &str)] = &[
    ("Tab;", "\t"),
    ("NewLine;", "\n"),
    ("excl;", "!"),
    ("quot;", "\""),
    ("QUOT;", "\""),
    ("num;", "#"),
    ("dollar;", "$"),
    ("percnt;", "%"),
    ("amp;", "&"),
    ("AMP;", "&"),
    ("apos;", "'"),
    ("lpar;", "("),
    ("rpar;", ")"),
    ("ast;", "*"),
    ("midast;", "*"),
    ("plus;", "+"),
    ("comma;", ","),
    ("period;", "."),
    ("sol;", "/"),
    ("colon;", ":"),
    ("semi;", ";"),
    ("lt;", "<"),
    ("LT;", "<"),
    ("equals;", "="),
    ("gt;", ">"),
    ("GT;", ">"),
    ("quest;", "?"),
    ("commat;", "@"),
    ("lsqb;", "["),
    ("lbrack;", "["),
    ("bsol;", "\\"),
    ("rsqb;", "]"),
    ("rbrack;", "]"),
    ("Hat;", "^"),
    ("lowbar;", "_"),
    ("UnderBar;", "_"),
    ("grave;", "`"),
    ("DiacriticalGrave;", "`"),
    ("lcub;", "{"),
    ("lbrace;", "{"),
    ("verbar;", "|"),
    ("vert;", "|"),
    ("VerticalLine;", "|"),
    ("rcub;", "}"),
    ("rbrace;", "}"),
    ("fjlig;", "fj"),
    // Legacy forms accepted without a semicolon (longest match first is ensured by
    // listing the `;` forms above).
    ("quot", "\""),
    ("QUOT", "\""),
    ("amp", "&"),
    ("AMP", "&"),
    ("lt", "<"),
    ("LT", "<"),
    ("gt", ">"),
    ("GT", ">"),
];

/// Decodes the character references of `s` that can produce ASCII (see the module
/// documentation). Returns the input unchanged (borrowed) when it contains no `&`.
pub(crate) fn decode(s: &str) -> Cow<'_, str> {
    if !s.contains('&') {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        let after = &rest[amp + 1..];
        if let Some((decoded, used)) = numeric(after) {
            out.push(decoded);
            rest = &after[used..];
        } else if let Some((expansion, used)) = named(after) {
            out.push_str(expansion);
            rest = &after[used..];
        } else {
            out.push('&');
            rest = after;
        }
    }
    out.push_str(rest);
    Cow::Owned(out)
}

/// Parses a numeric reference body (`#106;`, `#x6A`, ...) at the start of `s`.
/// Returns the character and the number of bytes consumed.
fn numeric(s: &str) -> Option<(char, usize)> {
    let bytes = s.as_bytes();
    if bytes.first() != Some(&b'#') {
        return None;
    }
    let (radix, start) = match bytes.get(1) {
        Some(b'x' | b'X') => (16, 2),
        _ => (10, 1),
    };
    let digits =
        bytes[start..].iter().take_while(|b| (*b).is_ascii_digit() || (radix == 16 && b.is_ascii_hexdigit())).count();
    if digits == 0 {
        return None;
    }
    let mut value: u32 = 0;
    for &b in &bytes[start..start + digits] {
        let d = (b as char).to_digit(radix).unwrap_or(0);
        // Saturate: anything above U+10FFFF becomes U+FFFD anyway.
        value = value.saturating_mul(radix).saturating_add(d).min(0x11_0000);
    }
    let mut used = start + digits;
    if bytes.get(used) == Some(&b';') {
        used += 1;
    }
    let c = match value {
        0 => '\u{FFFD}',
        v => char::from_u32(v).unwrap_or('\u{FFFD}'),
    };
    Some((c, used))
}

/// Matches one of the ASCII-producing named references at the start of `s`.
fn named(s: &str) -> Option<(&'static str, usize)> {
    NAMED.iter().find(|(name, _)| s.starts_with(name)).map(|(name, expansion)| (*expansion, name.len()))
}

#[cfg(test)]
mod tests {
    use super::decode;

    #[test]
    fn decodes_numeric_and_named() {
        assert_eq!(decode("&#106;avascript&colon;"), "javascript:");
        assert_eq!(decode("&#x6A&#x61;va&#X09;script:"), "java\tscript:");
        assert_eq!(decode("&#0000106&#0000097"), "ja");
        assert_eq!(decode("java&Tab;script&NewLine;:"), "java\tscript\n:");
        assert_eq!(decode("a&ampb&lt;c"), "a&b<c");
        assert_eq!(decode("&unknown; & &#; &#x;"), "&unknown; & &#; &#x;");
        assert_eq!(decode("&#0;&#99999999999;"), "\u{FFFD}\u{FFFD}");
        assert_eq!(decode("&#xD800;"), "\u{FFFD}");
        assert_eq!(decode("&nbsp;é"), "&nbsp;é");
    }
}
