//! An MFA method as the wire names it (`mfaType`), with the name and description the
//! methods list shows.

use serde::{Deserialize, Serialize};

/// An MFA method, named as on the wire (`mfaType`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum MfaType {
    GoogleAuth,
    MagicLink,
    Passkey,
}

impl MfaType {
    /// Every method, in the order the API lists them.
    pub const ALL: [MfaType; 3] = [MfaType::GoogleAuth, MfaType::MagicLink, MfaType::Passkey];

    pub fn as_str(self) -> &'static str {
        match self {
            MfaType::GoogleAuth => "GOOGLE_AUTH",
            MfaType::MagicLink => "MAGIC_LINK",
            MfaType::Passkey => "PASSKEY",
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            MfaType::GoogleAuth => "Authenticator app",
            MfaType::MagicLink => "Email magic link",
            MfaType::Passkey => "Passkey",
        }
    }

    pub fn description(self) -> &'static str {
        match self {
            MfaType::GoogleAuth => {
                "Six-digit codes from an authenticator app such as Google Authenticator, 1Password or Authy."
            }
            MfaType::MagicLink => "A single-use sign-in link sent to your email address.",
            MfaType::Passkey => "A passkey or security key, unlocked with your device's screen lock.",
        }
    }
}
