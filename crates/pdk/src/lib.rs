//! Airlock's plugin development kit.
//!
//! A plugin is a WebAssembly component built for `wasm32-wasip2` against the WIT
//! package `airlock:plugin` (the `wit/` folder of the repository).
//! This crate holds the generated bindings and turns a world's exports into one trait,
//! so a sanitizer is a single `impl` block plus [`export_sanitizer!`].
//!
//! ```text
//! struct Shout;
//! impl airlock_pdk::sanitizer::Sanitizer for Shout { /* manifest, sanitize, stream */ }
//! airlock_pdk::export_sanitizer!(Shout);
//! ```
#![deny(missing_docs)]

pub mod sanitizer;
