//! Regressions found by fuzzing (`fuzz/`, targets `output_pipeline` and
//! `sanitize_secrets`).
//!
//! On generated pages this sanitizer runs after the html sanitizer, so a redaction
//! must never change how a browser splits the page into markup: before these fixes,
//! redacting a private key block (BEGIN to END, whatever lay between) or a token ending
//! in `--` turned text the html sanitizer had judged inert (inside an attribute value,
//! a `<textarea>`, a comment) into a live `<img onerror>`. And the output must hold no
//! secret by the redactor's own rules: a key glued to the end of a redacted one was
//! left in clear.

use airlock_sanitize_secrets::Redactor;

fn redact(input: &str) -> String {
    let redacted = Redactor::default().redact(input).text;
    let again = Redactor::default().redact(&redacted);
    assert!(again.findings.is_empty(), "the output still holds a secret: {redacted:?} -> {again:?}");
    // The stream gives the same text under any split.
    for cut in (0..=input.len()).filter(|at| input.is_char_boundary(*at)) {
        let mut stream = Redactor::default().into_stream();
        let mut text = stream.push(&input[..cut]);
        text.push_str(&stream.push(&input[cut..]));
        text.push_str(&stream.finish().text);
        assert_eq!(text, redacted, "split at {cut} of {input:?}");
    }
    redacted
}

#[test]
fn a_private_key_block_spanning_markup_is_not_one_block() {
    // The block used to run from BEGIN (inside one attribute value) to END (inside
    // another), and its removal closed the first value early: `onmouseover` became an
    // attribute of the <div>.
    let input = "<div title=\"-----BEGIN RSA PRIVATE KEY-----\">x</div>\
                 <p title='-----END RSA PRIVATE KEY-----\" onmouseover=alert(1) x=\"'>y</p>";
    assert_eq!(redact(input), input);
    // Removing `<textarea>` with the block made its raw text live markup.
    let input = "-----BEGIN EC PRIVATE KEY----- <textarea> -----END EC PRIVATE KEY----- \
                 <img src=x onerror=alert(1)></textarea>";
    assert_eq!(redact(input), input);
}

#[test]
fn a_private_key_keeps_its_begin_and_end_lines() {
    // `<!` + the header's dashes open a comment; replacing the header made it `<![`, a
    // comment that ends at the first `>`, and the <img> after it live.
    let input = "<!-----BEGIN A PRIVATE KEY-----\nMIIEvQIBADAN\n-----END A PRIVATE KEY----- > \
                 <img src=x onerror=alert(1)> -->";
    assert_eq!(
        redact(input),
        "<!-----BEGIN A PRIVATE KEY-----\n[REDACTED:private-key]\n-----END A PRIVATE KEY----- > \
         <img src=x onerror=alert(1)> -->"
    );
    // The footer's dashes close a comment here, as they did before the redaction.
    let input = "<!-- -----BEGIN A PRIVATE KEY-----\nMIIEvQ==\n-----END A PRIVATE KEY-----> \
                 <textarea> --> <img src=x onerror=alert(1)></textarea>";
    assert_eq!(
        redact(input),
        "<!-- -----BEGIN A PRIVATE KEY-----\n[REDACTED:private-key]\n-----END A PRIVATE KEY-----> \
         <textarea> --> <img src=x onerror=alert(1)></textarea>"
    );
    // A body ends where markup starts; the key material before it is redacted but for
    // its last byte, so that the replacement's `]` never meets the markup.
    assert_eq!(
        redact("<pre>-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA\n</pre><p>after</p>"),
        "<pre>-----BEGIN RSA PRIVATE KEY-----\n[REDACTED:private-key]A\n</pre><p>after</p>"
    );
    // Found by fuzzing: `]` + `]>` would have closed the CDATA section early, and the
    // <img> after it would have been live markup.
    assert_eq!(
        redact("<svg><![CDATA[ -----BEGIN EC PRIVATE KEY-----tZ]> <img src=x onerror=alert(1)> ]]></svg>"),
        "<svg><![CDATA[ -----BEGIN EC PRIVATE KEY-----[REDACTED:private-key]Z]> <img src=x onerror=alert(1)> ]]></svg>"
    );
}

#[test]
fn a_token_ending_in_dashes_keeps_them() {
    // `…--` + `>` closed the comment; `[REDACTED:…]>` does not, so the comment ran on
    // over the <textarea> to the next `-->`, and the <img> in the textarea went live.
    let input = "<!-- sk-aaaaaaaaaaaaaaaaaaaaaaaa--> <textarea> --> <img src=x onerror=alert(1)></textarea>";
    assert_eq!(redact(input), "<!-- [REDACTED:openai-key]--> <textarea> --> <img src=x onerror=alert(1)></textarea>");
    assert_eq!(redact("xoxb-0123456789-abc- x"), "[REDACTED:slack-token]- x");
}

#[test]
fn a_token_before_a_bracket_does_not_end_a_cdata_section() {
    // The replacement's `]` + `]>` is `]]>`: the CDATA section would end early.
    let input = "<svg><![CDATA[ sk-aaaaaaaaaaaaaaaaaaaaaaaZ]> <img src=x onerror=alert(1)> ]]></svg>";
    assert_eq!(redact(input), "<svg><![CDATA[ [REDACTED:openai-key]Z]> <img src=x onerror=alert(1)> ]]></svg>");
}

#[test]
fn a_key_glued_to_a_redacted_one_is_redacted_too() {
    assert_eq!(
        redact("AKIAABCDEFGHIJKLMNOPsk-aaaaaaaaaaaaaaaaaaaaaaaaa"),
        "[REDACTED:aws-access-key-id][REDACTED:openai-key]"
    );
    // Still not a key: glued to an ordinary word.
    assert_eq!(redact("xsk-bbbbbbbbbbbbbbbbbbbbbbbb"), "xsk-bbbbbbbbbbbbbbbbbbbbbbbb");
}
