//! An MFA method as the wire names it (`mfaType`), with the name and description the
//! methods list shows.

use serde::{Deserialize, Serialize};

/// An MFA method, named as on the wire (`mfaType`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "contract", derive(schemars::JsonSchema))]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum MfaType {
    GoogleAuth,
    MagicLink,
    Passkey,
    /// A 6-digit code mailed to a proven address (offered only where a deployment turns it on).
    EmailOtp,
    /// A 6-digit code texted to a proven phone (offered only where a deployment turns it on).
    Sms,
}

impl MfaType {
    /// Every method, in the order the API lists them.
    pub const ALL: [MfaType; 5] =
        [MfaType::GoogleAuth, MfaType::MagicLink, MfaType::Passkey, MfaType::EmailOtp, MfaType::Sms];

    /// What a deployment offers unless `MFA_METHODS` says otherwise: Flashback's three.
    pub const DEFAULT_OFFERED: [MfaType; 3] = [MfaType::GoogleAuth, MfaType::MagicLink, MfaType::Passkey];

    pub fn as_str(self) -> &'static str {
        match self {
            MfaType::GoogleAuth => "GOOGLE_AUTH",
            MfaType::MagicLink => "MAGIC_LINK",
            MfaType::Passkey => "PASSKEY",
            MfaType::EmailOtp => "EMAIL_OTP",
            MfaType::Sms => "SMS",
        }
    }

    /// The method a wire name names.
    pub fn parse(name: &str) -> Option<MfaType> {
        MfaType::ALL.into_iter().find(|m| m.as_str() == name)
    }

    pub fn name(self) -> &'static str {
        match self {
            MfaType::GoogleAuth => "Authenticator app",
            MfaType::MagicLink => "Email magic link",
            MfaType::Passkey => "Passkey",
            MfaType::EmailOtp => "Email code",
            MfaType::Sms => "Text message code",
        }
    }

    pub fn description(self) -> &'static str {
        match self {
            MfaType::GoogleAuth => {
                "Six-digit codes from an authenticator app such as Google Authenticator, 1Password or Authy."
            }
            MfaType::MagicLink => "A single-use sign-in link sent to your email address.",
            MfaType::Passkey => "A passkey or security key, unlocked with your device's screen lock.",
            MfaType::EmailOtp => "A six-digit code sent to your email address.",
            MfaType::Sms => "A six-digit code sent to your phone by text message.",
        }
    }
}
