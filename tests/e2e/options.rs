//! Task options: days_limit, exclude_keywords, request_id under concurrent
//! retries, and the export written when a task ends.

use std::collections::HashSet;

use chrono::NaiveDate;
use scrape_client::pb::{self, TaskStatus};

use crate::fixture::{FixtureCard, FixtureSite, SiteSpec};
use crate::helpers::{Backend, TestApp, on_both_backends};

fn fold(text: &str) -> String {
    text.to_lowercase().replace(['é', 'è', 'ê'], "e")
}

fn links<'a>(cards: impl IntoIterator<Item = &'a FixtureCard>) -> HashSet<String> {
    cards.into_iter().map(|c| c.link.clone()).collect()
}

async fn days_limit_and_exclude_keywords_drop_exactly_the_cards_they_should(backend: Backend) {
    for site_applies_the_window in [true, false] {
        let site = FixtureSite::start(SiteSpec::standard()).await;
        site.set_date_filter(site_applies_the_window);
        let app = TestApp::spawn_on(&site, &backend).await;
        let task = app
            .client
            .start_task(pb::StartTaskRequest {
                keywords: vec!["bovin".into()],
                prefectures: vec!["56".into(), "2A".into()],
                days_limit: 365,
                exclude_keywords: vec!["MÉTHANISATION".into()],
                ..Default::default()
            })
            .await
            .expect("start");
        app.progress_until_end(&task.id).await;

        let today = chrono::Utc::now().date_naive();
        let oldest = today - chrono::Days::new(365);
        let mut expected = HashSet::new();
        let (mut dropped_old, mut dropped_excluded, mut in_window) = (0, 0, [0usize; 2]);
        for (i, domain) in ["www.morbihan.gouv.fr", "www.corse-du-sud.gouv.fr"].into_iter().enumerate() {
            for card in site.cards(domain, "bovin") {
                let date = NaiveDate::parse_from_str(&card.published_on, "%Y-%m-%d").ok();
                if date.is_some_and(|d| d < oldest) {
                    dropped_old += 1;
                    continue;
                }
                in_window[i] += 1;
                if fold(&card.description).contains("methanisation") || fold(&card.title).contains("methanisation") {
                    dropped_excluded += 1;
                } else {
                    expected.insert(card.link.clone());
                }
            }
        }
        assert!(dropped_old > 0 && dropped_excluded > 0, "the fixture exercises both options");
        assert!(
            expected.iter().any(|l| site
                .cards("www.morbihan.gouv.fr", "bovin")
                .iter()
                .any(|c| &c.link == l && c.published_on.is_empty())),
            "undated cards are kept"
        );

        // Every search asked the site for the task's window.
        let window = format!("dateFilter[]={oldest}&dateFilter[]={today}&typedate=1");
        let requests = site.requests();
        assert!(!requests.is_empty());
        assert!(requests.iter().all(|h| h.query.contains(&window)), "{window} in {:?}", requests[0].query);

        // Whether the site applies it or not, the same cards are kept.
        let stored: HashSet<_> = app.documents(&task.id).await.into_iter().map(|d| d.link).collect();
        assert_eq!(stored, expected, "site applies the window: {site_applies_the_window}");
        let results = app.results(&task.id).await;
        assert_eq!(results.iter().map(|r| r.items_found).sum::<u64>(), expected.len() as u64);
        let pages: u32 = results.iter().map(|r| r.pages_fetched).sum();
        if site_applies_the_window {
            // The site returns only the window's pages (and the empty one after them).
            let windowed: u32 = in_window.iter().map(|n| (n.div_ceil(10) + 1) as u32).sum();
            assert_eq!(pages, windowed);
        } else {
            // Every page is read: the filters drop cards, not pages.
            assert_eq!(pages, 3 + 1 + 2 + 1);
        }
        app.stop().await;
    }
}

async fn concurrent_starts_with_one_request_id_create_one_task(backend: Backend) {
    let site = FixtureSite::start(SiteSpec::standard()).await;
    let app = TestApp::spawn_on(&site, &backend).await;
    let request = pb::StartTaskRequest {
        keywords: vec!["bovin".into()],
        prefectures: vec!["29".into()],
        request_id: "nightly-2025-03-12".into(),
        ..Default::default()
    };
    let calls = (0..16).map(|_| {
        let client = app.client.clone();
        let request = request.clone();
        tokio::spawn(async move { client.start_task(request).await.expect("start").id })
    });
    let mut ids = HashSet::new();
    for call in calls {
        ids.insert(call.await.expect("join"));
    }
    assert_eq!(ids.len(), 1);
    let listed = app.client.list_tasks(pb::ListTasksRequest::default()).await.expect("list");
    assert_eq!(listed.tasks.len(), 1);
    app.stop().await;
}

async fn the_export_is_written_into_the_export_directory_when_the_task_ends(backend: Backend) {
    let site = FixtureSite::start(SiteSpec::standard()).await;
    let app = TestApp::spawn_on(&site, &backend).await;
    let task = app
        .client
        .start_task(pb::StartTaskRequest {
            keywords: vec!["bovin".into(), "porcin".into()],
            prefectures: vec!["56".into()],
            export: Some(pb::ExportOptions {
                file_name: "veille bovins.json".into(),
                format: pb::ExportFormat::Json.into(),
            }),
            ..Default::default()
        })
        .await
        .expect("start");
    let updates = app.progress_until_end(&task.id).await;
    assert_eq!(updates.last().map(|p| p.status()), Some(TaskStatus::Succeeded));

    let path = app.dir.path().join("exports").join("veille bovins.json");
    let export: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&path).expect("the export file")).expect("JSON");
    assert_eq!(export["task"]["id"], task.id.as_str());
    assert_eq!(export["task"]["status"], "succeeded");
    let exported: HashSet<String> = export["documents"]
        .as_array()
        .expect("documents")
        .iter()
        .map(|d| d["link"].as_str().expect("link").to_owned())
        .collect();
    let expected = links(&site.cards("www.morbihan.gouv.fr", "bovin"))
        .union(&links(&site.cards("www.morbihan.gouv.fr", "porcin")))
        .cloned()
        .collect();
    assert_eq!(exported, expected);
    let leftovers: Vec<_> = std::fs::read_dir(app.dir.path().join("exports")).expect("dir").collect();
    assert_eq!(leftovers.len(), 1, "no partial file left behind");
    let events = app.client.task_events(&task.id).await.expect("events");
    assert!(events.iter().any(|e| e.kind() == pb::TaskEventKind::Exported && e.message.contains("veille bovins.json")));
    app.stop().await;
}

async fn a_failed_export_is_logged_as_failed_leaves_no_partial_file_and_keeps_the_task_status(backend: Backend) {
    let site = FixtureSite::start(SiteSpec::standard()).await;
    let app = TestApp::spawn_on(&site, &backend).await;
    // A directory where the export file should go: the export is written
    // to its temporary name, then cannot take its final one.
    let exports = app.dir.path().join("exports");
    std::fs::create_dir_all(exports.join("veille.json")).expect("a directory in the way");
    let task = app
        .client
        .start_task(pb::StartTaskRequest {
            keywords: vec!["bovin".into()],
            prefectures: vec!["56".into()],
            export: Some(pb::ExportOptions { file_name: "veille.json".into(), format: pb::ExportFormat::Json.into() }),
            ..Default::default()
        })
        .await
        .expect("start");
    let updates = app.progress_until_end(&task.id).await;
    assert_eq!(updates.last().map(|p| p.status()), Some(TaskStatus::Succeeded), "the task's own outcome stands");

    let events = app.client.task_events(&task.id).await.expect("events");
    let kinds: Vec<_> = events.iter().map(|e| e.kind()).collect();
    assert!(!kinds.contains(&pb::TaskEventKind::Exported), "a failure is not logged as an export: {kinds:?}");
    let failed = events.iter().find(|e| e.kind() == pb::TaskEventKind::ExportFailed).expect("an export_failed event");
    assert!(failed.message.contains("veille.json"), "{}", failed.message);
    let names: Vec<String> = std::fs::read_dir(&exports)
        .expect("dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["veille.json"], "only the directory that was in the way: no partial file left behind");
    app.stop().await;
}

on_both_backends!(
    days_limit_and_exclude_keywords_drop_exactly_the_cards_they_should,
    concurrent_starts_with_one_request_id_create_one_task,
    the_export_is_written_into_the_export_directory_when_the_task_ends,
    a_failed_export_is_logged_as_failed_leaves_no_partial_file_and_keeps_the_task_status
);
