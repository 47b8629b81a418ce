//! Screenshot-to-code: turning screenshots, a description or existing code into a
//! single-file page, through a provider, with every byte of output sanitized.
//!
//! - `stack.rs` — the target stacks and what the model is told about each;
//! - `prompt.rs` — the conversation for a new page or an update;
//! - `image_check.rs` — screenshots checked by magic bytes, size and dimensions;
//! - `extract.rs` — the page found in the model's answer;
//! - `output.rs` — the `html` + `secrets` sanitizers, streamed and whole;
//! - `variant.rs` — one variant's run, as events;
//! - `record.rs` — what is kept of a generation (no images), with retention.

mod extract;
pub(crate) mod image_check;
mod output;
mod prompt;
mod record;
mod stack;
mod variant;

pub use extract::extract_code;
pub use image_check::{CheckedImage, ImageError, ImageFormat, ImageLimits, check_image};
pub use output::{OutputSanitizers, SanitizedPage};
pub use prompt::{Input, Update, messages};
pub use record::{GenerationRecord, Generations, Retention, VariantRecord, VariantStatus};
pub use stack::Stack;
pub use variant::{Event, VariantJob, run};
