use std::collections::HashSet;

use chrono::TimeZone;

use super::*;

fn at() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 2, 11, 40, 5).unwrap() + chrono::Duration::milliseconds(123)
}

fn origin() -> Origin {
    Origin {
        function: "auth",
        request_id: Some("8f5b2a34-lambda".to_owned()),
        source_ip: Some("203.0.113.7".to_owned()),
    }
}

#[test]
fn an_event_with_a_metric_is_an_emf_document_at_the_root_of_its_line() {
    let user_id = Uuid::now_v7();
    let line = line(
        "vimcar/dev",
        at(),
        &origin(),
        &Event::new(Kind::LoginSucceeded).user(user_id),
    );
    assert_eq!(
        line,
        json!({
            "time": "2026-12-02T11:40:05.123Z",
            "level": "INFO",
            "event": "login.succeeded",
            "outcome": "success",
            "function": "auth",
            "request_id": "8f5b2a34-lambda",
            "source_ip": "203.0.113.7",
            "user_id": user_id.to_string(),
            "Function": "auth",
            "LoginSuccesses": 1,
            "_aws": {
                "Timestamp": at().timestamp_millis(),
                "CloudWatchMetrics": [{
                    "Namespace": "vimcar/dev",
                    "Dimensions": [["Function"]],
                    "Metrics": [{"Name": "LoginSuccesses", "Unit": "Count"}],
                }],
            },
        })
    );
}

#[test]
fn the_emf_timestamp_is_the_lines_time_in_epoch_milliseconds() {
    let line = line("vimcar", at(), &origin(), &Event::new(Kind::LoginFailed));
    assert_eq!(line["_aws"]["Timestamp"], 1_796_211_605_123_i64);
    assert_eq!(line["level"], "WARN");
    assert_eq!(line["outcome"], "failure");
    assert!(line.get("user_id").is_none());
}

#[test]
fn every_dimension_an_emf_block_names_has_its_value_at_the_root() {
    for kind in Kind::ALL {
        let line = line("vimcar", at(), &origin(), &Event::new(kind));
        let Some(metric) = kind.metric() else {
            assert!(line.get("_aws").is_none(), "{}", kind.name());
            assert!(line.get("Function").is_none(), "{}", kind.name());
            continue;
        };
        let block = &line["_aws"]["CloudWatchMetrics"][0];
        for dimension in block["Dimensions"][0].as_array().unwrap() {
            let name = dimension.as_str().unwrap();
            assert_eq!(line[name], "auth", "{}: {name}", kind.name());
        }
        assert_eq!(block["Metrics"][0]["Name"], metric);
        assert_eq!(line[metric], 1, "{}", kind.name());
    }
}

#[test]
fn event_and_metric_names_are_unique() {
    let names: HashSet<_> = Kind::ALL.iter().map(|kind| kind.name()).collect();
    assert_eq!(names.len(), Kind::ALL.len());
    let metrics: Vec<_> = Kind::ALL.iter().filter_map(|kind| kind.metric()).collect();
    assert_eq!(metrics.iter().collect::<HashSet<_>>().len(), metrics.len());
}

#[test]
fn an_admin_event_has_no_request_id_address_or_metric_and_keeps_its_own_fields() {
    let line = line(
        "vimcar",
        at(),
        &Origin::admin(),
        &Event::new(Kind::ImportRun)
            .with("imported", 3)
            .with("skipped", 1),
    );
    assert_eq!(line["function"], "vimcar-admin");
    assert_eq!(line["imported"], 3);
    assert_eq!(line["skipped"], 1);
    for absent in ["request_id", "source_ip", "user_id", "_aws"] {
        assert!(line.get(absent).is_none(), "{absent}");
    }
}

#[test]
fn recorded_lines_are_single_json_objects_in_the_sink() {
    let collector = Arc::new(Collector::default());
    let events = Events::new("vimcar", collector.clone());
    events.record(&origin(), Event::new(Kind::UserRegistered));
    events.record(
        &origin(),
        Event::new(Kind::SessionLoggedOut).with("scope", "global"),
    );
    let lines = collector.lines();
    assert_eq!(lines.len(), 2);
    for line in &lines {
        assert!(!line.contains('\n'), "{line}");
        let value: Value = serde_json::from_str(line).unwrap();
        assert!(value.is_object(), "{line}");
    }
    let logout: Value = serde_json::from_str(&lines[1]).unwrap();
    assert_eq!(logout["scope"], "global");
    assert_eq!(logout["Logouts"], 1);
}
