//! Coverage-guided fuzzing of the screenshot checks by magic bytes and header
//! (`airlock::generation::check_image`). The oracles are
//! `airlock_fuzz_oracles::targets::image_check`
//! (`crates/fuzz-oracles/src/targets/image_check.rs`), which
//! `cargo test -p airlock-fuzz-oracles` also runs on every input of `corpus/image_check/`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| airlock_fuzz_oracles::targets::image_check(data));
