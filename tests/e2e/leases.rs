//! A worker that loses its task's lease to another (its heartbeats did not
//! reach the database in time) stops the task's operations and writes
//! nothing more: the task is the new owner's.

use chrono::{TimeDelta, Utc};
use scrape_client::pb;
use scrape_server::store::{DatabaseUrl, LeaseState, PoolConfig, Store};

use crate::fixture::{Fault, FixtureSite, SiteSpec};
use crate::helpers::{Backend, TestApp, collect_stream, eventually, on_both_backends};

async fn a_worker_that_lost_its_lease_stops_and_leaves_the_task_to_its_new_owner(backend: Backend) {
    let site = FixtureSite::start(SiteSpec::standard()).await;
    let stuck = FixtureSite::page_path("www.morbihan.gouv.fr", "bovin", 1);
    site.set_fault(&stuck, Fault::Hang);
    let app = TestApp::spawn_tuned(&site, &backend, |c| c.lease_secs = 2).await;
    let task = app.start(&["56"], &["bovin"]).await;
    eventually("the page is requested", || site.hits(&stuck) > 0).await;

    // Another worker takes the task as if the lease had run out.
    let url = DatabaseUrl::parse(app.database_url()).expect("url");
    let thief = Store::open(&url, PoolConfig::default()).await.expect("the same database");
    let id = task.id.parse().expect("a task id");
    let lease = std::time::Duration::from_secs(60);
    let after_expiry = Utc::now() + TimeDelta::seconds(3);
    let claim = thief.claim_next("thief", after_expiry, lease).await.expect("claim").expect("the expired task");
    assert_eq!(claim.task.id, id);
    assert!(claim.resumed);

    // The server's next heartbeat finds the lease lost: its operation is
    // aborted and its progress stream ends without a terminal state.
    let updates = collect_stream(&app.client, &task.id).await;
    assert!(updates.iter().all(|p| p.status() == pb::TaskStatus::Running), "{updates:?}");

    let stored = thief.task(id).await.expect("read").expect("exists");
    assert_eq!(stored.status, scrape_server::domain::TaskStatus::Running, "the old worker did not end the task");
    assert_eq!(
        thief.renew_lease(id, "thief", Utc::now(), lease).await.expect("renew"),
        LeaseState::Held { stop_requested: false },
        "the task is still the new owner's"
    );
    let events = app.client.task_events(&task.id).await.expect("events");
    let kinds: Vec<_> = events.iter().map(|e| e.kind()).collect();
    assert_eq!(
        kinds,
        [pb::TaskEventKind::Created, pb::TaskEventKind::Started, pb::TaskEventKind::Resumed],
        "nothing written by the worker that lost the lease"
    );
    assert_eq!(app.results(&task.id).await.len(), 0, "no operation recorded by it");
    app.stop().await;
}

on_both_backends!(a_worker_that_lost_its_lease_stops_and_leaves_the_task_to_its_new_owner);
