//! The Lambda authorizer integrators put in front of their own routes behind an API
//! Gateway HTTP API (payload format 2.0, simple responses). API Gateway's built-in JWT
//! authorizer verifies RSA keys only and cannot require `aal`; this one lets a request
//! through when it carries a full-access token of this service (`aal: 2`, verified against
//! the service's public keys), of a session the user's record still lists, and, on a route
//! with a maximum age (`MFA_AUTHORIZER_MAX_AGE`), whose second factor is recent enough.
//! One read round trip per decision; API Gateway must not cache decisions (a session that
//! ends must end at once), so the template sets no result TTL.
//!
//! A store that cannot answer is an error, not a denial: API Gateway then answers `500`,
//! which a client retries, where a denial (`403`) would tell it to log in again.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::App;
use crate::config::Reader;
use crate::routes::Needs;
use crate::sessions;
use crate::store::StoreError;

/// The authorizer's function, and what it loads at cold start: verification of this
/// service's full-access tokens (its public keys only: never the platform's key material)
/// and the store (to see that the session is live).
pub const FUNCTION: &str = "mfa-authorizer";
pub const NEEDS: Needs = Needs { store: true, sessions_only: true, ..Needs::NOTHING };
/// The integrator's route `template.yaml` puts behind it, as an example
/// (`GET /example/protected`); it depends on nothing of this service.
pub const EXAMPLE_FUNCTION: &str = "example-protected";
/// The DynamoDB action it needs: reading the user's record.
pub const DYNAMODB: &[&str] = &["dynamodb:Query"];
/// Its own setting, next to those of its needs.
pub const MAX_AGE_VARIABLE: &str = "MFA_AUTHORIZER_MAX_AGE";

/// The maximum age of the second factor (`auth_time`) per route, in seconds.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MaxAges {
    routes: Vec<(String, i64)>,
    other: Option<i64>,
}

impl MaxAges {
    /// `ROUTE=SECONDS` pairs separated by commas; a route is API Gateway's route key
    /// (`POST /payments`, `ANY /admin/{proxy+}`), `*` stands for every other route. Empty:
    /// no route has a maximum age (a live session is enough).
    pub fn parse(raw: &str) -> Result<Self, String> {
        let mut ages = MaxAges::default();
        for pair in raw.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (route, seconds) = pair
                .rsplit_once('=')
                .ok_or_else(|| format!("`{pair}` is not ROUTE=SECONDS (e.g. `POST /payments=300`)"))?;
            let seconds: i64 = seconds
                .trim()
                .parse()
                .ok()
                .filter(|s| *s > 0)
                .ok_or_else(|| format!("`{pair}`: the seconds must be a whole number above 0"))?;
            match route.trim() {
                "*" => ages.other = Some(seconds),
                route if route.contains(' ') => ages.routes.push((route.to_string(), seconds)),
                route => return Err(format!("`{route}` is not a route key such as `GET /reports`, nor `*`")),
            }
        }
        Ok(ages)
    }

    /// Reads [`MAX_AGE_VARIABLE`]; a malformed value is a configuration problem.
    pub fn read(r: &mut Reader) -> Self {
        let raw = r.or(MAX_AGE_VARIABLE, "");
        Self::parse(&raw).unwrap_or_else(|reason| {
            r.invalid(MAX_AGE_VARIABLE, reason);
            MaxAges::default()
        })
    }

    /// The maximum age on `route_key`, if it has one.
    pub fn of(&self, route_key: &str) -> Option<i64> {
        self.routes.iter().find(|(route, _)| route == route_key).map(|(_, s)| *s).or(self.other)
    }
}

/// [`MaxAges::read`] from the process environment.
pub fn max_ages_from_env() -> Result<MaxAges, crate::config::ConfigError> {
    let mut r = Reader::new(&crate::config::Environment);
    let ages = MaxAges::read(&mut r);
    r.finish()?;
    Ok(ages)
}

/// What API Gateway sends an authorizer (payload format 2.0): the fields this one reads.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuthorizerRequest {
    #[serde(default)]
    pub route_key: String,
    #[serde(default)]
    pub identity_source: Option<Vec<String>>,
    #[serde(default)]
    pub headers: HashMap<String, String>,
}

/// A simple response: whether the request may pass, and what the route's integration
/// receives in `requestContext.authorizer.lambda`.
#[derive(Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Decision {
    pub is_authorized: bool,
    pub context: Value,
}

impl Decision {
    fn deny(route: &str, reason: &str) -> Self {
        tracing::info!(route, reason, "request not authorized");
        Decision { is_authorized: false, context: json!({}) }
    }
}

/// Decides one request. `Err`: the store did not answer (API Gateway answers `500`).
pub async fn authorize(app: &App, ages: &MaxAges, request: &AuthorizerRequest) -> Result<Decision, StoreError> {
    let route = request.route_key.as_str();
    let Some(token) = bearer(request) else {
        return Ok(Decision::deny(route, "no bearer token"));
    };
    let Ok(auth) = app.auth() else {
        return Ok(Decision::deny(route, "token verification is not configured"));
    };
    let principal = match auth.verify(token) {
        Ok(p) => p,
        Err(refusal) => return Ok(Decision::deny(route, refusal.code())),
    };
    let (true, Some(auth_time), Some(session)) =
        (principal.session_verified, principal.auth_time, principal.session_id.clone())
    else {
        return Ok(Decision::deny(route, "not a full-access token (aal 2)"));
    };
    let now = app.clock.now();
    // The freshness rule step-up uses: a remembered device's session presented no second
    // factor, so no maximum age is ever met by it.
    if ages.of(route).is_some_and(|max| !principal.factor_within(max, now)) {
        return Ok(Decision::deny(route, "no second factor within the route's maximum age"));
    }
    let (record, _) = app.store.load_user_and_policy(principal.user_id.as_str(), None).await?;
    if sessions::ensure_live(&principal, &record, now).is_err() {
        return Ok(Decision::deny(route, "the session has ended"));
    }
    Ok(Decision {
        is_authorized: true,
        context: json!({
            "userId": principal.user_id.as_str(),
            "sessionId": session,
            "authTime": auth_time,
            "orgId": principal.org_id.unwrap_or_default(),
            "orgRole": principal.org_role.unwrap_or_default(),
            "byDevice": principal.by_device,
        }),
    })
}

/// The token of `Authorization: Bearer …` (the identity source API Gateway names, else
/// the header).
fn bearer(request: &AuthorizerRequest) -> Option<&str> {
    let header = request.identity_source.as_ref().and_then(|s| s.first()).map(String::as_str).or_else(|| {
        request.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case("authorization")).map(|(_, v)| v.as_str())
    })?;
    let (scheme, token) = header.trim().split_once(' ')?;
    (scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty()).then(|| token.trim())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn max_ages_parse_routes_and_a_default() {
        let ages = MaxAges::parse("POST /payments=300, ANY /admin/{proxy+}=900, *=3600").unwrap();
        assert_eq!(ages.of("POST /payments"), Some(300));
        assert_eq!(ages.of("ANY /admin/{proxy+}"), Some(900));
        assert_eq!(ages.of("GET /reports"), Some(3600));
        assert_eq!(MaxAges::parse("").unwrap().of("GET /reports"), None);
        for bad in ["POST /payments", "POST /payments=0", "POST /payments=soon", "payments=30"] {
            assert!(MaxAges::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_bearer_comes_from_the_identity_source_or_the_header() {
        let from_source = AuthorizerRequest { identity_source: Some(vec!["Bearer abc".into()]), ..Default::default() };
        assert_eq!(bearer(&from_source), Some("abc"));
        let headers = HashMap::from([("authorization".to_string(), "bearer xyz".to_string())]);
        assert_eq!(bearer(&AuthorizerRequest { headers, ..Default::default() }), Some("xyz"));
        let basic = AuthorizerRequest { identity_source: Some(vec!["Basic abc".into()]), ..Default::default() };
        assert_eq!(bearer(&basic), None);
        assert_eq!(bearer(&AuthorizerRequest::default()), None);
    }
}
