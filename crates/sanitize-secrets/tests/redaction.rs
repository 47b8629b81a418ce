//! Every rule, its near misses, custom patterns, and the streaming invariant.

use airlock_sanitize_secrets::{CustomPattern, PatternError, Redacted, Redactor};

const OPENAI: &str = "sk-proj-AbCdEfGhIjKlMnOpQrStUvWxYz0123456789";
const ANTHROPIC: &str = "sk-ant-api03-AbCdEfGhIjKlMnOpQrStUvWxYz0123456789-_xyz";
const AWS_ID: &str = "AKIAIOSFODNN7EXAMPLE";
const AWS_SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
const GOOGLE: &str = "AIzaSyA-1234567890abcdefghijklmnopqrstu";
const GITHUB: &str = "ghp_0123456789abcdefghijklmnopqrstuvwxyz";
const GITHUB_PAT: &str = "github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz";
const SLACK: &str = "xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOp";
const STRIPE: &str = "sk_live_0123456789abcdefABCDEF";
const JWT: &str = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U";
const PEM: &str = "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA1234567890abcdef\nQWERTYUIOPASDFGHJKL0987654321zz==\n-----END RSA PRIVATE KEY-----";

/// Redacts `input` and compares the text and the rules that fired.
fn check(input: &str, expected: &str, rules: &[&str]) {
    let Redacted { text, findings } = Redactor::default().redact(input);
    assert_eq!(text, expected, "input: {input}");
    let fired: Vec<&str> = findings.iter().map(|f| f.rule.as_str()).collect();
    assert_eq!(fired, rules, "input: {input}");
    for finding in &findings {
        assert!(!finding.message.contains("sk-") && !finding.message.contains("AKIA"), "{}", finding.message);
    }
    check_streaming(&Redactor::default(), input);
}

#[test]
fn every_built_in_rule_fires() {
    check(&format!("key {OPENAI} end"), "key [REDACTED:openai-key] end", &["openai-key"]);
    check(&format!("k={ANTHROPIC}"), "k=[REDACTED:anthropic-key]", &["anthropic-key"]);
    check(&format!("id {AWS_ID}."), "id [REDACTED:aws-access-key-id].", &["aws-access-key-id"]);
    check(
        &format!("aws_secret_access_key = {AWS_SECRET}\n"),
        "aws_secret_access_key = [REDACTED:aws-secret-access-key]\n",
        &["aws-secret-access-key"],
    );
    check(
        &format!("\"AWS_SECRET_ACCESS_KEY\": \"{AWS_SECRET}\""),
        "\"AWS_SECRET_ACCESS_KEY\": \"[REDACTED:aws-secret-access-key]\"",
        &["aws-secret-access-key"],
    );
    check(&format!("g:{GOOGLE}"), "g:[REDACTED:google-api-key]", &["google-api-key"]);
    check(
        &format!("{GITHUB} {GITHUB_PAT}"),
        "[REDACTED:github-token] [REDACTED:github-token]",
        &["github-token", "github-token"],
    );
    check(&format!("slack {SLACK}"), "slack [REDACTED:slack-token]", &["slack-token"]);
    check(&format!("stripe({STRIPE})"), "stripe([REDACTED:stripe-key])", &["stripe-key"]);
    check(&format!("token={JWT};"), "token=[REDACTED:jwt];", &["jwt"]);
    check(
        "Authorization: Bearer abcdefghijklmnop0123456789",
        "Authorization: Bearer [REDACTED:bearer-token]",
        &["bearer-token"],
    );
    check(
        &format!("before\n{PEM}\nafter"),
        "before\n-----BEGIN RSA PRIVATE KEY-----\n[REDACTED:private-key]\n-----END RSA PRIVATE KEY-----\nafter",
        &["private-key"],
    );
}

#[test]
fn near_misses_are_left_alone() {
    for text in [
        "our task-force met at the desk-lamp; risk-assessment follows",
        "sk-short",
        "ask-AbCdEfGhIjKlMnOpQrStUvWxYz0123456789",
        "AKIA1234",
        "AKIAIOSFODNN7EXAMPLEXX",
        "AIzaTooShort",
        "ghp_short",
        "xoxb-1",
        "Bearer short",
        "the bearer of bad news",
        "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----",
        "eyJhbGciOi.notajwt",
        "<div class=\"p-4 text-xl\">sk-ant is a prefix, not a key</div>",
        "Ünïcödé text ✓ with sk- and AKIA but nothing secret — 日本語",
    ] {
        check(text, text, &[]);
    }
}

#[test]
fn an_unterminated_private_key_is_redacted_to_the_end() {
    check(
        "x\n-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC",
        "x\n-----BEGIN PRIVATE KEY-----\n[REDACTED:private-key]",
        &["private-key"],
    );
}

#[test]
fn a_private_key_that_starts_in_the_dashes_ending_another_is_redacted_streamed_too() {
    // The second BEGIN shares the dashes of the first END line; a stream that looked
    // for the next block only after that line let the second body through (fuzzing).
    check(
        "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA\n-----END RSA PRIVATE KEY------BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkq",
        "-----BEGIN RSA PRIVATE KEY-----\n[REDACTED:private-key]\n-----END RSA PRIVATE KEY------BEGIN PRIVATE KEY-----\n[REDACTED:private-key]",
        &["private-key", "private-key"],
    );
}

#[test]
fn offsets_point_into_the_input() {
    let input = format!("ab {OPENAI} cd {AWS_ID}");
    let findings = Redactor::default().redact(&input).findings;
    assert_eq!(findings[0].offset, Some(3));
    assert_eq!(findings[1].offset, Some((input.find(AWS_ID).unwrap()) as u64));
}

#[test]
fn custom_patterns_are_applied_and_validated() {
    let redactor = Redactor::new(vec![CustomPattern::parse("internal-token=itk_[0-9a-f]{8}").unwrap()]);
    let redacted = redactor.redact(&format!("use itk_deadbeef and {OPENAI}"));
    assert_eq!(redacted.text, "use [REDACTED:internal-token] and [REDACTED:openai-key]");
    assert_eq!(redacted.findings[0].message, "redacted text matching the operator pattern `internal-token`");
    check_streaming(&redactor, "a itk_deadbeef b itk_0123abcd c");

    assert_eq!(CustomPattern::parse("no-equals").unwrap_err(), PatternError::MissingName);
    assert_eq!(CustomPattern::parse("Bad Name=x").unwrap_err(), PatternError::BadName("Bad Name".into()));
    assert_eq!(CustomPattern::parse("empty=a*").unwrap_err(), PatternError::MatchesEmpty);
    assert!(matches!(CustomPattern::parse("broken=(").unwrap_err(), PatternError::BadRegex(_)));
}

#[test]
fn prose_and_code_without_secrets_pass_untouched() {
    let page = include_str!("fixtures/benign.html");
    check(page, page, &[]);
}

/// Streams `input` split at every char boundary into two pieces, and in many
/// pseudo-random multi-piece splits, and compares with the whole-text result.
fn check_streaming(redactor: &Redactor, input: &str) {
    let whole = redactor.redact(input);
    let boundaries: Vec<usize> = (0..=input.len()).filter(|&i| input.is_char_boundary(i)).collect();
    for &split in &boundaries {
        assert_stream_equals(redactor, input, &[split], &whole);
    }
    let mut seed = 0x9e37_79b9_7f4a_7c15_u64 ^ input.len() as u64;
    for _ in 0..200 {
        let mut cuts: Vec<usize> = (0..1 + (next(&mut seed) % 8) as usize)
            .map(|_| boundaries[(next(&mut seed) % boundaries.len() as u64) as usize])
            .collect();
        cuts.sort_unstable();
        assert_stream_equals(redactor, input, &cuts, &whole);
    }
}

fn assert_stream_equals(redactor: &Redactor, input: &str, cuts: &[usize], whole: &Redacted) {
    let mut stream = redactor.clone().into_stream();
    let mut text = String::new();
    let mut from = 0;
    for &cut in cuts.iter().chain([input.len()].iter()) {
        text.push_str(&stream.push(&input[from..cut]));
        from = cut;
    }
    let end = stream.finish();
    text.push_str(&end.text);
    assert_eq!(text, whole.text, "cuts {cuts:?} of {input:?}");
    assert_eq!(end.findings, whole.findings, "cuts {cuts:?} of {input:?}");
}

fn next(seed: &mut u64) -> u64 {
    *seed ^= *seed << 13;
    *seed ^= *seed >> 7;
    *seed ^= *seed << 17;
    *seed
}

#[test]
fn streaming_holds_back_only_the_unfinished_word() {
    let mut stream = Redactor::default().into_stream();
    assert_eq!(stream.push("hello world, this is "), "hello world, this is ");
    assert_eq!(stream.push("sk-proj-AbCdEf"), "");
    assert_eq!(stream.held_back(), "sk-proj-AbCdEf".len());
    assert_eq!(stream.push("GhIjKlMnOpQrStUv and more"), "[REDACTED:openai-key] and ");
    // `Authorization:` and `Bearer` may join the next word, so both wait for it.
    assert_eq!(stream.push(" Authorization: Bearer "), "more ");
    assert_eq!(stream.push("abcdefghijklmnopqrstu done "), "Authorization: Bearer [REDACTED:bearer-token] done ");
    assert_eq!(stream.finish().findings.len(), 2);
}

#[test]
fn a_private_key_streamed_in_tiny_pieces_is_redacted_whole() {
    let input = format!("config:\n{PEM}\nrest of the file\n");
    let mut stream = Redactor::default().into_stream();
    let mut text = String::new();
    for chunk in input.as_bytes().chunks(10) {
        text.push_str(&stream.push(std::str::from_utf8(chunk).unwrap()));
        assert!(!text.contains("MIIE"), "{text}");
    }
    text.push_str(&stream.finish().text);
    assert_eq!(
        text,
        "config:\n-----BEGIN RSA PRIVATE KEY-----\n[REDACTED:private-key]\n-----END RSA PRIVATE KEY-----\nrest of the file\n"
    );
}

#[test]
fn timing_of_setup_and_a_50_kb_text() {
    let started = std::time::Instant::now();
    let redactor = Redactor::default();
    let built = started.elapsed();
    let text = "The quick brown fox jumps over the lazy dog; sk- AKIA eyJ bearer. ".repeat(800);
    let started = std::time::Instant::now();
    let redacted = redactor.redact(&text);
    println!("Redactor::new: {built:?}; redact {} KB: {:?}", text.len() / 1024, started.elapsed());
    assert_eq!(redacted.text, text);
}
