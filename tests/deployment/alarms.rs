//! The alarms and safe deploys of `template.yaml`: every function publishes the `live` alias and deploys through a
//! `DeploymentPreference` whose alarms roll it back; every alarm notifies the topic; every custom metric an alarm
//! reads is one the code emits; the API's 429s are counted from its access log.

use std::collections::BTreeSet;

use serde_yaml_ng::Value as Yaml;
use vimcar::routes::FUNCTIONS;

use super::template;

/// The EMF metrics the functions emit, (function, metric), on the namespace METRICS_NAMESPACE.
/// Kept here until the events code exports its own list; then take that one instead.
const EMITTED: &[(&str, &str)] = &[
    ("register", "Registrations"),
    ("auth", "LoginSuccesses"),
    ("auth", "LoginFailures"),
    ("auth", "LoginsThrottled"),
    ("refresh", "Refreshes"),
    ("refresh", "RefreshTokenReuse"),
    ("logout", "Logouts"),
    ("change-password", "PasswordChanges"),
    ("delete-account", "AccountDeletions"),
];

fn resources(template: &Yaml, kind: &str) -> Vec<(String, Yaml)> {
    template["Resources"]
        .as_mapping()
        .expect("Resources is a mapping")
        .iter()
        .filter(|(_, resource)| resource["Type"].as_str() == Some(kind))
        .map(|(id, resource)| {
            (
                id.as_str().expect("ids are strings").to_owned(),
                resource.clone(),
            )
        })
        .collect()
}

fn ref_target(value: &Yaml) -> Option<&str> {
    match value {
        Yaml::Tagged(tagged) if tagged.tag == "Ref" => tagged.value.as_str(),
        _ => None,
    }
}

fn is_custom_namespace(value: &Yaml) -> bool {
    matches!(value, Yaml::Tagged(tagged) if tagged.tag == "Sub" && tagged.value.as_str() == Some("vimcar/${AWS::StackName}"))
}

#[test]
fn every_function_deploys_its_live_alias_gradually_rolled_back_by_its_alarms() {
    let template = template();
    let globals = &template["Globals"]["Function"];
    assert_eq!(globals["AutoPublishAlias"].as_str(), Some("live"));
    assert_eq!(
        ref_target(&globals["DeploymentPreference"]["Type"]),
        Some("DeploymentStrategy"),
        "Globals: DeploymentPreference.Type is the DeploymentStrategy parameter"
    );
    let alarms: BTreeSet<String> = resources(&template, "AWS::CloudWatch::Alarm")
        .into_iter()
        .map(|(id, _)| id)
        .collect();
    for function in FUNCTIONS {
        let id = function.resource;
        let resource = &template["Resources"][id];
        let base = id
            .strip_suffix("Function")
            .expect("logical ids end in Function");
        let rollback: BTreeSet<String> = resource["Properties"]["DeploymentPreference"]["Alarms"]
            .as_sequence()
            .unwrap_or_else(|| panic!("{id}: DeploymentPreference.Alarms"))
            .iter()
            .map(|alarm| {
                ref_target(alarm)
                    .unwrap_or_else(|| panic!("{id}: an alarm is a !Ref"))
                    .to_owned()
            })
            .collect();
        for expected in [
            format!("{base}ErrorsAlarm"),
            format!("{base}DurationAlarm"),
            "Api5xxAlarm".to_owned(),
        ] {
            assert!(
                rollback.contains(&expected),
                "{id}: {expected} rolls its deployment back"
            );
            assert!(
                alarms.contains(&expected),
                "{expected} is an alarm of the template"
            );
        }
        let duration =
            &template["Resources"][format!("{base}DurationAlarm").as_str()]["Properties"];
        assert_eq!(
            duration["Threshold"].as_u64(),
            Some(u64::from(function.timeout_s) * 800),
            "{base}DurationAlarm: 80 % of {id}'s timeout, in ms"
        );
        assert_eq!(ref_target(&duration["Dimensions"][0]["Value"]), Some(id));
    }
}

#[test]
fn every_alarm_notifies_the_topic() {
    let template = template();
    let alarms = resources(&template, "AWS::CloudWatch::Alarm");
    assert!(
        alarms.len() >= 2 * FUNCTIONS.len() + 5,
        "the alarms are there"
    );
    for (id, alarm) in alarms {
        let actions = alarm["Properties"]["AlarmActions"]
            .as_sequence()
            .unwrap_or_else(|| panic!("{id}: AlarmActions"));
        assert!(
            actions
                .iter()
                .any(|action| ref_target(action) == Some("AlarmTopic")),
            "{id} notifies AlarmTopic"
        );
    }
    assert_eq!(
        template["Resources"]["AlarmTopic"]["Type"].as_str(),
        Some("AWS::SNS::Topic")
    );
}

#[test]
fn every_custom_metric_an_alarm_reads_is_one_the_code_emits() {
    let template = template();
    let mut read = 0;
    for (id, alarm) in resources(&template, "AWS::CloudWatch::Alarm") {
        let properties = &alarm["Properties"];
        if !is_custom_namespace(&properties["Namespace"]) {
            continue;
        }
        let metric = properties["MetricName"]
            .as_str()
            .unwrap_or_else(|| panic!("{id}: MetricName"));
        if metric == "Api429" {
            continue; // the access log's metric filter, below
        }
        let function = properties["Dimensions"]
            .as_sequence()
            .and_then(|dimensions| {
                dimensions
                    .iter()
                    .find(|d| d["Name"].as_str() == Some("Function"))
            })
            .and_then(|dimension| dimension["Value"].as_str())
            .unwrap_or_else(|| panic!("{id}: a Function dimension"));
        assert!(
            EMITTED.contains(&(function, metric)),
            "{id} reads {metric} of {function}, which the code does not emit"
        );
        read += 1;
    }
    assert!(
        read >= 3,
        "the login and refresh-token alarms read the functions' metrics"
    );
    let namespace =
        &template["Globals"]["Function"]["Environment"]["Variables"]["METRICS_NAMESPACE"];
    assert!(
        is_custom_namespace(namespace),
        "Globals: METRICS_NAMESPACE is vimcar/${{AWS::StackName}}"
    );
}

#[test]
fn the_api_429s_are_counted_from_the_access_log_and_alarmed_on() {
    let template = template();
    let filters = resources(&template, "AWS::Logs::MetricFilter");
    let (id, filter) = filters
        .iter()
        .find(|(_, filter)| {
            ref_target(&filter["Properties"]["LogGroupName"]) == Some("ApiAccessLogGroup")
        })
        .expect("a metric filter on ApiAccessLogGroup");
    let pattern = filter["Properties"]["FilterPattern"]
        .as_str()
        .unwrap_or_default();
    assert!(
        pattern.contains("$.status") && pattern.contains("429"),
        "{id}: {pattern}"
    );
    let transformation = &filter["Properties"]["MetricTransformations"][0];
    assert_eq!(transformation["MetricName"].as_str(), Some("Api429"));
    assert_eq!(
        template["Resources"]["Api429Alarm"]["Properties"]["MetricName"].as_str(),
        Some("Api429")
    );
}
