//! The master key: the one secret from which the server derives its key-hashing
//! secret, its credential-sealing key and its audit-chain key. It comes from
//! `AIRLOCK_MASTER_KEY` (64 hex digits) or a key file (created, mode 0600, on first
//! start), never from the database, so a copy of the database alone reveals no
//! credential and cannot forge audit links.

use std::fmt;
use std::path::Path;

use anyhow::Context;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use zeroize::Zeroizing;

/// The environment variable that may carry the master key.
pub const MASTER_KEY_ENV: &str = "AIRLOCK_MASTER_KEY";
/// Bytes of an XChaCha20 nonce.
const NONCE_LEN: usize = 24;

/// The server's master key.
#[derive(Clone)]
pub struct MasterKey(Zeroizing<[u8; 32]>);

impl fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("MasterKey(<redacted>)")
    }
}

/// Why a sealed credential could not be opened.
#[derive(Debug, thiserror::Error)]
#[error("the credential cannot be opened: wrong master key, or the stored bytes were altered or moved")]
pub struct Unsealable;

impl MasterKey {
    /// A master key of these bytes.
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(Zeroizing::new(bytes))
    }

    /// From `AIRLOCK_MASTER_KEY` when set, otherwise from `file`, which is created with
    /// a new random key (readable by the owner only) when it does not exist.
    ///
    /// # Errors
    ///
    /// When the variable or the file does not hold 64 hex digits, or the file cannot
    /// be read or created.
    pub fn load(file: &Path) -> anyhow::Result<Self> {
        if let Ok(value) = std::env::var(MASTER_KEY_ENV) {
            return Self::parse(&value).with_context(|| format!("`{MASTER_KEY_ENV}`"));
        }
        match std::fs::read_to_string(file) {
            Ok(text) => Self::parse(&text).with_context(|| format!("master key file {}", file.display())),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Self::create(file),
            Err(error) => Err(error).with_context(|| format!("reading master key file {}", file.display())),
        }
    }

    fn parse(text: &str) -> anyhow::Result<Self> {
        let bytes = Zeroizing::new(hex::decode(text.trim()).context("not hex")?);
        let bytes: [u8; 32] =
            bytes.as_slice().try_into().map_err(|_| anyhow::anyhow!("not 32 bytes (64 hex digits)"))?;
        Ok(Self::from_bytes(bytes))
    }

    fn create(file: &Path) -> anyhow::Result<Self> {
        use std::io::Write;
        let mut bytes = [0u8; 32];
        getrandom::getrandom(&mut bytes)
            .map_err(|error| anyhow::anyhow!("the operating system's random source: {error}"))?;
        let key = Self::from_bytes(bytes);
        zeroize::Zeroize::zeroize(&mut bytes);
        if let Some(parent) = file.parent() {
            std::fs::create_dir_all(parent).with_context(|| format!("creating {}", parent.display()))?;
        }
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut out = options.open(file).with_context(|| format!("creating master key file {}", file.display()))?;
        out.write_all(Zeroizing::new(hex::encode(key.0.as_slice())).as_bytes())?;
        out.sync_all()?;
        tracing::warn!(file = %file.display(), "created a new master key; back it up: without it, stored credentials cannot be opened");
        Ok(key)
    }

    /// A 32-byte key for one purpose, derived with HMAC-SHA256.
    pub fn derive(&self, purpose: &str) -> [u8; 32] {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(self.0.as_slice()).expect("HMAC takes any key length");
        mac.update(b"airlock/");
        mac.update(purpose.as_bytes());
        mac.finalize().into_bytes().into()
    }

    fn cipher(&self) -> XChaCha20Poly1305 {
        let key = Zeroizing::new(self.derive("credential-seal/v1"));
        XChaCha20Poly1305::new(chacha20poly1305::Key::from_slice(key.as_slice()))
    }

    /// Encrypts `plaintext` (XChaCha20-Poly1305, random nonce), bound to `context`
    /// (e.g. tenant and provider): it opens only with the same context.
    ///
    /// # Panics
    ///
    /// When the operating system has no randomness to give.
    pub fn seal(&self, plaintext: &[u8], context: &[u8]) -> Vec<u8> {
        let mut nonce = [0u8; NONCE_LEN];
        getrandom::getrandom(&mut nonce).expect("the operating system's random source");
        let sealed = self
            .cipher()
            .encrypt(XNonce::from_slice(&nonce), Payload { msg: plaintext, aad: context })
            .expect("encryption of a bounded message cannot fail");
        [nonce.as_slice(), &sealed].concat()
    }

    /// Decrypts what [`MasterKey::seal`] made with the same `context`.
    ///
    /// # Errors
    ///
    /// [`Unsealable`] when the key, the context or the bytes differ.
    pub fn open(&self, sealed: &[u8], context: &[u8]) -> Result<Zeroizing<Vec<u8>>, Unsealable> {
        if sealed.len() < NONCE_LEN {
            return Err(Unsealable);
        }
        let (nonce, ciphertext) = sealed.split_at(NONCE_LEN);
        self.cipher()
            .decrypt(XNonce::from_slice(nonce), Payload { msg: ciphertext, aad: context })
            .map(Zeroizing::new)
            .map_err(|_| Unsealable)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_text_opens_only_with_the_same_key_and_context() {
        let key = MasterKey::from_bytes([3; 32]);
        let sealed = key.seal(b"sk-secret", b"acme/openai");
        assert!(!sealed.windows(9).any(|window| window == b"sk-secret"));
        assert_eq!(key.open(&sealed, b"acme/openai").unwrap().as_slice(), b"sk-secret");
        assert!(key.open(&sealed, b"other/openai").is_err(), "moved to another tenant");
        assert!(MasterKey::from_bytes([4; 32]).open(&sealed, b"acme/openai").is_err());
        let mut altered = sealed.clone();
        *altered.last_mut().unwrap() ^= 1;
        assert!(key.open(&altered, b"acme/openai").is_err());
        assert_ne!(key.seal(b"sk-secret", b"acme/openai"), sealed, "fresh nonce each time");
    }

    #[test]
    fn a_key_file_is_created_private_and_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("master.key");
        let first = MasterKey::create(&file).unwrap();
        let again = MasterKey::parse(&std::fs::read_to_string(&file).unwrap()).unwrap();
        assert_eq!(first.derive("x"), again.derive("x"));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(std::fs::metadata(&file).unwrap().permissions().mode() & 0o777, 0o600);
        }
        assert!(MasterKey::parse("abcd").is_err());
        assert_ne!(first.derive("a"), first.derive("b"));
    }
}
