//! The contract derived from the code: every operation's request body in `openapi.yaml` is
//! the one its handler reads, as the handler's input type says (`edge::contract`: the
//! types' JSON Schemas, through schemars): the same properties, the same required ones,
//! each of the same JSON type and, for a closed set of names, the same names; and a body
//! required exactly where the handler requires one. A field added to an input type, made
//! required, or retyped fails here until the document says so too.

use std::collections::BTreeSet;

use mfa_shared::routes::{AuthKind, ROUTES};
use mfa_tests::repo_root;
use serde_json::Value;

fn openapi() -> Value {
    let text = std::fs::read_to_string(repo_root().join("openapi.yaml")).unwrap();
    let yaml: serde_norway::Value = serde_norway::from_str(&text).unwrap();
    serde_json::to_value(yaml).unwrap()
}

/// `schema` with a `$ref` to the document's components followed.
fn resolved<'a>(doc: &'a Value, schema: &'a Value) -> &'a Value {
    match schema.get("$ref").and_then(Value::as_str) {
        Some(reference) => {
            let path = reference.strip_prefix("#/").expect("a local reference");
            resolved(doc, path.split('/').fold(doc, |node, key| &node[key]))
        }
        None => schema,
    }
}

/// The JSON types a schema admits (`any` for one that names none), and its closed set of
/// string values when it has one.
fn kinds(doc: &Value, schema: &Value) -> (BTreeSet<String>, Option<BTreeSet<String>>) {
    let schema = resolved(doc, schema);
    let mut types = BTreeSet::new();
    let mut values: Option<BTreeSet<String>> = None;
    let admit = |more: Option<BTreeSet<String>>, values: &mut Option<BTreeSet<String>>| {
        if let Some(more) = more {
            values.get_or_insert_with(BTreeSet::new).extend(more);
        }
    };
    match &schema["type"] {
        Value::String(t) => {
            types.insert(t.clone());
        }
        Value::Array(ts) => types.extend(ts.iter().filter_map(Value::as_str).map(str::to_string)),
        _ => {}
    }
    if let Some(list) = schema["enum"].as_array() {
        types.insert("string".into());
        admit(Some(list.iter().filter_map(Value::as_str).map(str::to_string).collect()), &mut values);
    }
    if let Some(value) = schema["const"].as_str() {
        types.insert("string".into());
        admit(Some(BTreeSet::from([value.to_string()])), &mut values);
    }
    for arm in ["anyOf", "oneOf"].iter().filter_map(|k| schema[*k].as_array()).flatten() {
        let (more, closed) = kinds(doc, arm);
        types.extend(more);
        admit(closed, &mut values);
    }
    types.remove("null");
    if types.is_empty() {
        types.insert("any".into());
    }
    (types, values)
}

fn properties(doc: &Value, schema: &Value) -> Vec<(String, Value)> {
    let schema = resolved(doc, schema);
    let mut out: Vec<(String, Value)> = schema["properties"]
        .as_object()
        .map(|p| p.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
        .unwrap_or_default();
    for part in schema["allOf"].as_array().into_iter().flatten() {
        out.extend(properties(doc, part));
    }
    out
}

fn required(doc: &Value, schema: &Value) -> BTreeSet<String> {
    let schema = resolved(doc, schema);
    let mut out: BTreeSet<String> =
        schema["required"].as_array().into_iter().flatten().filter_map(Value::as_str).map(str::to_string).collect();
    for part in schema["allOf"].as_array().into_iter().flatten() {
        out.extend(required(doc, part));
    }
    out
}

#[test]
fn every_request_body_is_the_one_its_handler_reads() {
    let doc = openapi();
    let mut problems = Vec::new();
    for route in ROUTES {
        let name = format!("{} {}", route.method, route.path);
        let code = mfa_tests::dispatch::request_schema(route.function).expect("every row has a handler");
        let operation = &doc["paths"][route.path][route.method.to_lowercase()];
        assert!(operation.is_object(), "openapi.yaml has {name}");
        let body = resolved(&doc, &operation["requestBody"]);
        let documented = &body["content"]["application/json"]["schema"];
        let documented_required = body["required"].as_bool().unwrap_or(false);
        // The pre-login routes' `mfaToken` is read by the edge (the caller), not the handler.
        let edge_reads = |field: &str| route.auth == AuthKind::MfaToken && field == "mfaToken";
        let Some((schema, body_required)) = code else {
            let extra: Vec<String> =
                properties(&doc, documented).into_iter().map(|(k, _)| k).filter(|k| !edge_reads(k)).collect();
            if !extra.is_empty() || documented_required {
                problems.push(format!("{name}: the handler reads no body; the document describes {extra:?}"));
            }
            continue;
        };
        if body_required != documented_required {
            problems.push(format!("{name}: a body is required: code {body_required}, document {documented_required}"));
        }
        let ours: Vec<(String, Value)> = properties(&doc, &schema);
        let theirs: Vec<(String, Value)> =
            properties(&doc, documented).into_iter().filter(|(k, _)| !edge_reads(k)).collect();
        let names = |list: &[(String, Value)]| list.iter().map(|(k, _)| k.clone()).collect::<BTreeSet<_>>();
        if names(&ours) != names(&theirs) {
            problems.push(format!("{name}: properties: code {:?}, document {:?}", names(&ours), names(&theirs)));
        }
        let mut doc_required = required(&doc, documented);
        doc_required.retain(|k| !edge_reads(k));
        let code_required = required(&doc, &schema);
        if code_required != doc_required {
            problems.push(format!("{name}: required: code {code_required:?}, document {doc_required:?}"));
        }
        for (field, ours) in &ours {
            let Some((_, theirs)) = theirs.iter().find(|(k, _)| k == field) else { continue };
            let ((our_types, our_values), (their_types, their_values)) = (kinds(&doc, ours), kinds(&doc, theirs));
            // A field the code takes as any JSON is checked by the handler; the document may
            // say what it must be.
            if !our_types.contains("any") && our_types != their_types {
                problems
                    .push(format!("{name}: `{field}` is {our_types:?} in the code, {their_types:?} in the document"));
            }
            if our_values.is_some() && our_values != their_values {
                problems.push(format!(
                    "{name}: `{field}` takes {our_values:?} in the code, {their_values:?} in the document"
                ));
            }
        }
    }
    assert!(problems.is_empty(), "openapi.yaml's request bodies differ from the handlers':\n{}", problems.join("\n"));
}
