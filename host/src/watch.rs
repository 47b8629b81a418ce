//! The watched directory: an operator drops `NAME.wasm` (and, when signatures are
//! required, `NAME.wasm.minisig`) into `watch_dir`; within a second it is checked,
//! self-tested and activated like an upload, or refused with a log line naming why.
//! Each file version (by sha256) is tried once; a changed file is tried again.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use cap_std::ambient_authority;
use cap_std::fs::Dir;

use crate::config::Config;
use crate::live::LivePlugins;
use crate::metrics::SwapEvent;
use crate::runtime::{Runtime, sha256_hex};

/// How often the directory is looked at.
const POLL: Duration = Duration::from_millis(500);

/// Watches `dir` until the returned task is dropped or aborted.
///
/// # Errors
///
/// When the directory cannot be created or opened.
pub fn spawn(
    dir: PathBuf,
    plugins: Arc<LivePlugins>,
    runtime: Arc<Runtime>,
    config: Arc<Config>,
) -> anyhow::Result<tokio::task::JoinHandle<()>> {
    std::fs::create_dir_all(&dir).with_context(|| format!("creating the watched directory {}", dir.display()))?;
    let watched = Dir::open_ambient_dir(&dir, ambient_authority())
        .with_context(|| format!("opening the watched directory {}", dir.display()))?;
    tracing::info!(dir = %dir.display(), "watching for plugins");
    Ok(tokio::spawn(async move {
        let mut tried = BTreeSet::new();
        loop {
            scan(&watched, &mut tried, &plugins, &runtime, &config).await;
            tokio::time::sleep(POLL).await;
        }
    }))
}

async fn scan(dir: &Dir, tried: &mut BTreeSet<String>, plugins: &LivePlugins, runtime: &Runtime, config: &Config) {
    let Ok(entries) = dir.entries() else { return };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if !name.ends_with(".wasm") {
            continue;
        }
        let Ok(bytes) = dir.read(&name) else { continue };
        let digest = sha256_hex(&bytes);
        if !tried.insert(digest.clone()) {
            continue;
        }
        let signature = dir.read_to_string(format!("{name}.minisig")).ok();
        match install(&bytes, signature.as_deref(), plugins, runtime, config, &digest).await {
            Ok(version) => {
                tracing::info!(file = %name, plugin = %version, sha256 = %digest, "watched plugin activated")
            }
            Err(error) => {
                runtime.metrics().swap(name.trim_end_matches(".wasm"), "unknown", SwapEvent::Refused);
                tracing::warn!(file = %name, sha256 = %digest, reason = %format!("{error:#}"), "watched plugin refused");
            }
        }
    }
}

async fn install(
    bytes: &[u8],
    signature: Option<&str>,
    plugins: &LivePlugins,
    runtime: &Runtime,
    config: &Config,
    digest: &str,
) -> anyhow::Result<String> {
    config.plugin_signatures.check(bytes, signature).context("signature")?;
    let plugin = runtime.load(bytes, &format!("watched-dir:{digest}"), config).await?;
    crate::validate::self_test(&plugin).await.map_err(anyhow::Error::msg).context("self-test")?;
    plugins.stage(plugin.clone(), bytes, signature)?;
    plugins.activate(digest)?;
    Ok(format!("{}@{}", plugin.name(), plugin.version()))
}
