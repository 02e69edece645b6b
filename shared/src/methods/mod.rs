//! The MFA methods' own rules, free of I/O: TOTP (`totp`), backup codes (`backup_codes`)
//! email magic links (`magic_link`) and passkeys (`passkey`).

pub mod backup_codes;
pub mod magic_link;
pub mod passkey;
pub mod totp;
