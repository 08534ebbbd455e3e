//! The users table's design, defined once: `upgrade` creates it from here, and a test holds `template.yaml` to it.

use std::time::Duration;

use anyhow::{Context, anyhow};
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection,
    ProjectionType, ScalarAttributeType, TableStatus, TimeToLiveSpecification, TimeToLiveStatus,
};

use super::errors::sdk_error;
use super::items::{CREATED_AT, EMAIL, EXPIRES_AT, ID, LISTING, PK, USERNAME};
use crate::storage::StoreError;

/// The index that lists users in id order: partition key [`LISTING`], sort key [`ID`].
pub const LISTING_INDEX: &str = "listing-by-id";

/// How long `upgrade` waits for a new table to become usable (DynamoDB takes seconds to a minute).
const ACTIVE_TIMEOUT: Duration = Duration::from_secs(120);
const ACTIVE_POLL: Duration = Duration::from_millis(500);

/// What `upgrade` creates, in the SDK's terms. `template.yaml` declares the same table for deployments.
#[derive(Debug, Clone)]
pub struct TableDesign {
    pub key_schema: Vec<KeySchemaElement>,
    pub attribute_definitions: Vec<AttributeDefinition>,
    pub global_secondary_indexes: Vec<GlobalSecondaryIndex>,
    pub billing_mode: BillingMode,
    pub deletion_protection: bool,
    /// The number attribute DynamoDB's TTL deletes items by: failed-login records expire, nothing else does.
    pub ttl_attribute: &'static str,
}

/// The one design of the users table.
///
/// A single partition key `pk` holds three kinds of item: `USER#<id>` (the user), `USERNAME#<name>` and
/// `EMAIL#<address>` (reservations that make both fields unique). The listing index is sparse: only user items carry
/// its keys, and it copies only what a listing shows, never a password hash.
pub fn table_design() -> TableDesign {
    let string_attribute = |name: &str| {
        AttributeDefinition::builder()
            .attribute_name(name)
            .attribute_type(ScalarAttributeType::S)
            .build()
            .expect("attribute definitions are complete")
    };
    let key = |name: &str, key_type: KeyType| {
        KeySchemaElement::builder()
            .attribute_name(name)
            .key_type(key_type)
            .build()
            .expect("key schema elements are complete")
    };
    let listing_index = GlobalSecondaryIndex::builder()
        .index_name(LISTING_INDEX)
        .key_schema(key(LISTING, KeyType::Hash))
        .key_schema(key(ID, KeyType::Range))
        .projection(
            Projection::builder()
                .projection_type(ProjectionType::Include)
                .set_non_key_attributes(Some(
                    [USERNAME, EMAIL, CREATED_AT].map(str::to_owned).to_vec(),
                ))
                .build(),
        )
        .build()
        .expect("the listing index is complete");
    TableDesign {
        key_schema: vec![key(PK, KeyType::Hash)],
        attribute_definitions: vec![
            string_attribute(PK),
            string_attribute(LISTING),
            string_attribute(ID),
        ],
        global_secondary_indexes: vec![listing_index],
        billing_mode: BillingMode::PayPerRequest,
        deletion_protection: true,
        ttl_attribute: EXPIRES_AT,
    }
}

/// Creates `table` if it does not exist, then waits until it is active. An existing table is checked for the
/// listing index, so that a table from elsewhere fails here rather than on the first listing.
pub(super) async fn create_if_missing(client: &Client, table: &str) -> Result<(), StoreError> {
    let design = table_design();
    let created = client
        .create_table()
        .table_name(table)
        .set_key_schema(Some(design.key_schema))
        .set_attribute_definitions(Some(design.attribute_definitions))
        .set_global_secondary_indexes(Some(design.global_secondary_indexes))
        .billing_mode(design.billing_mode)
        .deletion_protection_enabled(design.deletion_protection)
        .send()
        .await;
    match created {
        Ok(_) => tracing::info!(table, "created the users table"),
        Err(error)
            if error
                .as_service_error()
                .is_some_and(|e| e.is_resource_in_use_exception()) => {}
        Err(error) => return Err(sdk_error(error, "creating the users table")),
    }
    wait_until_active(client, table).await?;
    enable_ttl(client, table, design.ttl_attribute).await
}

/// Turns on TTL deletion by `attribute`, unless it already is.
async fn enable_ttl(client: &Client, table: &str, attribute: &str) -> Result<(), StoreError> {
    let current = client
        .describe_time_to_live()
        .table_name(table)
        .send()
        .await
        .map_err(|e| sdk_error(e, "describing the users table's TTL"))?;
    let enabled = current.time_to_live_description().is_some_and(|ttl| {
        ttl.attribute_name() == Some(attribute)
            && matches!(
                ttl.time_to_live_status(),
                Some(TimeToLiveStatus::Enabled | TimeToLiveStatus::Enabling)
            )
    });
    if enabled {
        return Ok(());
    }
    let specification = TimeToLiveSpecification::builder()
        .attribute_name(attribute)
        .enabled(true)
        .build()
        .context("a complete TTL specification")?;
    client
        .update_time_to_live()
        .table_name(table)
        .time_to_live_specification(specification)
        .send()
        .await
        .map_err(|e| sdk_error(e, "enabling TTL on the users table"))?;
    tracing::info!(table, attribute, "enabled TTL on the users table");
    Ok(())
}

async fn wait_until_active(client: &Client, table: &str) -> Result<(), StoreError> {
    let deadline = tokio::time::Instant::now() + ACTIVE_TIMEOUT;
    loop {
        let description = client
            .describe_table()
            .table_name(table)
            .send()
            .await
            .map_err(|e| sdk_error(e, "describing the users table"))?
            .table
            .context("DescribeTable returned no table")?;
        let has_index = description
            .global_secondary_indexes()
            .iter()
            .any(|index| index.index_name() == Some(LISTING_INDEX));
        if !has_index {
            return Err(StoreError::Internal(anyhow!(
                "table {table} exists but has no index {LISTING_INDEX}; it was not created by this program"
            )));
        }
        if description.table_status() == Some(&TableStatus::Active) {
            return Ok(());
        }
        if tokio::time::Instant::now() >= deadline {
            return Err(StoreError::Unavailable(anyhow!(
                "table {table} is not active after {ACTIVE_TIMEOUT:?}"
            )));
        }
        tokio::time::sleep(ACTIVE_POLL).await;
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    /// DynamoDB refuses a definition of an attribute that no key uses, and a key whose attribute is undefined.
    #[test]
    fn exactly_the_key_attributes_are_defined() {
        let design = table_design();
        let defined: BTreeSet<&str> = design
            .attribute_definitions
            .iter()
            .map(|a| a.attribute_name())
            .collect();
        let keys: BTreeSet<&str> = design
            .key_schema
            .iter()
            .chain(
                design
                    .global_secondary_indexes
                    .iter()
                    .flat_map(|index| index.key_schema()),
            )
            .map(|k| k.attribute_name())
            .collect();
        assert_eq!(defined, keys);
    }
}
