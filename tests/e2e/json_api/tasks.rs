//! Tasks over JSON: started by POST, followed as Server-Sent Events, read,
//! listed with query parameters and page tokens, stopped, restarted,
//! deleted and purged; their results, documents, events and export; the
//! catalog. What JSON answers is what gRPC answers.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use scrape_client::pb;
use serde_json::json;

use super::{Api, rpc_code};
use crate::fixture::{FixtureSite, SiteSpec, links};
use crate::helpers::{Backend, TestApp, on_both_backends};

on_both_backends!(
    a_task_started_by_post_is_followed_to_its_end_and_read_with_its_results_and_documents,
    tasks_are_listed_newest_first_with_filters_in_the_query_and_page_tokens,
    running_tasks_are_stopped_one_or_all_then_restarted_deleted_and_purged,
);

fn timestamp(value: &serde_json::Value) -> DateTime<Utc> {
    let text = value.as_str().unwrap_or_else(|| panic!("an RFC 3339 string: {value}"));
    DateTime::parse_from_rfc3339(text).unwrap_or_else(|e| panic!("{text}: {e}")).with_timezone(&Utc)
}

async fn a_task_started_by_post_is_followed_to_its_end_and_read_with_its_results_and_documents(backend: Backend) {
    let site = FixtureSite::start(SiteSpec::standard()).await;
    // Page 2 of Morbihan × bovin waits for the test: the task is still
    // running when its progress is first read.
    let gate = site.hold(&FixtureSite::page_path("www.morbihan.gouv.fr", "bovin", 2));
    let app = TestApp::spawn_on(&site, &backend).await;
    let api = Api::new(&app);

    let started =
        api.post("/v1/tasks", &json!({ "keywords": ["bovin", "porcin"], "prefectures": ["Morbihan", "29"] })).await;
    assert_eq!(started.status, 200, "{}", started.json);
    let task = &started.json;
    let id = task["id"].as_str().expect("an id").to_owned();
    // The proto3 JSON mapping: camelCase names, enums by name, 64-bit
    // integers as strings, scalars present at their default.
    assert_eq!(task["parameters"]["targetPrefectures"], json!(["29", "56"]));
    assert_eq!(task["parameters"]["daysLimit"], 0);
    assert!(matches!(task["status"].as_str(), Some("TASK_STATUS_PENDING" | "TASK_STATUS_RUNNING")), "{task}");
    assert_eq!(task["progress"]["totalOperations"], 4);
    assert!(task["summary"]["itemsFound"].is_string(), "uint64 as a string: {task}");
    assert!(task.get("completedAt").is_none(), "an unset timestamp is left out: {task}");
    timestamp(&task["createdAt"]);

    let mut events = api.events(&format!("/v1/tasks/{id}/progress")).await;
    let (kind, first) = events.next().await.expect("a snapshot");
    assert_eq!((kind.as_str(), first["taskId"].as_str()), ("message", Some(id.as_str())));
    assert_ne!(first["status"], "TASK_STATUS_SUCCEEDED", "the held page keeps it running");
    gate.wait_until_reached(1).await;
    // Without Accept: text/event-stream, the current progress once.
    let now = api.ok(&format!("/v1/tasks/{id}/progress")).await;
    assert_eq!(now["status"], "TASK_STATUS_RUNNING");
    gate.release();
    let mut last = first;
    while let Some((kind, progress)) = events.next().await {
        assert_eq!(kind, "message");
        assert!(progress["completedOperations"].as_u64() >= last["completedOperations"].as_u64(), "{progress}");
        last = progress;
    }
    assert_eq!(last["status"], "TASK_STATUS_SUCCEEDED", "the stream ends after the terminal state");
    assert_eq!((last["completedOperations"].as_u64(), last["percent"].as_f64()), (Some(4), Some(100.0)));

    let done = api.ok(&format!("/v1/tasks/{id}")).await;
    assert_eq!(done["status"], "TASK_STATUS_SUCCEEDED");
    assert!(timestamp(&done["completedAt"]) >= timestamp(&done["startedAt"]));
    let grpc = app.client.get_task(&id).await.expect("the same task over gRPC");
    assert_eq!(done["summary"]["itemsFound"], grpc.summary.as_ref().expect("a summary").items_found.to_string());

    // Results and documents, a page at a time, as gRPC lists them.
    let (results, pages) = api.all_pages(&format!("/v1/tasks/{id}/results?pageSize=1"), "results").await;
    assert_eq!((results.len(), pages), (4, 4));
    let bovin_56 = results.iter().find(|r| r["prefectureCode"] == "56" && r["keyword"] == "bovin").expect("56 × bovin");
    assert_eq!(
        (bovin_56["itemsFound"].as_str(), bovin_56["pagesFetched"].as_u64()),
        (Some("23"), Some(4)),
        "three pages of cards, then the empty one"
    );
    let filtered = api.ok(&format!("/v1/tasks/{id}/results?keyword=porcin&prefecture=Finist%C3%A8re")).await;
    assert_eq!(filtered["results"].as_array().map(Vec::len), Some(1), "{filtered}");

    let expected: HashSet<String> = app.documents(&id).await.into_iter().map(|d| d.link).collect();
    let cards =
        [("www.morbihan.gouv.fr", "bovin"), ("www.morbihan.gouv.fr", "porcin"), ("www.finistere.gouv.fr", "bovin")]
            .iter()
            .flat_map(|(domain, keyword)| site.cards(domain, keyword))
            .collect::<Vec<_>>();
    assert_eq!(expected, links(&cards), "one document per link");
    let (documents, pages) = api.all_pages(&format!("/v1/tasks/{id}/documents?pageSize=7"), "documents").await;
    let found: HashSet<String> = documents.iter().map(|d| d["link"].as_str().expect("a link").to_owned()).collect();
    // One item per link, with every keyword that found it.
    assert_eq!((documents.len(), found, pages), (expected.len(), expected.clone(), expected.len().div_ceil(7)));
    let found_under: usize = documents.iter().map(|d| d["keywords"].as_array().map_or(0, Vec::len)).sum();
    assert_eq!(found_under, cards.len());
    let (everywhere, _) = api.all_pages(&format!("/v1/documents?taskId={id}&pageSize=50"), "documents").await;
    assert_eq!(everywhere.len(), documents.len());
    // Finistère's cards are its own (Morbihan's bovin and porcin share some).
    let (finistere, _) = api.all_pages("/v1/documents?keyword=bovin&prefecture=Finist%C3%A8re", "documents").await;
    assert_eq!(finistere.len(), 7);
    timestamp(&finistere[0]["firstSeenAt"]);

    let log = api.ok(&format!("/v1/tasks/{id}/events")).await;
    let kinds: Vec<&str> =
        log["events"].as_array().expect("events").iter().filter_map(|e| e["kind"].as_str()).collect();
    assert_eq!(kinds, ["TASK_EVENT_KIND_CREATED", "TASK_EVENT_KIND_STARTED", "TASK_EVENT_KIND_SUCCEEDED"]);

    // The export is its bytes, the same as ExportTask's chunks.
    let export = api.request(reqwest::Method::GET, &format!("/v1/tasks/{id}:export?format=EXPORT_FORMAT_CSV")).send();
    let export = export.await.expect("an answer");
    assert_eq!(export.status(), 200);
    assert_eq!(export.headers()["content-type"], "application/octet-stream");
    let bytes = export.bytes().await.expect("the export");
    let mut chunks = Vec::new();
    app.client
        .export_task(&id, pb::ExportFormat::Csv, |chunk| {
            chunks.extend_from_slice(chunk);
            Ok(())
        })
        .await
        .expect("the gRPC export");
    assert_eq!(bytes.as_ref(), chunks.as_slice());
    let rows = bytes.iter().filter(|b| **b == b'\n').count();
    assert_eq!(rows, 1 + cards.len(), "a header, and a row per document and keyword");

    // A finished task's progress: its final snapshot, then the end.
    let again = api.progress_until_end(&id).await;
    assert_eq!(again.len(), 1);
    assert_eq!(again[0]["status"], "TASK_STATUS_SUCCEEDED");
    app.stop().await;
}

async fn tasks_are_listed_newest_first_with_filters_in_the_query_and_page_tokens(backend: Backend) {
    let site = FixtureSite::start(SiteSpec::standard()).await;
    let app = TestApp::spawn_on(&site, &backend).await;
    let api = Api::new(&app);
    let mut ids = Vec::new();
    for (prefecture, keyword) in [("56", "bovin"), ("29", "porcin"), ("2A", "bovin")] {
        let id = api.start(&[prefecture], &[keyword]).await;
        api.progress_until_end(&id).await;
        ids.push(id);
    }
    let newest_first: Vec<String> = ids.iter().rev().cloned().collect();

    let (tasks, pages) = api.all_pages("/v1/tasks?pageSize=2", "tasks").await;
    let listed: Vec<String> = tasks.iter().map(|t| t["id"].as_str().expect("an id").to_owned()).collect();
    assert_eq!((listed, pages), (newest_first.clone(), 2));
    let first = api.ok("/v1/tasks?pageSize=2").await;
    assert!(!first["nextPageToken"].as_str().expect("a token").is_empty());

    let id_of = |page: &serde_json::Value| -> Vec<String> {
        page["tasks"].as_array().expect("tasks").iter().map(|t| t["id"].as_str().expect("an id").to_owned()).collect()
    };
    assert_eq!(id_of(&api.ok("/v1/tasks?query=porcin").await), [ids[1].clone()]);
    assert_eq!(id_of(&api.ok("/v1/tasks?query=Corse-du-Sud").await), [ids[2].clone()]);
    let both = api.ok("/v1/tasks?statuses=TASK_STATUS_SUCCEEDED&statuses=TASK_STATUS_FAILED").await;
    assert_eq!(id_of(&both), newest_first);
    assert!(id_of(&api.ok("/v1/tasks?statuses=TASK_STATUS_RUNNING").await).is_empty());
    let later = (Utc::now() + chrono::Duration::hours(1)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    assert!(id_of(&api.ok(&format!("/v1/tasks?createdAfter={later}")).await).is_empty());
    assert_eq!(id_of(&api.ok(&format!("/v1/tasks?created_before={later}&page_size=1")).await), [ids[2].clone()]);

    // A task that found nothing exports what ExportTask sends, however little.
    for format in [pb::ExportFormat::Pretty, pb::ExportFormat::Json] {
        let path = format!("/v1/tasks/{}:export?format={}", ids[1], format.as_str_name());
        let export = api.request(reqwest::Method::GET, &path).send().await.expect("an answer");
        assert_eq!(export.status(), 200, "{path}");
        let bytes = export.bytes().await.expect("the export");
        let mut chunks = Vec::new();
        app.client
            .export_task(&ids[1], format, |chunk| {
                chunks.extend_from_slice(chunk);
                Ok(())
            })
            .await
            .expect("the gRPC export");
        assert_eq!(bytes.as_ref(), chunks.as_slice(), "{path}");
    }

    let refused = api.get("/v1/tasks?pageToken=not-a-token").await;
    assert_eq!(rpc_code(&refused, 400), 3);
    app.stop().await;
}

async fn running_tasks_are_stopped_one_or_all_then_restarted_deleted_and_purged(backend: Backend) {
    let site = FixtureSite::start(SiteSpec::standard()).await;
    let gate = site.hold_all();
    let app = TestApp::spawn_on(&site, &backend).await;
    let api = Api::new(&app);
    let first = api.start(&["56"], &["bovin"]).await;
    let second = api.start(&["29"], &["bovin"]).await;
    let third = api.start(&["2A"], &["bovin"]).await;
    // Two workers: two tasks hold a request each at the gate, one waits.
    gate.wait_until_reached(2).await;

    let stopped = api.post(&format!("/v1/tasks/{first}:stop"), &json!({})).await;
    assert_eq!(stopped.status, 200, "{}", stopped.json);
    assert_eq!(stopped.json["status"], "TASK_STATUS_CANCELLED");
    assert!(stopped.json.get("completedAt").is_some());
    let again = api.post(&format!("/v1/tasks/{first}:stop"), &json!({})).await;
    assert_eq!(rpc_code(&again, 400), 9, "FAILED_PRECONDITION: it has ended");

    let all = api.post("/v1/tasks:stopAll", &json!({})).await;
    assert_eq!((all.status, &all.json), (200, &json!({ "stoppedCount": 2 })));
    for id in [&second, &third] {
        assert_eq!(api.ok(&format!("/v1/tasks/{id}")).await["status"], "TASK_STATUS_CANCELLED");
    }

    gate.release();
    let restarted = api.post(&format!("/v1/tasks/{second}:restart"), &json!({})).await;
    assert_eq!(restarted.status, 200, "{}", restarted.json);
    assert_eq!(restarted.json["status"], "TASK_STATUS_PENDING");
    assert!(restarted.json.get("startedAt").is_none(), "a restart clears the start");
    let end = api.progress_until_end(&second).await;
    assert_eq!(end.last().expect("an end")["status"], "TASK_STATUS_SUCCEEDED");

    let deleted = api.delete(&format!("/v1/tasks/{second}")).await;
    assert_eq!((deleted.status, &deleted.json), (200, &json!({})));
    assert_eq!(rpc_code(&api.get(&format!("/v1/tasks/{second}")).await, 404), 5);

    let purged = api
        .post(
            "/v1/tasks:purge",
            &json!({ "statuses": ["TASK_STATUS_CANCELLED"], "completedBefore": "2999-01-01T00:00:00Z" }),
        )
        .await;
    assert_eq!((purged.status, &purged.json), (200, &json!({ "deletedCount": 2 })));
    assert_eq!(api.ok("/v1/tasks").await["tasks"], json!([]));
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_catalog_lists_regions_and_prefectures_by_query_or_by_path() {
    let site = FixtureSite::start(SiteSpec::standard()).await;
    let app = TestApp::spawn(&site).await;
    let api = Api::new(&app);
    let regions = api.ok("/v1/regions").await;
    let regions = regions["regions"].as_array().expect("regions");
    assert_eq!(regions.len(), 18);
    assert!(regions.contains(&json!({ "code": "53", "name": "Bretagne" })));
    assert_eq!(api.ok("/v1/prefectures").await["prefectures"].as_array().map(Vec::len), Some(101));
    let bretagne = api.ok("/v1/prefectures?region=bretagne").await;
    let names: Vec<&str> =
        bretagne["prefectures"].as_array().expect("prefectures").iter().filter_map(|p| p["name"].as_str()).collect();
    assert_eq!(names, ["Côtes-d'Armor", "Finistère", "Ille-et-Vilaine", "Morbihan"]);
    let corse = api.ok("/v1/regions/Corse/prefectures").await;
    let codes: Vec<&str> =
        corse["prefectures"].as_array().expect("prefectures").iter().filter_map(|p| p["code"].as_str()).collect();
    assert_eq!(codes, ["2A", "2B"]);
    assert_eq!(corse["prefectures"][0]["unsupportedReason"], "", "scalars are present at their default");
    assert_eq!(super::violations(&api.get("/v1/regions/Atlantide/prefectures").await), ["region"]);
    app.stop().await;
}
