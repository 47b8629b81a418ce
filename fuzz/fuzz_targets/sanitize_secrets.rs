//! Coverage-guided fuzzing of the secrets sanitizer (`airlock_sanitize_secrets`). The
//! oracles are `airlock_fuzz_oracles::targets::sanitize_secrets`
//! (`crates/fuzz-oracles/src/targets/sanitize_secrets.rs`), which
//! `cargo test -p airlock-fuzz-oracles` also runs on every input of
//! `corpus/sanitize_secrets/`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| airlock_fuzz_oracles::targets::sanitize_secrets(data));
