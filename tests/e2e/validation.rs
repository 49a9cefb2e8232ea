//! Bad input: INVALID_ARGUMENT naming the field, NOT_FOUND for unknown
//! tasks, and nothing stored touched.

use scrape_client::pb::{self, TaskStatus};
use tonic::Code;

use crate::fixture::{FixtureSite, SiteSpec};
use crate::helpers::{Backend, TestApp, bad_fields, code, on_both_backends};

fn start(keywords: &[&str]) -> pb::StartTaskRequest {
    pb::StartTaskRequest { keywords: keywords.iter().map(|k| (*k).to_owned()).collect(), ..Default::default() }
}

async fn each_bad_start_request_names_its_field_and_creates_nothing(backend: Backend) {
    let site = FixtureSite::start(SiteSpec::standard()).await;
    let app = TestApp::spawn_on(&site, &backend).await;
    let kept = app.start(&["56"], &["bovin"]).await;
    app.progress_until_end(&kept.id).await;
    let before = app.client.get_task(&kept.id).await.expect("get");

    let long = "x".repeat(101);
    let cases: Vec<(&str, pb::StartTaskRequest, Vec<&str>)> = vec![
        ("no keyword", start(&[]), vec!["keywords"]),
        ("a blank keyword", start(&["bovin", "   "]), vec!["keywords[1]"]),
        ("an over-long keyword", start(&[&long]), vec!["keywords[0]"]),
        ("a control character", start(&["bo\u{0}vin"]), vec!["keywords[0]"]),
        (
            "an unknown region",
            pb::StartTaskRequest { regions: vec!["Bretagne".into(), "Atlantide".into()], ..start(&["bovin"]) },
            vec!["regions[1]"],
        ),
        (
            "an unknown prefecture",
            pb::StartTaskRequest { prefectures: vec!["99".into()], ..start(&["bovin"]) },
            vec!["prefectures[0]"],
        ),
        (
            "an export path",
            pb::StartTaskRequest {
                export: Some(pb::ExportOptions { file_name: "../../etc/cron.d/x".into(), format: 2 }),
                ..start(&["bovin"])
            },
            vec!["export.file_name"],
        ),
        (
            "an unknown export format",
            pb::StartTaskRequest {
                export: Some(pb::ExportOptions { file_name: "x.json".into(), format: 42 }),
                ..start(&["bovin"])
            },
            vec!["export.format"],
        ),
        (
            "several problems at once",
            pb::StartTaskRequest { prefectures: vec!["Narnia".into()], days_limit: 1_000_000, ..start(&[""]) },
            vec!["keywords[0]", "prefectures[0]", "days_limit"],
        ),
    ];
    for (case, request, fields) in cases {
        assert_eq!(bad_fields(app.client.start_task(request).await), fields, "{case}");
    }

    let listed = app.client.list_tasks(pb::ListTasksRequest::default()).await.expect("list");
    assert_eq!(listed.tasks.len(), 1, "no task was created");
    assert_eq!(app.client.get_task(&kept.id).await.expect("get"), before, "the stored task is unchanged");
    app.stop().await;
}

async fn malformed_ids_and_page_tokens_are_invalid_and_unknown_tasks_not_found(backend: Backend) {
    let site = FixtureSite::start(SiteSpec::standard()).await;
    let app = TestApp::spawn_on(&site, &backend).await;

    assert_eq!(bad_fields(app.client.get_task("not-a-uuid").await), ["task_id"]);
    assert_eq!(bad_fields(app.client.get_task("").await), ["task_id"]);
    assert_eq!(bad_fields(app.client.stop_task("42").await), ["task_id"]);
    assert_eq!(bad_fields(app.client.stream_progress("'; DROP TABLE tasks; --").await), ["task_id"]);

    let unknown = "0192e3c4-5b6a-7c8d-9e0f-1a2b3c4d5e6f";
    assert_eq!(code(app.client.get_task(unknown).await), Code::NotFound);
    assert_eq!(code(app.client.stop_task(unknown).await), Code::NotFound);
    assert_eq!(code(app.client.stream_progress(unknown).await), Code::NotFound);

    let garbage = pb::ListTasksRequest { page_token: "bm90IGEgdG9rZW4".into(), ..Default::default() };
    assert_eq!(bad_fields(app.client.list_tasks(garbage).await), ["page_token"]);
    let huge = pb::ListTasksRequest { page_size: 1_000_000, ..Default::default() };
    assert_eq!(bad_fields(app.client.list_tasks(huge).await), ["page_size"]);
    let status = pb::ListTasksRequest { statuses: vec![0, 99], ..Default::default() };
    assert_eq!(bad_fields(app.client.list_tasks(status).await), ["statuses[0]", "statuses[1]"]);
    app.stop().await;
}

/// Everything stored, as the API shows it.
async fn snapshot(app: &TestApp) -> Vec<String> {
    let tasks =
        app.client.list_tasks(pb::ListTasksRequest { page_size: 1000, ..Default::default() }).await.expect("list");
    let mut out = Vec::new();
    for task in tasks.tasks {
        let mut full = app.client.get_task(&task.id).await.expect("get");
        // Elapsed time of a running task moves on its own.
        full.progress = None;
        out.push(format!("{full:?}"));
        out.push(format!("{:?}", app.results(&task.id).await));
        out.push(format!("{:?}", app.documents(&task.id).await));
    }
    out
}

async fn every_rpc_refuses_its_bad_inputs_and_nothing_stored_changes(backend: Backend) {
    let site = FixtureSite::start(SiteSpec::standard()).await;
    let app = TestApp::spawn_on(&site, &backend).await;
    let other = app.start(&["29"], &["porcin"]).await;
    app.progress_until_end(&other.id).await;
    let done = app.start(&["56"], &["bovin"]).await;
    app.progress_until_end(&done.id).await;
    let before = snapshot(&app).await;

    let t = || done.id.clone();
    let long = "x".repeat(1000);
    let bad_ts = prost_types::Timestamp { seconds: 0, nanos: -1 };
    let foreign_token = app
        .client
        .list_tasks(pb::ListTasksRequest { page_size: 1, ..Default::default() })
        .await
        .expect("list")
        .next_page_token;
    assert!(!foreign_token.is_empty());
    let mut tasks = app.client.tasks();
    let mut catalog = app.client.catalog();

    macro_rules! refused {
        ($call:expr, $fields:expr) => {{
            let fields: Vec<&str> = $fields;
            let got = bad_fields($call.await);
            assert_eq!(got, fields, "{}", stringify!($call));
        }};
    }
    for id in ["", "nope", &long, "0192e3c4-5b6a-7c8d-9e0f-1a2b3c4d5e6\u{7}"] {
        let id = id.to_owned();
        refused!(tasks.get_task(pb::GetTaskRequest { task_id: id.clone() }), vec!["task_id"]);
        refused!(tasks.stop_task(pb::StopTaskRequest { task_id: id.clone() }), vec!["task_id"]);
        refused!(tasks.restart_task(pb::RestartTaskRequest { task_id: id.clone() }), vec!["task_id"]);
        refused!(tasks.delete_task(pb::DeleteTaskRequest { task_id: id.clone() }), vec!["task_id"]);
        refused!(tasks.stream_progress(pb::StreamProgressRequest { task_id: id.clone() }), vec!["task_id"]);
        refused!(tasks.list_task_events(pb::ListTaskEventsRequest { task_id: id.clone() }), vec!["task_id"]);
        refused!(tasks.export_task(pb::ExportTaskRequest { task_id: id.clone(), format: 2 }), vec!["task_id"]);
    }
    let list = |r: pb::ListTasksRequest| r;
    refused!(
        tasks.list_tasks(list(pb::ListTasksRequest { statuses: vec![99], ..Default::default() })),
        vec!["statuses[0]"]
    );
    refused!(tasks.list_tasks(list(pb::ListTasksRequest { page_size: -1, ..Default::default() })), vec!["page_size"]);
    refused!(
        tasks.list_tasks(list(pb::ListTasksRequest { page_size: i32::MAX, ..Default::default() })),
        vec!["page_size"]
    );
    refused!(
        tasks.list_tasks(list(pb::ListTasksRequest { page_token: "%%%".into(), ..Default::default() })),
        vec!["page_token"]
    );
    refused!(tasks.list_tasks(list(pb::ListTasksRequest { query: long.clone(), ..Default::default() })), vec!["query"]);
    refused!(
        tasks.list_tasks(list(pb::ListTasksRequest { query: "a\u{0}b".into(), ..Default::default() })),
        vec!["query"]
    );
    refused!(
        tasks.list_tasks(list(pb::ListTasksRequest { created_after: Some(bad_ts), ..Default::default() })),
        vec!["created_after"]
    );
    let later = prost_types::Timestamp { seconds: 2_000_000_000, nanos: 0 };
    let earlier = prost_types::Timestamp { seconds: 1_000_000_000, nanos: 0 };
    refused!(
        tasks.list_tasks(list(pb::ListTasksRequest {
            created_after: Some(later),
            created_before: Some(earlier),
            ..Default::default()
        })),
        vec!["created_before"]
    );
    for status in [TaskStatus::Pending, TaskStatus::Running] {
        refused!(
            tasks.purge_tasks(pb::PurgeTasksRequest { statuses: vec![status as i32], completed_before: None }),
            vec!["statuses[0]"]
        );
    }
    refused!(
        tasks.purge_tasks(pb::PurgeTasksRequest { statuses: vec![77], completed_before: None }),
        vec!["statuses[0]"]
    );
    refused!(
        tasks.purge_tasks(pb::PurgeTasksRequest { statuses: vec![], completed_before: Some(bad_ts) }),
        vec!["completed_before"]
    );
    let results = |r: pb::ListTaskResultsRequest| pb::ListTaskResultsRequest { task_id: t(), ..r };
    refused!(
        tasks.list_task_results(results(pb::ListTaskResultsRequest {
            prefecture: "Narnia".into(),
            ..Default::default()
        })),
        vec!["prefecture"]
    );
    refused!(
        tasks.list_task_results(results(pb::ListTaskResultsRequest { keyword: long.clone(), ..Default::default() })),
        vec!["keyword"]
    );
    refused!(
        tasks.list_task_results(results(pb::ListTaskResultsRequest { page_size: -5, ..Default::default() })),
        vec!["page_size"]
    );
    refused!(
        tasks.list_task_results(results(pb::ListTaskResultsRequest {
            page_token: foreign_token.clone(),
            ..Default::default()
        })),
        vec!["page_token"]
    );
    let docs = |r: pb::ListDocumentsRequest| pb::ListDocumentsRequest { task_id: t(), ..r };
    refused!(
        tasks.list_documents(docs(pb::ListDocumentsRequest { prefecture: "00".into(), ..Default::default() })),
        vec!["prefecture"]
    );
    refused!(
        tasks.list_documents(docs(pb::ListDocumentsRequest { query: "\u{1b}[2J".into(), ..Default::default() })),
        vec!["query"]
    );
    refused!(
        tasks
            .list_documents(docs(pb::ListDocumentsRequest { page_token: foreign_token.clone(), ..Default::default() })),
        vec!["page_token"]
    );
    refused!(
        tasks.list_documents(pb::ListDocumentsRequest { task_id: "x".into(), ..Default::default() }),
        vec!["task_id"]
    );
    refused!(tasks.export_task(pb::ExportTaskRequest { task_id: t(), format: 0 }), vec!["format"]);
    refused!(tasks.export_task(pb::ExportTaskRequest { task_id: t(), format: 9 }), vec!["format"]);
    refused!(catalog.list_prefectures(pb::ListPrefecturesRequest { region: "Mordor".into() }), vec!["region"]);

    // A finished task cannot be stopped; a missing one is not found.
    assert_eq!(code(tasks.stop_task(pb::StopTaskRequest { task_id: t() }).await), Code::FailedPrecondition);
    let unknown = "0192e3c4-5b6a-7c8d-9e0f-1a2b3c4d5e6f".to_owned();
    assert_eq!(code(tasks.restart_task(pb::RestartTaskRequest { task_id: unknown.clone() }).await), Code::NotFound);
    assert_eq!(code(tasks.delete_task(pb::DeleteTaskRequest { task_id: unknown.clone() }).await), Code::NotFound);
    assert_eq!(
        code(
            tasks
                .list_task_results(pb::ListTaskResultsRequest { task_id: unknown.clone(), ..Default::default() })
                .await
        ),
        Code::NotFound
    );
    assert_eq!(code(tasks.export_task(pb::ExportTaskRequest { task_id: unknown, format: 2 }).await), Code::NotFound);

    assert_eq!(snapshot(&app).await, before, "nothing stored changed");
    app.stop().await;
}

on_both_backends!(
    each_bad_start_request_names_its_field_and_creates_nothing,
    malformed_ids_and_page_tokens_are_invalid_and_unknown_tasks_not_found,
    every_rpc_refuses_its_bad_inputs_and_nothing_stored_changes
);
