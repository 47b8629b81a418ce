//! Coverage-guided fuzzing of the server-sent-events parser of every provider
//! (`airlock_pdk::sse`). The oracles are `airlock_fuzz_oracles::targets::sse`
//! (`crates/fuzz-oracles/src/targets/sse.rs`), which `cargo test -p airlock-fuzz-oracles`
//! also runs on every input of `corpus/sse/`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| airlock_fuzz_oracles::targets::sse(data));
