//! Managing tasks as in an admin page: restart, stop all, delete, purge.

use std::collections::HashSet;

use scrape_client::pb::{self, TaskStatus};
use tonic::Code;

use crate::fixture::{Fault, FixtureSite, SiteSpec};
use crate::helpers::{Backend, TestApp, code, on_both_backends};

/// Totals of a finished task that a rerun must reproduce.
fn totals(task: &pb::Task) -> (u64, u64, u64, u32) {
    let s = task.summary.clone().expect("summary");
    (s.items_found, s.new_documents, s.pages_fetched, s.failed_operations)
}

fn per_operation(results: &[pb::OperationResult]) -> HashSet<(String, String, u64, u32)> {
    results.iter().map(|r| (r.prefecture_code.clone(), r.keyword.clone(), r.items_found, r.pages_fetched)).collect()
}

async fn a_restart_after_a_stop_gives_the_same_final_counts_as_an_uninterrupted_run(backend: Backend) {
    let site = FixtureSite::start(SiteSpec::standard()).await;
    let prefectures = ["56", "29", "2A"];
    let keywords = ["bovin", "porcin"];

    let reference = TestApp::spawn_on(&site, &backend).await;
    let uninterrupted = reference.start(&prefectures, &keywords).await;
    reference.progress_until_end(&uninterrupted.id).await;
    let expected = reference.client.get_task(&uninterrupted.id).await.expect("get");
    let expected_results = reference.results(&uninterrupted.id).await;
    reference.stop().await;

    // A fresh database, a run cut short by a stop…
    let hanging = FixtureSite::page_path("www.corse-du-sud.gouv.fr", "porcin", 3);
    site.set_fault(&hanging, Fault::Hang);
    let app = TestApp::spawn_on(&site, &backend).await;
    let task = app.start(&prefectures, &keywords).await;
    app.wait_for(&task.id, |p| p.completed_operations == 5 && p.in_flight_operations == 1).await;
    let stopped = app.client.stop_task(&task.id).await.expect("stop");
    assert_eq!(stopped.status(), TaskStatus::Cancelled);

    // …then restarted: back to pending with cleared timestamps and counters.
    site.clear_fault(&hanging);
    let restarted = app.client.restart_task(&task.id).await.expect("restart");
    assert_eq!(restarted.status(), TaskStatus::Pending);
    assert!(restarted.started_at.is_none() && restarted.completed_at.is_none());
    assert_eq!(totals(&restarted), (0, 0, 0, 0));
    let last = app.progress_until_end(&task.id).await;
    assert_eq!(last.last().map(|p| p.status()), Some(TaskStatus::Succeeded));

    let rerun = app.client.get_task(&task.id).await.expect("get");
    assert_eq!(totals(&rerun), totals(&expected), "same totals as the uninterrupted run");
    let results = app.results(&task.id).await;
    assert_eq!(results.len(), 6, "results replaced, not doubled");
    assert_eq!(per_operation(&results), per_operation(&expected_results));
    let documents = app.documents(&task.id).await;
    let findings: usize = documents.iter().map(|d| d.keywords.len()).sum();
    assert_eq!(
        findings,
        reference_rows(&site, &prefectures, &keywords),
        "each document under every keyword that found it"
    );

    let kinds: Vec<_> = app.client.task_events(&task.id).await.expect("events").iter().map(|e| e.kind()).collect();
    assert!(kinds.contains(&pb::TaskEventKind::Restarted), "{kinds:?}");
    assert_eq!(kinds.last(), Some(&pb::TaskEventKind::Succeeded));
    app.stop().await;
}

fn reference_rows(site: &FixtureSite, prefectures: &[&str], keywords: &[&str]) -> usize {
    let domains = prefectures.iter().map(|p| match *p {
        "56" => "www.morbihan.gouv.fr",
        "29" => "www.finistere.gouv.fr",
        _ => "www.corse-du-sud.gouv.fr",
    });
    domains.flat_map(|d| keywords.iter().map(move |k| site.cards(d, k).len())).sum()
}

async fn only_finished_tasks_restart_and_running_ones_cannot_be_deleted(backend: Backend) {
    let site = FixtureSite::start(SiteSpec::standard()).await;
    site.set_fault(&FixtureSite::page_path("www.morbihan.gouv.fr", "bovin", 2), Fault::Hang);
    let app = TestApp::spawn_on(&site, &backend).await;
    let running = app.start(&["56"], &["bovin"]).await;
    app.wait_for(&running.id, |p| p.status() == TaskStatus::Running).await;

    assert_eq!(code(app.client.restart_task(&running.id).await), Code::FailedPrecondition);
    assert_eq!(code(app.client.delete_task(&running.id).await), Code::FailedPrecondition);
    app.client.stop_task(&running.id).await.expect("stop");
    app.client.delete_task(&running.id).await.expect("a stopped task can be deleted");
    assert_eq!(code(app.client.get_task(&running.id).await), Code::NotFound);
    assert_eq!(code(app.client.delete_task(&running.id).await), Code::NotFound);
    app.stop().await;
}

async fn stop_all_stops_running_and_pending_tasks(backend: Backend) {
    let site = FixtureSite::start(SiteSpec::standard()).await;
    site.set_fault(&FixtureSite::page_path("www.morbihan.gouv.fr", "bovin", 2), Fault::Hang);
    let app = TestApp::spawn_tuned(&site, &backend, |config| {
        config.workers = 1;
    })
    .await;
    let running = app.start(&["56"], &["bovin"]).await;
    app.wait_for(&running.id, |p| p.status() == TaskStatus::Running).await;
    let pending = app.start(&["29"], &["bovin"]).await;

    assert_eq!(app.client.stop_all_tasks().await.expect("stop all"), 2);
    for id in [&running.id, &pending.id] {
        let task = app.client.get_task(id).await.expect("get");
        assert_eq!(task.status(), TaskStatus::Cancelled);
        assert!(task.completed_at.is_some());
    }
    assert_eq!(app.client.stop_all_tasks().await.expect("nothing left"), 0);
    app.stop().await;
}

async fn purge_deletes_old_finished_tasks_and_only_the_documents_no_other_task_found(backend: Backend) {
    let site = FixtureSite::start(SiteSpec::standard()).await;
    let app = TestApp::spawn_on(&site, &backend).await;
    // Both find Morbihan × bovin; only the first finds Morbihan × porcin.
    let purged = app.start(&["56"], &["bovin", "porcin"]).await;
    app.progress_until_end(&purged.id).await;
    let kept = app.start(&["56"], &["bovin"]).await;
    app.progress_until_end(&kept.id).await;
    let kept_docs = app.documents(&kept.id).await;
    assert_eq!(kept_docs.len(), 23);

    // A purge older than both deletes nothing.
    let none = pb::PurgeTasksRequest {
        completed_before: Some(prost_types::Timestamp { seconds: 1_000_000_000, nanos: 0 }),
        ..Default::default()
    };
    assert_eq!(app.client.purge_tasks(none).await.expect("purge"), 0);

    // Completed before the second task did: only the first.
    let between = app.client.get_task(&kept.id).await.expect("get").completed_at.expect("completed");
    let purge = pb::PurgeTasksRequest {
        statuses: vec![TaskStatus::Succeeded as i32],
        completed_before: Some(prost_types::Timestamp { seconds: between.seconds, nanos: between.nanos }),
    };
    assert_eq!(app.client.purge_tasks(purge).await.expect("purge"), 1);
    assert_eq!(code(app.client.get_task(&purged.id).await), Code::NotFound);

    // The other task's documents are intact; the porcin-only ones are gone.
    assert_eq!(app.documents(&kept.id).await, kept_docs);
    let all = app
        .client
        .list_documents(pb::ListDocumentsRequest { page_size: 1000, ..Default::default() })
        .await
        .expect("all");
    let links: HashSet<_> = all.documents.iter().map(|d| d.link.clone()).collect();
    let kept_links: HashSet<_> = kept_docs.iter().map(|d| d.link.clone()).collect();
    assert_eq!(links, kept_links);
    app.stop().await;
}

/// The ids of the tasks a ListTasks query finds.
async fn found(app: &TestApp, query: &str) -> HashSet<String> {
    let request = pb::ListTasksRequest { query: query.into(), page_size: 100, ..Default::default() };
    app.client.list_tasks(request).await.expect("list").tasks.into_iter().map(|t| t.id).collect()
}

/// On SQLite a query of three letters or more that few tasks match is
/// looked up in the trigram index (FTS5), a shorter one by walking the
/// tasks; PostgreSQL's trigram index (pg_trgm) serves both.
async fn purged_tasks_are_no_longer_found_by_a_search(backend: Backend) {
    let site = FixtureSite::start(SiteSpec::standard()).await;
    let app = TestApp::spawn_on(&site, &backend).await;
    let kept = app.start(&["56"], &["bovin"]).await;
    app.progress_until_end(&kept.id).await;
    // The newest task, so that a task created after the purge may take its
    // place (on SQLite, its rowid): a stale index entry would find that one.
    let hanging = FixtureSite::page_path("www.morbihan.gouv.fr", "ornithorynque", 1);
    site.set_fault(&hanging, Fault::Hang);
    let purged = app.start(&["56"], &["ornithorynque", "bovin"]).await;
    app.wait_for(&purged.id, |p| p.status() == TaskStatus::Running).await;
    app.client.stop_task(&purged.id).await.expect("stop");
    // The rare word and the common one find it before the purge.
    assert_eq!(found(&app, "ornithorynque").await, HashSet::from([purged.id.clone()]));
    assert_eq!(found(&app, "bovin").await, HashSet::from([kept.id.clone(), purged.id.clone()]));
    // Too short for trigrams: found by a walk through the newest tasks.
    assert_eq!(found(&app, "56").await, HashSet::from([kept.id.clone(), purged.id.clone()]));

    let cancelled = pb::PurgeTasksRequest { statuses: vec![TaskStatus::Cancelled as i32], ..Default::default() };
    assert_eq!(app.client.purge_tasks(cancelled).await.expect("purge"), 1);
    let later = app.start(&["56"], &["tamanoir", "bovin"]).await;
    app.progress_until_end(&later.id).await;

    assert!(found(&app, "ornithorynque").await.is_empty(), "the purged task's rare word finds nothing");
    assert!(found(&app, "ornithor").await.is_empty(), "nor does a part of it");
    assert_eq!(found(&app, "bovin").await, HashSet::from([kept.id.clone(), later.id.clone()]));
    assert_eq!(found(&app, "56").await, HashSet::from([kept.id.clone(), later.id.clone()]));
    assert_eq!(found(&app, "tamanoir").await, HashSet::from([later.id.clone()]));
    app.stop().await;
}

on_both_backends!(
    a_restart_after_a_stop_gives_the_same_final_counts_as_an_uninterrupted_run,
    only_finished_tasks_restart_and_running_ones_cannot_be_deleted,
    stop_all_stops_running_and_pending_tasks,
    purge_deletes_old_finished_tasks_and_only_the_documents_no_other_task_found,
    purged_tasks_are_no_longer_found_by_a_search
);
