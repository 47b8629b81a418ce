//! One function per fuzz target, named as the target: it takes one input (raw bytes, as
//! libFuzzer or a corpus file gives them) and panics when an oracle fails.
//!
//! `fuzz/fuzz_targets/<target>.rs` hands every input libFuzzer makes to the function;
//! `tests/corpus.rs` hands it every file of `fuzz/corpus/<target>/`.

mod api_requests;
mod image_check;
mod output_pipeline;
mod sanitize_html;
mod sanitize_secrets;
mod sse;

pub use api_requests::api_requests;
pub use image_check::image_check;
pub use output_pipeline::output_pipeline;
pub use sanitize_html::sanitize_html;
pub use sanitize_secrets::sanitize_secrets;
pub use sse::sse;
