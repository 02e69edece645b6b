//! The table the local stack created has the key schema and TTL attribute that
//! `template.yaml` declares — read here straight from the template, not from the helper
//! that created the table.

use aws_sdk_dynamodb::types::TimeToLiveStatus;
use mfa_tests::{repo_root, stack};
use serde_norway::Value;

#[tokio::test]
async fn local_table_matches_the_template() {
    let text = std::fs::read_to_string(repo_root().join("template.yaml")).unwrap();
    let doc: Value = serde_norway::from_str(&text).unwrap();
    let props = &doc["Resources"]["MfaTable"]["Properties"];
    let declared_keys: Vec<(String, String)> = props["KeySchema"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|k| (k["AttributeName"].as_str().unwrap().into(), k["KeyType"].as_str().unwrap().into()))
        .collect();
    let declared_types: Vec<(String, String)> = props["AttributeDefinitions"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|k| (k["AttributeName"].as_str().unwrap().into(), k["AttributeType"].as_str().unwrap().into()))
        .collect();
    let declared_ttl = props["TimeToLiveSpecification"]["AttributeName"].as_str().unwrap();
    assert_eq!(declared_ttl, mfa_shared::store::TTL_ATTRIBUTE, "the code's TTL attribute is the template's");

    let sdk = aws_config::load_from_env().await;
    let client = aws_sdk_dynamodb::Client::new(&sdk);
    let table = client.describe_table().table_name(&stack().table).send().await.unwrap();
    let table = table.table().unwrap();
    let actual_keys: Vec<(String, String)> = table
        .key_schema()
        .iter()
        .map(|k| (k.attribute_name().to_string(), k.key_type().as_str().to_string()))
        .collect();
    let mut actual_types: Vec<(String, String)> = table
        .attribute_definitions()
        .iter()
        .map(|a| (a.attribute_name().to_string(), a.attribute_type().as_str().to_string()))
        .collect();
    actual_types.sort();
    let mut declared_types_sorted = declared_types.clone();
    declared_types_sorted.sort();
    assert_eq!(actual_keys, declared_keys);
    assert_eq!(actual_types, declared_types_sorted);

    let ttl = client.describe_time_to_live().table_name(&stack().table).send().await.unwrap();
    let ttl = ttl.time_to_live_description().unwrap();
    assert_eq!(ttl.attribute_name(), Some(declared_ttl));
    assert_eq!(ttl.time_to_live_status(), Some(&TimeToLiveStatus::Enabled));
}
