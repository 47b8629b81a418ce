//! Data-driven checks: every case of `common::CASES`, the landing fixture, the
//! public API's small pieces.

mod common;

use airlock_sanitize_html::{DEFAULT_SCRIPT_HOSTS, Finding, Mode, Policy, Sanitized, StreamSanitizer, sanitize};
use common::{CASES, LANDING, PAGES, check};

#[test]
fn all_cases() {
    let failures: Vec<String> = CASES.iter().filter_map(|c| check(c.input, c.mode, c.output, c.rules).err()).collect();
    assert!(failures.is_empty(), "{} of {} cases failed:\n{}", failures.len(), CASES.len(), failures.join("\n"));
}

#[test]
fn canonical_check() {
    let r = sanitize("<img src=x onerror=alert(1)><div class=\"p-4 text-xl\">ok</div>", &Policy::default());
    assert!(r.text.contains("<div class=\"p-4 text-xl\">ok</div>"));
    assert!(!r.text.contains("onerror"));
    assert_eq!(
        r.findings,
        vec![Finding {
            rule: "event-handler",
            message: "removed attribute onerror=\"alert(1)\" from <img>: event handlers run script".to_string(),
            offset: Some(11),
        }]
    );
}

#[test]
fn landing_pages_are_untouched() {
    for (name, page) in PAGES {
        assert!(page.len() > 50_000, "{name} should be a realistic full page");
        for mode in [Mode::Static, Mode::App] {
            let r = sanitize(page, &Policy::new(mode));
            assert!(r.findings.is_empty(), "{name} {mode}: {:#?}", r.findings);
            assert!(r.text == *page, "{name} {mode}: the page was modified");
        }
    }
}

#[test]
fn landing_page_with_injections_is_cleaned_and_otherwise_untouched() {
    let evil = LANDING
        .replace(
            "<section id=\"features\"",
            "<img src=x onerror=alert(1)><iframe src=\"https://evil.example\"></iframe><section id=\"features\"",
        )
        .replace("</body>", "<script>alert(document.cookie)</script></body>");
    let r = sanitize(&evil, &Policy::default());
    let rules: Vec<&str> = r.findings.iter().map(|f| f.rule).collect();
    assert_eq!(rules, ["event-handler", "iframe", "script-inline"]);
    let expected = LANDING
        .replace("<section id=\"features\"", "<img src=x><!----><section id=\"features\"")
        .replace("</body>", "<!----></body>");
    assert!(r.text == expected);
    // Offsets point at the offending bytes of the input.
    let at = |f: &Finding| &evil[f.offset.unwrap() as usize..];
    assert!(at(&r.findings[0]).starts_with("onerror=alert(1)"));
    assert!(at(&r.findings[1]).starts_with("<iframe"));
    assert!(at(&r.findings[2]).starts_with("<script>alert(document.cookie)"));
}

#[test]
fn custom_allowlist() {
    let policy = Policy { mode: Mode::Static, script_hosts: vec!["CDN.Example.com".to_string()] };
    let r = sanitize(
        "<script src=\"https://cdn.example.com/a.js\"></script><script src=\"https://cdn.tailwindcss.com\"></script>",
        &policy,
    );
    assert_eq!(r.text, "<script src=\"https://cdn.example.com/a.js\"></script><!---->");
    assert_eq!(r.findings.len(), 1);
    assert_eq!(r.findings[0].rule, "script-external");

    let none = Policy { mode: Mode::App, script_hosts: vec![] };
    let r = sanitize("<link rel=stylesheet href=\"https://fonts.googleapis.com/css\"><script>ok()</script>", &none);
    assert_eq!(r.text, "<!----><script>ok()</script>");
}

#[test]
fn mode_parsing() {
    assert_eq!("static".parse::<Mode>(), Ok(Mode::Static));
    assert_eq!("app".parse::<Mode>(), Ok(Mode::App));
    assert_eq!(" APP ".parse::<Mode>(), Ok(Mode::App));
    let err = "react".parse::<Mode>().unwrap_err().to_string();
    assert!(err.contains("\"react\""), "{err}");
    assert!(err.contains("\"static\"") && err.contains("\"app\""), "{err}");
    assert_eq!(Mode::default(), Mode::Static);
    assert_eq!(Mode::App.to_string(), "app");
    assert_eq!(Mode::Static.as_str().parse::<Mode>(), Ok(Mode::Static));
}

#[test]
fn default_policy() {
    let p = Policy::default();
    assert_eq!(p.mode, Mode::Static);
    assert_eq!(p.script_hosts, DEFAULT_SCRIPT_HOSTS);
    assert!(DEFAULT_SCRIPT_HOSTS.contains(&"cdn.tailwindcss.com"));
    assert!(DEFAULT_SCRIPT_HOSTS.contains(&"fonts.googleapis.com"));
}

#[test]
fn stream_sanitizer_is_send_and_debug() {
    fn is_send<T: Send>(_: &T) {}
    let s = StreamSanitizer::new(&Policy::default());
    is_send(&s);
    assert!(format!("{s:?}").starts_with("StreamSanitizer"));
}

#[test]
fn stream_holds_back_undecided_bytes() {
    let mut s = StreamSanitizer::new(&Policy::default());
    let mut out = s.push("<p>hello</p><img src=x on");
    assert!(!out.contains("<img"), "an unfinished tag must be held back: {out:?}");
    out += &s.push("error=alert(1)>");
    let Sanitized { text, findings, blocked } = s.finish();
    out += &text;
    assert_eq!(out, "<p>hello</p><img src=x>");
    assert_eq!(findings.len(), 1);
    assert_eq!(blocked, None);
}

#[test]
fn stream_style_text_is_held_until_complete() {
    let mut s = StreamSanitizer::new(&Policy::default());
    let first = s.push("<style>a{color:red} b{width:expr");
    assert!(!first.contains("color:red"), "{first:?}");
    let second = s.push("ession(alert(1))}</style><p>ok</p>");
    let rest = s.finish();
    assert_eq!(first + &second + &rest.text, "<style></style><p>ok</p>");
    assert_eq!(rest.findings[0].rule, "css-expression");
}

#[test]
fn stream_after_parse_error_drops_everything() {
    let mut s = StreamSanitizer::new(&Policy::default());
    let a = s.push("<p>a</p><select><xmp>");
    let b = s.push("<script>alert(1)</script><p>more</p>");
    let rest = s.finish();
    let all = a + &b + &rest.text;
    assert!(!all.contains("alert"), "{all:?}");
    assert!(!all.contains("more"), "{all:?}");
    assert_eq!(rest.findings.last().unwrap().rule, "parse-error");
}

#[test]
fn multibyte_characters_split_across_pushes() {
    let input = "<p title=\"é🚀\">日本語 🚀</p>";
    let bytes = input.as_bytes();
    // Feed the text one character at a time; every output must be valid UTF-8 (it is
    // a String) and the whole must round-trip.
    let mut s = StreamSanitizer::new(&Policy::default());
    let mut out = String::new();
    for ch in input.chars() {
        out += &s.push(ch.encode_utf8(&mut [0; 4]));
    }
    out += &s.finish().text;
    assert_eq!(out.as_bytes(), bytes);
}
