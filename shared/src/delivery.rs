//! The one rule for anything sent to a user: a magic link, an email code or an SMS code.
//!
//! - The value is random (256 bits for a link, 6 digits for a code) and stored only in a
//!   form that does not give it back: a link token as its SHA-256, a code as its HMAC
//!   under a keyring key (a 6-digit code's plain hash could be reversed by trying all),
//!   bound to its user, factor and purpose (setup or login), living [`LIFETIME`].
//! - The send slot (at most one message a minute and five an hour per user, whatever the
//!   channel; for a phone number also five an hour, whichever users it belongs to) and the
//!   stored value go in one conditional write *before* the message leaves, so concurrent
//!   sends never exceed the limits. A value whose message could not be sent is removed
//!   (it was never usable anyway); its slot stays used.
//! - Resending never resets the failure count, and every check of a presented value
//!   counts toward the one lockout (`lockout.rs`).
//! - A code is accepted once: it is consumed by a conditional delete in the transaction
//!   that accepts it, and a newer code of the same method and purpose replaces it.

use secrecy::ExposeSecret;

use crate::App;
use crate::crypto::{Mac, SecretString, random_bytes};
use crate::mail::Mail;
use crate::model::{CodeItem, MfaType, Purpose, UserMfaRecord};
use crate::policy::Change;
use crate::refusal::Refusal;
use crate::store::Write;
use crate::update;
use crate::update::Failure;

/// How long a link or code works.
pub const LIFETIME: i64 = 10 * 60;
/// At most one message a minute…
pub const MIN_INTERVAL: i64 = 60;
/// …and five an hour, per user.
pub const MAX_PER_HOUR: usize = 5;
/// Texts one phone number receives in an hour at most, whichever users it belongs to.
pub const MAX_PER_NUMBER_PER_HOUR: u32 = 5;
const HOUR: i64 = 3600;

/// Seconds to wait before another message may be sent, given the recent send times.
pub fn send_wait(sent: &[i64], now: i64) -> Option<i64> {
    let recent: Vec<i64> = sent.iter().copied().filter(|t| now - t < HOUR).collect();
    let mut wait = 0;
    if let Some(last) = recent.iter().max() {
        wait = wait.max(last + MIN_INTERVAL - now);
    }
    if recent.len() >= MAX_PER_HOUR {
        let mut sorted = recent.clone();
        sorted.sort_unstable();
        wait = wait.max(sorted[recent.len() - MAX_PER_HOUR] + HOUR - now);
    }
    (wait > 0).then_some(wait)
}

/// Records a send, keeping only the last hour.
pub fn record_send(sent: &mut Vec<i64>, now: i64) {
    sent.retain(|t| now - t < HOUR);
    sent.push(now);
}

/// A new 6-digit code, uniform over 000000–999999.
pub fn new_code() -> SecretString {
    loop {
        let n = u32::from_be_bytes(random_bytes::<4>());
        // Below the largest multiple of a million, so every code is as likely.
        if n < 4_294_000_000 {
            return format!("{:06}", n % 1_000_000).into();
        }
    }
}

/// What a code's MAC is bound to.
fn code_context(user: &str, factor: &str, method: MfaType, purpose: Purpose) -> String {
    format!("{user}/{factor}/{}/{}", method.as_str(), purpose.as_str())
}

/// The stored side of a new `code` for `factor`, to be written with the send slot.
pub fn code_item(
    app: &App,
    user: &str,
    factor: &str,
    method: MfaType,
    purpose: Purpose,
    code: &SecretString,
    now: i64,
) -> Result<CodeItem, Refusal> {
    let mac = app.keyring()?.mac(code.expose_secret().as_bytes(), &code_context(user, factor, method, purpose));
    Ok(CodeItem {
        user_id: user.to_string(),
        factor_id: factor.to_string(),
        kid: mac.kid,
        tag: mac.tag,
        created_at: now,
        expires_at: now + LIFETIME,
    })
}

/// A code as typed: six digits, spaces and dashes ignored.
pub fn normalize_code(code: &str) -> Option<String> {
    let digits: String = code.chars().filter(|c| !c.is_whitespace() && *c != '-').collect();
    (digits.len() == 6 && digits.bytes().all(|b| b.is_ascii_digit())).then_some(digits)
}

/// A code presented for a method and purpose, and the factor the caller names, if any.
pub struct PresentedCode<'a> {
    pub method: MfaType,
    pub purpose: Purpose,
    pub code: &'a SecretString,
    pub factor_id: Option<&'a str>,
}

/// The check of a presented code against the code item read with the record: it must be
/// live, for the factor the caller names when they name one, and match. Returns the factor
/// it was sent to and the write that spends it. A wrong, expired, spent or foreign code
/// counts as a failure.
pub fn check_code(
    app: &App,
    record: &UserMfaRecord,
    item: Option<&CodeItem>,
    presented: PresentedCode,
    now: i64,
) -> Result<(String, Write), Failure> {
    let PresentedCode { method, purpose, code: presented, factor_id } = presented;
    let wrong = || Failure::Counted(Refusal::InvalidCode { backup: false });
    let item = item.filter(|i| now < i.expires_at && i.user_id == record.user_id).ok_or_else(wrong)?;
    if factor_id.is_some_and(|id| id != item.factor_id) {
        return Err(wrong());
    }
    let code = normalize_code(presented.expose_secret()).ok_or_else(wrong)?;
    let context = code_context(&record.user_id, &item.factor_id, method, purpose);
    let mac = Mac { kid: item.kid.clone(), tag: item.tag.clone() };
    if !app.keyring()?.verify_mac(&mac, code.as_bytes(), &context) {
        return Err(wrong());
    }
    let spend = app.store.consume_code(&record.user_id, method, purpose, &item.tag, now)?;
    Ok((item.factor_id.clone(), spend))
}

/// A message on its way out.
pub enum Message {
    Mail(Mail),
    /// A text to a phone number in E.164.
    Text {
        to: String,
        body: String,
    },
}

/// How to take back a value whose message did not leave.
pub enum Undo {
    Token(String),
    Code { method: MfaType, purpose: Purpose },
}

/// What a send step prepared on the record: its answer, the message, the writes that
/// store the value, and how to take them back.
pub struct Prepared<T> {
    pub answer: T,
    pub message: Message,
    pub writes: Vec<Write>,
    pub undo: Undo,
}

/// Sends what `step` prepares on the user's record as `change` (read with the policy that
/// governs the user): the user's send slot and (for a text) the number's,
/// and the writes that store the value, in one conditional write; then the message. When
/// the message cannot be sent, the value is removed and the answer is a `503`.
pub async fn send<T>(
    app: &App,
    user_id: &str,
    change: &Change<'_>,
    mut step: impl FnMut(&mut UserMfaRecord) -> Result<Prepared<T>, Refusal>,
) -> Result<T, Refusal> {
    let now = change.now;
    let hour_left = HOUR - now.rem_euclid(HOUR);
    let (answer, message, undo) = update::user_with(
        app,
        user_id,
        change,
        |record, _| {
            if let Some(wait) = send_wait(&record.sends, now) {
                return Err(Refusal::RateLimited { seconds: wait as u64 });
            }
            let Prepared { answer, message, mut writes, undo } = step(record)?;
            record_send(&mut record.sends, now);
            if let Message::Text { to, .. } = &message {
                let tag = app.keyring()?.mac(to.as_bytes(), "sms-limit").tag;
                writes.push(app.store.take_number_slot(&tag, now, MIN_INTERVAL, MAX_PER_NUMBER_PER_HOUR)?);
            }
            Ok(((answer, message, undo), writes))
        },
        // The only condition a send's writes can fail is the number's slot.
        || Refusal::RateLimited { seconds: hour_left as u64 },
    )
    .await?;
    let sent = match message {
        Message::Mail(mail) => app.mailer()?.send(mail).await.map_err(Refusal::from),
        Message::Text { to, body } => app.texter()?.send(&to, &body).await,
    };
    if let Err(e) = sent {
        let removed = match &undo {
            Undo::Token(hash) => app.store.delete_token(hash).await,
            Undo::Code { method, purpose } => app.store.delete_code(user_id, *method, *purpose).await,
        };
        if let Err(cleanup) = removed {
            tracing::warn!(error = %cleanup, "an undelivered one-time value could not be removed; it expires unused");
        }
        return Err(e);
    }
    Ok(answer)
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;

    #[test]
    fn one_a_minute_and_five_an_hour() {
        let mut sent = Vec::new();
        assert_eq!(send_wait(&sent, 1000), None);
        record_send(&mut sent, 1000);
        assert_eq!(send_wait(&sent, 1030), Some(30));
        for t in [1060, 1120, 1180, 1240] {
            assert_eq!(send_wait(&sent, t), None, "at {t}");
            record_send(&mut sent, t);
        }
        // Five in the last hour: the next slot opens an hour after the first.
        assert_eq!(send_wait(&sent, 1300), Some(1000 + 3600 - 1300));
        assert_eq!(send_wait(&sent, 4600), None);
        record_send(&mut sent, 4600);
        assert!(sent.len() <= MAX_PER_HOUR);
    }

    #[test]
    fn codes_are_six_digits_and_typed_codes_normalize() {
        for _ in 0..200 {
            let code = new_code();
            assert!(normalize_code(code.expose_secret()).is_some(), "{:?}", code.expose_secret().len());
        }
        assert_eq!(normalize_code(" 123-456 ").as_deref(), Some("123456"));
        assert_eq!(normalize_code("12345"), None);
        assert_eq!(normalize_code("12345x"), None);
    }
}
