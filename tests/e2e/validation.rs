//! Bad input: INVALID_ARGUMENT naming the field, NOT_FOUND for unknown
//! tasks, and nothing stored touched.

use scrape_client::pb;
use tonic::Code;

use crate::fixture::{FixtureSite, SiteSpec};
use crate::helpers::{TestApp, bad_fields, code};

fn start(keywords: &[&str]) -> pb::StartTaskRequest {
    pb::StartTaskRequest { keywords: keywords.iter().map(|k| (*k).to_owned()).collect(), ..Default::default() }
}

#[tokio::test(flavor = "multi_thread")]
async fn each_bad_start_request_names_its_field_and_creates_nothing() {
    let site = FixtureSite::start(SiteSpec::standard()).await;
    let app = TestApp::spawn(&site).await;
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

#[tokio::test(flavor = "multi_thread")]
async fn malformed_ids_and_page_tokens_are_invalid_and_unknown_tasks_not_found() {
    let site = FixtureSite::start(SiteSpec::standard()).await;
    let app = TestApp::spawn(&site).await;

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
