//! Coverage-guided fuzzing of the html output sanitizer (`airlock_sanitize_html`). The
//! oracles are `airlock_fuzz_oracles::targets::sanitize_html`
//! (`crates/fuzz-oracles/src/targets/sanitize_html.rs`), which
//! `cargo test -p airlock-fuzz-oracles` also runs on every input of
//! `corpus/sanitize_html/`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| airlock_fuzz_oracles::targets::sanitize_html(data));
