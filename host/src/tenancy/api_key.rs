//! API keys: `ak_<prefix>_<secret>`. The prefix is public (it names the key in lists,
//! logs and the audit log); the whole key is stored only as an HMAC-SHA256 under the
//! server's key-hashing secret, which is fast enough to check on every request and
//! useless to someone who has only the database.

use std::fmt;

use base64::Engine as _;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use zeroize::Zeroizing;

/// Characters of randomness in a prefix (hex).
const PREFIX_LEN: usize = 12;
/// Bytes of randomness in a secret.
const SECRET_BYTES: usize = 32;

/// A freshly made key, shown once.
pub struct NewKey {
    /// The public prefix.
    pub prefix: String,
    /// The whole key, for the one response that shows it.
    pub key: Zeroizing<String>,
}

impl fmt::Debug for NewKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "NewKey(ak_{}_…)", self.prefix)
    }
}

/// Makes a new random key.
///
/// # Panics
///
/// When the operating system has no randomness to give.
pub fn generate() -> NewKey {
    let mut bytes = [0u8; PREFIX_LEN / 2 + SECRET_BYTES];
    getrandom::getrandom(&mut bytes).expect("the operating system's random source");
    let prefix = hex::encode(&bytes[..PREFIX_LEN / 2]);
    let secret = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&bytes[PREFIX_LEN / 2..]);
    let key = Zeroizing::new(format!("ak_{prefix}_{secret}"));
    zeroize::Zeroize::zeroize(&mut bytes);
    NewKey { prefix, key }
}

/// The prefix of a presented key, when it has the shape of one.
pub fn prefix_of(key: &str) -> Option<&str> {
    let rest = key.strip_prefix("ak_")?;
    let (prefix, secret) = rest.split_once('_')?;
    let well_formed = prefix.len() == PREFIX_LEN
        && prefix.bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
        && !secret.is_empty()
        && secret.len() <= 64;
    well_formed.then_some(prefix)
}

/// Hashes and checks keys with the server's secret.
#[derive(Clone)]
pub struct KeyHasher {
    secret: Zeroizing<[u8; 32]>,
}

impl fmt::Debug for KeyHasher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("KeyHasher(<redacted>)")
    }
}

impl KeyHasher {
    /// A hasher with `secret`.
    pub fn new(secret: [u8; 32]) -> Self {
        Self { secret: Zeroizing::new(secret) }
    }

    fn mac(&self, key: &str) -> Hmac<Sha256> {
        let mut mac = Hmac::<Sha256>::new_from_slice(self.secret.as_slice()).expect("HMAC takes any key length");
        mac.update(key.as_bytes());
        mac
    }

    /// The stored form of `key`.
    pub fn hash(&self, key: &str) -> Vec<u8> {
        self.mac(key).finalize().into_bytes().to_vec()
    }

    /// Whether `key` hashes to `stored`, compared in constant time.
    pub fn matches(&self, key: &str, stored: &[u8]) -> bool {
        self.mac(key).verify_slice(stored).is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_key_parses_to_its_prefix_and_matches_its_hash_only() {
        let hasher = KeyHasher::new([7; 32]);
        let new = generate();
        assert_eq!(prefix_of(&new.key), Some(new.prefix.as_str()));
        let stored = hasher.hash(&new.key);
        assert!(hasher.matches(&new.key, &stored));
        let mut altered = new.key.to_string();
        altered.push('x');
        assert!(!hasher.matches(&altered, &stored));
        assert!(!KeyHasher::new([8; 32]).matches(&new.key, &stored), "another server's secret");
        assert_ne!(generate().key, new.key);
    }

    #[test]
    fn malformed_keys_have_no_prefix() {
        for key in
            ["", "ak_", "ak_abc_def", "sk-abc", "ak_0123456789AB_x", "ak_0123456789ab_", "Bearer ak_0123456789ab_x"]
        {
            assert_eq!(prefix_of(key), None, "{key}");
        }
        assert_eq!(prefix_of("ak_0123456789ab_s3cr3t"), Some("0123456789ab"));
    }

    #[test]
    fn debug_never_shows_the_secret() {
        let new = generate();
        let shown = format!("{new:?} {:?}", KeyHasher::new([1; 32]));
        assert!(!shown.contains(&new.key[16..]), "{shown}");
    }
}
