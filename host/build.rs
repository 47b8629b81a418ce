//! Builds the bundled plugins (guest crates under `sanitizers/` and `providers/`) to
//! components and generates `bundled.rs`, which embeds them in the binary, so a fresh
//! `cargo run -p airlock -- serve` has every bundled plugin.
//!
//! Sanitizers and providers are built by separate cargo invocations: each world is a
//! feature of `airlock-pdk`, and one invocation would unify the features, giving every
//! component both worlds' bindings.

use std::fmt::Write;

use airlock_guest_build::GuestTarget;

/// Bundled sanitizer packages, in load order.
const SANITIZERS: &[&str] = &["airlock-sanitizer-html", "airlock-sanitizer-secrets", "airlock-sanitizer-prompt-guard"];
/// Bundled provider packages, in load order.
const PROVIDERS: &[&str] = &[
    "airlock-provider-openai",
    "airlock-provider-anthropic",
    "airlock-provider-gemini",
    "airlock-provider-openai-compatible",
    "airlock-provider-azure-openai",
];

fn main() {
    let watched = &["sanitizers", "providers", "crates", "wit"];
    let mut components = airlock_guest_build::build_guests(GuestTarget::Bare, SANITIZERS, watched);
    components.extend(airlock_guest_build::build_guests(GuestTarget::Bare, PROVIDERS, watched));
    let mut generated =
        String::from("/// Bundled plugin components: (package, bytes).\npub const BUNDLED: &[(&str, &[u8])] = &[\n");
    for (package, path) in &components {
        writeln!(generated, "    ({package:?}, include_bytes!({:?})),", path.display().to_string()).unwrap();
    }
    generated.push_str("];\n");
    let out_dir = std::env::var("OUT_DIR").expect("cargo sets OUT_DIR");
    std::fs::write(std::path::Path::new(&out_dir).join("bundled.rs"), generated).expect("writing bundled.rs");
}
