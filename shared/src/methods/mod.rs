//! The MFA methods' own rules, free of I/O: TOTP (`totp`) and backup codes (`backup_codes`).

pub mod backup_codes;
pub mod totp;
