//! `mfa-local gen [--check]`: the per-route files, written from the route table
//! (`mfa_shared::routes::ROUTES`): each route's package (`functions/<name>/Cargo.toml`)
//! and entry point (`functions/<name>/src/main.rs`), the `cargo lambda watch` router in
//! the workspace's `Cargo.toml`, and each route's log group and function in
//! `template.yaml` (environment, key, grants and API routes), and the test kit's dispatch
//! of a function's name to its handler (`tests/src/dispatch.rs`), and each route's example
//! API Gateway event (`events/<name>.json`: generated around the example body, path
//! parameters and query that the file holds, which are kept). With `--check` nothing is written: any file that
//! differs from what the table says is named, and the command fails.

use std::path::{Path, PathBuf};

use mfa_shared::routes::{FALLBACK_FUNCTION, FRONTEGG_PREFIX, ROUTES, Route};

/// Where the router begins in the workspace's `Cargo.toml`; it runs to the file's end.
const ROUTER_HEADER: &str = "[workspace.metadata.lambda.watch.router]\n";

/// The methods the local router sends to the fallback on a path several routes share.
const METHODS: [&str; 5] = ["GET", "POST", "PUT", "PATCH", "DELETE"];

/// The longest line `rustfmt.toml` lets stand.
const MAX_WIDTH: usize = 120;

/// A route whose entry point is kept by hand: it builds state of its own at cold start.
fn hand_kept_main(route: &Route) -> bool {
    route.needs.public_keys
}

/// Every generated file under `root`, with its contents.
pub fn files(root: &Path) -> Result<Vec<(PathBuf, String)>, String> {
    let mut out = Vec::new();
    for route in ROUTES {
        let dir = root.join("functions").join(route.function);
        out.push((dir.join("Cargo.toml"), package(route.function)));
        if !hand_kept_main(route) {
            out.push((dir.join("src/main.rs"), entry_point(route)?));
        }
    }
    let manifest = root.join("Cargo.toml");
    let text = std::fs::read_to_string(&manifest).map_err(|e| format!("reading {}: {e}", manifest.display()))?;
    let start = text.find(ROUTER_HEADER).ok_or("Cargo.toml has no [workspace.metadata.lambda.watch.router]")?;
    out.push((manifest, format!("{}{}", &text[..start], router())));
    out.push((root.join("tests/src/dispatch.rs"), dispatch()));
    for route in ROUTES {
        let path = root.join("events").join(format!("{}.json", route.function));
        let kept = std::fs::read_to_string(&path).ok().and_then(|t| serde_json::from_str(&t).ok());
        out.push((path, event(route, kept.as_ref())));
    }
    out.push((root.join("events").join(format!("{AUTHORIZER_FUNCTION}.json")), authorizer_event()));
    out.push(between(&root.join("docs/api.md"), "<!-- BEGIN routes", "<!-- END routes. -->", &route_table())?);
    out.push(between(
        &root.join("docs/security-model.md"),
        "<!-- BEGIN policy",
        "<!-- END policy. -->",
        &policy_table(),
    )?);
    let template = root.join("template.yaml");
    let text = std::fs::read_to_string(&template).map_err(|e| format!("reading {}: {e}", template.display()))?;
    let begin = text.find(TEMPLATE_BEGIN).ok_or("template.yaml lacks the per-route functions' BEGIN line")?;
    let end = text.find(TEMPLATE_END).ok_or("template.yaml lacks the per-route functions' END line")?;
    let generated: String = ROUTES.iter().map(resources).collect::<Result<_, _>>()?;
    let text = format!("{}{TEMPLATE_BEGIN}\n{generated}{}", &text[..begin], &text[end..]);
    out.push((template, with_methods_pattern(&with_decrypting_roles(&text)?)?));
    Ok(out)
}

const TEMPLATE_BEGIN: &str = "  # BEGIN per-route functions: written by `mfa-local gen` from shared/src/routes.rs.\n";
const TEMPLATE_END: &str = "  # END per-route functions.\n";

/// The template with the roles its key policy lets decrypt (`FunctionRolesDecrypt`): those
/// of the functions whose rows name a secret.
fn with_decrypting_roles(text: &str) -> Result<String, String> {
    const SID: &str = "          - Sid: FunctionRolesDecrypt\n";
    const FROM: &str = "              AWS:\n";
    const TO: &str = "            Action: kms:Decrypt\n";
    let sid = text.find(SID).ok_or("template.yaml's key policy lacks FunctionRolesDecrypt")?;
    let from = sid + text[sid..].find(FROM).ok_or("FunctionRolesDecrypt names no AWS principals")? + FROM.len();
    let to = from + text[from..].find(TO).ok_or("FunctionRolesDecrypt has no kms:Decrypt")?;
    let roles: String = ROUTES
        .iter()
        .filter(|r| !r.needs.secrets().is_empty())
        .map(|r| format!("                - !GetAtt {}FunctionRole.Arn\n", resource_name(r.function)))
        .collect();
    Ok(format!("{}{roles}{}", &text[..from], &text[to..]))
}

/// The template parameter (or resource) each environment variable is set from.
fn parameter(variable: &str) -> Result<&'static str, String> {
    Ok(match variable {
        "MFA_TABLE_NAME" => "MfaTable",
        "MFA_AUDIT_RETENTION" => "AuditRetention",
        "MFA_TLS_TRUST" => "TlsTrust",
        "MFA_STAGE" => "Stage",
        "MFA_PLATFORM_JWT_ALG" => "PlatformJwtAlg",
        "MFA_PLATFORM_JWT_KEY" => "PlatformJwtKey",
        "MFA_PLATFORM_JWT_ISSUER" => "PlatformJwtIssuer",
        "MFA_PLATFORM_JWT_AUDIENCE" => "PlatformJwtAudience",
        "MFA_TOKEN_PUBLIC_KEYS" => "TokenPublicKeys",
        "MFA_TOKEN_ISSUER" => "TokenIssuer",
        "MFA_CLOCK_LEEWAY" => "ClockLeeway",
        "MFA_METHODS" => "Methods",
        "MFA_DEVICE_LIFETIME" => "DeviceLifetime",
        "MFA_SERVER_TOKEN_KEY" => "ServerTokenKey",
        "MFA_ENCRYPTION_KEYS" => "EncryptionKeys",
        "MFA_TOTP_ISSUER" => "TotpIssuer",
        "MFA_SMS_COUNTRIES" => "SmsCountries",
        "MFA_SMS_PREFIX_DIGITS" => "SmsPrefixDigits",
        "MFA_SMS_PREFIX_HOURLY" => "SmsPrefixHourly",
        "MFA_SMS_PREFIX_UNVERIFIED" => "SmsPrefixUnverified",
        "MFA_SMS_PREFIX_BLOCK_HOURS" => "SmsPrefixBlockHours",
        "MFA_SMS_HOURLY_BUDGET" => "SmsHourlyBudget",
        "MFA_MAIL_FROM" => "MailFrom",
        "MFA_LINK_BASE_URL" => "LinkBaseUrl",
        "MFA_RP_ID" => "RpId",
        "MFA_RP_ORIGIN" => "RpOrigin",
        "MFA_RP_NAME" => "RpName",
        "MFA_TOKEN_SIGNING_KEY" => "TokenSigningKey",
        "MFA_SESSION_LIFETIME" => "SessionLifetime",
        other => return Err(format!("no template parameter sets {other}")),
    })
}

/// `mfa-factor-remove` → `MfaFactorRemove` (a deployed stack's logical ids stay as they
/// were: a renamed one would replace its function and clash on its log group's name).
fn resource_name(function: &str) -> String {
    if function == "mfa-passkey-complete-registration-1" {
        return "MfaPasskeyCompleteRegistrationAlias".into();
    }
    function
        .split('-')
        .map(|w| {
            let mut c = w.chars();
            c.next().map(|f| f.to_ascii_uppercase().to_string() + c.as_str()).unwrap_or_default()
        })
        .collect()
}

/// A route's log group and function.
fn resources(route: &Route) -> Result<String, String> {
    let (name, id) = (route.function, resource_name(route.function));
    let needs = route.needs;
    let mut summary = route.summary.to_string();
    if let Some(first) = summary.get_mut(0..1) {
        first.make_ascii_uppercase();
    }
    let description = if route.is_frontegg() { format!("Frontegg: {}", route.summary) } else { summary };
    let mut out = format!(
        "  {id}LogGroup:
    Type: AWS::Logs::LogGroup
    Properties:
      LogGroupName: !Sub /aws/lambda/{name}-${{Stage}}
      RetentionInDays: !Ref LogRetentionDays

  {id}Function:
    Type: AWS::Serverless::Function
    Properties:
      FunctionName: !Sub {name}-${{Stage}}
      Description: \"{}\"
      CodeUri: target/lambda/{name}/bootstrap.zip
      LoggingConfig:
        LogFormat: JSON
        LogGroup: !Ref {id}LogGroup
",
        description.replace('\\', "\\\\").replace('\"', "\\\"")
    );
    if !needs.secrets().is_empty() {
        out.push_str("      KmsKeyArn: !GetAtt MfaSecretsKey.Arn\n");
    }
    let variables = needs.environment();
    if !variables.is_empty() {
        out.push_str("      Environment:\n        Variables:\n");
        for variable in variables {
            out.push_str(&format!("          {variable}: !Ref {}\n", parameter(variable)?));
        }
    }
    let mut statements = Vec::new();
    if !route.dynamodb.is_empty() {
        let prefixes: Vec<String> = needs.key_prefixes().iter().map(|p| format!("\"{p}*\"")).collect();
        statements.push(format!(
            "        - Statement:
            - Effect: Allow
              Action: [{}]
              Resource: !GetAtt MfaTable.Arn
              Condition:
                ForAllValues:StringLike:
                  dynamodb:LeadingKeys: [{}]
",
            route.dynamodb.join(", "),
            prefixes.join(", ")
        ));
    }
    if needs.mail {
        statements.push(
            "        - Statement:
            - Effect: Allow
              Action: ses:SendEmail
              Resource: \"*\"
              Condition:
                StringEquals:
                  ses:FromAddress: !Ref MailFrom
"
            .to_string(),
        );
    }
    if needs.sms {
        statements.push(
            "        - Statement:
            - Effect: Allow
              Action: sns:Publish
              Resource: \"*\"
            # Texts go to phone numbers only, never to a topic.
            - Effect: Deny
              Action: sns:Publish
              Resource: !Sub arn:${AWS::Partition}:sns:*:*:*
"
            .to_string(),
        );
    }
    if !statements.is_empty() {
        out.push_str("      Policies:\n");
        out.push_str(&statements.concat());
    }
    out.push_str("      Events:\n");
    for (event, path) in ["Route", "PrefixedRoute"].iter().zip(route.paths()) {
        out.push_str(&format!(
            "        {event}:
          Type: HttpApi
          Properties:
            ApiId: !Ref HttpApi
            Method: {}
            Path: {path}
",
            route.method
        ));
    }
    out.push('\n');
    Ok(out)
}

/// Writes the files (`check`: compares them); the paths that differ(ed).
pub fn run(root: &Path, check: bool) -> Result<Vec<PathBuf>, String> {
    let mut differ = Vec::new();
    for (path, want) in files(root)? {
        let have = std::fs::read_to_string(&path).unwrap_or_default();
        if have == want {
            continue;
        }
        differ.push(path.clone());
        if !check {
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
            }
            std::fs::write(&path, want).map_err(|e| format!("writing {}: {e}", path.display()))?;
        }
    }
    Ok(differ)
}

fn package(name: &str) -> String {
    format!(
        r#"[package]
name = "{name}"
version = "0.1.0"
edition.workspace = true
rust-version.workspace = true
license.workspace = true
publish.workspace = true

[[bin]]
name = "{name}"
path = "src/main.rs"
# Nothing to test or bench in a main that only wires; the suite tests the handlers and
# binaries, and `scripts/bench` times them. (A bin is a bench target unless it says not:
# `--all-targets` would build and lint each main a second time as an empty harness.)
test = false
bench = false

[dependencies]
mfa-shared.workspace = true
"#
    )
}

/// A handler's future nests the store's, the mailer's and the SDK's futures many layers
/// deep; a binary that holds only one handler computes its whole layout in one chain of
/// the compiler's queries, which passes the default limit of 128 on the deepest routes.
const RECURSION_LIMIT: &str = "#![recursion_limit = \"256\"]";

fn entry_point(route: &Route) -> Result<String, String> {
    let (module, _) = route
        .handler
        .split_once("::")
        .ok_or_else(|| format!("{}: handler `{}` is not `module::function`", route.function, route.handler))?;
    let under = if route.is_frontegg() { format!(" (and under `{FRONTEGG_PREFIX}`)") } else { String::new() };
    let (name, handler) = (route.function, route.handler);
    let one_line = format!("    lambda::function(\"{name}\", |call| Box::pin(edge::run(call, {handler})))");
    let call = if one_line.len() <= MAX_WIDTH {
        one_line
    } else {
        format!("    lambda::function(\"{name}\", |call| {{\n        Box::pin(edge::run(call, {handler}))\n    }})")
    };
    Ok(format!(
        "//! `{} {}`{under}: {}\n{RECURSION_LIMIT}\nuse mfa_shared::{{edge, {module}, lambda}};\n\nfn main() -> Result<(), lambda::Error> {{\n{call}\n}}\n",
        route.method, route.path, route.summary
    ))
}

/// `path` with what stands between the line that starts with `begin` and the line `end`
/// replaced by `generated`.
fn between(path: &Path, begin: &str, end: &str, generated: &str) -> Result<(PathBuf, String), String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("reading {}: {e}", path.display()))?;
    let start = text.find(begin).ok_or_else(|| format!("{} lacks its `{begin}` line", path.display()))?;
    let start = start + text[start..].find('\n').ok_or("an unfinished BEGIN line")? + 1;
    let stop = text.find(end).ok_or_else(|| format!("{} lacks its `{end}` line", path.display()))?;
    Ok((path.to_path_buf(), format!("{}{generated}{}", &text[..start], &text[stop..])))
}

/// docs/api.md's route table: each row's route, function and summary.
fn route_table() -> String {
    let mut out = String::from("| Route | Function | What it does |\n|---|---|---|\n");
    for route in ROUTES {
        let summary = route.summary.trim_end_matches('.');
        let summary = summary
            .chars()
            .next()
            .map_or(String::new(), |c| c.to_uppercase().collect::<String>() + &summary[c.len_utf8()..]);
        out.push_str(&format!("| `{} {}` | `{}` | {summary} |\n", route.method, route.path, route.function));
    }
    out.push_str(&format!("| any other path or method | `{FALLBACK_FUNCTION}` | 404 / 405 in the envelope |\n"));
    out
}

/// docs/security-model.md's policy table: `policy::TABLE`, row for row.
fn policy_table() -> String {
    let mut out = String::from("| Action | Routes | Needs |\n|---|---|---|\n");
    for (action, routes, needs) in mfa_shared::policy::TABLE {
        out.push_str(&format!("| {} | {routes} | {} |\n", action.label(), needs.describe()));
    }
    out
}

/// The template's `Methods` parameter allows a comma-separated list of exactly the
/// methods `MfaType::ALL` names.
fn with_methods_pattern(text: &str) -> Result<String, String> {
    let start = text.find("\n  Methods:\n").ok_or("template.yaml has no Methods parameter")?;
    let line =
        start + text[start..].find("    AllowedPattern: ").ok_or("the Methods parameter has no AllowedPattern")?;
    let end = line + text[line..].find('\n').ok_or("an unfinished AllowedPattern line")?;
    let names: Vec<&str> = mfa_shared::model::MfaType::ALL.iter().map(|m| m.as_str()).collect();
    let one = format!("({})", names.join("|"));
    Ok(format!("{}    AllowedPattern: \"^{one}(,{one})*$\"{}", &text[..line], &text[end..]))
}

/// The Lambda authorizer's function.
const AUTHORIZER_FUNCTION: &str = "mfa-authorizer";

/// The authorizer's example event: what API Gateway (HTTP API, payload 2.0) sends it for
/// the example route behind it, the token's place marked as in the routes' events.
fn authorizer_event() -> String {
    r#"{
  "version": "2.0",
  "type": "REQUEST",
  "routeArn": "arn:aws:execute-api:us-east-1:123456789012:abc123/$default/GET/example/protected",
  "identitySource": [
    "Bearer REPLACE_WITH_TOKEN"
  ],
  "routeKey": "GET /example/protected",
  "rawPath": "/example/protected",
  "rawQueryString": "",
  "headers": {
    "accept": "application/json",
    "authorization": "Bearer REPLACE_WITH_TOKEN",
    "host": "abc123.execute-api.us-east-1.amazonaws.com",
    "user-agent": "curl/8.5.0"
  },
  "requestContext": {
    "accountId": "123456789012",
    "apiId": "abc123",
    "domainName": "abc123.execute-api.us-east-1.amazonaws.com",
    "domainPrefix": "abc123",
    "http": {
      "method": "GET",
      "path": "/example/protected",
      "protocol": "HTTP/1.1",
      "sourceIp": "192.0.2.10",
      "userAgent": "curl/8.5.0"
    },
    "requestId": "c6af9ac6-7b61-11e6-9a41-93e8deadbeef",
    "routeKey": "GET /example/protected",
    "stage": "$default",
    "time": "22/Nov/2026:21:00:00 +0000",
    "timeEpoch": 1795381200000
  }
}
"#
    .to_string()
}

/// A JSON string literal.
fn quoted(text: &str) -> String {
    serde_json::Value::String(text.to_string()).to_string()
}

/// A flat JSON object of strings at `indent`, its keys in order.
fn object(pairs: &[(String, String)], indent: &str) -> String {
    let lines: Vec<String> = pairs.iter().map(|(k, v)| format!("{indent}  {}: {}", quoted(k), quoted(v))).collect();
    format!("{{\n{}\n{indent}}}", lines.join(",\n"))
}

/// The string values of `kept[field]`, an object, in its order (as serde_json reads it).
fn kept_pairs(kept: Option<&serde_json::Value>, field: &str) -> Option<Vec<(String, String)>> {
    let map = kept?.get(field)?.as_object()?;
    Some(map.iter().map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string())).collect())
}

/// A route's example event (API Gateway HTTP API, payload 2.0): the token's place for its
/// kind of authentication, and the example body, path parameters and query of `kept`.
fn event(route: &Route, kept: Option<&serde_json::Value>) -> String {
    use mfa_shared::routes::AuthKind;
    let names: Vec<&str> =
        route.path.split('/').filter_map(|s| s.strip_prefix('{').and_then(|s| s.strip_suffix('}'))).collect();
    let parameters: Vec<(String, String)> = kept_pairs(kept, "pathParameters")
        .unwrap_or_else(|| names.iter().map(|n| (n.to_string(), "fExampleFactor01".to_string())).collect());
    let mut raw_path = route.path.to_string();
    for (name, value) in &parameters {
        raw_path = raw_path.replace(&format!("{{{name}}}"), value);
    }
    let query = kept_pairs(kept, "queryStringParameters");
    let raw_query = query
        .as_ref()
        .map_or(String::new(), |q| q.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("&"));
    let body = kept.and_then(|k| k.get("body")).and_then(|b| b.as_str()).map(str::to_string);
    let mut headers = vec![("accept".to_string(), "application/json".to_string())];
    if matches!(route.auth, AuthKind::Either | AuthKind::Platform) {
        headers.push(("authorization".into(), "Bearer REPLACE_WITH_TOKEN".into()));
    }
    // Frontegg's client sends a JSON content type with every POST, a body or none.
    if body.is_some() || (route.is_frontegg() && route.method == "POST") {
        headers.push(("content-type".into(), "application/json".into()));
    }
    headers.push(("host".into(), "abc123.execute-api.us-east-1.amazonaws.com".into()));
    headers.push(("user-agent".into(), "curl/8.5.0".into()));
    let route_key = format!("{} {}", route.method, route.path);
    let mut out = format!(
        r#"{{
  "version": "2.0",
  "routeKey": {route_key},
  "rawPath": {raw_path},
  "rawQueryString": {raw_query},
  "headers": {headers},
  "requestContext": {{
    "accountId": "123456789012",
    "apiId": "abc123",
    "domainName": "abc123.execute-api.us-east-1.amazonaws.com",
    "domainPrefix": "abc123",
    "http": {{
      "method": {method},
      "path": {raw_path},
      "protocol": "HTTP/1.1",
      "sourceIp": "192.0.2.10",
      "userAgent": "curl/8.5.0"
    }},
    "requestId": "c6af9ac6-7b61-11e6-9a41-93e8deadbeef",
    "routeKey": {route_key},
    "stage": "$default",
    "time": "22/Nov/2026:21:00:00 +0000",
    "timeEpoch": 1795381200000
  }},
  "isBase64Encoded": false"#,
        route_key = quoted(&route_key),
        raw_path = quoted(&raw_path),
        raw_query = quoted(&raw_query),
        headers = object(&headers, "  "),
        method = quoted(route.method),
    );
    if let Some(query) = &query {
        out.push_str(&format!(",\n  \"queryStringParameters\": {}", object(query, "  ")));
    }
    if !parameters.is_empty() {
        out.push_str(&format!(",\n  \"pathParameters\": {}", object(&parameters, "  ")));
    }
    if let Some(body) = &body {
        out.push_str(&format!(",\n  \"body\": {}", quoted(body)));
    }
    out.push_str("\n}\n");
    out
}

/// The test kit's `dispatch`: each function's handler, as its entry point names it,
/// answered through the same edge.
fn dispatch() -> String {
    let mut out = String::from(
        "//! Each function's handler by the function's name, as its entry point names it: written
//! by `mfa-local gen` from the route table (`shared/src/routes.rs`).

use lambda_http::{Body, Request, Response};
use mfa_shared::lambda::Handler;
use mfa_shared::{App, edge, frontegg, handlers, routes};

/// Answers `req` as `function`'s binary would: through the edge (`edge::answer`) with its
/// handler (`jwks`: the document `mfa-jwks` builds at cold start); `None` for a function no
/// row names.
#[rustfmt::skip]
pub async fn dispatch(app: &App, jwks: &str, function: &str, req: Request) -> Option<Response<Body>> {
    let handler: Handler = match function {
",
    );
    for route in ROUTES {
        if hand_kept_main(route) {
            out.push_str(&format!(
                "        \"{}\" => return Some({}(jwks, req).await),\n",
                route.function, route.handler
            ));
        } else {
            out.push_str(&format!(
                "        \"{}\" => |call| Box::pin(edge::run(call, {})),\n",
                route.function, route.handler
            ));
        }
    }
    out.push_str("        _ => return None,\n    };\n    Some(edge::answer(app, routes::route(function)?, req, handler).await)\n}\n");
    out.push_str(
        "
/// The body `function`'s handler reads, as a JSON Schema derived from its input's type
/// (`edge::contract`), and whether one is required; `None` for a function no row names.
#[rustfmt::skip]
pub fn request_schema(function: &str) -> Option<Option<(serde_json::Value, bool)>> {
    Some(match function {
",
    );
    for route in ROUTES {
        let schema = match hand_kept_main(route) {
            true => "None".to_string(),
            false => format!("edge::contract::request({})", route.handler),
        };
        out.push_str(&format!("        \"{}\" => {schema},\n", route.function));
    }
    out.push_str("        _ => return None,\n    })\n}\n");
    out
}

/// The router: each path to its function (whatever the method); a path several routes
/// share names each method and sends the other methods to the fallback. Frontegg's paths
/// also under its client's prefix; every other path to the fallback.
fn router() -> String {
    let mut out = String::from(ROUTER_HEADER);
    let mut seen: Vec<&str> = Vec::new();
    let mut frontegg_begun = false;
    for route in ROUTES {
        if seen.contains(&route.path) {
            continue;
        }
        seen.push(route.path);
        if route.is_frontegg() && !frontegg_begun {
            out.push_str("# Frontegg's routes, at their documented paths and where Frontegg's client calls them.\n");
            frontegg_begun = true;
        }
        let sharing: Vec<&Route> = ROUTES.iter().filter(|r| r.path == route.path).collect();
        let target = if sharing.len() == 1 {
            format!("\"{}\"", route.function)
        } else {
            let mut entries: Vec<String> = sharing
                .iter()
                .map(|r| format!("  {{ method = \"{}\", function = \"{}\" }},", r.method, r.function))
                .collect();
            for method in METHODS.iter().filter(|m| !sharing.iter().any(|r| r.method == **m)) {
                entries.push(format!("  {{ method = \"{method}\", function = \"{FALLBACK_FUNCTION}\" }},"));
            }
            format!("[\n{}\n]", entries.join("\n"))
        };
        for path in route.paths() {
            out.push_str(&format!("\"{path}\" = {target}\n"));
        }
    }
    out.push_str(&format!("\"/\" = \"{FALLBACK_FUNCTION}\"\n\"/{{*path}}\" = \"{FALLBACK_FUNCTION}\"\n"));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_route_has_a_package_and_the_router_names_each_path() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let files = files(&root).unwrap();
        for route in ROUTES {
            assert!(files.iter().any(|(p, _)| p.ends_with(format!("functions/{}/Cargo.toml", route.function))));
        }
        let router = router();
        for route in ROUTES {
            for path in route.paths() {
                assert!(router.contains(&format!("\"{path}\" = ")), "{path}");
            }
        }
        for (_, text) in files.iter().filter(|(p, _)| p.ends_with("main.rs")) {
            assert!(text.lines().all(|l| l.len() <= MAX_WIDTH || l.starts_with("//!")), "{text}");
        }
    }
}
