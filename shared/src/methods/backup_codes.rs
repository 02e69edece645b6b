//! Backup codes: ten single-use codes shown once, stored only as SHA-256 hashes. Each has
//! 80 bits from the CSPRNG (16 base32 characters, shown as `XXXX-XXXX-XXXX-XXXX`), so an
//! unsalted hash cannot be brute-forced. They come with an authenticator setup, log in
//! once each (`POST /mfa/recover`) and are regenerated with step-up.

use crate::App;
use crate::auth::Principal;
use crate::crypto::{ExposeSecret, SecretString, random_bytes, sha256_hex};
use crate::lockout::Failure;
use crate::model::UserMfaRecord;
use crate::notify;
use crate::policy::{Action, Change};
use crate::refusal::Refusal;
use crate::update;

pub const COUNT: usize = 10;
const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/// New codes and their hashes (same order).
pub fn generate() -> (Vec<SecretString>, Vec<String>) {
    generate_n(COUNT)
}

/// `count` new codes and their hashes (Frontegg's client shows one recovery code).
pub fn generate_n(count: usize) -> (Vec<SecretString>, Vec<String>) {
    let codes: Vec<String> = (0..count).map(|_| one()).collect();
    let hashes = codes.iter().map(|c| hash(c).expect("a generated code is well-formed")).collect();
    (codes.into_iter().map(SecretString::from).collect(), hashes)
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

/// The stored form of a code as typed (case, spaces and dashes ignored), if it is well-formed.
pub fn hash(typed: &str) -> Option<String> {
    let canonical: String =
        typed.chars().filter(|c| !c.is_whitespace() && *c != '-').map(|c| c.to_ascii_uppercase()).collect();
    let ok = canonical.len() == 16 && canonical.bytes().all(|b| ALPHABET.contains(&b));
    ok.then(|| sha256_hex(canonical.as_bytes()))
}

// Against the store ------------------------------------------------------------------------

/// `POST /mfa/backup-codes`: ten new codes, every old one void. Returns the codes and the
/// addresses to tell.
pub async fn regenerate(app: &App, principal: &Principal) -> Result<(Vec<SecretString>, Vec<String>), Refusal> {
    let (codes, hashes) = generate();
    let change = Change::by_user(Action::RegenerateBackupCodes, principal, app.clock.now());
    let to = update::user(app, principal.user_id.as_str(), None, &change, |record, _| {
        if !record.has_mfa_enabled() {
            return Err(Refusal::MfaNotEnabled);
        }
        let to = notify::recipients(record, principal.email.as_deref());
        record.backup_codes = hashes.clone();
        record.backup_codes_issued_in = change.user_session();
        Ok(to)
    })
    .await?;
    Ok((codes, to))
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
pub fn spend(record: &mut UserMfaRecord, presented: &SecretString) -> Result<usize, Failure> {
    let typed = hash(presented.expose_secret());
    let position = typed.as_ref().and_then(|h| record.backup_codes.iter().position(|c| c == h));
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

    #[test]
    fn codes_are_unique_well_formed_and_hash_as_typed() {
        let (codes, hashes) = generate();
        let codes: Vec<&str> = codes.iter().map(|c| c.expose_secret()).collect();
        assert_eq!(codes.len(), COUNT);
        let unique: std::collections::HashSet<_> = codes.iter().collect();
        assert_eq!(unique.len(), COUNT);
        for (code, h) in codes.iter().zip(&hashes) {
            assert_eq!(code.len(), 19);
            assert_eq!(hash(code).as_ref(), Some(h));
            assert_eq!(hash(&code.to_lowercase().replace('-', " ")).as_ref(), Some(h));
            assert!(!h.contains(&code.replace('-', "")));
        }
        assert_eq!(hash("not a code"), None);
    }
}
