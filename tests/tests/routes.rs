//! The route list is written once, in `shared::routes::ROUTES`; this test fails when
//! `functions/`, `template.yaml`, the watch router in `Cargo.toml`, `events/`,
//! `openapi.yaml` or the README disagree with it.

use std::collections::BTreeSet;

use mfa_shared::routes::{FALLBACK_FUNCTION, ROUTES};
use mfa_tests::repo_root;
use serde_norway::Value as Yaml;

type Route = (String, String, String);

fn expected() -> BTreeSet<Route> {
    ROUTES.iter().map(|(m, p, f)| (m.to_string(), p.to_string(), f.to_string())).collect()
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
    let mut wanted: BTreeSet<String> = ROUTES.iter().map(|(_, _, f)| f.to_string()).collect();
    wanted.insert(FALLBACK_FUNCTION.to_string());
    assert_eq!(found, wanted);
}

#[test]
fn watch_router_matches() {
    let manifest: toml::Table = read("Cargo.toml").parse().unwrap();
    let router = manifest["workspace"]["metadata"]["lambda"]["watch"]["router"].as_table().expect("a router table");
    let mut found = BTreeSet::new();
    for (path, function) in router {
        let function = function.as_str().expect("one function per path");
        if function == FALLBACK_FUNCTION {
            assert!(path == "/" || path == "/{*path}", "the fallback serves only the catch-all paths, not {path}");
            continue;
        }
        let method = ROUTES.iter().find(|(_, p, _)| p == path).map(|(m, _, _)| m.to_string()).unwrap_or_default();
        found.insert((method, path.clone(), function.to_string()));
    }
    assert!(router.contains_key("/{*path}"), "unknown paths go to the fallback");
    assert_eq!(found, expected());
}

#[test]
fn template_matches() {
    let doc: Yaml = serde_norway::from_str(&read("template.yaml")).unwrap();
    let mut found = BTreeSet::new();
    let mut fallback = false;
    for (_, resource) in doc["Resources"].as_mapping().unwrap() {
        if resource["Type"].as_str() != Some("AWS::Serverless::Function") {
            continue;
        }
        let binary = resource["Metadata"]["BuildProperties"]["Binary"].as_str().expect("a Binary").to_string();
        assert_eq!(resource["Metadata"]["BuildMethod"].as_str(), Some("rust-cargolambda"), "{binary}");
        let events = resource["Properties"]["Events"].as_mapping().expect("events");
        assert_eq!(events.len(), 1, "{binary}: one route per function");
        let props = &events.values().next().unwrap()["Properties"];
        let (method, path) = (props["Method"].as_str().unwrap(), props["Path"].as_str().unwrap());
        if binary == FALLBACK_FUNCTION {
            assert_eq!((method, path), ("ANY", "$default"));
            fallback = true;
        } else {
            found.insert((method.to_string(), path.to_string(), binary));
        }
    }
    assert!(fallback, "the template has the fallback function");
    assert_eq!(found, expected());
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
        let (method, path) = route_key.split_once(' ').unwrap();
        assert_eq!(event["rawPath"].as_str(), Some(path), "{name}");
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
        for (method, _) in item.as_mapping().unwrap() {
            let (path, method) = (path.as_str().unwrap(), method.as_str().unwrap().to_uppercase());
            let function = ROUTES.iter().find(|(m, p, _)| *p == path && *m == method).map(|(_, _, f)| f.to_string());
            found.insert((method, path.to_string(), function.unwrap_or_else(|| "(not in ROUTES)".into())));
        }
    }
    assert_eq!(found, expected());
}

#[test]
fn readme_lists_every_route() {
    let readme = read("README.md");
    for (method, path, function) in ROUTES {
        let row = format!("| `{method} {path}` | `{function}` |");
        assert!(readme.contains(&row), "README's route table lacks {row}");
    }
}
