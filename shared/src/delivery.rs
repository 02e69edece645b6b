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
//! - A text is also decided by the SMS defences (`sms`): the country list (the
//!   deployment's, narrowed by the organization's), the number prefix's hourly velocity
//!   and its block after too many codes went unused, and the deployment's hourly budget.
//!   Their counters are taken in the same conditional write, so concurrent sends at a
//!   threshold never pass it. A code entered credits its prefix's hour back.
//! - Resending never resets the failure count, and every check of a presented value
//!   counts toward the one lockout (`lockout.rs`).
//! - A code is accepted once: it is consumed by a conditional delete in the transaction
//!   that accepts it, and a newer code of the same method and purpose replaces it.

use secrecy::ExposeSecret;

use crate::App;
use crate::crypto::{Mac, SecretString, random_bytes};
use crate::mail::Mail;
use crate::metrics::{self, Channel};
use crate::model::{CodeItem, MfaType, Purpose, UserMfaRecord};
use crate::policy::Change;
use crate::refusal::Refusal;
use crate::sms;
use crate::store::{Cancelled, Write};
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
const HOUR: i64 = sms::HOUR;

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
        prefix: None,
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
/// it was sent to and the writes that spend it (and, for a text, credit its prefix). A wrong, expired, spent or foreign code
/// counts as a failure.
pub fn check_code(
    app: &App,
    record: &UserMfaRecord,
    item: Option<&CodeItem>,
    presented: PresentedCode,
    now: i64,
) -> Result<(String, Vec<Write>), Failure> {
    let PresentedCode { method, purpose, code: presented, factor_id } = presented;
    let wrong = || Failure::Counted(Refusal::InvalidCode { backup: false });
    let item: &CodeItem = item.filter(|i| now < i.expires_at && i.user_id == record.user_id).ok_or_else(wrong)?;
    if factor_id.is_some_and(|id| id != item.factor_id) {
        return Err(wrong());
    }
    let code = normalize_code(presented.expose_secret()).ok_or_else(wrong)?;
    let context = code_context(&record.user_id, &item.factor_id, method, purpose);
    let mac = Mac { kid: item.kid.clone(), tag: item.tag.clone() };
    if !app.keyring()?.verify_mac(&mac, code.as_bytes(), &context) {
        return Err(wrong());
    }
    let mut writes = vec![app.store.consume_code(&record.user_id, method, purpose, &item.tag, now)?];
    if let Some(prefix) = &item.prefix {
        // The prefix's counter outlives any block; a counter already gone is made to expire.
        let hour = sms::hour(item.created_at);
        writes.push(app.store.credit_prefix(prefix, hour, (hour + 50) * sms::HOUR)?);
    }
    Ok((item.factor_id.clone(), writes))
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

/// The stored side of the value a message carries.
pub enum Stored {
    /// A link token: the write that stores it, and its hash (to take it back).
    Token { write: Box<Write>, hash: String },
    /// A code: its item, stored under its method and purpose.
    Code { item: CodeItem, method: MfaType, purpose: Purpose },
}

/// What a send step prepared on the record: its answer, the message, and the value's
/// stored side.
pub struct Prepared<T> {
    pub answer: T,
    pub message: Message,
    pub stored: Stored,
}

/// How to take back a value whose message did not leave.
enum Undo {
    Token(String),
    Code { method: MfaType, purpose: Purpose },
}

/// Forgets the refusals this process learnt from the store (`text_limits`), so the next
/// text asks the store again.
pub fn forget_refusals() {
    learnt::forget();
}

/// A limit's counter among a send's writes, to tell which one refused it.
#[derive(Clone, Debug)]
enum Limit {
    Number,
    /// The prefix's counter of this hour.
    Prefix(String),
    /// The prefix's counter of an earlier hour (it blocked the prefix).
    Blocked(i64, String),
    Budget,
}

/// The refusal of the limit at `cancelled`'s place among `limits`.
fn refusal(limits: &[(usize, Limit)], cancelled: &Cancelled, rules: Option<&sms::SmsRules>, now: i64) -> Refusal {
    let next_hour = sms::until_next_hour(now);
    let Some((_, limit)) = limits.iter().find(|(at, _)| *at == cancelled.at) else {
        tracing::error!(at = cancelled.at, "a send's write refused where no limit was taken");
        return Refusal::ConcurrentUpdate;
    };
    let block_hours = rules.map_or(1, |r| r.block_hours);
    let (refused, prefix) = match limit {
        Limit::Number => (Refusal::RateLimited { seconds: next_hour }, None),
        Limit::Prefix(prefix) => match (cancelled.number("sent"), rules) {
            (Some(sent), Some(r)) if sent >= r.prefix_per_hour as i64 => {
                (Refusal::SmsPrefixRateLimited { seconds: next_hour }, Some(prefix))
            }
            _ => (
                Refusal::SmsPrefixBlocked { seconds: sms::until_unblocked(sms::hour(now), block_hours, now) },
                Some(prefix),
            ),
        },
        Limit::Blocked(hour, prefix) => {
            (Refusal::SmsPrefixBlocked { seconds: sms::until_unblocked(*hour, block_hours, now) }, Some(prefix))
        }
        Limit::Budget => (Refusal::SmsBudgetReached { seconds: next_hour }, None),
    };
    learnt::remember(&refused, prefix.map(String::as_str), now);
    refused
}

/// Sends what `step` prepares on the user's record as `change` (read with the policy that
/// governs the user): the user's send slot, for a text the limits of the number, its
/// prefix and the deployment (after its country is checked), and the value, in one
/// conditional write; then the message. When the message cannot be sent, the value is
/// removed and the answer is a `503`.
pub async fn send<T>(
    app: &App,
    user_id: &str,
    change: &Change<'_>,
    mut step: impl FnMut(&mut UserMfaRecord) -> Result<Prepared<T>, Refusal>,
) -> Result<T, Refusal> {
    let now = change.now;
    // Where the step's limits stand among its writes (the last attempt's).
    let limits = std::sync::Mutex::new(Vec::<(usize, Limit)>::new());
    let channel = std::sync::Mutex::new(None::<Channel>);
    let prepared = update::user_with_limits(
        app,
        user_id,
        change,
        |record, org| {
            // A refused message leaves the record as it was read: nothing is written.
            let read = record.clone();
            let prepared = prepare(app, record, &read, &mut step, org, now, &channel);
            match prepared {
                Ok((out, writes, taken)) => {
                    *limits.lock().unwrap_or_else(|e| e.into_inner()) = taken;
                    Ok((out, writes))
                }
                Err(e) => {
                    *record = read;
                    Err(e)
                }
            }
        },
        |cancelled| refusal(&limits.lock().unwrap_or_else(|e| e.into_inner()), cancelled, app.sms().ok(), now),
    )
    .await;
    let channel = *channel.lock().unwrap_or_else(|e| e.into_inner());
    let (answer, message, undo) = prepared.inspect_err(|e| {
        if let Some(channel) = channel {
            metrics::message_refused(channel, e);
        }
    })?;
    let (channel, sent) = match message {
        Message::Mail(mail) => (Channel::Mail, app.mailer()?.send(mail).await.map_err(Refusal::from)),
        Message::Text { to, body } => (Channel::Text, app.texter()?.send(&to, &body).await),
    };
    match &sent {
        Ok(()) => metrics::message_sent(channel),
        Err(e) => metrics::message_refused(channel, e),
    }
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

/// What a send writes, prepared on the record: the step's message and value, the user's
/// send slot, and for a text the limits of the SMS defences.
#[allow(clippy::type_complexity)]
fn prepare<T>(
    app: &App,
    record: &mut UserMfaRecord,
    read: &UserMfaRecord,
    step: &mut impl FnMut(&mut UserMfaRecord) -> Result<Prepared<T>, Refusal>,
    org: Option<&crate::model::OrgPolicy>,
    now: i64,
    channel: &std::sync::Mutex<Option<Channel>>,
) -> Result<((T, Message, Undo), Vec<Write>, Vec<(usize, Limit)>), Refusal> {
    let Prepared { answer, message, stored } = step(record)?;
    *channel.lock().unwrap_or_else(|e| e.into_inner()) = Some(match message {
        Message::Mail(_) => Channel::Mail,
        Message::Text { .. } => Channel::Text,
    });
    if let Some(wait) = send_wait(&read.sends, now) {
        return Err(Refusal::RateLimited { seconds: wait as u64 });
    }
    record_send(&mut record.sends, now);
    // A text is decided by the SMS defences whatever carries its value; only a login code
    // to a number the user already proved is spared the prefix's rules.
    let text = match (&message, &stored) {
        (Message::Text { to, .. }, Stored::Code { purpose: Purpose::Login, .. }) => Some((to, true)),
        (Message::Text { to, .. }, _) => Some((to, false)),
        (Message::Mail(_), _) => None,
    };
    let limited = match text {
        Some((to, proven)) => Some(text_limits(app, to, org, now, proven)?),
        None => None,
    };
    let mut writes = Vec::new();
    let undo = match stored {
        Stored::Token { write, hash } => {
            writes.push(*write);
            Undo::Token(hash)
        }
        Stored::Code { mut item, method, purpose } => {
            // The prefix a code is credited to when entered: the one its text counted on.
            item.prefix = limited.as_ref().and_then(|l| l.counted.clone());
            writes.push(app.store.put_code(method, purpose, &item)?);
            Undo::Code { method, purpose }
        }
    };
    let mut taken = Vec::new();
    for (limit, write) in limited.map(|l| l.writes).unwrap_or_default() {
        taken.push((writes.len(), limit));
        writes.push(write);
    }
    Ok(((answer, message, undo), writes, taken))
}

/// The SMS defences' writes for one text.
struct TextLimits {
    /// The prefix whose unentered codes this text counts toward (none for a login code to
    /// a proven number).
    counted: Option<String>,
    writes: Vec<(Limit, Write)>,
}

/// A text to `to` as the SMS defences decide it: its country checked (the deployment's
/// list, narrowed by the organization's), and the writes that take the number's and the
/// deployment's slots of this hour; a text to a number not yet proven (a setup) also takes
/// its prefix's slot, with the checks that no earlier hour of the block's length blocked
/// the prefix. A login code to an enrolled number is spared the prefix's rules: a pumping
/// ring needs numbers nobody proved, and blocking a prefix must not lock its enrolled users
/// out. What this instance learnt from earlier refusals (a spent budget, a blocked prefix)
/// refuses before any write.
fn text_limits(
    app: &App,
    to: &str,
    org: Option<&crate::model::OrgPolicy>,
    now: i64,
    proven: bool,
) -> Result<TextLimits, Refusal> {
    let rules = app.sms()?;
    let code = rules.country(to, org.and_then(|o| o.sms_country_codes.as_deref()))?;
    let prefix = rules.prefix(to, code);
    let hour = sms::hour(now);
    learnt::check(&prefix, proven, now)?;
    let number = app.keyring()?.mac(to.as_bytes(), "sms-limit").tag;
    let mut writes =
        vec![(Limit::Number, app.store.take_number_slot(&number, now, MIN_INTERVAL, MAX_PER_NUMBER_PER_HOUR)?)];
    if !proven {
        writes.push((
            Limit::Prefix(prefix.clone()),
            app.store.take_prefix_slot(
                &prefix,
                hour,
                rules.prefix_per_hour,
                rules.prefix_unverified,
                (hour + rules.block_hours as i64 + 1) * sms::HOUR,
            )?,
        ));
        for earlier in 1..rules.block_hours as i64 {
            writes.push((
                Limit::Blocked(hour - earlier, prefix.clone()),
                app.store.prefix_not_blocked(&prefix, hour - earlier, rules.prefix_unverified)?,
            ));
        }
    }
    writes.push((Limit::Budget, app.store.take_budget_slot(hour, rules.hourly_budget)?));
    Ok(TextLimits { counted: (!proven).then_some(prefix), writes })
}

/// What this instance learnt from the store's refusals, so that an attacker repeating a
/// refused send costs no write (and holds no transaction on the deployment's counter):
/// the hour whose budget is spent, and prefixes refused until when. A block that codes
/// entered later lift early is still honoured here until its end.
mod learnt {
    use std::collections::HashMap;
    use std::sync::Mutex;

    use crate::refusal::Refusal;
    use crate::sms;

    #[derive(Default)]
    struct Learnt {
        budget_spent: Option<i64>,
        prefixes: HashMap<String, (i64, bool)>,
    }

    static LEARNT: Mutex<Option<Learnt>> = Mutex::new(None);

    /// Refuses what an earlier refusal of this hour (or block) still refuses.
    pub fn check(prefix: &str, proven: bool, now: i64) -> Result<(), Refusal> {
        let guard = LEARNT.lock().unwrap_or_else(|e| e.into_inner());
        let Some(learnt) = guard.as_ref() else { return Ok(()) };
        if learnt.budget_spent == Some(sms::hour(now)) {
            return Err(Refusal::SmsBudgetReached { seconds: sms::until_next_hour(now) });
        }
        match learnt.prefixes.get(prefix) {
            Some(&(until, blocked)) if !proven && until > now => {
                let seconds = (until - now) as u64;
                Err(if blocked {
                    Refusal::SmsPrefixBlocked { seconds }
                } else {
                    Refusal::SmsPrefixRateLimited { seconds }
                })
            }
            _ => Ok(()),
        }
    }

    /// Forgets what was learnt (a test that asks the store itself).
    pub fn forget() {
        *LEARNT.lock().unwrap_or_else(|e| e.into_inner()) = None;
    }

    /// Remembers a refusal the store gave.
    pub fn remember(refusal: &Refusal, prefix: Option<&str>, now: i64) {
        let mut guard = LEARNT.lock().unwrap_or_else(|e| e.into_inner());
        let learnt = guard.get_or_insert_with(Learnt::default);
        match (refusal, prefix) {
            (Refusal::SmsBudgetReached { .. }, _) => learnt.budget_spent = Some(sms::hour(now)),
            (Refusal::SmsPrefixBlocked { seconds } | Refusal::SmsPrefixRateLimited { seconds }, Some(prefix)) => {
                // Bounded: forget what has lifted, and everything if the attacker's
                // prefixes still fill it.
                if learnt.prefixes.len() >= 10_000 {
                    learnt.prefixes.retain(|_, (until, _)| *until > now);
                    if learnt.prefixes.len() >= 10_000 {
                        learnt.prefixes.clear();
                    }
                }
                let blocked = matches!(refusal, Refusal::SmsPrefixBlocked { .. });
                learnt.prefixes.insert(prefix.to_string(), (now + *seconds as i64, blocked));
            }
            _ => {}
        }
    }
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
