//! Airlock's plugin development kit.
//!
//! A plugin is a WebAssembly component built against the WIT package `airlock:plugin`
//! (the `wit/` folder of the repository). This crate holds the generated bindings and
//! turns a world's exports into one trait:
//!
//! - feature `sanitizer`: a sanitizer is one `impl` block plus
//!   [`export_sanitizer!`](crate::export_sanitizer);
//! - feature `provider`: a provider is one `impl` block plus
//!   [`export_provider!`](crate::export_provider), with an HTTP client that goes
//!   through the host's egress gate and a server-sent-events reader.
//!
//! One component is one world, so a plugin crate enables one of the two features.
//!
//! ```text
//! struct Shout;
//! impl airlock_pdk::sanitizer::Sanitizer for Shout { /* manifest, sanitize, stream */ }
//! airlock_pdk::export_sanitizer!(Shout);
//! ```
#![deny(missing_docs)]

#[cfg(feature = "provider")]
pub mod provider;
#[cfg(feature = "sanitizer")]
pub mod sanitizer;
pub mod sse;
