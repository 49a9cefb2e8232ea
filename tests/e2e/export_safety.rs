//! Exports that cannot lose work, a request id that cannot be reused for
//! another task, and partial failure said where people look.

use scrape_client::pb;

use crate::fixture::{Fault, FixtureSite, SiteSpec};
use crate::helpers::{Backend, TestApp, bad_fields, binary, code, on_both_backends};

fn with_export(prefectures: &[&str], file_name: &str, format: pb::ExportFormat) -> pb::StartTaskRequest {
    pb::StartTaskRequest {
        keywords: vec!["bovin".into()],
        prefectures: prefectures.iter().map(|p| (*p).to_owned()).collect(),
        export: Some(pb::ExportOptions { file_name: file_name.into(), format: format.into() }),
        ..Default::default()
    }
}

async fn the_export_format_follows_the_extension_and_a_file_name_belongs_to_one_task(backend: Backend) {
    let site = FixtureSite::start(SiteSpec::standard()).await;
    let app = TestApp::spawn_on(&site, &backend).await;
    let csv = app.client.start_task(with_export(&["56"], "veille.csv", pb::ExportFormat::Unspecified)).await;
    let csv = csv.expect("a CSV export by its name");
    let export = csv.parameters.expect("parameters").export.expect("export");
    assert_eq!(export.format(), pb::ExportFormat::Csv);
    app.progress_until_end(&csv.id).await;
    let written = std::fs::read_to_string(app.dir.path().join("exports").join("veille.csv")).expect("the file");
    assert!(written.starts_with("prefecture_code,"), "CSV, not JSON: {}", &written[..40.min(written.len())]);

    let contradiction = app.client.start_task(with_export(&["29"], "autre.csv", pb::ExportFormat::Json)).await;
    assert_eq!(bad_fields(contradiction), ["export.format"]);
    let taken = app.client.start_task(with_export(&["29"], "veille.csv", pb::ExportFormat::Csv)).await;
    let status = taken.expect_err("another task's file");
    assert_eq!(status.code(), tonic::Code::InvalidArgument);
    assert!(status.message().contains(&csv.id), "names the task whose file it is: {}", status.message());
    assert_eq!(app.client.list_tasks(pb::ListTasksRequest::default()).await.expect("list").tasks.len(), 1);
    app.stop().await;
}

async fn a_stopped_rerun_never_replaces_a_finished_export(backend: Backend) {
    let site = FixtureSite::start(SiteSpec::standard()).await;
    let app = TestApp::spawn_on(&site, &backend).await;
    let task = app.client.start_task(with_export(&["56", "2A"], "veille.json", pb::ExportFormat::Json)).await;
    let task = task.expect("start");
    app.progress_until_end(&task.id).await;
    let path = app.dir.path().join("exports").join("veille.json");
    let finished = std::fs::read(&path).expect("the finished export");
    assert!(finished.len() > 10_000, "a real export: {} bytes", finished.len());

    // Run it again, and stop it half-way.
    let gate = site.hold(&FixtureSite::page_path("www.corse-du-sud.gouv.fr", "bovin", 1));
    app.client.restart_task(&task.id).await.expect("restart");
    gate.wait_until_reached(1).await;
    let stopped = app.client.stop_task(&task.id).await.expect("stop");
    assert_eq!(stopped.status(), pb::TaskStatus::Cancelled);
    gate.release();
    assert_eq!(std::fs::read(&path).expect("the export"), finished, "the finished export is intact");
    let events = app.client.task_events(&task.id).await.expect("events");
    let last = events.iter().rev().find(|e| e.kind() == pb::TaskEventKind::Exported).expect("an export event");
    assert!(last.message.contains("kept the earlier veille.json"), "{}", last.message);
    app.stop().await;
}

async fn a_failed_export_shows_in_get_task_and_scrapectl_watch_exits_non_zero(backend: Backend) {
    let site = FixtureSite::start(SiteSpec::standard()).await;
    let app = TestApp::spawn_on(&site, &backend).await;
    std::fs::create_dir_all(app.dir.path().join("exports").join("veille.json")).expect("a directory in the way");
    let task = app.client.start_task(with_export(&["56"], "veille.json", pb::ExportFormat::Json)).await;
    let task = task.expect("start");
    let watched = tokio::process::Command::new(binary("scrapectl"))
        .args(["--server", &app.address, "watch", &task.id])
        .env_remove("SCRAPE_SERVER")
        .output()
        .await
        .expect("scrapectl runs");
    assert_eq!(watched.status.code(), Some(5), "{}", String::from_utf8_lossy(&watched.stderr));
    assert!(String::from_utf8_lossy(&watched.stderr).contains("the export failed"));
    let got = app.client.get_task(&task.id).await.expect("get");
    assert_eq!(got.status(), pb::TaskStatus::Succeeded);
    assert!(got.export_error.contains("veille.json"), "{:?}", got.export_error);
    app.stop().await;
}

async fn a_request_id_reused_with_other_parameters_is_already_exists_naming_its_task(backend: Backend) {
    let site = FixtureSite::start(SiteSpec::standard()).await;
    let app = TestApp::spawn_on(&site, &backend).await;
    let request = |keyword: &str| pb::StartTaskRequest {
        keywords: vec![keyword.into()],
        prefectures: vec!["56".into()],
        request_id: "veille-2026-12-01".into(),
        ..Default::default()
    };
    let first = app.client.start_task(request("bovin")).await.expect("start");
    let again = app.client.start_task(request("bovin")).await.expect("the same request");
    assert_eq!(again.id, first.id, "a retry gets the same task");
    let other = app.client.start_task(request("porcin")).await;
    let status = other.expect_err("other parameters");
    assert_eq!(status.code(), tonic::Code::AlreadyExists);
    assert!(status.message().contains(&first.id), "{}", status.message());
    app.stop().await;
}

async fn a_success_with_failed_operations_says_so(backend: Backend) {
    let site = FixtureSite::start(SiteSpec::standard()).await;
    site.set_fault(
        &FixtureSite::page_path("www.morbihan.gouv.fr", "porcin", 1),
        Fault::Status { status: 404, times: 10, retry_after: None },
    );
    let app = TestApp::spawn_on(&site, &backend).await;
    let task = app.start(&["56", "29"], &["bovin", "porcin"]).await;
    app.progress_until_end(&task.id).await;
    let got = app.client.get_task(&task.id).await.expect("get");
    assert_eq!(got.status(), pb::TaskStatus::Succeeded);
    assert_eq!(got.outcome, "succeeded, 1 of 4 operations failed");
    let listed = app.client.list_tasks(pb::ListTasksRequest::default()).await.expect("list");
    assert_eq!(listed.tasks[0].outcome, got.outcome);
    let page = reqwest::get(format!("{}/tasks/{}", app.address, task.id)).await.expect("the task page");
    let html = page.text().await.expect("html");
    assert!(html.contains("badge-partial") && html.contains("succeeded, 1 of 4 operations failed"));
    let list = reqwest::get(format!("{}/", app.address)).await.expect("the list").text().await.expect("html");
    assert!(list.contains("badge-partial"));
    assert_eq!(code(app.client.get_task("not-an-id").await), tonic::Code::InvalidArgument);
    app.stop().await;
}

on_both_backends!(
    the_export_format_follows_the_extension_and_a_file_name_belongs_to_one_task,
    a_stopped_rerun_never_replaces_a_finished_export,
    a_failed_export_shows_in_get_task_and_scrapectl_watch_exits_non_zero,
    a_request_id_reused_with_other_parameters_is_already_exists_naming_its_task,
    a_success_with_failed_operations_says_so
);
