//! A database that is locked by someone else: clients get UNAVAILABLE,
//! workers wait and retry, and nothing stored is lost.

use diesel::Connection;
use diesel::connection::SimpleConnection;
use scrape_client::pb::{self, TaskStatus};
use tonic::Code;

use crate::fixture::{FixtureSite, SiteSpec};
use crate::helpers::{Backend, TestApp, code};

#[tokio::test(flavor = "multi_thread")]
async fn a_locked_database_answers_unavailable_while_running_tasks_wait_and_lose_nothing() {
    let site = FixtureSite::start(SiteSpec::standard()).await;
    let app = TestApp::spawn_tuned(&site, &Backend::Sqlite, |config| {
        config.database_timeout_ms = 200;
        config.concurrency = 2;
    })
    .await;
    let path = app.dir.path().join("scrape.db");

    let done = app.start(&["29"], &["bovin"]).await;
    app.progress_until_end(&done.id).await;
    let before = app.client.get_task(&done.id).await.expect("get");
    // Its pages are held until the database is locked.
    let pages = site.hold_all();
    let running = app.start(&["56", "2A"], &["bovin", "porcin"]).await;
    pages.wait_until_reached(2).await;

    // Another process takes the write lock.
    let mut locker = diesel::SqliteConnection::establish(&path.display().to_string()).expect("open");
    locker.batch_execute("PRAGMA busy_timeout = 10000; BEGIN IMMEDIATE;").expect("lock");

    let refused =
        app.client.start_task(pb::StartTaskRequest { keywords: vec!["ovin".into()], ..Default::default() }).await;
    assert_eq!(code(refused), Code::Unavailable);
    // Reads still work, and show what was stored.
    assert_eq!(app.client.get_task(&done.id).await.expect("read"), before);
    let during = app.client.get_task(&running.id).await.expect("read");
    assert_eq!(during.status(), TaskStatus::Running);
    // The operations go on fetching (a third request comes after the
    // release) and wait to store what they found.
    pages.release();
    pages.wait_until_reached(3).await;

    locker.batch_execute("ROLLBACK;").expect("unlock");
    let end = app.progress_until_end(&running.id).await;
    let last = end.last().expect("end");
    assert_eq!((last.status(), last.failed_operations), (TaskStatus::Succeeded, 0));
    let expected: u64 = ["www.morbihan.gouv.fr", "www.corse-du-sud.gouv.fr"]
        .iter()
        .flat_map(|d| ["bovin", "porcin"].map(|k| site.cards(d, k).len() as u64))
        .sum();
    assert_eq!(last.items_found, expected);
    let listed = app.client.list_tasks(pb::ListTasksRequest::default()).await.expect("list");
    assert_eq!(listed.tasks.len(), 2, "the refused start created nothing");
    app.stop().await;
}
