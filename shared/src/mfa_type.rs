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

/// What NIST SP 800-63B rev 4 makes of a method, as `GET /mfa/methods` says it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Assurance {
    /// Resists phishing: the authenticator proves which site it signs for (passkeys).
    PhishingResistant,
    /// An authenticator that does not resist phishing (a code from an app).
    Authenticator,
    /// A restricted authenticator: a code over the public telephone network (SMS).
    Restricted,
    /// Not an authenticator: rev 4 does not accept email as an out-of-band channel.
    NotAnAuthenticator,
}

impl MfaType {
    /// Where the method stands under NIST SP 800-63B rev 4.
    pub fn assurance(self) -> Assurance {
        match self {
            MfaType::Passkey => Assurance::PhishingResistant,
            MfaType::GoogleAuth => Assurance::Authenticator,
            MfaType::Sms => Assurance::Restricted,
            MfaType::MagicLink | MfaType::EmailOtp => Assurance::NotAnAuthenticator,
        }
    }

    /// Whether the method resists phishing (what `phishingResistantOnly` keeps).
    pub fn is_phishing_resistant(self) -> bool {
        self.assurance() == Assurance::PhishingResistant
    }
}

#[cfg(test)]
mod assurance_tests {
    use super::*;

    #[test]
    fn only_passkeys_resist_phishing_sms_is_restricted_and_email_is_no_authenticator() {
        let of = |m: MfaType| m.assurance();
        assert_eq!(of(MfaType::Passkey), Assurance::PhishingResistant);
        assert_eq!(of(MfaType::GoogleAuth), Assurance::Authenticator);
        assert_eq!(of(MfaType::Sms), Assurance::Restricted);
        assert_eq!(of(MfaType::MagicLink), Assurance::NotAnAuthenticator);
        assert_eq!(of(MfaType::EmailOtp), Assurance::NotAnAuthenticator);
        let resistant: Vec<MfaType> = MfaType::ALL.into_iter().filter(|m| m.is_phishing_resistant()).collect();
        assert_eq!(resistant, [MfaType::Passkey]);
    }
}
