//! Watches over JSON: created with the watch as the body, updated with a
//! PATCH and its mask in the query, run, paused, resumed and deleted; their
//! events followed as Server-Sent Events.

use serde_json::json;

use super::{Api, rpc_code, violations};
use crate::fixture::{FixtureSite, SiteSpec};
use crate::helpers::{Backend, TestApp, on_both_backends};
use crate::watch_helpers::MORBIHAN;

on_both_backends!(a_watch_is_created_changed_run_paused_and_deleted_and_its_events_streamed);

async fn a_watch_is_created_changed_run_paused_and_deleted_and_its_events_streamed(backend: Backend) {
    let site = FixtureSite::start(SiteSpec { counts: vec![(MORBIHAN, "bovin", 12)] }).await;
    let app = TestApp::spawn_on(&site, &backend).await;
    let api = Api::new(&app);

    let body = json!({
        "name": "ICPE Morbihan",
        "task": { "keywords": ["bovin"], "prefectures": ["56"] },
        "schedule": { "interval": "86400s" },
    });
    let created = api.post("/v1/watches", &body).await;
    assert_eq!(created.status, 200, "{}", created.json);
    let id = created.json["id"].as_str().expect("an id").to_owned();
    assert_eq!(created.json["schedule"], json!({ "interval": "86400s" }));
    assert_eq!(created.json["paused"], false);
    assert!(created.json["nextRunAt"].is_string());
    let invalid = api.post("/v1/watches", &json!({ "name": "", "schedule": { "interval": "0s" } })).await;
    assert!(violations(&invalid).iter().any(|f| f.starts_with("watch.name") || f == "name"), "{}", invalid.json);

    let renamed = api
        .request(reqwest::Method::PATCH, &format!("/v1/watches/{id}?updateMask=name"))
        .header("content-type", "application/json")
        .body(json!({ "name": "ICPE 56", "schedule": { "interval": "60s" } }).to_string());
    let renamed = super::answer(renamed).await;
    assert_eq!(renamed.status, 200, "{}", renamed.json);
    assert_eq!(renamed.json["name"], "ICPE 56");
    assert_eq!(renamed.json["schedule"], json!({ "interval": "86400s" }), "only the masked field changes");
    let (watches, _) = api.all_pages("/v1/watches?pageSize=1", "watches").await;
    assert_eq!(watches.len(), 1);

    let mut events = api.events(&format!("/v1/watches/{id}:streamEvents?since=2000-01-01T00:00:00Z")).await;
    // Only new events, of every watch: the stream is open before it has any.
    let mut every_watch = api.events("/v1/watches:streamEvents").await;
    let run = api.post(&format!("/v1/watches/{id}:run"), &json!({})).await;
    assert_eq!(run.status, 200, "{}", run.json);
    assert_eq!(run.json["watchId"], id.as_str(), "a run is a task of its watch");
    let task_id = run.json["id"].as_str().expect("a task id").to_owned();
    let mut kinds = Vec::new();
    let news = loop {
        let (kind, event) = events.next().await.expect("events until the run ends");
        assert_eq!(kind, "message", "{event}");
        kinds.push(event["kind"].as_str().expect("a kind").to_owned());
        if event["kind"] == "WATCH_EVENT_KIND_RUN_ENDED" {
            break event;
        }
    };
    assert_eq!(kinds[..2], ["WATCH_EVENT_KIND_CREATED", "WATCH_EVENT_KIND_UPDATED"], "the stored ones first");
    assert_eq!((news["taskId"].as_str(), news["newDocuments"].as_str()), (Some(task_id.as_str()), Some("12")));
    assert_eq!(news["documents"].as_array().map(Vec::len), Some(12));
    let (_, first_new) = every_watch.next().await.expect("the run's first event");
    assert_eq!(
        (first_new["kind"].as_str(), first_new["watchId"].as_str()),
        (Some("WATCH_EVENT_KIND_RUN_STARTED"), Some(id.as_str()))
    );
    let (listed, _) = api.all_pages(&format!("/v1/watches/{id}/news?pageSize=5&taskId={task_id}"), "documents").await;
    assert_eq!(listed.len(), 12);
    let log = api.ok(&format!("/v1/watches/{id}/events")).await;
    assert!(log["events"].as_array().expect("events").len() >= 4, "{log}");

    let paused = api.post(&format!("/v1/watches/{id}:pause"), &json!({})).await;
    assert_eq!((paused.json["paused"].as_bool(), paused.json.get("nextRunAt")), (Some(true), None));
    let resumed = api.post(&format!("/v1/watches/{id}:resume"), &json!({})).await;
    assert_eq!(resumed.json["paused"], false);
    assert_eq!(api.ok(&format!("/v1/watches/{id}")).await["lastRun"]["taskId"], task_id.as_str());

    let deleted = api.delete(&format!("/v1/watches/{id}")).await;
    assert_eq!((deleted.status, &deleted.json), (200, &json!({})));
    assert_eq!(rpc_code(&api.get(&format!("/v1/watches/{id}")).await, 404), 5);
    assert_eq!(api.ok(&format!("/v1/tasks/{task_id}")).await["watchId"], id.as_str(), "its runs' tasks are kept");
    app.stop().await;
}
