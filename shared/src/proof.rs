//! What a request presents to prove a factor, parsed at the edge: the wire carries
//! parallel optional fields (`code`, `token`, `credential`, `factorId`, and `challenge` or
//! `deviceToken`), and
//! a method takes exactly one kind of proof, so each route turns them into one value of
//! [`SetupProof`] or [`LoginProof`] for the method it names before anything else runs.
//! A missing or blank field is a `400` that names it.

use serde::Deserialize;
use serde_json::Value;

use crate::crypto::{ExposeSecret, SecretString};
use crate::model::MfaType;
use crate::refusal::Refusal;

/// The proof fields as the wire carries them (`verify-setup`, `verify-login`); each route
/// adds its own (`challenge` of a passkey setup, `deviceToken` of a login).
#[derive(Debug, Default, Deserialize)]
#[cfg_attr(feature = "contract", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct Presented {
    #[cfg_attr(feature = "contract", schemars(with = "Option<String>"))]
    pub code: Option<SecretString>,
    #[cfg_attr(feature = "contract", schemars(with = "Option<String>"))]
    pub token: Option<SecretString>,
    pub credential: Option<Value>,
    /// The factor the proof is for, when the caller names one.
    pub factor_id: Option<String>,
}

/// What a login names in `mfaType`: one of the methods, or `DEVICE` (a remembered
/// device's token instead of a second factor).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LoginMethod {
    Factor(MfaType),
    Device,
}

/// The `mfaType` of a login with a remembered device.
pub const DEVICE: &str = "DEVICE";

impl<'de> Deserialize<'de> for LoginMethod {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let name = String::deserialize(d)?;
        if name == DEVICE {
            return Ok(LoginMethod::Device);
        }
        MfaType::parse(&name).map(LoginMethod::Factor).ok_or_else(|| {
            let expected: Vec<&str> = MfaType::ALL.iter().map(|m| m.as_str()).chain([DEVICE]).collect();
            serde::de::Error::custom(format!("unknown method `{name}`, expected one of {}", expected.join(", ")))
        })
    }
}

/// A method's name, or `DEVICE`.
#[cfg(feature = "contract")]
impl schemars::JsonSchema for LoginMethod {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "LoginMethod".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        let names: Vec<&str> = MfaType::ALL.iter().map(|m| m.as_str()).chain([DEVICE]).collect();
        schemars::json_schema!({ "type": "string", "enum": names })
    }
}

/// What completes a setup.
pub enum SetupProof {
    /// A code of the pending authenticator's secret.
    Authenticator { code: SecretString, factor_id: Option<String> },
    /// The setup code sent to the pending address or phone (EMAIL_OTP, SMS).
    Sent { method: MfaType, code: SecretString, factor_id: Option<String> },
    /// The activation link's token.
    Link { token: SecretString },
    /// A passkey's registration response, and the challenge it answers (by default the
    /// one in its client data).
    Registration { credential: Value, challenge: Option<String>, factor_id: Option<String> },
}

/// What passes a login.
pub enum LoginProof {
    /// A code of any enabled authenticator (or of `factor_id`).
    Authenticator { code: SecretString, factor_id: Option<String> },
    /// The login code sent to an address or phone (EMAIL_OTP, SMS).
    Sent { method: MfaType, code: SecretString, factor_id: Option<String> },
    /// A login link's token.
    Link { token: SecretString },
    /// A passkey's assertion (by `factor_id`, when one is named).
    Assertion { credential: Value, factor_id: Option<String> },
}

impl SetupProof {
    /// The method whose setup it completes.
    pub fn method(&self) -> MfaType {
        match self {
            SetupProof::Authenticator { .. } => MfaType::GoogleAuth,
            SetupProof::Sent { method, .. } => *method,
            SetupProof::Link { .. } => MfaType::MagicLink,
            SetupProof::Registration { .. } => MfaType::Passkey,
        }
    }
}

impl LoginProof {
    /// The method it logs in with.
    pub fn method(&self) -> MfaType {
        match self {
            LoginProof::Authenticator { .. } => MfaType::GoogleAuth,
            LoginProof::Sent { method, .. } => *method,
            LoginProof::Link { .. } => MfaType::MagicLink,
            LoginProof::Assertion { .. } => MfaType::Passkey,
        }
    }
}

fn required(field: &str, method: &str) -> Refusal {
    Refusal::InvalidField(format!("Field `{field}` is required for {method}.").into())
}

fn secret(value: &Option<SecretString>, field: &str, method: MfaType) -> Result<SecretString, Refusal> {
    present(value, field, method.as_str())
}

fn present(value: &Option<SecretString>, field: &str, method: &str) -> Result<SecretString, Refusal> {
    value.as_ref().filter(|s| !s.expose_secret().trim().is_empty()).cloned().ok_or_else(|| required(field, method))
}

fn object(value: &Option<Value>, field: &str, method: MfaType) -> Result<Value, Refusal> {
    value.as_ref().filter(|v| v.is_object()).cloned().ok_or_else(|| required(field, method.as_str()))
}

/// The token a login with a remembered device presents (`deviceToken`).
pub fn device_token(token: &Option<SecretString>) -> Result<SecretString, Refusal> {
    present(token, "deviceToken", DEVICE)
}

impl Presented {
    /// The proof `method`'s setup takes (`challenge`: the one a passkey's registration
    /// answers, by default the latest).
    pub fn for_setup(&self, method: MfaType, challenge: Option<String>) -> Result<SetupProof, Refusal> {
        let factor_id = self.factor_id.clone();
        Ok(match method {
            MfaType::GoogleAuth => SetupProof::Authenticator { code: secret(&self.code, "code", method)?, factor_id },
            MfaType::EmailOtp | MfaType::Sms => {
                SetupProof::Sent { method, code: secret(&self.code, "code", method)?, factor_id }
            }
            MfaType::MagicLink => SetupProof::Link { token: secret(&self.token, "token", method)? },
            MfaType::Passkey => SetupProof::Registration {
                credential: object(&self.credential, "credential", method)?,
                challenge,
                factor_id,
            },
        })
    }

    /// The proof a login with `method` takes.
    pub fn for_login(&self, method: MfaType) -> Result<LoginProof, Refusal> {
        let factor_id = self.factor_id.clone();
        Ok(match method {
            MfaType::GoogleAuth => LoginProof::Authenticator { code: secret(&self.code, "code", method)?, factor_id },
            MfaType::EmailOtp | MfaType::Sms => {
                LoginProof::Sent { method, code: secret(&self.code, "code", method)?, factor_id }
            }
            MfaType::MagicLink => LoginProof::Link { token: secret(&self.token, "token", method)? },
            MfaType::Passkey => {
                LoginProof::Assertion { credential: object(&self.credential, "credential", method)?, factor_id: None }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn each_method_takes_its_one_proof_and_names_a_missing_field() {
        let presented: Presented = serde_json::from_value(json!({"code": " ", "token": "t"})).unwrap();
        let e = presented.for_login(MfaType::GoogleAuth).err().unwrap();
        assert!(e.sentence().contains("`code`") && e.sentence().contains("GOOGLE_AUTH"), "{e}");
        assert!(matches!(presented.for_login(MfaType::MagicLink), Ok(LoginProof::Link { .. })));
        let presented: Presented = serde_json::from_value(json!({"credential": "x"})).unwrap();
        assert!(presented.for_setup(MfaType::Passkey, None).is_err(), "a credential is an object");
        let presented: Presented = serde_json::from_value(json!({"code": "123456", "factorId": "f1"})).unwrap();
        assert!(matches!(
            presented.for_setup(MfaType::Sms, None),
            Ok(SetupProof::Sent { method: MfaType::Sms, factor_id: Some(_), .. })
        ));
    }
}
