//! GOOGLE_AUTH, authenticator-app codes: RFC 6238 TOTP (HMAC-SHA1, 6 digits, 30-second
//! steps) through `totp-rs`. A code is accepted from one step before to one step after
//! now, and each step at most once per user (the accepted step is recorded in the same
//! write and any step not later than it refused). The secret is stored AES-256-GCM
//! encrypted, bound to its user. Below the pure rules: setup, completion and the login
//! check against the store.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use totp_rs::{Algorithm, Builder, Secret, Totp};

use super::{Completed, Started, backup_codes};
use crate::App;
use crate::auth::Principal;
use crate::crypto::{ExposeSecret, Keyring, Sealed, SecretSlice, SecretString, random_bytes};
use crate::factors::{Factor, Material};
use crate::model::{MfaType, PendingSetup, UserMfaRecord};
use crate::policy::{Actor, Change};
use crate::refusal::Refusal;
use crate::update::{self, Failure};

pub const DIGITS: u8 = 6;
pub const STEP_SECONDS: u64 = 30;
/// 160 bits, as RFC 4226 recommends.
pub const SECRET_BYTES: usize = 20;

/// A freshly generated secret, for `POST /mfa/setup`.
pub struct Enrollment {
    /// Base32, as authenticator apps take it.
    pub secret: SecretString,
    /// The `otpauth://` URL and its QR code carry the secret too.
    pub otpauth_url: SecretString,
    /// `data:image/png;base64,…`.
    pub qr_code: SecretString,
    pub raw_secret: SecretSlice<u8>,
}

#[derive(Debug, thiserror::Error)]
#[error("the authenticator enrollment could not be built: {0}")]
pub struct EnrollmentError(String);

/// A new secret from the CSPRNG, its `otpauth://` URL (issuer and account name) and QR code.
pub fn enroll(issuer: &str, account: &str) -> Result<Enrollment, EnrollmentError> {
    let raw = random_bytes::<SECRET_BYTES>().to_vec();
    let totp = Builder::new()
        .with_algorithm(Algorithm::SHA1)
        .with_digits(DIGITS)
        .with_step_duration(STEP_SECONDS)
        .with_skew(1)
        .with_secret(raw.clone())
        .with_issuer(Some(sanitize(issuer)))
        .with_account_name(sanitize(account))
        .build()
        .map_err(|e| EnrollmentError(e.to_string()))?;
    let otpauth_url = totp.to_url().map_err(|e| EnrollmentError(e.to_string()))?;
    let png = qr_png(&otpauth_url)?;
    Ok(Enrollment {
        secret: totp.secret().to_base32().into(),
        otpauth_url: otpauth_url.into(),
        qr_code: format!("data:image/png;base64,{}", STANDARD.encode(png)).into(),
        raw_secret: raw.into(),
    })
}

/// Pixels per QR module, and the white border in modules that readers need around it.
const QR_SCALE: usize = 8;
const QR_BORDER: usize = 4;

/// `text` as a QR code (error correction level M) in a black-and-white PNG (one bit a
/// pixel, fast compression: about a millisecond, and 2 KB).
fn qr_png(text: &str) -> Result<Vec<u8>, EnrollmentError> {
    let qr = qrcodegen::QrCode::encode_text(text, qrcodegen::QrCodeEcc::Medium)
        .map_err(|_| EnrollmentError("the otpauth URL is too long for a QR code".into()))?;
    let modules = qr.size() as usize;
    let side = (modules + 2 * QR_BORDER) * QR_SCALE;
    // One row of bits per row of modules (a set bit is white), repeated QR_SCALE times.
    let stride = side.div_ceil(8);
    let mut pixels = Vec::with_capacity(stride * side);
    for qy in -(QR_BORDER as i32)..(modules + QR_BORDER) as i32 {
        let mut row = vec![0xffu8; stride];
        for qx in 0..modules {
            if qr.get_module(qx as i32, qy) {
                for x in (qx + QR_BORDER) * QR_SCALE..(qx + QR_BORDER + 1) * QR_SCALE {
                    row[x / 8] &= !(0x80 >> (x % 8));
                }
            }
        }
        for _ in 0..QR_SCALE {
            pixels.extend_from_slice(&row);
        }
    }
    let mut png = Vec::new();
    let mut encoder = png::Encoder::new(&mut png, side as u32, side as u32);
    encoder.set_color(png::ColorType::Grayscale);
    encoder.set_depth(png::BitDepth::One);
    encoder.set_compression(png::Compression::Fast);
    let mut writer = encoder.write_header().map_err(|e| EnrollmentError(format!("PNG: {e}")))?;
    writer.write_image_data(&pixels).map_err(|e| EnrollmentError(format!("PNG: {e}")))?;
    writer.finish().map_err(|e| EnrollmentError(format!("PNG: {e}")))?;
    Ok(png)
}

/// UTF-8 bytes of an issuer or account name kept in the `otpauth` label: a usual address
/// fits whole, and however long the name (a token's claim is not bounded) the URL, which
/// percent-encodes each byte in at most three characters and names the issuer twice, stays
/// within what a QR code holds (an authenticator app shows a few dozen characters anyway).
const LABEL_BYTES: usize = 200;

/// The `otpauth` label may not contain `:` (it separates issuer and account).
fn sanitize(label: &str) -> String {
    let mut clean = String::new();
    for c in label.chars().filter(|c| *c != ':' && !c.is_control()) {
        if clean.len() + c.len_utf8() > LABEL_BYTES {
            break;
        }
        clean.push(c);
    }
    if clean.trim().is_empty() { "account".into() } else { clean }
}

fn verifier(raw_secret: &[u8]) -> Totp {
    Builder::new()
        .with_algorithm(Algorithm::SHA1)
        .with_digits(DIGITS)
        .with_step_duration(STEP_SECONDS)
        .with_skew(1)
        .with_secret(Secret::from(raw_secret.to_vec()))
        .build_noncompliant()
}

/// A code as typed: six digits, spaces and dashes ignored.
pub fn normalize(code: &str) -> Option<String> {
    let digits: String = code.chars().filter(|c| !c.is_whitespace() && *c != '-').collect();
    (digits.len() == DIGITS as usize && digits.bytes().all(|b| b.is_ascii_digit())).then_some(digits)
}

/// The time step `code` belongs to, if it is valid within one step of `now`.
pub fn matching_step(raw_secret: &[u8], code: &str, now: i64) -> Option<u64> {
    let code = normalize(code)?;
    verifier(raw_secret).check(&code, now.max(0) as u64)
}

/// The raw secret behind a base32 secret as shown to the user.
pub fn decode_secret(base32: &str) -> Option<Vec<u8>> {
    Secret::try_from_base32(base32).ok().map(|s| s.as_ref().to_vec())
}

/// The code for `time` (used by tests and tools; the service never sends codes).
pub fn code_at(raw_secret: &[u8], time: i64) -> String {
    verifier(raw_secret).generate(time.max(0) as u64).to_string()
}

fn secret_context(user_id: &str) -> String {
    format!("{user_id}/totp")
}

/// Encrypts a secret for `user_id`'s record (it opens for that user only).
pub fn seal_secret(keyring: &Keyring, user_id: &str, raw: &[u8]) -> Sealed {
    keyring.seal(raw, &secret_context(user_id))
}

fn open_secret(keyring: &Keyring, user_id: &str, sealed: &Sealed) -> Result<SecretSlice<u8>, Refusal> {
    keyring.open(sealed, &secret_context(user_id)).map(SecretSlice::from).map_err(|e| {
        tracing::error!(error = %e, "a stored authenticator secret does not decrypt");
        Refusal::Internal
    })
}

// Against the store ------------------------------------------------------------------------

/// `POST /mfa/setup`: a new authenticator (a factor of its own, next to any the user has),
/// pending until a code from its secret completes the setup. A setup of a user's first
/// factor also shows ten backup codes, which work once it is verified (a user who has MFA
/// keeps the codes they have: `backupCodes` is empty). Setting up again replaces a
/// pending secret.
pub async fn setup(
    app: &App,
    principal: &Principal,
    name: Option<String>,
    backup_codes: usize,
) -> Result<Started, Refusal> {
    let keyring = app.keyring()?;
    let now = app.clock.now();
    let account = principal.email.as_deref().unwrap_or(principal.user_id.as_str());
    let enrollment = enroll(&app.totp_issuer, account).map_err(|e| {
        tracing::error!(error = %e, "building an authenticator enrollment failed");
        Refusal::Internal
    })?;
    let user = principal.user_id.as_str();
    let (codes, hashes) = backup_codes::generate_n(keyring, user, backup_codes);
    let sealed = seal_secret(keyring, user, enrollment.raw_secret.expose_secret());
    let change = Change::starting(MfaType::GoogleAuth, principal, now);
    let (factor_id, first) = update::user(app, user, &change, |record, _| {
        let first = !record.has_mfa_enabled();
        let setup = PendingSetup { step_up: change.step_up(), item: None, started_at: now };
        let name = name.clone().unwrap_or_else(|| MfaType::GoogleAuth.name().to_string());
        let id = record.begin_setup(Material::GoogleAuth { secret: sealed.clone() }, name, setup, now)?;
        record.pending_backup_codes = if first { hashes.clone() } else { Vec::new() };
        Ok((id, first))
    })
    .await?;
    let setup = super::Setup::Authenticator {
        factor_id,
        secret: enrollment.secret,
        otpauth_url: enrollment.otpauth_url,
        qr_code: enrollment.qr_code,
        backup_codes: if first { codes } else { Vec::new() },
    };
    Ok(Started { setup })
}

/// The sealed secret of an authenticator factor (none of a factor of another type).
fn secret_of(factor: &Factor) -> Option<&Sealed> {
    if let Material::GoogleAuth { secret } = &factor.material { Some(secret) } else { None }
}

/// Enables the pending authenticator (`factor_id`, when the caller names one) if `code`
/// comes from its secret; the backup codes issued with it work from now on when it is the
/// user's first factor (they belong to `session`, the session the completion acts in). A
/// wrong code counts as a failure.
fn activate_pending(
    record: &mut UserMfaRecord,
    keyring: &Keyring,
    code: &SecretString,
    factor_id: Option<&str>,
    session: Option<String>,
    now: i64,
) -> Result<(), Failure> {
    let not_pending = || Refusal::SetupNotPending(MfaType::GoogleAuth);
    let pending = record.pending(MfaType::GoogleAuth).filter(|f| factor_id.is_none_or(|id| f.id == id));
    let Some((id, sealed)) = pending.and_then(|f| Some((f.id.clone(), secret_of(f)?.clone()))) else {
        return Err(not_pending().into());
    };
    let secret = open_secret(keyring, &record.user_id, &sealed)?;
    let Some(step) = matching_step(secret.expose_secret(), code.expose_secret(), now) else {
        return Err(Failure::Counted(Refusal::InvalidCode { backup: false }));
    };
    let first = !record.has_mfa_enabled();
    record.complete_setup(MfaType::GoogleAuth, None, Some(&id), now).ok_or_else(not_pending)?;
    // Another authenticator may have used a later step meanwhile; a completion spends no
    // login step of its own.
    record.totp_last_step = record.totp_last_step.max(Some(step));
    let codes = std::mem::take(&mut record.pending_backup_codes);
    if first && !codes.is_empty() {
        record.backup_codes = codes;
        record.backup_codes_issued_in = session;
    }
    Ok(())
}

/// `POST /mfa/verify-setup` for GOOGLE_AUTH.
pub async fn complete(
    app: &App,
    principal: &Principal,
    code: &SecretString,
    factor_id: Option<&str>,
    finish: super::Finish,
) -> Result<Completed, Refusal> {
    let keyring = app.keyring()?;
    let now = app.clock.now();
    let change = Change::completing(MfaType::GoogleAuth, Actor::User(principal), now);
    // A first factor whose setup showed no backup codes (Frontegg's enrolment) gets them now.
    let (fresh, hashes) = backup_codes::generate_n(keyring, principal.user_id.as_str(), finish.backup_codes);
    let (issued, session) = update::attempt(
        app,
        principal.user_id.as_str(),
        None,
        change,
        None,
        |record, _| {
            let acting = change.acting_session(record).map(String::from);
            let first = !record.has_mfa_enabled();
            activate_pending(record, keyring, code, factor_id, acting.clone(), now)?;
            let issued = first
                && record.backup_codes.is_empty()
                && backup_codes::issue_with_first_factor(record, first, &hashes, acting);
            let session = finish.session(app, principal, "otp", record, now)?;
            Ok(((issued, session), Vec::new()))
        },
        || Refusal::Internal,
    )
    .await?;
    Ok(Completed { backup_codes: issued.then_some(fresh), session })
}

/// The login check: `code` against every enabled authenticator of the user (only
/// `factor_id` when the caller names one); the time step it belongs to is recorded for the
/// user, so no step is ever accepted twice, whichever authenticator it came from. A wrong
/// or reused code counts as a failure.
pub fn check(
    record: &mut UserMfaRecord,
    keyring: &Keyring,
    code: &SecretString,
    factor_id: Option<&str>,
    now: i64,
) -> Result<(), Failure> {
    if let Some(id) = factor_id {
        let factor = record.factor(id).filter(|f| f.kind() == MfaType::GoogleAuth).ok_or(Refusal::FactorNotFound)?;
        if !factor.is_enabled() {
            return Err(Refusal::MethodNotEnabled(MfaType::GoogleAuth).into());
        }
    }
    let candidates: Vec<(String, Sealed)> = record
        .enabled_factors(MfaType::GoogleAuth, factor_id)
        .filter_map(|f| Some((f.id.clone(), secret_of(f)?.clone())))
        .collect();
    if candidates.is_empty() {
        return Err(Refusal::MethodNotEnabled(MfaType::GoogleAuth).into());
    }
    let mut matched = None;
    for (id, sealed) in candidates {
        let secret = open_secret(keyring, &record.user_id, &sealed)?;
        if let Some(step) = matching_step(secret.expose_secret(), code.expose_secret(), now) {
            matched = Some((id, step));
            break;
        }
    }
    match matched {
        Some((id, step)) if record.totp_last_step.is_none_or(|last| step > last) => {
            record.totp_last_step = Some(step);
            if let Some(f) = record.factor_mut(&id) {
                f.last_used_at = Some(now);
            }
            Ok(())
        }
        Some(_) => Err(Failure::Counted(Refusal::CodeAlreadyUsed)),
        None => Err(Failure::Counted(Refusal::InvalidCode { backup: false })),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rfc(alg: Algorithm, secret: &[u8], digits: u8, step: u64) -> Totp {
        Builder::new()
            .with_algorithm(alg)
            .with_digits(digits)
            .with_step_duration(step)
            .with_skew(0)
            .with_secret(secret.to_vec())
            .build_noncompliant()
    }

    /// RFC 6238 Appendix B: each algorithm with its own seed (20, 32 and 64 bytes).
    #[test]
    fn rfc6238_appendix_b() {
        let sha1 = b"12345678901234567890".as_slice();
        let sha256 = b"12345678901234567890123456789012".as_slice();
        let sha512 = b"1234567890123456789012345678901234567890123456789012345678901234".as_slice();
        let table: [(u64, &str, &str, &str); 6] = [
            (59, "94287082", "46119246", "90693936"),
            (1111111109, "07081804", "68084774", "25091201"),
            (1111111111, "14050471", "67062674", "99943326"),
            (1234567890, "89005924", "91819424", "93441116"),
            (2000000000, "69279037", "90698825", "38618901"),
            (20000000000, "65353130", "77737706", "47863826"),
        ];
        for (time, c1, c256, c512) in table {
            assert_eq!(rfc(Algorithm::SHA1, sha1, 8, 30).generate(time).to_string(), c1, "SHA1 at {time}");
            assert_eq!(rfc(Algorithm::SHA256, sha256, 8, 30).generate(time).to_string(), c256, "SHA256 at {time}");
            assert_eq!(rfc(Algorithm::SHA512, sha512, 8, 30).generate(time).to_string(), c512, "SHA512 at {time}");
        }
    }

    /// RFC 4226 Appendix D: HOTP is TOTP with a one-second step, the counter as the time.
    #[test]
    fn rfc4226_appendix_d() {
        let expected =
            ["755224", "287082", "359152", "969429", "338314", "254676", "287922", "162583", "399871", "520489"];
        let hotp = rfc(Algorithm::SHA1, b"12345678901234567890", 6, 1);
        for (counter, code) in expected.iter().enumerate() {
            assert_eq!(hotp.generate(counter as u64).to_string(), *code, "counter {counter}");
        }
    }

    #[test]
    fn accepts_one_step_of_skew_either_way_and_no_more() {
        let secret = random_bytes::<SECRET_BYTES>();
        let now = 1_800_000_015;
        let step = (now / 30) as u64;
        for (offset, expected) in
            [(-60, None), (-30, Some(step - 1)), (0, Some(step)), (30, Some(step + 1)), (60, None)]
        {
            let code = code_at(&secret, now + offset);
            assert_eq!(matching_step(&secret, &code, now), expected, "offset {offset}");
        }
    }

    #[test]
    fn normalizes_typed_codes() {
        assert_eq!(normalize(" 123 456 ").as_deref(), Some("123456"));
        assert_eq!(normalize("123-456").as_deref(), Some("123456"));
        assert_eq!(normalize("12345"), None);
        assert_eq!(normalize("12345a"), None);
        assert_eq!(normalize("1234567"), None);
    }

    #[test]
    fn enrollment_is_scannable_and_strong() {
        let e = enroll("Acme MFA", "ada@example.com").unwrap();
        let (secret, url) = (e.secret.expose_secret(), e.otpauth_url.expose_secret());
        assert_eq!(e.raw_secret.expose_secret().len(), 20);
        assert_eq!(secret.len(), 32, "160 bits in base32");
        assert!(url.starts_with("otpauth://totp/Acme%20MFA:ada%40example.com?"), "{url}");
        assert!(url.contains(&format!("secret={secret}")));
        assert!(url.contains("issuer=Acme%20MFA"));
        assert!(e.qr_code.expose_secret().starts_with("data:image/png;base64,iVBORw0KGgo"));
        assert_ne!(enroll("Acme", "a@b").unwrap().secret.expose_secret(), secret);
        assert_eq!(decode_secret(secret).as_deref(), Some(e.raw_secret.expose_secret()));
        assert!(!format!("{:?}", e.secret).contains(secret), "the secret does not print");
    }

    /// A name far longer than any address (a token's claim is not bounded) still enrolls:
    /// the label is cut, the QR code is drawn.
    #[test]
    fn an_overlong_account_name_still_enrolls() {
        for (issuer, account) in
            [("Acme".to_string(), format!("{}@example.com", "é".repeat(3000))), ("😀".repeat(100), "😀".repeat(3000))]
        {
            let e = enroll(&issuer, &account).unwrap();
            assert!(e.qr_code.expose_secret().starts_with("data:image/png;base64,"));
        }
        let e = enroll("Acme", &format!("{}@example.com", "a".repeat(180))).unwrap();
        assert!(e.otpauth_url.expose_secret().contains(&format!("{}%40example.com", "a".repeat(180))));
    }

    /// Every pixel of the PNG is the module it draws: the border light, each module
    /// QR_SCALE pixels square.
    #[test]
    fn the_qr_png_draws_every_module() {
        let text = "otpauth://totp/Acme:ada%40example.com?secret=JBSWY3DPEHPK3PXP&issuer=Acme";
        let png = qr_png(text).unwrap();
        let mut reader = png::Decoder::new(std::io::Cursor::new(png)).read_info().unwrap();
        let mut buf = vec![0; reader.output_buffer_size().unwrap()];
        let frame = reader.next_frame(&mut buf).unwrap();
        assert_eq!((frame.color_type, frame.bit_depth), (png::ColorType::Grayscale, png::BitDepth::One));
        let qr = qrcodegen::QrCode::encode_text(text, qrcodegen::QrCodeEcc::Medium).unwrap();
        let side = (qr.size() as usize + 2 * QR_BORDER) * QR_SCALE;
        assert_eq!((frame.width as usize, frame.height as usize), (side, side));
        for y in 0..side {
            for x in 0..side {
                let white = buf[y * frame.line_size + x / 8] & (0x80 >> (x % 8)) != 0;
                let module = |p: usize| (p / QR_SCALE) as i32 - QR_BORDER as i32;
                assert_eq!(white, !qr.get_module(module(x), module(y)), "pixel ({x}, {y})");
            }
        }
    }
}
