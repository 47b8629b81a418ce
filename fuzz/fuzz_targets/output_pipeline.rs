//! Coverage-guided fuzzing of what a user is shown of generated code: the `html` sanitizer,
//! then `secrets`, streamed and whole. The oracles are
//! `airlock_fuzz_oracles::targets::output_pipeline`
//! (`crates/fuzz-oracles/src/targets/output_pipeline.rs`), which
//! `cargo test -p airlock-fuzz-oracles` also runs on every input of
//! `corpus/output_pipeline/`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| airlock_fuzz_oracles::targets::output_pipeline(data));
