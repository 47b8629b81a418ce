//! Builds the bundled plugins (guest crates under `sanitizers/`) to `wasm32-wasip2`
//! components and generates `bundled.rs`, which embeds them in the binary, so a fresh
//! `cargo run -p airlock -- serve` has every bundled plugin.

use std::fmt::Write;

use airlock_guest_build::GuestTarget;

/// Bundled guest packages, in load order.
const BUNDLED: &[&str] = &["airlock-sanitizer-html", "airlock-sanitizer-secrets"];

fn main() {
    let components = airlock_guest_build::build_guests(GuestTarget::Bare, BUNDLED, &["sanitizers", "crates", "wit"]);
    let mut generated =
        String::from("/// Bundled plugin components: (package, bytes).\npub const BUNDLED: &[(&str, &[u8])] = &[\n");
    for (package, path) in &components {
        writeln!(generated, "    ({package:?}, include_bytes!({:?})),", path.display().to_string()).unwrap();
    }
    generated.push_str("];\n");
    let out_dir = std::env::var("OUT_DIR").expect("cargo sets OUT_DIR");
    std::fs::write(std::path::Path::new(&out_dir).join("bundled.rs"), generated).expect("writing bundled.rs");
}
