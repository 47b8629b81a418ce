//! Builds the test guests under `tests/guests/` and generates `guests.rs`, one constant
//! per guest holding its component's path. Every guest directory must be listed here:
//! an unlisted one fails the build, so no hostile guest goes untested.

use std::fmt::Write;

use airlock_guest_build::{GuestTarget, build_guests};

/// Guests built like integrators build theirs (std, `wasm32-wasip2`).
const WASIP2_GUESTS: &[&str] = &[
    "guest-hostile-loop",
    "guest-hostile-memory-bomb",
    "guest-hostile-panic",
    "guest-hostile-trap",
    "guest-hostile-stack-overflow",
    "guest-hostile-giant-output",
    "guest-hostile-filesystem",
    "guest-hostile-sockets",
    "guest-hostile-environment",
    "guest-hostile-forbidden-imports",
    "guest-html-v2",
];

/// Provider guests, built like integrators build theirs (std, `wasm32-wasip2`); a
/// separate cargo invocation, since the world is a feature of `airlock-pdk`.
const WASIP2_PROVIDERS: &[&str] = &["guest-hostile-provider"];

/// Guests built like the bundled plugins (no imports at all).
const BARE_GUESTS: &[&str] = &["guest-noop"];

/// Directories under `tests/guests/` that are libraries, not guests.
const NOT_GUESTS: &[&str] = &["support"];

fn main() {
    let guests_dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("guests");
    for entry in std::fs::read_dir(&guests_dir).expect("listing tests/guests") {
        let name = entry.expect("reading tests/guests").file_name().to_string_lossy().into_owned();
        let package = format!("guest-{name}");
        assert!(
            NOT_GUESTS.contains(&name.as_str())
                || WASIP2_GUESTS.contains(&package.as_str())
                || WASIP2_PROVIDERS.contains(&package.as_str())
                || BARE_GUESTS.contains(&package.as_str()),
            "tests/guests/{name} is not listed in tests/build.rs"
        );
    }
    let watched = ["tests/guests", "crates/pdk", "wit"];
    let mut components = build_guests(GuestTarget::Wasip2, WASIP2_GUESTS, &watched);
    components.extend(build_guests(GuestTarget::Bare, BARE_GUESTS, &watched));
    components.extend(build_guests(GuestTarget::Wasip2, WASIP2_PROVIDERS, &watched));

    let mut generated = String::new();
    for (package, path) in &components {
        let constant = package.trim_start_matches("guest-").replace('-', "_").to_uppercase();
        writeln!(
            generated,
            "/// The `{package}` component.\npub const {constant}: &str = {:?};",
            path.display().to_string()
        )
        .unwrap();
    }
    let out_dir = std::env::var("OUT_DIR").expect("cargo sets OUT_DIR");
    std::fs::write(std::path::Path::new(&out_dir).join("guests.rs"), generated).expect("writing guests.rs");
}
