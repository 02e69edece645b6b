//! The defences against SMS pumping (toll fraud): who may be texted, and how much. Texts
//! are billed to the deployment, and a pumping ring rotates many numbers of one premium
//! range over many throwaway accounts, so limits per user and per number alone do not
//! hold it. The delivery rule (`delivery::send`) decides every text with these, and
//! takes every counter in the same conditional write that stores the code:
//!
//! 1. **Countries** (`MFA_SMS_COUNTRIES`, the country calling codes texts may go to; no
//!    default: a deployment offering SMS must name them, or its texting functions refuse
//!    to start), narrowed per organization (`smsCountryCodes` on
//!    `POST /mfa/organization/enforce`). A number elsewhere is refused before anything is
//!    written (`SMS_COUNTRY_NOT_ALLOWED`).
//! 2. **Prefixes** of numbers not yet proved (setup texts; a login code to an enrolled
//!    number is spared, so pumping a prefix cannot lock its enrolled users out): the
//!    country code and the next `MFA_SMS_PREFIX_DIGITS` digits (default 3); at most
//!    `MFA_SMS_PREFIX_HOURLY` texts an hour (default 30; `SMS_PREFIX_RATE_LIMITED`), and at most `MFA_SMS_PREFIX_UNVERIFIED` codes sent in an
//!    hour that were never entered (default 10). A prefix that reaches it is blocked for
//!    `MFA_SMS_PREFIX_BLOCK_HOURS` (default 12; `SMS_PREFIX_BLOCKED`), in the spirit of
//!    Twilio's Fraud Guard; a code entered later credits its hour back.
//! 3. **The deployment's budget** (`MFA_SMS_HOURLY_BUDGET`, default 1000 texts an hour):
//!    once spent, texting stops until the hour ends (`SMS_BUDGET_REACHED`, a `503`) and
//!    the alarm on it fires; every other method goes on working.
//! 4. The limits per user and per number (`delivery`), as before.
//!
//! Counters are DynamoDB items per hour with a TTL; their conditions make concurrent sends
//! at a threshold land at most up to it.

use crate::config::Reader;
use crate::refusal::Refusal;

pub const HOUR: i64 = 3600;

/// The deployment's SMS settings (read by the functions that text).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SmsRules {
    /// Country calling codes texts may go to.
    pub countries: Vec<u16>,
    /// Digits after the country code that make a prefix.
    pub prefix_digits: usize,
    /// Texts a prefix may receive in an hour.
    pub prefix_per_hour: u32,
    /// Codes sent to a prefix in an hour and not entered, at most; reaching it blocks the
    /// prefix.
    pub prefix_unverified: u32,
    /// How long a prefix stays blocked, in hours.
    pub block_hours: u32,
    /// Texts the deployment sends in an hour, at most.
    pub hourly_budget: u32,
}

impl Default for SmsRules {
    /// The defaults, with no country (a deployment must name its own).
    fn default() -> Self {
        Self {
            countries: Vec::new(),
            prefix_digits: 3,
            prefix_per_hour: 30,
            prefix_unverified: 10,
            block_hours: 12,
            hourly_budget: 1000,
        }
    }
}

/// Country calling codes as written in a setting or a request: `1`, `+44`, `49`.
pub fn parse_countries(raw: &str) -> Result<Vec<u16>, String> {
    let mut codes = Vec::new();
    for item in raw.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let digits = item.strip_prefix('+').unwrap_or(item);
        match digits.parse::<u16>() {
            Ok(n) if (1..=999).contains(&n) && digits.len() <= 3 && !digits.starts_with('0') => {
                if !codes.contains(&n) {
                    codes.push(n);
                }
            }
            _ => return Err(format!("`{item}` is not a country calling code (1 to 3 digits, such as 1, 44 or 49)")),
        }
    }
    Ok(codes)
}

impl SmsRules {
    /// The settings, when this deployment texts (`MFA_METHODS` names SMS): the country
    /// list is required then.
    pub fn read(r: &mut Reader) -> Self {
        let mut rules = Self::default();
        let raw = r.required_because("MFA_SMS_COUNTRIES", "SMS is offered (MFA_METHODS), so texts need countries");
        match parse_countries(&raw) {
            Ok(codes) if codes.is_empty() && !raw.trim().is_empty() => {
                r.invalid("MFA_SMS_COUNTRIES", "names no country calling code")
            }
            Ok(codes) => rules.countries = codes,
            Err(reason) => r.invalid("MFA_SMS_COUNTRIES", reason),
        }
        let mut number = |name: &'static str, default: u32, range: std::ops::RangeInclusive<u64>| {
            r.whole(name, default as u64, range) as u32
        };
        rules.prefix_digits = number("MFA_SMS_PREFIX_DIGITS", rules.prefix_digits as u32, 1..=8) as usize;
        rules.prefix_per_hour = number("MFA_SMS_PREFIX_HOURLY", rules.prefix_per_hour, 1..=1_000_000);
        rules.prefix_unverified = number("MFA_SMS_PREFIX_UNVERIFIED", rules.prefix_unverified, 1..=1_000_000);
        rules.block_hours = number("MFA_SMS_PREFIX_BLOCK_HOURS", rules.block_hours, 1..=48);
        rules.hourly_budget = number("MFA_SMS_HOURLY_BUDGET", rules.hourly_budget, 1..=10_000_000);
        rules
    }

    /// Whether a text may go to `number` (E.164) for a member of an organization that
    /// narrows the countries to `org` (when it does): its country calling code, or the
    /// refusal naming it. ITU's country calling codes are a prefix code (none begins
    /// another), so the listed code a number begins with is its country's, and the check
    /// needs no parsing; only a refusal asks libphonenumber which country it names.
    pub fn country(&self, number: &str, org: Option<&[u16]>) -> Result<u16, Refusal> {
        let digits = number.strip_prefix('+').unwrap_or(number);
        let listed = self.countries.iter().copied().find(|code| digits.starts_with(&code.to_string()));
        match listed {
            Some(code) if org.is_none_or(|list| list.contains(&code)) => Ok(code),
            Some(code) => Err(Refusal::SmsCountryNotAllowed { code }),
            None => Err(Refusal::SmsCountryNotAllowed { code: country_code(number).unwrap_or(0) }),
        }
    }

    /// The prefix of `number` (E.164) in the country `code`: `+`, the code and the next
    /// digits.
    pub fn prefix(&self, number: &str, code: u16) -> String {
        let cc = code.to_string();
        let national = number.strip_prefix('+').and_then(|n| n.strip_prefix(cc.as_str())).unwrap_or_default();
        let take = national.len().min(self.prefix_digits);
        format!("+{cc}{}", &national[..take])
    }
}

/// The country calling code of a number in E.164, as libphonenumber knows it (its first
/// use in a process loads libphonenumber's metadata: tens of milliseconds).
pub fn country_code(number: &str) -> Option<u16> {
    let parsed = phonenumber::parse(None, number).ok()?;
    Some(parsed.code().value())
}

/// The hour `now` falls in (hours since the epoch), the key of every hourly counter.
pub fn hour(now: i64) -> i64 {
    now.div_euclid(HOUR)
}

/// Seconds until the hour after `now` begins.
pub fn until_next_hour(now: i64) -> u64 {
    (HOUR - now.rem_euclid(HOUR)) as u64
}

/// Seconds until a block that a prefix's counter of `hour` set lifts, `block_hours` after
/// that hour began (so a block lasts between `block_hours - 1` and `block_hours` hours), at
/// the earliest 1.
pub fn until_unblocked(hour: i64, block_hours: u32, now: i64) -> u64 {
    ((hour + block_hours as i64) * HOUR - now).max(1) as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules() -> SmsRules {
        SmsRules { countries: vec![1, 44], ..SmsRules::default() }
    }

    #[test]
    fn countries_parse_and_are_checked() {
        assert_eq!(parse_countries("1, +44,49,1").unwrap(), vec![1, 44, 49]);
        assert!(parse_countries("1,abc").is_err());
        assert!(parse_countries("0044").is_err());
        assert!(parse_countries("1000").is_err());
        let r = rules();
        assert_eq!(r.country("+14155550100", None).unwrap(), 1);
        assert_eq!(r.country("+447911123456", None).unwrap(), 44);
        assert_eq!(r.country("+4915112345678", None), Err(Refusal::SmsCountryNotAllowed { code: 49 }));
        // An organization narrows, never widens.
        assert_eq!(r.country("+447911123456", Some(&[1])), Err(Refusal::SmsCountryNotAllowed { code: 44 }));
        assert_eq!(r.country("+4915112345678", Some(&[49])), Err(Refusal::SmsCountryNotAllowed { code: 49 }));
        assert_eq!(r.country("+14155550100", Some(&[1, 49])).unwrap(), 1);
        // A code listed is found without parsing; one not listed is named by libphonenumber.
        assert_eq!(r.country("+33612345678", None), Err(Refusal::SmsCountryNotAllowed { code: 33 }));
        assert_eq!(r.country("+999", None), Err(Refusal::SmsCountryNotAllowed { code: 0 }));
    }

    #[test]
    fn prefixes_are_the_country_code_and_the_next_digits() {
        let r = rules();
        assert_eq!(r.prefix("+14155550100", 1), "+1415");
        assert_eq!(r.prefix("+447911123456", 44), "+44791");
        assert_eq!(r.prefix("+35312345678", 353), "+353123");
        let short = SmsRules { prefix_digits: 1, ..rules() };
        assert_eq!(short.prefix("+14155550100", 1), "+14");
    }

    #[test]
    fn blocks_lift_after_their_hours() {
        let now = 10 * HOUR + 100;
        assert_eq!(until_next_hour(now), (HOUR - 100) as u64);
        // A block set in this hour lasts until 12 hours after it began.
        assert_eq!(until_unblocked(hour(now), 12, now), (12 * HOUR - 100) as u64);
        assert_eq!(until_unblocked(hour(now) - 12, 12, now), 1);
    }
}
