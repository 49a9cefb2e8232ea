//! `ListTasks.order_by` (AIP-132): every order walked page by page, both
//! ways, each task once and in place; page tokens bound to their order;
//! orders that cannot be served refused field by field.

use scrape_client::pb::{self, TaskStatus};

use crate::fixture::{Fault, FixtureSite, SiteSpec};
use crate::helpers::{Backend, TestApp, bad_fields, on_both_backends};

/// Every task of a list in `order_by`, read two at a time.
async fn walk(app: &TestApp, order_by: &str) -> Vec<String> {
    let mut ids = Vec::new();
    let mut page_token = String::new();
    loop {
        let request =
            pb::ListTasksRequest { order_by: order_by.into(), page_size: 2, page_token, ..Default::default() };
        let page = app.client.list_tasks(request).await.unwrap_or_else(|e| panic!("{order_by}: {e}"));
        assert!(page.tasks.len() <= 2);
        ids.extend(page.tasks.into_iter().map(|t| t.id));
        if page.next_page_token.is_empty() {
            return ids;
        }
        page_token = page.next_page_token;
    }
}

async fn tasks_are_listed_by_creation_status_or_keywords_both_ways_page_after_page(backend: Backend) {
    let site = FixtureSite::start(SiteSpec::standard()).await;
    site.set_fault(
        &FixtureSite::page_path("www.finistere.gouv.fr", "volaille", 1),
        Fault::Status { status: 500, times: 1000, retry_after: None },
    );
    site.set_fault(&FixtureSite::page_path("www.morbihan.gouv.fr", "abeille", 1), Fault::Hang);
    let app = TestApp::spawn_on(&site, &backend).await;
    // In creation order; two with the same keywords, which tie on that key.
    let mut made = Vec::new();
    for (prefecture, keywords) in [
        ("56", &["porcin"][..]),
        ("56", &["Bovin", "ovin"]),
        ("56", &["bovin"]),
        ("29", &["volaille"]),
        ("56", &["Élevage"]),
        ("56", &["abeille"]),
        ("2A", &["bovin"]),
    ] {
        let task = app.start(&[prefecture], keywords).await;
        if keywords == ["abeille"] {
            app.wait_for(&task.id, |p| p.status() == TaskStatus::Running).await;
            app.client.stop_task(&task.id).await.expect("stopped");
        } else {
            app.progress_until_end(&task.id).await;
        }
        made.push(task.id);
    }
    let [porcin, bovin_ovin, bovin, volaille, elevage, abeille, bovin_2a] = made.clone().try_into().expect("seven");
    for (id, expected) in
        [(&volaille, TaskStatus::Failed), (&abeille, TaskStatus::Cancelled), (&porcin, TaskStatus::Succeeded)]
    {
        assert_eq!(app.client.get_task(id).await.expect("get").status(), expected);
    }

    let newest_first: Vec<String> = made.iter().rev().cloned().collect();
    assert_eq!(walk(&app, "").await, newest_first, "the default");
    assert_eq!(walk(&app, "created_at desc").await, newest_first);
    assert_eq!(walk(&app, "created_at").await, made);
    assert_eq!(walk(&app, "  created_at   asc ").await, made, "spacing and asc are accepted");

    // By status name; the succeeded ones newest first.
    let succeeded = [&bovin_2a, &elevage, &bovin, &bovin_ovin, &porcin].map(|s| s.clone());
    let mut by_status = vec![abeille.clone(), volaille.clone()];
    by_status.extend(succeeded.iter().cloned());
    assert_eq!(walk(&app, "status").await, by_status);
    let mut by_status_desc = succeeded.to_vec();
    by_status_desc.extend([volaille.clone(), abeille.clone()]);
    assert_eq!(walk(&app, "status desc").await, by_status_desc, "ties stay newest first");

    // By keywords, folded: "Bovin, ovin" after "bovin", "Élevage" as "elevage".
    let by_keywords = [&abeille, &bovin_2a, &bovin, &bovin_ovin, &elevage, &porcin, &volaille].map(|s| s.clone());
    assert_eq!(walk(&app, "keywords").await, by_keywords);
    let by_keywords_desc = [&volaille, &porcin, &elevage, &bovin_ovin, &bovin_2a, &bovin, &abeille].map(|s| s.clone());
    assert_eq!(walk(&app, "keywords desc").await, by_keywords_desc);

    // Filters and the order combine.
    let request = pb::ListTasksRequest {
        order_by: "keywords desc".into(),
        query: "bovin".into(),
        statuses: vec![TaskStatus::Succeeded as i32],
        ..Default::default()
    };
    let listed: Vec<String> =
        app.client.list_tasks(request).await.expect("list").tasks.into_iter().map(|t| t.id).collect();
    assert_eq!(listed, [bovin_ovin, bovin_2a, bovin]);
    app.stop().await;
}

async fn a_page_token_serves_only_its_own_order_and_unknown_orders_are_refused(backend: Backend) {
    let site = FixtureSite::start(SiteSpec::standard()).await;
    let app = TestApp::spawn_on(&site, &backend).await;
    for keyword in ["bovin", "porcin", "ovin"] {
        let task = app.start(&["56"], &[keyword]).await;
        app.progress_until_end(&task.id).await;
    }
    let first = |order_by: &str| pb::ListTasksRequest { order_by: order_by.into(), page_size: 1, ..Default::default() };
    let by_status = app.client.list_tasks(first("status")).await.expect("list").next_page_token;
    assert!(!by_status.is_empty());

    for other in ["", "status desc", "keywords", "created_at"] {
        let reused = pb::ListTasksRequest { page_token: by_status.clone(), ..first(other) };
        let status = app.client.list_tasks(reused).await.expect_err("another order");
        assert_eq!(status.code(), tonic::Code::InvalidArgument, "{other}");
        assert!(status.message().contains("order_by"), "{other}: {}", status.message());
    }
    let same = pb::ListTasksRequest { page_token: by_status.clone(), ..first("  status ") };
    assert_eq!(app.client.list_tasks(same).await.expect("the same order").tasks.len(), 1);

    for bad in ["name", "status up", "status desc, created_at", "Status", "keywords desc desc"] {
        assert_eq!(bad_fields(app.client.list_tasks(first(bad)).await), ["order_by"], "{bad}");
    }
    let both = pb::ListTasksRequest { page_token: "garbage".into(), ..first("progress") };
    assert_eq!(bad_fields(app.client.list_tasks(both).await), ["order_by", "page_token"]);
    app.stop().await;
}

on_both_backends!(
    tasks_are_listed_by_creation_status_or_keywords_both_ways_page_after_page,
    a_page_token_serves_only_its_own_order_and_unknown_orders_are_refused
);
