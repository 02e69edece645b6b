//! `POST /mfa/email-code/send` and `POST /mfa/sms/send`: a login code by mail or text.

use super::FactorChoice;
use crate::App;
use crate::auth::Principal;
use crate::edge::{Answer, Call, OrDefault};
use crate::envelope;
use crate::methods::codes;
use crate::model::MfaType;

/// `POST /mfa/email-code/send` `{factorId?}`: mails a login code to the address named, or
/// the one used (or added) most recently; sending never resets the failure count.
pub async fn send_email_code(
    call: Call<'_>,
    principal: Principal,
    OrDefault(choice): OrDefault<FactorChoice>,
) -> Answer {
    send(call.app, &principal, choice, MfaType::EmailOtp, "A sign-in code was sent by email").await
}

/// `POST /mfa/sms/send` `{factorId?}`: texts a login code to the phone named, or the one
/// used (or added) most recently; sending never resets the failure count.
pub async fn send_sms_code(call: Call<'_>, principal: Principal, OrDefault(choice): OrDefault<FactorChoice>) -> Answer {
    send(call.app, &principal, choice, MfaType::Sms, "A sign-in code was sent by text message").await
}

async fn send(app: &App, principal: &Principal, choice: FactorChoice, method: MfaType, done: &str) -> Answer {
    codes::send_login(app, principal, method, choice.factor_id.as_deref()).await?;
    Ok(envelope::message(done))
}
