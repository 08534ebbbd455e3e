//! Deployment tests: what deploys and what is served, held to the code. The registry (`vimcar::routes`) against the
//! packages, the local router, `template.yaml` and `openapi.yaml`; the table; each function's IAM role against the
//! calls it makes (DynamoDB, and the secrets it reads at start-up under each algorithm); the spec against the handlers' answers.

mod alarms;
mod openapi;
mod permissions;
mod registry;
mod secrets;
mod table;

/// `template.yaml`, parsed: what deploys.
fn template() -> serde_yaml_ng::Value {
    serde_yaml_ng::from_str(include_str!("../../template.yaml")).expect("template.yaml is YAML")
}
