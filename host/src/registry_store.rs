//! Where activated uploads survive a restart: their components under
//! `DATA_DIR/plugins/blobs/<sha256>.wasm`, and which component serves each name in
//! `DATA_DIR/plugins/active.json`. Both are opened as capability directories, so a name
//! from a request can never reach outside them; files are replaced atomically.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::Context;
use cap_std::ambient_authority;
use cap_std::fs::Dir;

use crate::runtime::write_atomically;

const ACTIVE: &str = "active.json";

/// The on-disk half of the plugin registry.
pub struct RegistryStore {
    root: Dir,
    blobs: Dir,
}

impl RegistryStore {
    /// Opens (creating) the registry under `path`.
    ///
    /// # Errors
    ///
    /// When the directories cannot be created or opened.
    pub fn open(path: &Path) -> anyhow::Result<Self> {
        std::fs::create_dir_all(path.join("blobs"))
            .with_context(|| format!("creating the plugin registry {}", path.display()))?;
        let root = Dir::open_ambient_dir(path, ambient_authority())
            .with_context(|| format!("opening the plugin registry {}", path.display()))?;
        let blobs = root.open_dir("blobs").context("opening the plugin blobs")?;
        Ok(Self { root, blobs })
    }

    /// Keeps a component's bytes under its digest.
    ///
    /// # Errors
    ///
    /// When the digest is not 64 hex digits or the file cannot be written.
    pub fn save_blob(&self, sha256: &str, bytes: &[u8]) -> anyhow::Result<()> {
        write_atomically(&self.blobs, &blob_name(sha256)?, bytes)
    }

    /// Keeps a component's detached signature next to it.
    ///
    /// # Errors
    ///
    /// As [`RegistryStore::save_blob`].
    pub fn save_signature(&self, sha256: &str, signature: &str) -> anyhow::Result<()> {
        write_atomically(&self.blobs, &format!("{}.minisig", blob_name(sha256)?), signature.as_bytes())
    }

    /// A kept component's signature, if it had one.
    ///
    /// # Errors
    ///
    /// When the digest is malformed.
    pub fn signature(&self, sha256: &str) -> anyhow::Result<Option<String>> {
        Ok(self.blobs.read_to_string(format!("{}.minisig", blob_name(sha256)?)).ok())
    }

    /// A kept component's bytes.
    ///
    /// # Errors
    ///
    /// When it is not kept.
    pub fn blob(&self, sha256: &str) -> anyhow::Result<Vec<u8>> {
        self.blobs.read(blob_name(sha256)?).with_context(|| format!("reading the kept plugin {sha256}"))
    }

    /// Which component (by digest) serves each name, as last saved.
    ///
    /// # Errors
    ///
    /// When the file exists but cannot be read or parsed.
    pub fn active(&self) -> anyhow::Result<BTreeMap<String, String>> {
        match self.root.read(ACTIVE) {
            Ok(bytes) => serde_json::from_slice(&bytes).context("parsing the plugin registry's active.json"),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(BTreeMap::new()),
            Err(error) => Err(error).context("reading the plugin registry's active.json"),
        }
    }

    /// Saves which component serves each name.
    ///
    /// # Errors
    ///
    /// When the file cannot be written.
    pub fn save_active(&self, active: &BTreeMap<String, String>) -> anyhow::Result<()> {
        write_atomically(&self.root, ACTIVE, &serde_json::to_vec_pretty(active)?)
    }
}

fn blob_name(sha256: &str) -> anyhow::Result<String> {
    anyhow::ensure!(
        sha256.len() == 64 && sha256.bytes().all(|b| b.is_ascii_hexdigit()),
        "`{sha256}` is not a sha256 digest"
    );
    Ok(format!("{}.wasm", sha256.to_ascii_lowercase()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blobs_and_the_active_set_round_trip_and_names_cannot_escape() {
        let dir = tempfile::tempdir().unwrap();
        let store = RegistryStore::open(dir.path()).unwrap();
        let digest = "ab".repeat(32);
        store.save_blob(&digest, b"component").unwrap();
        assert_eq!(store.blob(&digest).unwrap(), b"component");
        assert!(store.save_blob("../../etc/passwd", b"x").is_err());
        assert_eq!(store.active().unwrap(), BTreeMap::new());
        let active = BTreeMap::from([("html".to_owned(), digest)]);
        store.save_active(&active).unwrap();
        assert_eq!(RegistryStore::open(dir.path()).unwrap().active().unwrap(), active);
    }
}
