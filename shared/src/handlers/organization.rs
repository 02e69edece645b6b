//! `POST /mfa/organization/enforce`: requiring MFA of every member of an organization.

use serde::Deserialize;

use crate::auth::Principal;
use crate::edge::{Answer, Call, Json};
use crate::envelope;
use crate::model::{MfaType, OrgPolicy};
use crate::policy::Action;
use crate::refusal::Refusal;
use crate::update;

#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "contract", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct EnforceInput {
    enforced: bool,
    /// The methods members may set up, of those the deployment offers; absent keeps them.
    allowed_methods: Option<Vec<MfaType>>,
    /// Only phishing-resistant methods (passkeys): setups, completions and switching on of
    /// other methods are refused, and so are logins with them once the grace period is
    /// over; absent keeps it.
    phishing_resistant_only: Option<bool>,
    /// The country calling codes members' texts may go to (such as `["1", "44"]`), of
    /// those the deployment allows; an empty list sets no narrowing; absent keeps it.
    sms_country_codes: Option<Vec<String>>,
    /// How long members' devices may be remembered, in days (0: never); absent keeps it.
    remember_device_days: Option<u32>,
    /// With `enforced: true`: days from now during which members without MFA may still
    /// sign in without it; absent keeps a deadline already set (none for a new
    /// enforcement).
    grace_period_days: Option<u32>,
}

/// `OWNER` and `ADMINISTRATOR` only; lifting enforcement also needs the administrator's
/// own fresh second factor (the policy's table).
pub async fn enforce(Call { app, .. }: Call<'_>, principal: Principal, Json(input): Json<EnforceInput>) -> Answer {
    let action = if input.enforced { Action::Enforce } else { Action::LiftEnforcement };
    if let Some(allowed) = &input.allowed_methods {
        if allowed.is_empty() {
            return Err(Refusal::InvalidField("Field `allowedMethods` must name at least one method.".into()));
        }
        for method in allowed {
            app.offers(*method)?;
        }
    }
    if input.phishing_resistant_only == Some(true) {
        app.offers(MfaType::Passkey)?;
        if input.allowed_methods.as_ref().is_some_and(|allowed| !allowed.contains(&MfaType::Passkey)) {
            return Err(Refusal::InvalidField(
                "Field `phishingResistantOnly` keeps only passkeys, and `allowedMethods` leaves them out; add PASSKEY to it."
                    .into(),
            ));
        }
    }
    let sms_countries = match &input.sms_country_codes {
        None => None,
        Some(list) if list.iter().all(|c| c.trim().is_empty()) => Some(None),
        Some(list) => {
            let codes = crate::sms::parse_countries(&list.join(","))
                .map_err(|reason| Refusal::InvalidField(format!("Field `smsCountryCodes`: {reason}.").into()))?;
            Some(Some(codes))
        }
    };
    if input.remember_device_days.is_some_and(|d| d > 365) {
        return Err(Refusal::InvalidField("Field `rememberDeviceDays` must be from 0 to 365.".into()));
    }
    if input.grace_period_days.is_some_and(|d| d > 365) {
        return Err(Refusal::InvalidField("Field `gracePeriodDays` must be from 0 to 365.".into()));
    }
    if input.grace_period_days.is_some() && !input.enforced {
        return Err(Refusal::InvalidField("Field `gracePeriodDays` goes with `enforced: true`.".into()));
    }
    let now = app.clock.now();
    let narrows = input.allowed_methods.is_some()
        || input.phishing_resistant_only.is_some()
        || input.sms_country_codes.is_some()
        || input.remember_device_days.is_some()
        || input.grace_period_days.is_some();
    let actions: &[Action] = if narrows { &[action, Action::ChooseAllowedMethods] } else { &[action] };
    update::organization(app, &principal, actions, |current| {
        let was_enforced = current.enforced;
        current.enrollment_deadline = match (input.enforced, input.grace_period_days) {
            (false, _) => None,
            (true, Some(days)) => Some(now + days as i64 * 86_400).filter(|_| days > 0),
            (true, None) if was_enforced => current.enrollment_deadline,
            (true, None) => None,
        };
        current.enforced = input.enforced;
        if let Some(allowed) = &input.allowed_methods {
            current.allowed_methods = Some(allowed.clone());
        }
        if let Some(only) = input.phishing_resistant_only {
            current.phishing_resistant_only = only;
        }
        if let Some(codes) = &sms_countries {
            current.sms_country_codes = codes.clone();
        }
        if let Some(days) = input.remember_device_days.filter(|d| current.remember_device_days != Some(*d)) {
            current.remember_device_days = Some(days);
            current.devices_valid_from = Some(now);
        }
        describe(current)
    })
    .await?;
    Ok(envelope::message(if input.enforced {
        "MFA enforcement enabled for organization"
    } else {
        "MFA enforcement disabled for organization"
    }))
}

/// The policy in a few words (the audit event's `detail`).
fn describe(p: &OrgPolicy) -> String {
    let mut parts = vec![format!("enforced={}", p.enforced)];
    if let Some(allowed) = &p.allowed_methods {
        let names: Vec<&str> = allowed.iter().map(|m| m.as_str()).collect();
        parts.push(format!("allowedMethods={}", names.join(",")));
    }
    if p.phishing_resistant_only {
        parts.push("phishingResistantOnly=true".to_string());
    }
    if let Some(codes) = &p.sms_country_codes {
        let codes: Vec<String> = codes.iter().map(|c| c.to_string()).collect();
        parts.push(format!("smsCountryCodes={}", codes.join(",")));
    }
    if let Some(days) = p.remember_device_days {
        parts.push(format!("rememberDeviceDays={days}"));
    }
    if let Some(deadline) = p.enrollment_deadline {
        parts.push(format!("enrollmentDeadline={deadline}"));
    }
    parts.join(" ")
}
