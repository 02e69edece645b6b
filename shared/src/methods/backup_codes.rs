//! Backup codes: ten single-use codes shown once, stored only as SHA-256 hashes. Each has
//! 80 bits from the CSPRNG (16 base32 characters, shown as `XXXX-XXXX-XXXX-XXXX`), so an
//! unsalted hash cannot be brute-forced.

use crate::crypto::{random_bytes, sha256_hex};

pub const COUNT: usize = 10;
const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/// New codes and their hashes (same order).
pub fn generate() -> (Vec<String>, Vec<String>) {
    let codes: Vec<String> = (0..COUNT).map(|_| one()).collect();
    let hashes = codes.iter().map(|c| hash(c).expect("a generated code is well-formed")).collect();
    (codes, hashes)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_well_formed_and_hash_as_typed() {
        let (codes, hashes) = generate();
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
