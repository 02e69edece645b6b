//! Request bodies: a 64 KiB limit, JSON into typed input, and errors that name the field.

use lambda_http::{Body, Request};
use serde::de::DeserializeOwned;

use crate::refusal::Refusal;

pub const MAX_BODY_BYTES: usize = 64 * 1024;

fn bytes(req: &Request) -> Result<&[u8], Refusal> {
    let bytes: &[u8] = match req.body() {
        Body::Empty => &[],
        Body::Text(t) => t.as_bytes(),
        Body::Binary(b) => b,
        _ => &[],
    };
    if bytes.len() > MAX_BODY_BYTES {
        return Err(Refusal::PayloadTooLarge { limit: MAX_BODY_BYTES });
    }
    Ok(bytes)
}

fn is_blank(bytes: &[u8]) -> bool {
    let text = bytes.trim_ascii();
    text.is_empty() || text == b"null"
}

/// A required JSON object.
pub fn json<T: DeserializeOwned>(req: &Request) -> Result<T, Refusal> {
    let bytes = bytes(req)?;
    if is_blank(bytes) {
        return Err(Refusal::MissingBody);
    }
    parse(bytes)
}

/// A route that takes no input, or only optional input: an empty body, `null` and `{}`
/// all give the default (Flashback's client sends no body at all for `null`).
pub fn json_or_default<T: DeserializeOwned + Default>(req: &Request) -> Result<T, Refusal> {
    let bytes = bytes(req)?;
    if is_blank(bytes) {
        return Ok(T::default());
    }
    parse(bytes)
}

fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, Refusal> {
    // Syntax first, so malformed JSON is reported as such whatever its content.
    let value: serde_json::Value = serde_json::from_slice(bytes).map_err(|err| describe(".", &err))?;
    serde_path_to_error::deserialize(value).map_err(|err| {
        let path = err.path().to_string();
        describe(&path, &err.into_inner())
    })
}

fn describe(path: &str, err: &serde_json::Error) -> Refusal {
    use serde_json::error::Category;
    match err.classify() {
        Category::Syntax | Category::Eof | Category::Io => {
            Refusal::InvalidJson { line: err.line(), column: err.column() }
        }
        Category::Data => {
            // serde's own sentence, e.g. "invalid type: integer `1`, expected a string"
            // or "missing field `mfaType`".
            let text = err.to_string();
            let reason = text.as_str();
            let message = match (path, reason.strip_prefix("missing field ")) {
                (".", Some(field)) => format!("Field {field} is required."),
                (p, Some(field)) => format!("Field {field} is required in `{p}`."),
                (".", None) => format!("Request body has the wrong shape: {reason}; send a JSON object."),
                (p, None) => format!("Field `{p}` is invalid: {reason}."),
            };
            Refusal::InvalidField(message.into())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lambda_http::http::StatusCode;
    use serde::Deserialize;

    #[derive(Debug, Default, Deserialize, PartialEq)]
    #[serde(rename_all = "camelCase")]
    struct Input {
        mfa_type: Option<Kind>,
        enable: Option<bool>,
    }

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(rename_all = "camelCase")]
    struct Required {
        mfa_type: Kind,
    }

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(rename_all = "SCREAMING_SNAKE_CASE")]
    enum Kind {
        GoogleAuth,
    }

    fn req(body: Body) -> Request {
        let mut r = Request::default();
        *r.body_mut() = body;
        r
    }

    #[test]
    fn empty_null_and_object_give_the_default() {
        for body in [Body::Empty, Body::Text("null".into()), Body::Text(" {} ".into())] {
            assert_eq!(json_or_default::<Input>(&req(body)).unwrap(), Input::default());
        }
    }

    #[test]
    fn unknown_fields_are_ignored() {
        let r = req(Body::Text(r#"{"mfaType":"GOOGLE_AUTH","extra":1}"#.into()));
        assert_eq!(json::<Required>(&r).unwrap(), Required { mfa_type: Kind::GoogleAuth });
    }

    #[test]
    fn malformed_json_is_400() {
        let e = json::<Required>(&req(Body::Text("{\"mfaType\":".into()))).unwrap_err();
        assert_eq!((e.status(), e.code()), (StatusCode::BAD_REQUEST, "INVALID_JSON"));
        let e = json::<Required>(&req(Body::Text("{} trailing".into()))).unwrap_err();
        assert_eq!(e.code(), "INVALID_JSON");
    }

    #[test]
    fn wrong_type_names_the_field() {
        let e = json_or_default::<Input>(&req(Body::Text(r#"{"enable":"yes"}"#.into()))).unwrap_err();
        assert_eq!(e.code(), "INVALID_FIELD");
        assert!(e.sentence().contains("`enable`"), "{}", e.sentence());
    }

    #[test]
    fn unknown_enum_value_names_the_field() {
        let e = json::<Required>(&req(Body::Text(r#"{"mfaType":"SMS"}"#.into()))).unwrap_err();
        assert!(e.sentence().contains("`mfaType`") && e.sentence().contains("SMS"), "{}", e.sentence());
    }

    #[test]
    fn missing_field_is_named() {
        let e = json::<Required>(&req(Body::Text("{}".into()))).unwrap_err();
        assert_eq!(e.sentence(), "Field `mfaType` is required.");
    }

    #[test]
    fn missing_body_is_400() {
        let e = json::<Required>(&req(Body::Empty)).unwrap_err();
        assert_eq!(e, Refusal::MissingBody);
    }

    #[test]
    fn oversized_body_is_413() {
        let big = format!("{{\"x\":\"{}\"}}", "a".repeat(MAX_BODY_BYTES));
        let e = json_or_default::<Input>(&req(Body::Text(big))).unwrap_err();
        assert_eq!(e.status(), StatusCode::PAYLOAD_TOO_LARGE);
        // Exactly at the limit is accepted.
        let pad = MAX_BODY_BYTES - r#"{"x":""}"#.len();
        let fits = format!("{{\"x\":\"{}\"}}", "a".repeat(pad));
        assert!(json_or_default::<Input>(&req(Body::Binary(fits.into_bytes()))).is_ok());
    }
}

/// Fuzzing: any bytes, and any JSON of any shape, give a typed input or a refusal in the
/// envelope; nothing panics.
#[cfg(test)]
mod fuzz {
    use lambda_http::http::StatusCode;
    use proptest::prelude::*;
    use serde::Deserialize;

    use super::*;

    #[derive(Debug, Deserialize, Default)]
    #[serde(rename_all = "camelCase")]
    #[allow(dead_code)]
    struct Shaped {
        mfa_type: Option<crate::mfa_type::MfaType>,
        code: Option<crate::crypto::SecretString>,
        enforced: Option<bool>,
        credential: Option<serde_json::Value>,
    }

    fn request(bytes: Vec<u8>) -> Request {
        let mut r = Request::default();
        *r.body_mut() = Body::Binary(bytes);
        r
    }

    fn json_value() -> impl Strategy<Value = serde_json::Value> {
        let leaf = prop_oneof![
            Just(serde_json::Value::Null),
            any::<bool>().prop_map(serde_json::Value::from),
            any::<i64>().prop_map(serde_json::Value::from),
            any::<f64>().prop_map(|f| serde_json::json!(f)),
            ".{0,40}".prop_map(serde_json::Value::from),
            prop_oneof![Just("GOOGLE_AUTH"), Just("MAGIC_LINK"), Just("PASSKEY"), Just("SMS")]
                .prop_map(serde_json::Value::from),
        ];
        leaf.prop_recursive(4, 64, 8, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..6).prop_map(serde_json::Value::from),
                prop::collection::btree_map(
                    prop_oneof![
                        Just("mfaType".to_string()),
                        Just("code".to_string()),
                        Just("enforced".to_string()),
                        Just("credential".to_string()),
                        "[a-z]{1,8}"
                    ],
                    inner,
                    0..6
                )
                .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
            ]
        })
    }

    fn refused_in_the_envelope(e: Refusal) {
        assert!(e.status().is_client_error(), "{e}");
        assert!(matches!(e.status(), StatusCode::BAD_REQUEST | StatusCode::PAYLOAD_TOO_LARGE), "{e}");
        let response = e.into_response();
        let body: serde_json::Value = match response.body() {
            Body::Text(t) => serde_json::from_str(t).unwrap(),
            other => panic!("{other:?}"),
        };
        assert_eq!(body["success"], false);
        assert!(body["error"].as_str().is_some_and(|s| s.ends_with('.')));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        #[test]
        fn any_bytes_are_parsed_or_refused(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
            if let Err(e) = json::<Shaped>(&request(bytes.clone())) { refused_in_the_envelope(e) }
            if let Err(e) = json_or_default::<Shaped>(&request(bytes)) { refused_in_the_envelope(e) }
        }

        #[test]
        fn any_json_is_parsed_or_refused(value in json_value()) {
            let bytes = serde_json::to_vec(&value).unwrap();
            if let Err(e) = json::<Shaped>(&request(bytes)) { refused_in_the_envelope(e) }
        }
    }
}
