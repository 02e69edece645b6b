//! The route list is written once, in `shared::routes::ROUTES`; this test fails when
//! `functions/` (and each `main.rs`'s use of its row), `template.yaml` (routes, each
//! function's environment and permissions), the watch router in `Cargo.toml`, `events/`,
//! `openapi.yaml` or the docs disagree with it.

use std::collections::BTreeSet;

use mfa_shared::routes::{FALLBACK_FUNCTION, ROUTES, route};
use mfa_shared::{authorizer, outbox};
use mfa_tests::repo_root;
use serde_norway::Value as Yaml;

type Route = (String, String, String);

fn expected() -> BTreeSet<Route> {
    ROUTES.iter().map(|r| (r.method.to_string(), r.path.to_string(), r.function.to_string())).collect()
}

/// Every path each route is served at (a Frontegg route's also under `/frontegg/identity`).
fn served() -> BTreeSet<Route> {
    ROUTES
        .iter()
        .flat_map(|r| r.paths().into_iter().map(|p| (r.method.to_string(), p, r.function.to_string())))
        .collect()
}

fn read(path: &str) -> String {
    std::fs::read_to_string(repo_root().join(path)).unwrap_or_else(|e| panic!("reading {path}: {e}"))
}

#[test]
fn function_packages_match() {
    let mut found = BTreeSet::new();
    for entry in std::fs::read_dir(repo_root().join("functions")).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        let manifest: toml::Table = read(&format!("functions/{name}/Cargo.toml")).parse().unwrap();
        let bins = manifest["bin"].as_array().expect("a [[bin]]");
        assert_eq!(bins.len(), 1, "{name}: one binary per package");
        assert_eq!(bins[0]["name"].as_str(), Some(name.as_str()), "{name}: the binary is named after its package");
        found.insert(name);
    }
    let mut wanted: BTreeSet<String> = ROUTES.iter().map(|r| r.function.to_string()).collect();
    wanted.insert(FALLBACK_FUNCTION.to_string());
    wanted.extend([authorizer::FUNCTION.to_string(), authorizer::EXAMPLE_FUNCTION.to_string()]);
    wanted.insert(outbox::FUNCTION.to_string());
    assert_eq!(found, wanted);
}

#[test]
fn each_function_builds_its_app_from_its_row() {
    for r in ROUTES {
        let main = read(&format!("functions/{}/src/main.rs", r.function));
        // `lambda::function` builds the app from the function's row (`App::for_function`).
        let from_row = main.contains(&format!("lambda::function(\"{}\",", r.function));
        let reads_keys = r.needs.public_keys && main.contains("MFA_TOKEN_PUBLIC_KEYS");
        assert!(from_row || reads_keys, "{}: main.rs takes its needs from the route table", r.function);
        assert!(!main.contains("Needs {"), "{}: no needs written by hand", r.function);
    }
}

/// The function binary a template function deploys: its `CodeUri` is the zip that
/// `scripts/package`'s one workspace build writes, `target/lambda/<binary>/bootstrap.zip`.
fn packaged_binary(resource: &Yaml) -> String {
    let uri = resource["Properties"]["CodeUri"].as_str().expect("a CodeUri");
    let binary = uri
        .strip_prefix("target/lambda/")
        .and_then(|rest| rest.strip_suffix("/bootstrap.zip"))
        .unwrap_or_else(|| panic!("{uri} is not target/lambda/<binary>/bootstrap.zip"));
    assert!(repo_root().join("functions").join(binary).is_dir(), "{uri}: no such function");
    binary.to_string()
}

/// Each function in `template.yaml` gets exactly the environment its row's needs read,
/// the DynamoDB actions its row lists, SES `SendEmail` only when it sends mail and SNS
/// `Publish` only when it texts. (The key that encrypts the environments holding secrets,
/// the SNS deny and the DynamoDB key conditions: `template.rs`, after the SAM transform.)
#[test]
fn template_gives_each_function_its_environment_and_permissions() {
    let doc: Yaml = serde_norway::from_str(&read("template.yaml")).unwrap();
    let mut seen = BTreeSet::new();
    let mut authorizer_seen = false;
    let mut writer_seen = false;
    for (_, resource) in doc["Resources"].as_mapping().unwrap() {
        if resource["Type"].as_str() != Some("AWS::Serverless::Function") {
            continue;
        }
        let binary = packaged_binary(resource);
        let props = &resource["Properties"];
        let env: BTreeSet<String> = props["Environment"]["Variables"]
            .as_mapping()
            .map(|m| m.keys().map(|k| k.as_str().unwrap().to_string()).collect())
            .unwrap_or_default();
        let mut dynamodb = BTreeSet::new();
        let mut ses = false;
        let mut sns = false;
        let mut sqs = false;
        for policy in props["Policies"].as_sequence().map(Vec::as_slice).unwrap_or_default() {
            for statement in policy["Statement"].as_sequence().unwrap() {
                // What it may do; the denies beside the grants (texts never to a topic)
                // and the grants' conditions are checked on the deployed form (template.rs).
                if statement["Effect"].as_str() != Some("Allow") {
                    assert_eq!(statement["Effect"].as_str(), Some("Deny"), "{binary}: an Effect of {statement:?}");
                    continue;
                }
                let actions: Vec<String> = match &statement["Action"] {
                    Yaml::String(a) => vec![a.clone()],
                    Yaml::Sequence(list) => list.iter().map(|a| a.as_str().unwrap().to_string()).collect(),
                    other => panic!("{binary}: an Action of {other:?}"),
                };
                for action in actions {
                    if action == "ses:SendEmail" {
                        ses = true;
                    } else if action == "sns:Publish" {
                        sns = true;
                    } else if action == "sqs:SendMessage" {
                        sqs = true;
                    } else {
                        assert!(action.starts_with("dynamodb:"), "{binary}: unexpected action {action}");
                        dynamodb.insert(action);
                    }
                }
            }
        }
        if binary == FALLBACK_FUNCTION || binary == authorizer::EXAMPLE_FUNCTION {
            assert!(env.is_empty() && dynamodb.is_empty() && !ses && !sns, "{binary} needs nothing");
            continue;
        }
        if binary == outbox::FUNCTION {
            let wanted: BTreeSet<String> = outbox::NEEDS.environment().into_iter().map(String::from).collect();
            assert_eq!(env, wanted, "{binary}: environment");
            let wanted_ddb: BTreeSet<String> = outbox::DYNAMODB.iter().map(|a| a.to_string()).collect();
            assert_eq!(dynamodb, wanted_ddb, "{binary}: DynamoDB actions");
            assert!(
                ses && !sns && sqs,
                "{binary}: mail (the notices), no texts; its failed batches to the dead-letter queue"
            );
            writer_seen = true;
            continue;
        }
        assert!(!sqs, "{binary}: no queue");
        if binary == authorizer::FUNCTION {
            let mut wanted: BTreeSet<String> = authorizer::NEEDS.environment().into_iter().map(String::from).collect();
            wanted.insert(authorizer::MAX_AGE_VARIABLE.to_string());
            assert_eq!(env, wanted, "{binary}: environment");
            let wanted_ddb: BTreeSet<String> = authorizer::DYNAMODB.iter().map(|a| a.to_string()).collect();
            assert_eq!(dynamodb, wanted_ddb, "{binary}: DynamoDB actions");
            assert!(!ses && !sns, "{binary}: no mail, no texts");
            authorizer_seen = true;
            continue;
        }
        let row = route(&binary).unwrap_or_else(|| panic!("{binary} is not in the route table"));
        let wanted_env: BTreeSet<String> = row.needs.environment().into_iter().map(String::from).collect();
        assert_eq!(env, wanted_env, "{binary}: environment");
        let wanted_ddb: BTreeSet<String> = row.dynamodb.iter().map(|a| a.to_string()).collect();
        assert_eq!(dynamodb, wanted_ddb, "{binary}: DynamoDB actions");
        assert_eq!(ses, row.needs.mail, "{binary}: ses:SendEmail");
        assert_eq!(sns, row.needs.sms, "{binary}: sns:Publish");
        seen.insert(binary);
    }
    assert_eq!(seen.len(), ROUTES.len(), "every route's function is in the template");
    assert!(authorizer_seen, "the template has the authorizer");
    assert!(writer_seen, "the template has the audit writer");
}

#[test]
fn watch_router_matches() {
    let manifest: toml::Table = read("Cargo.toml").parse().unwrap();
    let router = manifest["workspace"]["metadata"]["lambda"]["watch"]["router"].as_table().expect("a router table");
    let mut found = BTreeSet::new();
    for (path, entry) in router {
        if let Some(function) = entry.as_str() {
            // One function serves the path, whatever the method.
            if function == FALLBACK_FUNCTION {
                assert!(path == "/" || path == "/{*path}", "the fallback serves only the catch-all paths, not {path}");
                continue;
            }
            let routes: Vec<_> = ROUTES.iter().filter(|r| r.paths().contains(path)).collect();
            assert_eq!(routes.len(), 1, "{path}: a path several routes share names each method");
            found.insert((routes[0].method.to_string(), path.clone(), function.to_string()));
            continue;
        }
        // A path several routes share: each method named, every other one to the fallback.
        let mut methods = BTreeSet::new();
        for route in entry.as_array().expect("a function or a list of methods") {
            let method = route["method"].as_str().expect("a method").to_string();
            let function = route["function"].as_str().expect("a function").to_string();
            methods.insert(method.clone());
            if function != FALLBACK_FUNCTION {
                found.insert((method, path.clone(), function));
            }
        }
        for method in ["GET", "POST", "PUT", "PATCH", "DELETE"] {
            assert!(methods.contains(method), "{path}: {method} is routed (to the fallback, when no route takes it)");
        }
    }
    assert!(router.contains_key("/{*path}"), "unknown paths go to the fallback");
    assert_eq!(found, served());
}

#[test]
fn template_matches() {
    let doc: Yaml = serde_norway::from_str(&read("template.yaml")).unwrap();
    let mut found = BTreeSet::new();
    let mut fallback = false;
    let mut example = false;
    for (_, resource) in doc["Resources"].as_mapping().unwrap() {
        if resource["Type"].as_str() != Some("AWS::Serverless::Function") {
            continue;
        }
        let binary = packaged_binary(resource);
        assert!(resource["Metadata"].is_null(), "{binary}: no per-function `sam build`");
        if binary == authorizer::FUNCTION {
            assert!(resource["Properties"]["Events"].is_null(), "API Gateway invokes the authorizer: no route");
            continue;
        }
        if binary == outbox::FUNCTION {
            let events = resource["Properties"]["Events"].as_mapping().expect("events");
            let types: Vec<_> = events.values().map(|e| e["Type"].as_str().unwrap_or_default()).collect();
            assert_eq!(types, ["DynamoDB"], "the table's stream invokes the audit writer: no route");
            continue;
        }
        let events = resource["Properties"]["Events"].as_mapping().expect("events");
        let paths = route(&binary).map(|r| r.paths().len()).unwrap_or(1);
        assert_eq!(events.len(), paths, "{binary}: one route per function, at each of its paths");
        for event in events.values() {
            let props = &event["Properties"];
            let (method, path) = (props["Method"].as_str().unwrap(), props["Path"].as_str().unwrap());
            if binary == FALLBACK_FUNCTION {
                assert_eq!((method, path), ("ANY", "$default"));
                fallback = true;
            } else if binary == authorizer::EXAMPLE_FUNCTION {
                assert_eq!((method, path), ("GET", "/example/protected"));
                assert_eq!(props["Auth"]["Authorizer"].as_str(), Some("MfaAuthorizer"), "the example is protected");
                example = true;
            } else {
                found.insert((method.to_string(), path.to_string(), binary.clone()));
            }
        }
    }
    assert!(fallback, "the template has the fallback function");
    assert!(example, "the template has the example route behind the authorizer");
    assert_eq!(found, served());
}

#[test]
fn events_match() {
    let mut found = BTreeSet::new();
    for entry in std::fs::read_dir(repo_root().join("events")).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        let Some(function) = name.strip_suffix(".json") else { continue };
        let event: serde_json::Value = serde_json::from_str(&read(&format!("events/{name}"))).unwrap();
        let route_key = event["routeKey"].as_str().unwrap();
        if function == FALLBACK_FUNCTION {
            assert_eq!(route_key, "$default");
            continue;
        }
        if function == "mfa-authorizer" {
            // What API Gateway sends the authorizer for the example route behind it.
            assert_eq!((event["type"].as_str(), route_key), (Some("REQUEST"), "GET /example/protected"));
            continue;
        }
        let (method, path) = route_key.split_once(' ').unwrap();
        let raw = event["rawPath"].as_str().unwrap_or_default();
        assert!(mfa_shared::routes::matches(path, raw), "{name}: {raw} is a path of {path}");
        if path.contains('{') {
            let params = event["pathParameters"].as_object().expect("the path parameters of the event");
            assert!(!params.is_empty(), "{name}: the event carries its path parameters");
        }
        assert_eq!(event["requestContext"]["http"]["method"].as_str(), Some(method), "{name}");
        found.insert((method.to_string(), path.to_string(), function.to_string()));
    }
    assert_eq!(found, expected());
}

#[test]
fn openapi_matches() {
    let doc: Yaml = serde_norway::from_str(&read("openapi.yaml")).unwrap();
    assert_eq!(doc["openapi"].as_str(), Some("3.1.0"));
    let mut found = BTreeSet::new();
    for (path, item) in doc["paths"].as_mapping().unwrap() {
        for (method, _) in item.as_mapping().unwrap().iter().filter(|(k, _)| k.as_str() != Some("parameters")) {
            let (path, method) = (path.as_str().unwrap(), method.as_str().unwrap().to_uppercase());
            let function = ROUTES.iter().find(|r| r.path == path && r.method == method).map(|r| r.function.to_string());
            found.insert((method, path.to_string(), function.unwrap_or_else(|| "(not in ROUTES)".into())));
        }
    }
    assert_eq!(found, expected());
}

#[test]
fn the_api_doc_lists_every_route() {
    let doc = read("docs/api.md");
    for r in ROUTES {
        let row = format!("| `{} {}` | `{}` |", r.method, r.path, r.function);
        assert!(doc.contains(&row), "docs/api.md's route table lacks {row}");
    }
}

/// The policy table of `docs/security-model.md` is `policy::TABLE`, row for row.
#[test]
fn the_security_model_has_the_policy_table() {
    use mfa_shared::policy::TABLE;
    let doc = read("docs/security-model.md");
    let rows: Vec<String> = TABLE
        .iter()
        .map(|(action, routes, needs)| format!("| {} | {routes} | {} |", action.label(), needs.describe()))
        .collect();
    let block = rows.join("\n");
    assert!(
        doc.contains(&format!("|---|---|---|\n{block}\n")),
        "docs/security-model.md's policy table should read:\n{block}"
    );
}

/// Every Frontegg route is in the policy table, by its path after `/resources/`.
#[test]
fn every_frontegg_route_is_in_the_policy_table() {
    use mfa_shared::policy::TABLE;
    for r in ROUTES.iter().filter(|r| r.is_frontegg()) {
        let name = format!("`{}`", r.path.trim_start_matches("/resources/"));
        assert!(TABLE.iter().any(|(_, routes, _)| routes.contains(&name)), "{} is not in the policy table", r.path);
    }
}

/// The event catalogue of `docs/security-model.md` and `openapi.yaml`'s event kinds are
/// `EventKind::ALL`.
#[test]
fn the_docs_and_openapi_list_every_event_kind() {
    use mfa_shared::audit::EventKind;
    let catalogue = read("docs/security-model.md");
    let doc: Yaml = serde_norway::from_str(&read("openapi.yaml")).unwrap();
    let listed: BTreeSet<String> = doc["components"]["schemas"]["Event"]["properties"]["kind"]["enum"]
        .as_sequence()
        .expect("the event kind is an enum")
        .iter()
        .map(|c| c.as_str().unwrap().to_string())
        .collect();
    let mut kinds = BTreeSet::new();
    for kind in EventKind::ALL {
        let name = serde_json::to_value(kind).unwrap().as_str().unwrap().to_string();
        let row = format!("| `{name}` | {} |", kind.describe());
        assert!(catalogue.contains(&row), "docs/security-model.md's event catalogue lacks {row}");
        kinds.insert(name);
    }
    assert_eq!(listed, kinds);
}

/// `openapi.yaml`'s error schema lists exactly the codes of `Refusal`.
#[test]
fn openapi_lists_every_refusal_code() {
    let doc: Yaml = serde_norway::from_str(&read("openapi.yaml")).unwrap();
    let listed: BTreeSet<String> = doc["components"]["schemas"]["Error"]["properties"]["code"]["enum"]
        .as_sequence()
        .expect("the error code is an enum")
        .iter()
        .map(|c| c.as_str().unwrap().to_string())
        .collect();
    let codes: BTreeSet<String> = mfa_shared::Refusal::CODES.iter().map(|c| c.to_string()).collect();
    assert_eq!(listed, codes);
}
