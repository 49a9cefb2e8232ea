//! A watch on the dashboard's address: its Atom feed read by a real feed
//! parser, and its pages and form over plain HTTP (the form's validation is
//! the API's).

use std::collections::HashMap;

use scrape_client::pb;

use crate::fixture::{FixtureSite, SiteSpec};
use crate::helpers::{Backend, DEADLINE, TestApp, on_both_backends};
use crate::watch_helpers::{MORBIHAN, interval, run_and_wait, watch};

on_both_backends!(
    the_atom_feed_lists_the_news_with_stable_entry_ids,
    the_watch_form_shows_each_problem_next_to_its_field_and_creates_a_valid_watch,
    the_watch_pages_show_the_next_run_the_runs_and_their_news,
);

fn http() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .http1_only()
        .timeout(DEADLINE)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("an HTTP client")
}

async fn feed(app: &TestApp, id: &str) -> feed_rs::model::Feed {
    let response = http().get(format!("{}/watches/{id}/feed.atom", app.address)).send().await.expect("the feed");
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "application/atom+xml; charset=utf-8");
    let body = response.bytes().await.expect("a body");
    feed_rs::parser::parse(body.as_ref()).expect("a valid feed")
}

async fn the_atom_feed_lists_the_news_with_stable_entry_ids(backend: Backend) {
    let site = FixtureSite::start(SiteSpec { counts: vec![(MORBIHAN, "bovin", 5)] }).await;
    let app = TestApp::spawn_on(&site, &backend).await;
    let created =
        app.client.create_watch(watch("Bovins & co", &["56"], &["bovin"], interval(86_400))).await.expect("created");
    run_and_wait(&app.client, &created.id).await;

    let first = feed(&app, &created.id).await;
    assert_eq!(first.feed_type, feed_rs::model::FeedType::Atom);
    assert_eq!(first.id, format!("urn:uuid:{}", created.id));
    assert_eq!(first.title.as_ref().map(|t| t.content.as_str()), Some("Bovins & co — scrape-tasks"));
    assert!(first.updated.is_some());
    assert!(!first.authors.is_empty(), "Atom requires an author");
    let own = first.links.iter().find(|l| l.rel.as_deref() == Some("self")).expect("a self link");
    assert_eq!(own.href, format!("{}/watches/{}/feed.atom", app.address, created.id));
    let cards = site.cards(MORBIHAN, "bovin");
    assert_eq!(first.entries.len(), cards.len());
    let mut ids: HashMap<String, String> = HashMap::new();
    for entry in &first.entries {
        let link = entry.links.first().expect("a link").href.clone();
        let card = cards.iter().find(|c| c.link == link).unwrap_or_else(|| panic!("{link} is not a card"));
        assert_eq!(entry.title.as_ref().map(|t| t.content.as_str()), Some(card.title.as_str()));
        assert!(entry.updated.is_some());
        assert!(entry.id.starts_with("urn:uuid:"), "{}", entry.id);
        let terms: Vec<&str> = entry.categories.iter().map(|c| c.term.as_str()).collect();
        assert_eq!(terms, ["56", "bovin"]);
        assert!(ids.insert(link, entry.id.clone()).is_none(), "one entry per document");
    }
    assert_eq!(ids.values().collect::<std::collections::HashSet<_>>().len(), cards.len(), "distinct ids");

    let published = site.add_cards(MORBIHAN, "bovin", 2);
    run_and_wait(&app.client, &created.id).await;
    let second = feed(&app, &created.id).await;
    assert_eq!(second.entries.len(), cards.len() + 2);
    let newest: Vec<String> = second.entries[..2].iter().map(|e| e.links[0].href.clone()).collect();
    assert!(published.iter().all(|c| newest.contains(&c.link)), "the new documents come first");
    for entry in &second.entries[2..] {
        assert_eq!(ids.get(&entry.links[0].href), Some(&entry.id), "an entry keeps its id");
    }
    assert!(second.updated >= first.updated);

    let missing =
        http().get(format!("{}/watches/0192e3c4-5b6a-7c8d-9e0f-1a2b3c4d5e6f/feed.atom", app.address)).send().await;
    assert_eq!(missing.expect("an answer").status(), 404);
    app.stop().await;
}

async fn post_form(app: &TestApp, path: &str, form: &[(&str, &str)]) -> reqwest::Response {
    // As a browser: the form's page first, for the session and its CSRF token.
    let session = crate::dashboard::http::Session::open(&http(), &app.address, "/watches/new").await;
    let body = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(form)
        .append_pair("csrf", &session.csrf)
        .finish();
    http()
        .post(format!("{}{path}", app.address))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("cookie", &session.cookie)
        .body(body)
        .send()
        .await
        .expect("an answer")
}

/// The text of a field's error paragraph on a form page.
fn field_error(page: &str, field: &str) -> String {
    let marker = format!("id=\"{field}-error\">");
    let start = page.find(&marker).map(|i| i + marker.len()).unwrap_or_else(|| panic!("no {field} error in the page"));
    page[start..].split("</p>").next().unwrap_or_default().to_owned()
}

async fn the_watch_form_shows_each_problem_next_to_its_field_and_creates_a_valid_watch(backend: Backend) {
    let site = FixtureSite::start(SiteSpec { counts: vec![(MORBIHAN, "bovin", 5)] }).await;
    let app = TestApp::spawn_on(&site, &backend).await;
    let bad = [
        ("name", "Veille"),
        ("keywords", "bovin"),
        ("prefectures", "56"),
        ("schedule", "cron"),
        ("cron_expression", "0 7 * *"),
        ("time_zone", "Europe/Pariss"),
        ("webhook_url", "https://example.org/hook"),
        ("webhook_secret", "short"),
    ];
    let response = post_form(&app, "/watches", &bad).await;
    assert_eq!(response.status(), 422);
    let page = response.text().await.expect("the form again");
    assert!(field_error(&page, "cron_expression").contains("not a cron expression"));
    assert!(field_error(&page, "time_zone").contains("unknown time zone"));
    assert!(field_error(&page, "webhook_secret").contains("at least 16 characters"));
    assert!(field_error(&page, "name").is_empty());
    assert!(page.contains("value=\"0 7 * *\""), "what was typed is shown again");
    let zero = [
        ("name", "Veille"),
        ("keywords", "bovin"),
        ("schedule", "interval"),
        ("interval", "0"),
        ("interval_unit", "seconds"),
    ];
    let page = post_form(&app, "/watches", &zero).await.text().await.expect("the form again");
    assert!(field_error(&page, "interval").contains("at least 1 second"));
    assert!(app.client.list_watches(10, "").await.expect("list").watches.is_empty(), "nothing was created");

    let good = [
        ("name", "Veille Morbihan"),
        ("keywords", "bovin, porcin"),
        ("prefectures", "56"),
        ("days_limit", "2"),
        ("schedule", "cron"),
        ("cron_expression", "10 11 * * *"),
        ("time_zone", "Europe/Paris"),
        ("webhook_url", "https://example.org/hook"),
        ("webhook_secret", "a-long-enough-secret"),
    ];
    let response = post_form(&app, "/watches", &good).await;
    assert_eq!(response.status(), 303);
    let location = response.headers()["location"].to_str().expect("a location").to_owned();
    let id = location.strip_prefix("/watches/").expect("the watch's page").to_owned();
    let created = app.client.get_watch(&id).await.expect("created");
    assert_eq!(created.name, "Veille Morbihan");
    assert_eq!(
        created.task.as_ref().map(|t| (t.keywords.clone(), t.days_limit)),
        Some((vec!["bovin".into(), "porcin".into()], 2))
    );
    let expected = pb::Schedule {
        kind: Some(pb::schedule::Kind::Cron(pb::CronSchedule {
            expression: "10 11 * * *".into(),
            time_zone: "Europe/Paris".into(),
        })),
    };
    assert_eq!(created.schedule, Some(expected));

    // Edited with the secret left empty: the secret is kept, the rest replaced.
    let edit = http().get(format!("{}/watches/{id}/edit", app.address)).send().await.expect("the edit form");
    let form = edit.text().await.expect("a page");
    assert!(form.contains("value=\"Veille Morbihan\"") && form.contains("value=\"10 11 * * *\""));
    assert!(!form.contains("a-long-enough-secret"), "the secret is never shown");
    let edited = [
        ("name", "Veille Morbihan (porcins)"),
        ("keywords", "porcin"),
        ("prefectures", "56"),
        ("schedule", "interval"),
        ("interval", "6"),
        ("interval_unit", "hours"),
        ("webhook_url", "https://example.org/hook"),
        ("webhook_secret", ""),
    ];
    assert_eq!(post_form(&app, &format!("/watches/{id}"), &edited).await.status(), 303);
    let updated = app.client.get_watch(&id).await.expect("updated");
    assert_eq!(updated.name, "Veille Morbihan (porcins)");
    assert_eq!(updated.schedule, Some(interval(6 * 3600)));
    assert!(updated.webhook.is_some(), "the webhook and its secret are kept");
    app.stop().await;
}

async fn the_watch_pages_show_the_next_run_the_runs_and_their_news(backend: Backend) {
    let site = FixtureSite::start(SiteSpec { counts: vec![(MORBIHAN, "bovin", 3)] }).await;
    let app = TestApp::spawn_on(&site, &backend).await;
    let created =
        app.client.create_watch(watch("Veille ICPE", &["56"], &["bovin"], interval(3600))).await.expect("created");
    let list =
        http().get(format!("{}/watches", app.address)).send().await.expect("the list").text().await.expect("a page");
    assert!(list.contains("Veille ICPE") && list.contains(&format!("/watches/{}", created.id)));
    assert!(list.contains("every 1h"), "the schedule");
    assert!(list.contains("<time"), "the next run");

    // Run now from the watch's page, then its runs and news are shown.
    let response = post_form(&app, &format!("/watches/{}/run", created.id), &[]).await;
    assert_eq!(response.status(), 303);
    let watched = crate::watch_helpers::wait_watch(&app.client, &created.id, "the run ended", |w| {
        w.last_run.as_ref().is_some_and(|r| r.ended_at.is_some())
    })
    .await;
    let task_id = watched.last_run.expect("a run").task_id;
    let page = http().get(format!("{}/watches/{}", app.address, created.id)).send().await.expect("the page");
    let page = page.text().await.expect("a page");
    assert!(page.contains(&format!("/tasks/{task_id}")), "the run's task");
    for card in site.cards(MORBIHAN, "bovin") {
        assert!(page.contains(&card.link.replace('&', "&amp;")), "{} is listed", card.link);
    }
    assert!(page.contains(&format!("/watches/{}/feed.atom", created.id)));
    let list =
        http().get(format!("{}/watches", app.address)).send().await.expect("the list").text().await.expect("a page");
    assert!(list.contains("3 new"), "the last news");

    assert_eq!(post_form(&app, &format!("/watches/{}/pause", created.id), &[]).await.status(), 303);
    assert!(app.client.get_watch(&created.id).await.expect("watch").paused);
    let page = http().get(format!("{}/watches/{}", app.address, created.id)).send().await.expect("the page");
    assert!(page.text().await.expect("a page").contains("Resume"));
    assert_eq!(post_form(&app, &format!("/watches/{}/delete", created.id), &[]).await.status(), 303);
    assert_eq!(
        http().get(format!("{}/watches/{}", app.address, created.id)).send().await.expect("an answer").status(),
        404
    );
    app.stop().await;
}
