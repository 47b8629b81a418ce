//! Compiles guest crates to WebAssembly components from a build script.
//!
//! Build scripts of the host and of the test suite call [`build_guests`] to turn
//! workspace packages into components, for one of two targets:
//! - [`GuestTarget::Bare`] (`wasm32-unknown-unknown`, then made a component with
//!   `wit-component`): the component imports exactly what its WIT world declares — for
//!   a sanitizer, nothing. The bundled plugins are built this way.
//! - [`GuestTarget::Wasip2`] (`wasm32-wasip2`): the standard target integrators use;
//!   Rust's std adds a few WASI imports, which the host serves with no authority.
//!
//! All guests are built by one `cargo` invocation into a target directory of their
//! own (`<target>/wasm-guests`), so the nested build neither waits on the outer
//! build's lock nor recompiles what another build script already compiled.

use std::collections::BTreeMap;
use std::env;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The Rust target a guest is compiled for; both are listed in `rust-toolchain.toml`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GuestTarget {
    /// `wasm32-unknown-unknown`, componentized here: no imports beyond the world's.
    Bare,
    /// `wasm32-wasip2`: rustc emits the component; std may import WASI interfaces.
    Wasip2,
}

impl GuestTarget {
    /// The rustc target triple.
    pub fn triple(self) -> &'static str {
        match self {
            GuestTarget::Bare => "wasm32-unknown-unknown",
            GuestTarget::Wasip2 => "wasm32-wasip2",
        }
    }
}

/// Environment variables the outer cargo sets that must not leak into the guest build
/// (host flags, clippy's wrapper, a target dir of the outer build).
const OUTER_BUILD_VARIABLES: &[&str] = &[
    "CARGO_ENCODED_RUSTFLAGS",
    "RUSTFLAGS",
    "RUSTC_WRAPPER",
    "RUSTC_WORKSPACE_WRAPPER",
    "CARGO_TARGET_DIR",
    "CARGO_BUILD_TARGET",
    "CARGO_BUILD_RUSTFLAGS",
    "CARGO_PRIMARY_PACKAGE",
];

/// Builds `packages` (workspace package names) in release mode for `target` and
/// returns each package's component path by package name.
///
/// `watched` lists files or directories, relative to the workspace root, whose changes
/// must rebuild the guests (their sources, the WIT files, shared libraries).
///
/// # Panics
///
/// Panics, as build scripts do, when the target is not installed (with the command that
/// installs it) or when cargo fails; cargo's own output is shown above the panic.
pub fn build_guests(target: GuestTarget, packages: &[&str], watched: &[&str]) -> BTreeMap<String, PathBuf> {
    let workspace_root = workspace_root();
    for path in watched.iter().chain(["Cargo.lock"].iter()) {
        println!("cargo:rerun-if-changed={}", workspace_root.join(path).display());
    }
    ensure_target_installed(target);

    let target_dir = guest_target_dir();
    let cargo = env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let mut command = Command::new(cargo);
    command
        .current_dir(&workspace_root)
        .args(["build", "--release", "--target", target.triple(), "--target-dir"])
        .arg(&target_dir);
    for package in packages {
        command.args(["-p", package]);
    }
    for variable in OUTER_BUILD_VARIABLES {
        command.env_remove(variable);
    }
    // Guests are small and hot: optimise them fully, let memchr and friends use Wasm
    // SIMD (wasmtime supports it by default), and keep the shadow stack at 64 KiB (not
    // 1 MiB) so the memory a call touches, and the host resets after it, stays small.
    command
        .env("CARGO_PROFILE_RELEASE_LTO", "true")
        .env("CARGO_PROFILE_RELEASE_CODEGEN_UNITS", "1")
        .env("CARGO_PROFILE_RELEASE_PANIC", "abort")
        .env("RUSTFLAGS", "-Ctarget-feature=+simd128 -Clink-arg=-zstack-size=65536");
    let status = command.status().unwrap_or_else(|error| panic!("cannot run cargo to build guest components: {error}"));
    assert!(status.success(), "building guest components ({}) failed; cargo's errors are above", packages.join(", "));

    let artifacts = target_dir.join(target.triple()).join("release");
    let components = target_dir.join("components");
    std::fs::create_dir_all(&components).expect("creating the components directory");
    packages
        .iter()
        .map(|package| {
            let file_name = format!("{}.wasm", package.replace('-', "_"));
            let built = artifacts.join(&file_name);
            assert!(built.is_file(), "guest build produced nothing at {}", built.display());
            let path = match target {
                GuestTarget::Wasip2 => built,
                GuestTarget::Bare => {
                    let path = components.join(&file_name);
                    componentize(&built, &path);
                    path
                }
            };
            ((*package).to_owned(), path)
        })
        .collect()
}

/// Wraps a core module carrying wit-bindgen's component-type section into a component.
fn componentize(module: &Path, component: &Path) {
    let bytes = std::fs::read(module).expect("reading the guest module");
    let encoded = wit_component::ComponentEncoder::default()
        .validate(true)
        .module(&bytes)
        .and_then(|encoder| encoder.encode())
        .unwrap_or_else(|error| panic!("making a component of {}: {error:#}", module.display()));
    std::fs::write(component, encoded).expect("writing the guest component");
}

/// The workspace root: the directory above the calling package's manifest directory
/// that holds `Cargo.lock`.
fn workspace_root() -> PathBuf {
    let manifest_dir = PathBuf::from(env::var("CARGO_MANIFEST_DIR").expect("run from a build script"));
    manifest_dir.ancestors().find(|dir| dir.join("Cargo.lock").is_file()).unwrap_or(&manifest_dir).to_path_buf()
}

/// `<target>/wasm-guests`, derived from `OUT_DIR` (`<target>/<profile>/build/<pkg>/out`).
fn guest_target_dir() -> PathBuf {
    let out_dir = PathBuf::from(env::var("OUT_DIR").expect("run from a build script"));
    let target_dir = out_dir.ancestors().nth(4).map(Path::to_path_buf).unwrap_or(out_dir);
    target_dir.join("wasm-guests")
}

/// Fails the build with the fix when the toolchain lacks the guest target.
fn ensure_target_installed(target: GuestTarget) {
    let triple = target.triple();
    let rustc = env::var("RUSTC").unwrap_or_else(|_| "rustc".to_owned());
    let sysroot = Command::new(rustc)
        .args(["--print", "sysroot"])
        .output()
        .ok()
        .filter(|output| output.status.success())
        .map(|output| PathBuf::from(String::from_utf8_lossy(&output.stdout).trim()));
    let Some(sysroot) = sysroot else { return };
    let installed = sysroot.join("lib/rustlib").join(triple).is_dir();
    assert!(
        installed,
        "the Rust target `{triple}` is not installed; run `rustup target add {triple}` \
         (or `bash scripts/test.sh`, which does) and build again"
    );
}
