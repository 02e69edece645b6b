//! Secrets at rest and one-time values, on `aws-lc-rs`: AES-256-GCM with a keyring
//! (the key id is stored beside the ciphertext, so keys rotate), HMAC-SHA256 under keys
//! derived from the same keyring for one-time values below 112 bits of entropy (a 6-digit
//! code's or an 80-bit recovery code's plain hash could be ground offline from a table
//! export; its MAC cannot without the key), SHA-256 for the 256-bit values that are only
//! ever compared (link, refresh and device tokens), and the system CSPRNG.

use std::collections::HashMap;

use aws_lc_rs::aead::{AES_256_GCM, Aad, NONCE_LEN, Nonce, RandomizedNonceKey};
use aws_lc_rs::digest::{SHA256, digest};
use aws_lc_rs::{hkdf, hmac};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};

use crate::config::Reader;

/// Secrets (codes, tokens, authenticator secrets) are held in these: they never print
/// (`Debug` shows `[REDACTED]`), and reading one takes `expose_secret()`.
pub use secrecy::{ExposeSecret, SecretSlice, SecretString};

/// Bytes from the system CSPRNG.
pub fn random_bytes<const N: usize>() -> [u8; N] {
    let mut buf = [0u8; N];
    aws_lc_rs::rand::fill(&mut buf).expect("the system random generator is available");
    buf
}

/// A fresh 256-bit random id, base64url (session ids, token ids, refresh tokens).
pub fn random_id() -> String {
    URL_SAFE_NO_PAD.encode(random_bytes::<32>())
}

/// Whether `s` has the shape of a [`random_id`]: 43 base64url characters.
pub fn is_random_id(s: &str) -> bool {
    s.len() == 43 && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Whether `a` and `b` are equal, in time that does not depend on where they differ.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    aws_lc_rs::constant_time::verify_slices_are_equal(a, b).is_ok()
}

/// Hex SHA-256: how 256-bit one-time values (link, refresh and device tokens) are stored.
pub fn sha256_hex(value: &[u8]) -> String {
    digest(&SHA256, value).as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

/// An encrypted value as stored: which key, the nonce and the ciphertext with its tag.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sealed {
    pub kid: String,
    /// base64url(nonce ‖ ciphertext ‖ tag).
    pub data: String,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CryptoError {
    #[error("no key `{0}` in the keyring")]
    UnknownKey(String),
    #[error("ciphertext does not authenticate")]
    Corrupt,
}

/// AES-256-GCM keys by id; the first one seals, all of them open. Each has an HMAC key
/// derived from it (HKDF-SHA256), for codes.
pub struct Keyring {
    active: String,
    keys: HashMap<String, RandomizedNonceKey>,
    macs: HashMap<String, hmac::Key>,
}

/// A code's MAC as stored: which key, and the tag (hex).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mac {
    pub kid: String,
    pub tag: String,
}

/// The HMAC key derived from a keyring key (never the AES key itself).
fn mac_key(bytes: &[u8]) -> hmac::Key {
    struct Len;
    impl hkdf::KeyType for Len {
        fn len(&self) -> usize {
            32
        }
    }
    let prk = hkdf::Salt::new(hkdf::HKDF_SHA256, b"mfa-keyring").extract(bytes);
    let mut out = [0u8; 32];
    prk.expand(&[b"one-time codes"], Len).and_then(|okm| okm.fill(&mut out)).expect("32 bytes are a valid HKDF length");
    hmac::Key::new(hmac::HMAC_SHA256, &out)
}

impl Keyring {
    /// `MFA_ENCRYPTION_KEYS` = `kid:base64url(32 bytes)[,kid:…]`, the active key first.
    pub fn read(r: &mut Reader) -> Option<Self> {
        let raw = r.required("MFA_ENCRYPTION_KEYS");
        if raw.is_empty() {
            return None;
        }
        match Self::parse(&raw) {
            Some(k) => Some(k),
            None => {
                r.invalid("MFA_ENCRYPTION_KEYS", "expected `kid:base64url 32-byte key`, comma-separated, active first");
                None
            }
        }
    }

    pub fn parse(spec: &str) -> Option<Self> {
        let mut active = None;
        let mut keys = HashMap::new();
        let mut macs = HashMap::new();
        for entry in spec.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            let (kid, key) = entry.split_once(':')?;
            let bytes = URL_SAFE_NO_PAD.decode(key.trim().trim_end_matches('=')).ok()?;
            if kid.is_empty() || bytes.len() != 32 {
                return None;
            }
            let key = RandomizedNonceKey::new(&AES_256_GCM, &bytes).ok()?;
            active.get_or_insert_with(|| kid.to_string());
            keys.insert(kid.to_string(), key);
            macs.insert(kid.to_string(), mac_key(&bytes));
        }
        Some(Self { active: active?, keys, macs })
    }

    /// The MAC of `value` in `context` (the user, the factor, the purpose), under the
    /// active key.
    pub fn mac(&self, value: &[u8], context: &str) -> Mac {
        let tag = hmac::sign(&self.macs[&self.active], &mac_input(value, context));
        Mac { kid: self.active.clone(), tag: tag.as_ref().iter().map(|b| format!("{b:02x}")).collect() }
    }

    /// Whether `value` in `context` has the MAC `mac` (compared in constant time).
    pub fn verify_mac(&self, mac: &Mac, value: &[u8], context: &str) -> bool {
        let Some(key) = self.macs.get(&mac.kid) else { return false };
        let Some(tag) = from_hex(&mac.tag) else { return false };
        hmac::verify(key, &mac_input(value, context), &tag).is_ok()
    }

    /// Encrypts `plaintext`, bound to `context` (e.g. the user id and purpose) so a
    /// ciphertext moved to another user's record does not open.
    pub fn seal(&self, plaintext: &[u8], context: &str) -> Sealed {
        let key = &self.keys[&self.active];
        let mut buf = plaintext.to_vec();
        let nonce = key
            .seal_in_place_append_tag(Aad::from(context.as_bytes()), &mut buf)
            .expect("AES-GCM sealing of a short value cannot fail");
        let mut data = nonce.as_ref().to_vec();
        data.extend_from_slice(&buf);
        Sealed { kid: self.active.clone(), data: URL_SAFE_NO_PAD.encode(data) }
    }

    pub fn open(&self, sealed: &Sealed, context: &str) -> Result<Vec<u8>, CryptoError> {
        let key = self.keys.get(&sealed.kid).ok_or_else(|| CryptoError::UnknownKey(sealed.kid.clone()))?;
        let data = URL_SAFE_NO_PAD.decode(&sealed.data).map_err(|_| CryptoError::Corrupt)?;
        if data.len() < NONCE_LEN {
            return Err(CryptoError::Corrupt);
        }
        let (nonce, ciphertext) = data.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| CryptoError::Corrupt)?;
        let mut buf = ciphertext.to_vec();
        let plain =
            key.open_in_place(nonce, Aad::from(context.as_bytes()), &mut buf).map_err(|_| CryptoError::Corrupt)?;
        Ok(plain.to_vec())
    }
}

fn mac_input(value: &[u8], context: &str) -> Vec<u8> {
    // The context's length first, so no context and value run into another pair.
    let mut input = (context.len() as u64).to_be_bytes().to_vec();
    input.extend_from_slice(context.as_bytes());
    input.extend_from_slice(value);
    input
}

fn from_hex(text: &str) -> Option<Vec<u8>> {
    if text.len() % 2 != 0 {
        return None;
    }
    (0..text.len()).step_by(2).map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn macs_bind_their_context_and_rotate() {
        let old = spec("k1");
        let ring = Keyring::parse(&old).unwrap();
        let mac = ring.mac(b"123456", "u1/f1/LOGIN");
        assert!(ring.verify_mac(&mac, b"123456", "u1/f1/LOGIN"));
        assert!(!ring.verify_mac(&mac, b"123457", "u1/f1/LOGIN"));
        assert!(!ring.verify_mac(&mac, b"123456", "u1/f1/SETUP"), "another purpose");
        assert!(!ring.verify_mac(&mac, b"123456", "u2/f1/LOGIN"), "another user");
        assert!(!mac.tag.contains("123456"));
        let rotated = Keyring::parse(&format!("{},{old}", spec("k2"))).unwrap();
        assert!(rotated.verify_mac(&mac, b"123456", "u1/f1/LOGIN"), "the old key still verifies");
        assert!(!ring.verify_mac(&Mac { tag: "zz".into(), ..mac }, b"123456", "u1/f1/LOGIN"));
    }

    fn spec(kid: &str) -> String {
        format!("{kid}:{}", URL_SAFE_NO_PAD.encode(random_bytes::<32>()))
    }

    #[test]
    fn seals_and_opens_with_rotation() {
        let old = spec("k1");
        let ring1 = Keyring::parse(&old).unwrap();
        let sealed = ring1.seal(b"JBSWY3DPEHPK3PXP", "user-1/totp");
        assert_eq!(sealed.kid, "k1");
        assert!(!sealed.data.contains("JBSWY3DP"));
        // A new active key; the old one still opens what it sealed.
        let ring2 = Keyring::parse(&format!("{},{old}", spec("k2"))).unwrap();
        assert_eq!(ring2.open(&sealed, "user-1/totp").unwrap(), b"JBSWY3DPEHPK3PXP");
        assert_eq!(ring2.seal(b"x", "c").kid, "k2");
    }

    #[test]
    fn context_and_tampering_are_detected() {
        let ring = Keyring::parse(&spec("k1")).unwrap();
        let sealed = ring.seal(b"secret", "user-1/totp");
        assert_eq!(ring.open(&sealed, "user-2/totp"), Err(CryptoError::Corrupt));
        let mut bytes = URL_SAFE_NO_PAD.decode(&sealed.data).unwrap();
        *bytes.last_mut().unwrap() ^= 1;
        let tampered = Sealed { kid: "k1".into(), data: URL_SAFE_NO_PAD.encode(bytes) };
        assert_eq!(ring.open(&tampered, "user-1/totp"), Err(CryptoError::Corrupt));
        let unknown = Sealed { kid: "gone".into(), ..sealed };
        assert!(matches!(ring.open(&unknown, "user-1/totp"), Err(CryptoError::UnknownKey(_))));
    }

    #[test]
    fn rejects_bad_key_specs() {
        assert!(Keyring::parse("k1:c2hvcnQ").is_none());
        assert!(Keyring::parse("nokid").is_none());
        assert!(Keyring::parse("").is_none());
    }

    #[test]
    fn sha256_matches_the_standard_vector() {
        assert_eq!(sha256_hex(b"abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    }
}
