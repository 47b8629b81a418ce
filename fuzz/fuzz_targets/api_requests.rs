//! Coverage-guided fuzzing of request decoding at the API edge (`POST /v1/generations`,
//! `POST /v1/providers/{name}/generate`, `POST /v1/sanitize`) against a real server on a
//! loopback port. The oracles are `airlock_fuzz_oracles::targets::api_requests`
//! (`crates/fuzz-oracles/src/targets/api_requests.rs`), which
//! `cargo test -p airlock-fuzz-oracles` also runs on every input of `corpus/api_requests/`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| airlock_fuzz_oracles::targets::api_requests(data));
