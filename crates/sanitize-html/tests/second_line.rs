//! The second line ([`verify`]) on its own: for every class of script-capable construct,
//! markup that a first-line bug could let through is found, with the construct and the
//! first-line rule named; clean pages, the first line's own outputs and allowed
//! constructs are not. The markup is judged as a browser builds its DOM, not as it
//! reads in the source.

mod common;

use airlock_sanitize_html::{Mode, Policy, sanitize, verify};
use common::{CASES, PAGES};

/// The second line's messages for `html` under `mode` with the default script hosts.
fn found(html: &str, mode: Mode) -> Vec<String> {
    let findings = verify(html, &Policy::new(mode));
    assert!(findings.iter().all(|f| f.rule == "second-line" && f.offset.is_none()), "{findings:?}");
    findings.into_iter().map(|f| f.message).collect()
}

/// Asserts that `html` has exactly one finding in static mode, naming `construct` and
/// the first-line `rule`.
#[track_caller]
fn blocks(html: &str, construct: &str, rule: &str) {
    let messages = found(html, Mode::Static);
    assert!(
        messages.len() == 1 && messages[0].contains(construct) && messages[0].contains(&format!("the {rule} rule")),
        "{html:?}: expected one finding of {construct} ({rule}), got {messages:#?}"
    );
}

#[track_caller]
fn passes(html: &str, mode: Mode) {
    assert_eq!(found(html, mode), Vec::<String>::new(), "{html:?} in {mode:?} mode");
}

#[test]
fn scripts_outside_the_policy() {
    blocks("<p>hi</p><script>alert(1)</script>", "an inline <script>", "script-inline");
    blocks("<script src=\"https://evil.example/x.js\"></script>", "https://evil.example/x.js", "script-external");
    blocks("<script src=\"http://cdn.tailwindcss.com\"></script>", "http://cdn.tailwindcss.com", "script-external");
    blocks("<script src=\"https://cdn.tailwindcss.com\">alert(1)</script>", "inline text", "script-inline");
    blocks("<svg><script>alert(1)</script></svg>", "an SVG/MathML <script>", "svg-script");
    passes("<script src=\"https://cdn.tailwindcss.com\"></script><p>x</p>", Mode::Static);
    passes("<div id=root></div><script>render()</script>", Mode::App);
    let own_hosts = Policy { script_hosts: vec!["js.example.com".into()], ..Policy::new(Mode::Static) };
    assert!(verify("<script src=\"https://js.example.com/a.js\"></script>", &own_hosts).is_empty());
    assert_eq!(verify("<script src=\"https://cdn.tailwindcss.com\"></script>", &own_hosts).len(), 1);
}

#[test]
fn event_handlers_on_any_element() {
    blocks("<img src=x.png onerror=alert(1)>", "<img onerror>", "event-handler");
    blocks("<svg><a onmouseover=\"alert(1)\"><text>x</text></a></svg>", "<a onmouseover>", "event-handler");
    blocks("<body onload=alert(1)><p>x</p>", "<body onload>", "event-handler");
}

#[test]
fn script_and_data_urls_as_the_dom_holds_them() {
    blocks("<a href=\"javascript:alert(1)\">x</a>", "javascript:alert(1)", "javascript-url");
    // The DOM holds decoded values: entities and control characters do not hide a scheme.
    blocks("<a href=\" JaVa&#x09;ScRiPt&#x3a;alert(1)\">x</a>", "<a href=", "javascript-url");
    blocks("<form action=\"vbscript:msgbox(1)\"><button>x</button></form>", "<form action=", "javascript-url");
    blocks("<a href=\"data:text/html,<script>alert(1)</script>\">x</a>", "<a href=", "data-url");
    blocks("<img srcset=\"a.png 1x, javascript:alert(1) 2x\">", "<img srcset=", "javascript-url");
    blocks("<svg><a xlink:href=\"javascript:alert(1)\"><text>x</text></a></svg>", "xlink:href", "javascript-url");
    passes("<img src=\"data:image/png;base64,iVBORw0KGgo=\" alt=\"\"><a href=\"/about\">about</a>", Mode::Static);
}

#[test]
fn frames_plugins_and_srcdoc() {
    let iframe = found("<iframe srcdoc=\"&lt;script&gt;alert(1)&lt;/script&gt;\"></iframe>", Mode::Static);
    assert!(iframe.iter().any(|m| m.contains("<iframe>") && m.contains("the iframe rule")), "{iframe:#?}");
    assert!(iframe.iter().any(|m| m.contains("<iframe srcdoc>") && m.contains("the srcdoc rule")), "{iframe:#?}");
    let frames = found("<frameset><frame src=\"https://evil.example/\"></frameset>", Mode::Static);
    assert!(frames.len() == 2 && frames[1].contains("<frame>") && frames[1].contains("the iframe rule"), "{frames:#?}");
    blocks("<object data=\"x.swf\"></object>", "<object>", "plugin");
    blocks("<embed src=\"x.swf\">", "<embed>", "plugin");
}

#[test]
fn base_and_meta_refresh() {
    blocks("<base href=\"https://evil.example/\"><a href=\"/x\">x</a>", "<base>", "base");
    blocks(
        "<meta http-equiv=\" Refresh\" content=\"0;url=https://evil.example\">",
        "meta http-equiv=refresh",
        "meta-refresh",
    );
    passes("<meta charset=utf-8><meta http-equiv=\"content-type\" content=\"text/html\">", Mode::Static);
}

#[test]
fn foreign_content_that_embeds_or_runs_script() {
    blocks("<svg><foreignObject><p>hi</p></foreignObject></svg>", "<foreignobject>", "svg-foreign-object");
    blocks("<math><maction actiontype=statusline><mi>x</mi></maction></math>", "<maction>", "mathml-maction");
    blocks(
        "<svg><a><animate attributeName=\"href\" values=\"javascript:alert(1)\"/></a></svg>",
        "<animate>",
        "svg-animate",
    );
    blocks("<svg><set attributeName=\"onmouseover\" to=\"alert(1)\"/></svg>", "<set>", "svg-animate");
    blocks("<svg><use href=\"https://evil.example/x.svg#a\"/></svg>", "<use href=", "svg-use-external");
    passes(
        "<svg><defs><circle id=c r=4 /></defs><use href=\"#c\"/><animate attributeName=\"r\" to=\"8\"/></svg>",
        Mode::Static,
    );
}

#[test]
fn css_with_script_urls_or_foreign_imports() {
    let style = found("<style>body { background: url(javascript:alert(1)) }</style>", Mode::Static);
    assert!(style.len() == 1 && style[0].contains("CSS in <style>"), "{style:#?}");
    let attribute = found("<div style=\"background:url('javascript:alert(1)')\">x</div>", Mode::Static);
    assert!(attribute.len() == 1 && attribute[0].contains("the style attribute of <div>"), "{attribute:#?}");
    let import = found("<style>@import url(https://evil.example/x.css);</style>", Mode::Static);
    assert_eq!(import.len(), 1, "{import:#?}");
    passes(
        "<style>@import url(https://fonts.googleapis.com/css2?family=Inter); p { color: red }</style>",
        Mode::Static,
    );
}

/// The walk follows a browser's tree builder, not the source: the same bytes are
/// harmless in one context and script in another.
#[test]
fn markup_is_judged_as_a_browser_builds_it() {
    // In HTML, <style> is raw text: the <img> is CSS text, not an element.
    passes("<style>/* <img src=x onerror=alert(1)> */</style>", Mode::Static);
    // In SVG, <style> has element children, and <img> breaks out into HTML.
    blocks("<svg><style><img src=x onerror=alert(1)></style></svg>", "<img onerror>", "event-handler");
    // A <script> after an HTML breakout tag inside <svg> is an HTML script.
    blocks("<svg><p><script>alert(1)</script></p></svg>", "an inline <script>", "script-inline");
    // In a <noscript> with scripting on (as in the preview), the content is raw text.
    passes("<noscript><img src=x onerror=alert(1)></noscript>", Mode::Static);
    // A <template>'s content is checked too: a script can clone it into the page.
    blocks("<template><img src=x onerror=alert(1)></template>", "<img onerror>", "event-handler");
}

#[test]
fn clean_pages_and_every_first_line_output_pass() {
    for (_, page) in PAGES {
        passes(page, Mode::Static);
        passes(page, Mode::App);
    }
    for case in CASES {
        let sanitized = sanitize(case.input, &Policy::new(case.mode));
        assert_eq!(sanitized.blocked, None, "{:?}", case.input);
        passes(&sanitized.text, case.mode);
    }
}
