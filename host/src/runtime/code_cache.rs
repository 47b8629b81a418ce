//! Compiled plugin code, cached on disk so a restart does not recompile.
//!
//! Entries are named by the component's sha256 and a hash of the engine's
//! compilation settings (wasmtime version, target, tunables), so a changed component or
//! an upgraded engine is a cache miss, never a wrong hit.
//! The cache directory is opened as a capability [`Dir`]: entry names are hex digests,
//! and nothing outside the directory can be read or written through it.

use std::hash::{DefaultHasher, Hash, Hasher};
use std::io::Write;

use anyhow::Context;
use cap_std::ambient_authority;
use cap_std::fs::Dir;
use sha2::{Digest, Sha256};
use wasmtime::Engine;
use wasmtime::component::Component;

/// The sha256 of a component's bytes, in lowercase hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Where compiled components live between runs.
pub struct CodeCache {
    dir: Option<Dir>,
    engine_key: String,
}

/// Whether a component came from the cache.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CacheOutcome {
    /// Loaded precompiled code.
    Hit,
    /// Compiled now (and stored, when the cache is writable).
    Compiled,
}

impl CodeCache {
    /// A cache in `path` (created if missing), for components compiled by `engine`.
    ///
    /// # Errors
    ///
    /// When the directory cannot be created or opened.
    pub fn open(path: &std::path::Path, engine: &Engine) -> anyhow::Result<Self> {
        std::fs::create_dir_all(path).with_context(|| format!("creating the code cache {}", path.display()))?;
        let dir = Dir::open_ambient_dir(path, ambient_authority())
            .with_context(|| format!("opening the code cache {}", path.display()))?;
        Ok(Self { dir: Some(dir), engine_key: engine_key(engine) })
    }

    /// A cache that stores nothing: every load compiles.
    pub fn disabled(engine: &Engine) -> Self {
        Self { dir: None, engine_key: engine_key(engine) }
    }

    /// Loads the compiled form of `bytes` (whose digest is `sha256`), compiling on a miss.
    ///
    /// A corrupt or stale entry is recompiled and replaced; failing to write the cache
    /// is logged, not fatal.
    ///
    /// # Errors
    ///
    /// When `bytes` is not a valid component.
    pub fn load(&self, engine: &Engine, sha256: &str, bytes: &[u8]) -> anyhow::Result<(Component, CacheOutcome)> {
        let entry = format!("{sha256}-{}.cwasm", self.engine_key);
        if let Some(dir) = &self.dir
            && let Ok(compiled) = dir.read(&entry)
        {
            // SAFETY: entries are written only by `store` below, from `Component::serialize`
            // of this engine configuration (the name carries its compatibility hash), in a
            // directory owned by this host; wasmtime re-checks the header and version.
            match unsafe { Component::deserialize(engine, &compiled) } {
                Ok(component) => return Ok((component, CacheOutcome::Hit)),
                Err(error) => tracing::warn!(%entry, %error, "discarding an unusable code cache entry"),
            }
        }
        let component = Component::new(engine, bytes).map_err(anyhow::Error::from)?;
        if let Some(dir) = &self.dir {
            let stored = component
                .serialize()
                .map_err(anyhow::Error::from)
                .and_then(|compiled| write_atomically(dir, &entry, &compiled));
            if let Err(error) = stored {
                tracing::warn!(%entry, error = %format!("{error:#}"), "cannot write the code cache; compiling on every start");
            }
        }
        Ok((component, CacheOutcome::Compiled))
    }
}

/// Writes a file atomically: a temporary file, synced, renamed into place.
///
/// # Errors
///
/// When the directory cannot be written.
pub fn write_atomically(dir: &Dir, name: &str, bytes: &[u8]) -> anyhow::Result<()> {
    let temporary = format!("{name}.{}.tmp", std::process::id());
    let mut file = dir.create(&temporary)?;
    file.write_all(bytes)?;
    file.sync_all()?;
    dir.rename(&temporary, dir, name)?;
    Ok(())
}

fn engine_key(engine: &Engine) -> String {
    let mut hasher = DefaultHasher::new();
    engine.precompile_compatibility_hash().hash(&mut hasher);
    format!("{:016x}", hasher.finish())
}
