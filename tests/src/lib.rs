//! Support for Airlock's end-to-end tests.
#![deny(missing_docs)]

/// Paths of the test guest components, built by `build.rs` from `tests/guests/`.
pub mod guests {
    include!(concat!(env!("OUT_DIR"), "/guests.rs"));
}

pub mod screenshots;
