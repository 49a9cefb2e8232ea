//! Each limit: task size, pending tasks in total and per token, streams
//! per connection, the handshake timeout, and request deadlines.

use std::time::Duration;

use diesel::Connection;
use diesel::connection::SimpleConnection;
use scrape_client::pb;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tonic::Code;
use tonic_types::StatusExt;

use super::{TokensFile, client_with};
use crate::fixture::{FixtureSite, SiteSpec};
use crate::helpers::{Backend, DEADLINE, TestApp, bad_fields, code, on_both_backends};

fn start(keywords: &[&str], request_id: &str) -> pb::StartTaskRequest {
    pb::StartTaskRequest {
        keywords: keywords.iter().map(|k| (*k).to_owned()).collect(),
        prefectures: vec!["56".into()],
        request_id: request_id.to_owned(),
        ..Default::default()
    }
}

async fn pending_tasks_beyond_the_quota_are_refused_as_resource_exhausted(backend: Backend) {
    let site = FixtureSite::start(SiteSpec::standard()).await;
    // No workers: every task stays pending.
    let app = TestApp::spawn_tuned(&site, &backend, |c| {
        c.workers = 0;
        c.max_pending_tasks = 2;
    })
    .await;
    app.client.start_task(start(&["bovin"], "")).await.expect("first");
    let second = app.client.start_task(start(&["porcin"], "veille-2")).await.expect("second");
    let refused = app.client.start_task(start(&["ovin"], "")).await.expect_err("the queue is full");
    assert_eq!(refused.code(), Code::ResourceExhausted);
    assert!(refused.message().contains("2 tasks are already pending"), "{}", refused.message());
    let quota = refused.get_details_quota_failure().expect("QuotaFailure details");
    assert_eq!(quota.violations[0].subject, "pending_tasks");
    // A retry of a task already queued is answered, full queue or not.
    assert_eq!(app.client.start_task(start(&["porcin"], "veille-2")).await.expect("known").id, second.id);
    let listed = app.client.list_tasks(pb::ListTasksRequest::default()).await.expect("list");
    assert_eq!(listed.tasks.len(), 2, "nothing was queued beyond the quota");
    // Room again once one leaves the queue.
    app.client.stop_task(&second.id).await.expect("stopped");
    app.client.start_task(start(&["ovin"], "")).await.expect("room again");
    app.stop().await;
}

async fn each_token_has_its_own_quota_of_pending_tasks(backend: Backend) {
    let site = FixtureSite::start(SiteSpec::standard()).await;
    let tokens = TokensFile::new();
    let path = tokens.path.clone();
    let app = TestApp::spawn_tuned(&site, &backend, |c| {
        c.workers = 0;
        c.tokens_file = Some(path);
        c.max_pending_tasks_per_token = 1;
    })
    .await;
    let ci = client_with(&app.address, Some(&tokens.operator)).await;
    let alice = client_with(&app.address, Some(&tokens.other_operator)).await;
    ci.start_task(start(&["bovin"], "")).await.expect("ci's first");
    let refused = ci.start_task(start(&["porcin"], "")).await.expect_err("ci's quota is full");
    assert_eq!(refused.code(), Code::ResourceExhausted);
    assert!(refused.message().contains("\"ci\""), "{}", refused.message());
    assert_eq!(refused.get_details_quota_failure().expect("details").violations[0].subject, "pending_tasks_per_token");
    alice.start_task(start(&["porcin"], "")).await.expect("alice's quota is her own");
    app.stop().await;
}

on_both_backends!(
    pending_tasks_beyond_the_quota_are_refused_as_resource_exhausted,
    each_token_has_its_own_quota_of_pending_tasks
);

#[tokio::test(flavor = "multi_thread")]
async fn tasks_over_the_keyword_or_operation_limits_are_refused_field_by_field() {
    let site = FixtureSite::start(SiteSpec::standard()).await;
    let app = TestApp::spawn_tuned(&site, &Backend::Sqlite, |c| {
        c.max_keywords = 3;
        c.max_operations_per_task = 5;
    })
    .await;
    assert_eq!(bad_fields(app.client.start_task(start(&["a", "b", "c", "d"], "")).await), ["keywords"]);
    let everywhere = pb::StartTaskRequest { keywords: vec!["bovin".into()], ..Default::default() };
    let refused = app.client.start_task(everywhere).await;
    assert_eq!(bad_fields(refused), ["operations"], "101 prefectures × 1 keyword");
    let breton =
        pb::StartTaskRequest { keywords: vec!["bovin".into()], regions: vec!["Bretagne".into()], ..Default::default() };
    app.client.start_task(breton).await.expect("4 operations fit");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn each_connection_is_told_how_many_calls_it_may_have_open_at_once() {
    let site = FixtureSite::start(SiteSpec::standard()).await;
    let app = TestApp::spawn_tuned(&site, &Backend::Sqlite, |c| c.max_streams_per_connection = 3).await;
    let tcp = tokio::net::TcpStream::connect(app.address.trim_start_matches("http://")).await.expect("connect");
    let (sender, connection) = h2::client::handshake(tcp).await.expect("an HTTP/2 connection");
    tokio::spawn(connection);
    let mut sender = sender.ready().await.expect("ready");
    // One request makes sure the server's SETTINGS have been read.
    let request = http::Request::get(format!("{}/grpc.health.v1.Health/Check", app.address)).body(()).expect("request");
    let (answer, _) = sender.send_request(request, true).expect("sent");
    answer.await.expect("an answer");
    assert_eq!(sender.current_max_send_streams(), 3);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_connection_that_never_finishes_its_preface_is_closed_while_others_are_served() {
    let site = FixtureSite::start(SiteSpec::standard()).await;
    let app = TestApp::spawn_tuned(&site, &Backend::Sqlite, |c| c.handshake_timeout_secs = 1).await;
    let address = app.address.trim_start_matches("http://").to_owned();
    let mut idle = tokio::net::TcpStream::connect(&address).await.expect("connect");
    let mut half = tokio::net::TcpStream::connect(&address).await.expect("connect");
    half.write_all(b"PRI * HTTP/2.0\r\n").await.expect("half a preface");
    let mut slow_head = tokio::net::TcpStream::connect(&address).await.expect("connect");
    slow_head.write_all(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n").await.expect("half a head");
    for (what, stream) in [("idle", &mut idle), ("half a preface", &mut half), ("half a head", &mut slow_head)] {
        let mut byte = [0u8; 1];
        let read = tokio::time::timeout(DEADLINE, stream.read(&mut byte)).await.expect("closed within the deadline");
        assert!(matches!(read, Ok(0) | Err(_)), "{what}: the server closed it ({read:?})");
    }
    assert!(app.client.health().await.expect("others are served"));
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_call_past_its_deadline_ends_then_instead_of_waiting_for_the_database() {
    let site = FixtureSite::start(SiteSpec::standard()).await;
    // Without a deadline, a call would wait this long for the locked database.
    let app = TestApp::spawn_tuned(&site, &Backend::Sqlite, |c| c.database_timeout_ms = 600_000).await;
    let path = app.dir.path().join("scrape.db");
    let mut locker = diesel::SqliteConnection::establish(&path.display().to_string()).expect("open");
    locker.batch_execute("PRAGMA busy_timeout = 10000; BEGIN IMMEDIATE;").expect("lock");

    let mut request = tonic::Request::new(start(&["bovin"], ""));
    request.set_timeout(Duration::from_millis(300));
    let ended =
        tokio::time::timeout(DEADLINE, app.client.tasks().start_task(request)).await.expect("within the deadline");
    let status = ended.expect_err("past its deadline");
    assert!(matches!(status.code(), Code::DeadlineExceeded | Code::Cancelled), "{status:?}");

    locker.batch_execute("ROLLBACK;").expect("unlock");
    // The server goes on serving once the database is back.
    assert_eq!(code(app.client.get_task("0192e3c4-5b6a-7c8d-9e0f-1a2b3c4d5e6f").await), Code::NotFound);
    app.client.start_task(start(&["porcin"], "")).await.expect("a call with time to finish");
    app.stop().await;
}
