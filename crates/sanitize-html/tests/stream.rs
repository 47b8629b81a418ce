//! The chunking invariant: for any split of an input, the concatenated output of
//! `StreamSanitizer` equals `sanitize` on the whole input, and so do the findings.

mod common;

use airlock_sanitize_html::{Mode, Policy, Sanitized, StreamSanitizer, sanitize};
use common::{CASES, LANDING, PAGES};

fn run_chunks(chunks: &[&str], policy: &Policy) -> Sanitized {
    let mut s = StreamSanitizer::new(policy);
    let mut text = String::new();
    for c in chunks {
        text += &s.push(c);
    }
    let rest = s.finish();
    text += &rest.text;
    Sanitized { text, ..rest }
}

fn assert_same(input: &str, chunks: &[&str], policy: &Policy, whole: &Sanitized) {
    let got = run_chunks(chunks, policy);
    if got != *whole {
        let lens: Vec<usize> = chunks.iter().map(|c| c.len()).take(40).collect();
        let same = whole.text.bytes().zip(got.text.bytes()).take_while(|(a, b)| a == b).count();
        let from = same.saturating_sub(80);
        let clip = |t: &str| t.get(from..).unwrap_or("").chars().take(240).collect::<String>();
        panic!(
            "chunking changed the result\n  input: {input:?}\n  first chunk lengths: {lens:?}\n  \
             texts differ after byte {same}:\n  whole:   {:?}\n  chunked: {:?}\n  \
             whole findings: {:?}\n  chunked findings: {:?}",
            clip(&whole.text),
            clip(&got.text),
            whole.findings,
            got.findings
        );
    }
}

/// Deterministic xorshift64* generator (no extra dependency).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
}

/// Splits `input` at `cuts` random char boundaries, pieces of at most `max` bytes.
fn random_chunks<'a>(input: &'a str, rng: &mut Rng, max: usize) -> Vec<&'a str> {
    let mut chunks = Vec::new();
    let mut rest = input;
    while !rest.is_empty() {
        let mut n = 1 + (rng.next() as usize) % max;
        n = n.min(rest.len());
        while !rest.is_char_boundary(n) {
            n += 1;
        }
        let (a, b) = rest.split_at(n);
        chunks.push(a);
        rest = b;
    }
    chunks
}

fn boundaries(input: &str) -> impl Iterator<Item = usize> + '_ {
    (0..=input.len()).filter(|i| input.is_char_boundary(*i))
}

#[test]
fn every_case_at_every_split_point() {
    for case in CASES {
        let policy = Policy::new(case.mode);
        let whole = sanitize(case.input, &policy);
        let input = case.input;
        for i in boundaries(input) {
            let (a, b) = input.split_at(i);
            assert_same(input, &[a, b], &policy, &whole);
        }
        // Every pair of split points (three pieces), for the short inputs.
        if input.len() <= 160 {
            for i in boundaries(input) {
                for j in boundaries(input).filter(|j| *j >= i) {
                    let pieces = [&input[..i], &input[i..j], &input[j..]];
                    assert_same(input, &pieces, &policy, &whole);
                }
            }
        }
        // One character at a time.
        let chars: Vec<&str> = input.char_indices().map(|(i, c)| &input[i..i + c.len_utf8()]).collect();
        assert_same(input, &chars, &policy, &whole);
    }
}

#[test]
fn every_case_under_random_chunkings() {
    let mut rng = Rng(0x5EED_1234_ABCD_0001);
    for case in CASES {
        let policy = Policy::new(case.mode);
        let whole = sanitize(case.input, &policy);
        for round in 0..40 {
            let max = [1, 2, 3, 5, 8, 16, 64][round % 7];
            let chunks = random_chunks(case.input, &mut rng, max);
            assert_same(case.input, &chunks, &policy, &whole);
        }
    }
}

#[test]
fn landing_pages_under_random_chunkings() {
    let mut rng = Rng(0xA1B2_C3D4_E5F6_0718);
    for (name, page) in PAGES {
        for mode in [Mode::Static, Mode::App] {
            let policy = Policy::new(mode);
            let whole = sanitize(page, &policy);
            assert!(whole.text == *page);
            for round in 0..20 {
                let max = [1, 7, 64, 512, 4096][round % 5];
                let chunks = random_chunks(page, &mut rng, max);
                assert_same(name, &chunks, &policy, &whole);
            }
            // Two pieces, at a spread of split points (every 97th byte).
            for i in boundaries(page).step_by(97) {
                let (a, b) = page.split_at(i);
                assert_same(name, &[a, b], &policy, &whole);
            }
        }
    }
}

#[test]
fn landing_page_with_every_case_injected_under_random_chunkings() {
    // Every attack inside a realistic page, so that attacks meet long text runs,
    // nested sections and chunk boundaries far from the start of the input.
    let mut rng = Rng(0x0DDB_A11C_AFE0_0042);
    let cut = LANDING.find("<section id=\"pricing\"").unwrap();
    for case in CASES {
        let input = format!("{}{}{}", &LANDING[..cut], case.input, &LANDING[cut..]);
        let policy = Policy::new(case.mode);
        let whole = sanitize(&input, &policy);
        for round in 0..3 {
            let max = [5, 61, 1024][round % 3];
            let chunks = random_chunks(&input, &mut rng, max);
            assert_same(case.input, &chunks, &policy, &whole);
        }
    }
}

#[test]
fn split_script_tag_over_chunks() {
    let policy = Policy::default();
    let whole = sanitize("<p>a</p><script>alert(1)</script><p>b</p>", &policy);
    assert_eq!(whole.text, "<p>a</p><!----><p>b</p>");
    let chunked = run_chunks(&["<p>a</p><scr", "ipt>alert(", "1)</scr", "ipt><p>b</p>"], &policy);
    assert_eq!(chunked, whole);
}
