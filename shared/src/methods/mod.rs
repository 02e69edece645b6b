//! The MFA methods' own rules, free of I/O: TOTP (`totp`), backup codes (`backup_codes`)
//! and email magic links (`magic_link`).

pub mod backup_codes;
pub mod magic_link;
pub mod totp;
