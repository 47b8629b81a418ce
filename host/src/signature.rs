//! Plugin signatures in minisign's format, so `minisign -V` checks ours and we check
//! minisign's.
//!
//! - Public key: `untrusted comment: …` then base64 of `"Ed"` ‖ key id (8) ‖ Ed25519
//!   public key (32).
//! - Signature (detached, `FILE.minisig`): `untrusted comment: …`, base64 of `"ED"` ‖
//!   key id ‖ Ed25519 signature of BLAKE2b-512(file) (or `"Ed"` and a signature of the
//!   file itself, minisign's legacy form), `trusted comment: …`, base64 of the
//!   signature of (signature ‖ trusted comment).
//! - Secret key: Airlock's own unencrypted form (key id ‖ seed), for `airlock plugin
//!   sign`; keep it offline. Keys made by minisign itself are encrypted; sign with
//!   minisign and upload the `.minisig`, which verifies the same.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use blake2::{Blake2b512, Digest};
use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};

/// Why a signature or key is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    /// The text is not in the expected format.
    #[error("malformed {0}")]
    Malformed(&'static str),
    /// The signature was made by a key that is not trusted.
    #[error("signed by key {0}, which is not trusted")]
    UntrustedKey(String),
    /// The signature does not match the file.
    #[error("the signature does not match the component (altered, or signed by another key)")]
    Mismatch,
}

/// A public key that may sign plugins.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicKey {
    id: [u8; 8],
    key: VerifyingKey,
}

impl PublicKey {
    /// Parses a minisign public key: the file's text, or just its base64 line.
    ///
    /// # Errors
    ///
    /// [`SignatureError::Malformed`].
    pub fn parse(text: &str) -> Result<Self, SignatureError> {
        let line = text.lines().map(str::trim).find(|l| !l.is_empty() && !l.starts_with("untrusted comment:"));
        let bytes = STANDARD.decode(line.unwrap_or_default()).map_err(|_| SignatureError::Malformed("public key"))?;
        let (alg, rest) = bytes.split_at_checked(2).ok_or(SignatureError::Malformed("public key"))?;
        if alg != b"Ed" || rest.len() != 40 {
            return Err(SignatureError::Malformed("public key"));
        }
        let id: [u8; 8] = rest[..8].try_into().map_err(|_| SignatureError::Malformed("public key"))?;
        let key: [u8; 32] = rest[8..].try_into().map_err(|_| SignatureError::Malformed("public key"))?;
        let key = VerifyingKey::from_bytes(&key).map_err(|_| SignatureError::Malformed("public key"))?;
        Ok(Self { id, key })
    }

    /// The key id, as minisign prints it (hex, most significant byte first).
    pub fn id(&self) -> String {
        key_id_hex(&self.id)
    }

    /// The public key file's text.
    pub fn to_text(&self) -> String {
        let mut bytes = b"Ed".to_vec();
        bytes.extend_from_slice(&self.id);
        bytes.extend_from_slice(self.key.as_bytes());
        format!("untrusted comment: minisign public key {}\n{}\n", self.id(), STANDARD.encode(bytes))
    }
}

fn key_id_hex(id: &[u8; 8]) -> String {
    id.iter().rev().map(|b| format!("{b:02X}")).collect()
}

/// A key that signs plugins.
pub struct SecretKey {
    id: [u8; 8],
    key: SigningKey,
}

impl SecretKey {
    /// A new random key.
    ///
    /// # Errors
    ///
    /// When the system has no randomness to give.
    pub fn generate() -> Result<Self, getrandom::Error> {
        let mut bytes = [0u8; 40];
        getrandom::getrandom(&mut bytes)?;
        let id: [u8; 8] = bytes[..8].try_into().unwrap_or_default();
        let seed: [u8; 32] = bytes[8..].try_into().unwrap_or_default();
        Ok(Self { id, key: SigningKey::from_bytes(&seed) })
    }

    /// Parses a key written by [`SecretKey::to_text`].
    ///
    /// # Errors
    ///
    /// [`SignatureError::Malformed`].
    pub fn parse(text: &str) -> Result<Self, SignatureError> {
        let line = text.lines().map(str::trim).find(|l| !l.is_empty() && !l.starts_with("untrusted comment:"));
        let bytes = STANDARD.decode(line.unwrap_or_default()).map_err(|_| SignatureError::Malformed("secret key"))?;
        if bytes.len() != 42 || &bytes[..2] != b"AK" {
            return Err(SignatureError::Malformed("secret key (expected one made by `airlock plugin keygen`)"));
        }
        let id: [u8; 8] = bytes[2..10].try_into().map_err(|_| SignatureError::Malformed("secret key"))?;
        let seed: [u8; 32] = bytes[10..].try_into().map_err(|_| SignatureError::Malformed("secret key"))?;
        Ok(Self { id, key: SigningKey::from_bytes(&seed) })
    }

    /// The secret key file's text (unencrypted: keep it offline).
    pub fn to_text(&self) -> String {
        let mut bytes = b"AK".to_vec();
        bytes.extend_from_slice(&self.id);
        bytes.extend_from_slice(self.key.as_bytes());
        format!(
            "untrusted comment: airlock plugin signing key {} (secret)\n{}\n",
            key_id_hex(&self.id),
            STANDARD.encode(bytes)
        )
    }

    /// Its public half.
    pub fn public(&self) -> PublicKey {
        PublicKey { id: self.id, key: self.key.verifying_key() }
    }

    /// A detached signature of `file`, in minisign's format (prehashed, `ED`).
    pub fn sign(&self, file: &[u8], trusted_comment: &str) -> String {
        let signature = self.key.sign(&Blake2b512::digest(file));
        let mut line = b"ED".to_vec();
        line.extend_from_slice(&self.id);
        line.extend_from_slice(&signature.to_bytes());
        let mut global = signature.to_bytes().to_vec();
        global.extend_from_slice(trusted_comment.as_bytes());
        let global = self.key.sign(&global);
        format!(
            "untrusted comment: signature from airlock secret key\n{}\ntrusted comment: {trusted_comment}\n{}\n",
            STANDARD.encode(line),
            STANDARD.encode(global.to_bytes())
        )
    }
}

/// Checks a detached minisign signature of `file` against the `trusted` keys; returns
/// the trusted comment.
///
/// # Errors
///
/// [`SignatureError`] saying why it is refused.
pub fn verify(file: &[u8], signature: &str, trusted: &[PublicKey]) -> Result<String, SignatureError> {
    let malformed = || SignatureError::Malformed("signature");
    let mut lines = signature.lines().map(str::trim_end).filter(|l| !l.is_empty());
    let _untrusted = lines.next().filter(|l| l.starts_with("untrusted comment:")).ok_or_else(malformed)?;
    let line = STANDARD.decode(lines.next().ok_or_else(malformed)?).map_err(|_| malformed())?;
    let comment = lines.next().and_then(|l| l.strip_prefix("trusted comment: ")).ok_or_else(malformed)?;
    let global = STANDARD.decode(lines.next().ok_or_else(malformed)?).map_err(|_| malformed())?;
    if line.len() != 74 {
        return Err(malformed());
    }
    let (alg, id, sig) = (&line[..2], &line[2..10], &line[10..]);
    let id: [u8; 8] = id.try_into().map_err(|_| malformed())?;
    let key = trusted.iter().find(|key| key.id == id).ok_or_else(|| SignatureError::UntrustedKey(key_id_hex(&id)))?;
    let sig_bytes: [u8; 64] = sig.try_into().map_err(|_| malformed())?;
    let signed = match alg {
        b"ED" => key.key.verify(&Blake2b512::digest(file), &Signature::from_bytes(&sig_bytes)),
        b"Ed" => key.key.verify(file, &Signature::from_bytes(&sig_bytes)),
        _ => return Err(malformed()),
    };
    signed.map_err(|_| SignatureError::Mismatch)?;
    let global: [u8; 64] = global.as_slice().try_into().map_err(|_| malformed())?;
    let mut message = sig_bytes.to_vec();
    message.extend_from_slice(comment.as_bytes());
    key.key.verify(&message, &Signature::from_bytes(&global)).map_err(|_| SignatureError::Mismatch)?;
    Ok(comment.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signature_verifies_and_any_change_breaks_it() {
        let key = SecretKey::generate().unwrap();
        let public = PublicKey::parse(&key.public().to_text()).unwrap();
        let file = b"\0asm component bytes";
        let signature = key.sign(file, "html 2.0.0");
        assert_eq!(verify(file, &signature, std::slice::from_ref(&public)), Ok("html 2.0.0".to_owned()));
        assert_eq!(verify(b"\0asm tampered", &signature, std::slice::from_ref(&public)), Err(SignatureError::Mismatch));
        let forged_comment = signature.replace("trusted comment: html 2.0.0", "trusted comment: html 9.9.9");
        assert_eq!(verify(file, &forged_comment, &[public]), Err(SignatureError::Mismatch));
        let stranger = SecretKey::generate().unwrap().public();
        assert!(matches!(verify(file, &signature, &[stranger]), Err(SignatureError::UntrustedKey(_))));
        let reloaded = SecretKey::parse(&key.to_text()).unwrap();
        assert_eq!(reloaded.public(), key.public());
    }

    #[test]
    fn minisigns_own_files_verify() {
        // Made with minisign 0.11: `minisign -G -W` and `minisign -S -m file -t trusted`
        // (file: "hello\n").
        let public = "untrusted comment: minisign public key AC5D7D241078EC9D\n\
                      RWSd7HgQJH1drNEIeTXg2rfwxDq5jJqamuYxTrhujAVPleilIsDrsSR9\n";
        let signature = "untrusted comment: signature from minisign secret key\n\
             RUSd7HgQJH1drMeJDRo+7aaO/2IHTOpqjOrxYNyEyOZdE+OA8Pho69vSmkSh8qmHzaMRNRi8AQjjD3u7TE76ySmnipmG4yb7pw0=\n\
             trusted comment: trusted\n\
             8qCfs4bsxAhOED+x3U7F/pRgUzCK221C69naAKtl3+C+6/HitJvigGepiJpEjSKrYHPz9bPurlmMs34QbqczBQ==\n";
        let key = PublicKey::parse(public).unwrap();
        assert_eq!(key.id(), "AC5D7D241078EC9D");
        assert_eq!(verify(b"hello\n", signature, std::slice::from_ref(&key)), Ok("trusted".to_owned()));
        assert_eq!(verify(b"hello!\n", signature, &[key]), Err(SignatureError::Mismatch));
    }
}
