//! `airlock plugin new` writes a ready plugin crate; `airlock plugin build` compiles it
//! to a component (`cargo build --release --target wasm32-wasip2`).

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

use anyhow::Context;

use crate::runtime::{WIT_VERSION, is_valid_name};

/// What kind of plugin to create.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(super) enum Kind {
    /// A provider adapter (an OpenAI-style example).
    Provider,
    /// A sanitizer (a small text rule as the example).
    Sanitizer,
}

const CARGO_TOML: &str = include_str!("templates/Cargo.toml.tmpl");
const SANITIZER: &str = include_str!("templates/sanitizer.rs.tmpl");
const PROVIDER: &str = include_str!("templates/provider.rs.tmpl");

/// `airlock plugin new KIND NAME`: the crate depends on the published `airlock-pdk` of
/// this host's WIT version, or on the kit at `pdk_path` (work inside this repository).
pub(super) fn new(kind: Kind, name: &str, dir: Option<&Path>, pdk_path: Option<&Path>) -> anyhow::Result<ExitCode> {
    anyhow::ensure!(is_valid_name(name), "`{name}` is not a plugin name: a-z, 0-9 and -, starting with a letter");
    let dir = dir.map_or_else(|| PathBuf::from(name), Path::to_path_buf);
    anyhow::ensure!(!dir.exists(), "{} exists; choose another --dir", dir.display());
    let pdk = match pdk_path {
        None => format!("version = \"{WIT_VERSION}\""),
        Some(path) => {
            let path =
                path.canonicalize().with_context(|| format!("--pdk-path {}: no such directory", path.display()))?;
            anyhow::ensure!(
                path.join("Cargo.toml").is_file(),
                "--pdk-path {}: no airlock-pdk crate there",
                path.display()
            );
            format!("path = {:?}", path.display().to_string())
        }
    };
    let (kind_name, source, extra) = match kind {
        Kind::Sanitizer => ("sanitizer", SANITIZER, ""),
        Kind::Provider => ("provider", PROVIDER, "serde_json = \"1\"\n"),
    };
    let fill = |template: &str| {
        template
            .replace("{{name}}", name)
            .replace("{{crate}}", &name.replace('-', "_"))
            .replace("{{kind}}", kind_name)
            .replace("{{pdk}}", &pdk)
            .replace("{{extra_deps}}", extra)
    };
    std::fs::create_dir_all(dir.join("src")).with_context(|| format!("creating {}", dir.display()))?;
    std::fs::write(dir.join("Cargo.toml"), fill(CARGO_TOML))?;
    std::fs::write(dir.join("src/lib.rs"), fill(source))?;
    println!(
        "created the {kind_name} `{name}` in {}\nnext: cd {} && airlock plugin build && airlock plugin test target/wasm32-wasip2/release/{}.wasm",
        dir.display(),
        dir.display(),
        name.replace('-', "_")
    );
    Ok(ExitCode::SUCCESS)
}

/// `airlock plugin build [DIR]`.
pub(super) fn build(dir: &Path) -> anyhow::Result<ExitCode> {
    let status = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args(["build", "--release", "--target", "wasm32-wasip2", "--manifest-path"])
        .arg(dir.join("Cargo.toml"))
        .status()
        .context("running cargo (is the Rust toolchain installed?)")?;
    if !status.success() {
        eprintln!("airlock: the build failed; if the target is missing: rustup target add wasm32-wasip2");
        return Ok(ExitCode::FAILURE);
    }
    Ok(ExitCode::SUCCESS)
}
