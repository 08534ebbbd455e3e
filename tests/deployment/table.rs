//! `template.yaml` deploys the users table the code expects: the same keys, attributes and index as
//! `upgrade` creates, plus what production needs (backups, encryption, deletion protection). `permissions` checks
//! the functions' roles, `registry` their routes.

use aws_sdk_dynamodb::types::{AttributeDefinition, GlobalSecondaryIndex, KeySchemaElement};
use serde_json::{Value, json};
use serde_yaml_ng::Value as Yaml;
use vimcar::storage::dynamodb::table_design;

use super::template;

/// The one `AWS::DynamoDB::Table` resource's properties, as JSON.
fn table_properties() -> Value {
    let template = template();
    let tables: Vec<&Yaml> = template["Resources"]
        .as_mapping()
        .expect("Resources is a mapping")
        .values()
        .filter(|resource| resource["Type"].as_str() == Some("AWS::DynamoDB::Table"))
        .collect();
    assert_eq!(tables.len(), 1, "expected exactly one table");
    serde_yaml_ng::from_value(tables[0]["Properties"].clone()).expect("plain properties")
}

fn key_schema(keys: &[KeySchemaElement]) -> Value {
    keys.iter()
        .map(|key| json!({"AttributeName": key.attribute_name(), "KeyType": key.key_type().as_str()}))
        .collect()
}

/// Sorted by name: the order of definitions carries no meaning.
fn attribute_definitions(definitions: &[AttributeDefinition]) -> Value {
    let mut definitions: Vec<_> = definitions
        .iter()
        .map(|d| (d.attribute_name(), d.attribute_type().as_str()))
        .collect();
    definitions.sort();
    definitions
        .into_iter()
        .map(|(name, kind)| json!({"AttributeName": name, "AttributeType": kind}))
        .collect()
}

fn sorted_by_name(mut definitions: Vec<Value>) -> Value {
    definitions.sort_by_key(|d| d["AttributeName"].as_str().map(str::to_owned));
    Value::Array(definitions)
}

fn indexes(indexes: &[GlobalSecondaryIndex]) -> Value {
    indexes
        .iter()
        .map(|index| {
            let projection = index.projection().expect("every index has a projection");
            let mut projection_json = json!({
                "ProjectionType": projection.projection_type().expect("a projection type").as_str(),
            });
            if !projection.non_key_attributes().is_empty() {
                projection_json["NonKeyAttributes"] = json!(projection.non_key_attributes());
            }
            json!({
                "IndexName": index.index_name(),
                "KeySchema": key_schema(index.key_schema()),
                "Projection": projection_json,
            })
        })
        .collect()
}

#[test]
fn the_template_is_a_sam_template() {
    let template = template();
    assert_eq!(
        template["AWSTemplateFormatVersion"].as_str(),
        Some("2010-09-09")
    );
    assert_eq!(
        template["Transform"].as_str(),
        Some("AWS::Serverless-2016-10-31")
    );
}

#[test]
fn the_table_has_the_keys_and_index_the_code_creates() {
    let design = table_design();
    let properties = table_properties();
    assert_eq!(properties["KeySchema"], key_schema(&design.key_schema));
    let declared = properties["AttributeDefinitions"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(
        sorted_by_name(declared),
        attribute_definitions(&design.attribute_definitions)
    );
    assert_eq!(
        properties["GlobalSecondaryIndexes"],
        indexes(&design.global_secondary_indexes)
    );
    assert_eq!(properties["BillingMode"], design.billing_mode.as_str());
    assert_eq!(
        properties["DeletionProtectionEnabled"],
        design.deletion_protection
    );
    assert_eq!(
        properties["TimeToLiveSpecification"]["AttributeName"],
        design.ttl_attribute
    );
    assert_eq!(properties["TimeToLiveSpecification"]["Enabled"], true);
}

#[test]
fn the_table_is_backed_up_encrypted_and_protected() {
    let properties = table_properties();
    assert_eq!(
        properties["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"],
        true
    );
    assert_eq!(properties["SSESpecification"]["SSEEnabled"], true);
    assert_eq!(properties["DeletionProtectionEnabled"], true);
}
