//! `template.yaml` deploys the users table the code expects: the same keys, attributes and index as
//! `upgrade` creates, plus what production needs (backups, encryption, deletion protection). And each function may
//! make the DynamoDB calls its code makes, on the table or index it makes them on, and nothing else.

use std::collections::BTreeSet;

use aws_sdk_dynamodb::types::{AttributeDefinition, GlobalSecondaryIndex, KeySchemaElement};
use serde_json::{Value, json};
use serde_yaml_ng::Value as Yaml;
use vimcar::users::dynamodb::{LISTING_INDEX, table_design};

const TEMPLATE: &str = include_str!("../template.yaml");

fn template() -> Yaml {
    serde_yaml_ng::from_str(TEMPLATE).expect("template.yaml is YAML")
}

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

/// What a statement grants, in words: (action, resource, partition key patterns it is limited to).
type Grant = (String, String, Vec<String>);

/// `!GetAtt UsersTable.Arn` is "table"; `!Sub ${UsersTable.Arn}/index/NAME` is "index NAME". Anything else is a
/// resource no function should need.
fn resource_name(resource: &Yaml) -> String {
    let Yaml::Tagged(tagged) = resource else {
        panic!("a resource that is not the users table: {resource:?}");
    };
    match (tagged.tag.to_string().as_str(), tagged.value.as_str()) {
        ("!GetAtt", Some("UsersTable.Arn")) => "table".to_owned(),
        ("!Sub", Some(arn)) => match arn.strip_prefix("${UsersTable.Arn}/index/") {
            Some(index) => format!("index {index}"),
            None => panic!("a resource that is not the users table: {arn}"),
        },
        _ => panic!("a resource that is not the users table: {resource:?}"),
    }
}

/// Every grant in a function's `Policies`, which must be written-out statements: SAM's policy templates
/// (`DynamoDBReadPolicy`, `DynamoDBCrudPolicy`, ...) grant whole groups of actions on the whole table.
fn grants(function: &Yaml) -> BTreeSet<Grant> {
    let mut grants = BTreeSet::new();
    let policies = function["Properties"]["Policies"]
        .as_sequence()
        .expect("each function lists its Policies");
    for policy in policies {
        let statements = policy["Statement"]
            .as_sequence()
            .unwrap_or_else(|| panic!("a policy that is not a list of statements: {policy:?}"));
        for statement in statements {
            assert_eq!(statement["Effect"].as_str(), Some("Allow"));
            let actions: Vec<&str> = match &statement["Action"] {
                Yaml::String(action) => vec![action.as_str()],
                Yaml::Sequence(actions) => actions.iter().filter_map(Yaml::as_str).collect(),
                other => panic!("an Action that is not a name or a list: {other:?}"),
            };
            let resource = resource_name(&statement["Resource"]);
            let leading_keys: Vec<String> =
                match &statement["Condition"]["ForAllValues:StringLike"]["dynamodb:LeadingKeys"] {
                    Yaml::Null => vec![],
                    Yaml::Sequence(keys) => keys
                        .iter()
                        .map(|key| key.as_str().expect("a key pattern").to_owned())
                        .collect(),
                    other => panic!("LeadingKeys is not a list: {other:?}"),
                };
            for action in actions {
                grants.insert((action.to_owned(), resource.clone(), leading_keys.clone()));
            }
        }
    }
    grants
}

fn function(id: &str) -> Yaml {
    let template = template();
    let function = template["Resources"][id].clone();
    assert_eq!(
        function["Type"].as_str(),
        Some("AWS::Serverless::Function"),
        "{id}"
    );
    function
}

fn grant(action: &str, resource: &str, leading_keys: &[&str]) -> Grant {
    (
        action.to_owned(),
        resource.to_owned(),
        leading_keys.iter().map(|key| key.to_string()).collect(),
    )
}

/// `UserRepository::insert`: one TransactWriteItems of three conditional Puts (user, username, email). IAM checks
/// each Put as `dynamodb:PutItem`; the transaction needs nothing else.
#[test]
fn register_may_only_put_items() {
    assert_eq!(
        grants(&function("RegisterFunction")),
        BTreeSet::from([grant("dynamodb:PutItem", "table", &[])])
    );
}

/// `UserRepository::login_failures` and `credentials`: consistent GetItems of `LOGIN#<name>` and `USERNAME#<name>`;
/// `record_login_failure`: an UpdateItem (`ADD`) of `LOGIN#<name>`, or a PutItem over an expired record;
/// `clear_login_failures`: a DeleteItem of it; `set_password` (after a login with an outdated hash): an UpdateItem of
/// `USERNAME#<name>`.
#[test]
fn auth_may_only_touch_login_records_and_read_and_rehash_username_items() {
    assert_eq!(
        grants(&function("AuthFunction")),
        BTreeSet::from([
            grant("dynamodb:GetItem", "table", &["LOGIN#*", "USERNAME#*"]),
            grant("dynamodb:UpdateItem", "table", &["LOGIN#*"]),
            grant("dynamodb:PutItem", "table", &["LOGIN#*"]),
            grant("dynamodb:DeleteItem", "table", &["LOGIN#*"]),
            grant("dynamodb:UpdateItem", "table", &["USERNAME#*"]),
        ])
    );
}

/// `UserRepository::get` (the token's user still exists): a consistent GetItem of `USER#<id>`;
/// `UserRepository::list`: a Query of the listing index.
#[test]
fn list_users_may_only_read_user_items_and_query_the_listing_index() {
    assert_eq!(
        grants(&function("ListUsersFunction")),
        BTreeSet::from([
            grant("dynamodb:GetItem", "table", &["USER#*"]),
            grant("dynamodb:Query", &format!("index {LISTING_INDEX}"), &[]),
        ])
    );
}
