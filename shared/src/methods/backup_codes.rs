//! Backup codes: ten single-use codes shown once. Each has 80 bits from the CSPRNG (16
//! base32 characters, shown as `XXXX-XXXX-XXXX-XXXX`), below the 112 bits NIST SP 800-63B
//! asks of a look-up secret stored as a plain hash, so each is stored keyed: an HMAC under
//! the keyring (of the code's SHA-256, bound to the user) with the key's id,
//! `<kid>:<hex tag>`. A table export alone cannot be ground offline. Codes stored as plain
//! SHA-256 by earlier versions still verify, and are rewritten keyed at the record's next
//! write (`UserMfaRecord::rekey_backup_codes`, in the one writer). They come with the first factor, log in once each
//! (`POST /mfa/recover`) and are regenerated with step-up.

use crate::App;
use crate::auth::Principal;
use crate::crypto::{ExposeSecret, Keyring, Mac, SecretString, random_bytes, sha256_hex};
use crate::model::{UserMfaRecord, backup_code_context, backup_code_form};
use crate::policy::{Action, Change};
use crate::refusal::Refusal;
use crate::update;
use crate::update::Failure;

pub const COUNT: usize = 10;
const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/// New codes and their stored forms (same order) for `user_id`.
pub fn generate(keyring: &Keyring, user_id: &str) -> (Vec<SecretString>, Vec<String>) {
    generate_n(keyring, user_id, COUNT)
}

/// `count` new codes and their stored forms (Frontegg's client shows one recovery code).
pub fn generate_n(keyring: &Keyring, user_id: &str, count: usize) -> (Vec<SecretString>, Vec<String>) {
    let codes: Vec<String> = (0..count).map(|_| one()).collect();
    let stored = codes
        .iter()
        .map(|c| backup_code_form(keyring, user_id, &digest(c).expect("a generated code is well-formed")))
        .collect();
    (codes.into_iter().map(SecretString::from).collect(), stored)
}

fn one() -> String {
    let bytes = random_bytes::<10>();
    let mut bits: u128 = 0;
    for b in bytes {
        bits = (bits << 8) | b as u128;
    }
    let chars: Vec<char> = (0..16).map(|i| ALPHABET[((bits >> (75 - 5 * i)) & 31) as usize] as char).collect();
    chars.chunks(4).map(|c| c.iter().collect::<String>()).collect::<Vec<_>>().join("-")
}

/// The SHA-256 (hex) of a code as typed (case, spaces and dashes ignored), if it is
/// well-formed: what the keyed form is taken over, and the form earlier versions stored.
pub fn digest(typed: &str) -> Option<String> {
    let canonical: String =
        typed.chars().filter(|c| !c.is_whitespace() && *c != '-').map(|c| c.to_ascii_uppercase()).collect();
    let ok = canonical.len() == 16 && canonical.bytes().all(|b| ALPHABET.contains(&b));
    ok.then(|| sha256_hex(canonical.as_bytes()))
}

/// Whether `stored` is the stored form of the code whose digest is `digest`: keyed, or
/// (written by an earlier version) the digest itself.
fn matches(keyring: &Keyring, user_id: &str, stored: &str, digest: &str) -> bool {
    match stored.split_once(':') {
        Some((kid, tag)) => keyring.verify_mac(
            &Mac { kid: kid.into(), tag: tag.into() },
            digest.as_bytes(),
            &backup_code_context(user_id),
        ),
        None => stored == digest,
    }
}

// Against the store ------------------------------------------------------------------------

/// `POST /mfa/backup-codes`: ten new codes, every old one void. Returns the codes.
pub async fn regenerate(app: &App, principal: &Principal) -> Result<Vec<SecretString>, Refusal> {
    let (codes, hashes) = generate(app.keyring()?, principal.user_id.as_str());
    let change = Change::by_user(Action::RegenerateBackupCodes, principal, app.clock.now());
    update::user(app, principal.user_id.as_str(), &change, |record, _| {
        if !record.has_mfa_enabled() {
            return Err(Refusal::MfaNotEnabled);
        }
        record.backup_codes = hashes.clone();
        record.backup_codes_issued_in = change.user_session();
        Ok(())
    })
    .await?;
    Ok(codes)
}

/// With the completion that enables a user's `first` factor (of any type), the backup
/// codes `hashes` are issued (belonging to `session`, the session the completion acts in).
/// Returns whether they were.
pub fn issue_with_first_factor(
    record: &mut UserMfaRecord,
    first: bool,
    hashes: &[String],
    session: Option<String>,
) -> bool {
    if first && record.has_mfa_enabled() {
        record.backup_codes = hashes.to_vec();
        record.backup_codes_issued_in = session;
        return true;
    }
    false
}

/// The recovery check: spends `presented` if it is one of the user's unused codes (while
/// MFA is enabled), and ends every session of the user (whoever recovers may be the
/// only one who still has the account, so nobody else's session goes on). Returns how
/// many codes are left; a wrong code counts as a failure.
pub fn spend(keyring: &Keyring, record: &mut UserMfaRecord, presented: &SecretString) -> Result<usize, Failure> {
    let typed = digest(presented.expose_secret());
    let user_id = record.user_id.clone();
    let position =
        typed.as_ref().and_then(|d| record.backup_codes.iter().position(|c| matches(keyring, &user_id, c, d)));
    match position {
        Some(i) if record.has_mfa_enabled() => {
            record.backup_codes.remove(i);
            record.end_sessions_except(None);
            Ok(record.backup_codes.len())
        }
        _ => Err(Failure::Counted(Refusal::InvalidCode { backup: true })),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keyring() -> Keyring {
        use base64::Engine;
        let key = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(random_bytes::<32>());
        Keyring::parse(&format!("k1:{key}")).unwrap()
    }

    #[test]
    fn codes_are_unique_well_formed_and_stored_keyed_for_their_user() {
        let ring = keyring();
        let (codes, stored) = generate(&ring, "u1");
        let codes: Vec<&str> = codes.iter().map(|c| c.expose_secret()).collect();
        assert_eq!(codes.len(), COUNT);
        let unique: std::collections::HashSet<_> = codes.iter().collect();
        assert_eq!(unique.len(), COUNT);
        for (code, s) in codes.iter().zip(&stored) {
            assert_eq!(code.len(), 19);
            let d = digest(code).unwrap();
            assert!(s.starts_with("k1:") && !s.contains(&d), "keyed, not the plain digest: {s}");
            assert!(matches(&ring, "u1", s, &d));
            assert!(matches(&ring, "u1", s, &digest(&code.to_lowercase().replace('-', " ")).unwrap()));
            assert!(!matches(&ring, "u2", s, &d), "another user's record");
            assert!(!matches(&keyring(), "u1", s, &d), "another key under the same id");
        }
        assert_eq!(digest("not a code"), None);
    }

    #[test]
    fn plain_digests_still_match_and_are_rekeyed() {
        let ring = keyring();
        let mut record = UserMfaRecord::new("u1");
        let code = one();
        let d = digest(&code).unwrap();
        record.backup_codes = vec![d.clone()];
        assert!(matches(&ring, "u1", &record.backup_codes[0], &d), "the earlier form still works");
        record.rekey_backup_codes(&ring);
        assert!(record.backup_codes[0].starts_with("k1:"));
        assert!(matches(&ring, "u1", &record.backup_codes[0], &d), "and so does its keyed form");
        let again = record.backup_codes.clone();
        record.rekey_backup_codes(&ring);
        assert_eq!(record.backup_codes, again, "a keyed form stays as it is");
    }
}
