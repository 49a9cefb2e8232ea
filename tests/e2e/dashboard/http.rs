//! The dashboard's address over plain HTTP/1.1: gRPC-Web calls as a browser
//! client sends them, export downloads, event streams, missing pages, and
//! actions refused when another site's page sends them.

use prost::Message;
use scrape_client::pb::{self, TaskStatus};

use crate::fixture::{Fault, FixtureSite, SiteSpec};
use crate::helpers::{Backend, DEADLINE, TestApp, on_both_backends};

/// An HTTP/1.1-only client, as a browser on a plain-HTTP address is.
pub(crate) fn http1() -> reqwest::Client {
    http1_builder().build().expect("an HTTP client")
}

pub(crate) fn http1_builder() -> reqwest::ClientBuilder {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder().http1_only().timeout(DEADLINE)
}

/// A browser's session on the dashboard: its cookie and the CSRF token of
/// the forms of the page it read.
pub struct Session {
    pub cookie: String,
    pub csrf: String,
}

impl Session {
    /// Reads `path` as a browser would and keeps the session it was given.
    pub async fn open(client: &reqwest::Client, address: &str, path: &str) -> Session {
        let page = client.get(format!("{address}{path}")).send().await.expect("a page");
        assert_eq!(page.status(), 200, "{path}");
        let cookie =
            page.headers()["set-cookie"].to_str().expect("a cookie").split(';').next().expect("a pair").to_owned();
        let html = page.text().await.expect("the page");
        Session { cookie, csrf: csrf_of(&html) }
    }
}

/// An `application/x-www-form-urlencoded` body.
pub fn form_body(pairs: &[(&str, &str)]) -> String {
    let mut out = url::form_urlencoded::Serializer::new(String::new());
    out.extend_pairs(pairs);
    out.finish()
}

/// The CSRF token in a page's forms.
pub fn csrf_of(html: &str) -> String {
    let at = html.find("name=\"csrf\" value=\"").expect("a form with a CSRF token") + "name=\"csrf\" value=\"".len();
    html[at..].split('"').next().expect("a value").to_owned()
}

/// A gRPC-Web frame: a flag byte, a big-endian length, the message.
pub(crate) fn frame(flag: u8, message: &[u8]) -> Vec<u8> {
    let mut out = vec![flag];
    out.extend_from_slice(&u32::try_from(message.len()).expect("a small message").to_be_bytes());
    out.extend_from_slice(message);
    out
}

/// The frames of a gRPC-Web body: (flag, payload).
pub(crate) fn frames(mut body: &[u8]) -> Vec<(u8, Vec<u8>)> {
    let mut out = Vec::new();
    while !body.is_empty() {
        assert!(body.len() >= 5, "a frame header: {body:?}");
        let len = u32::from_be_bytes(body[1..5].try_into().expect("four bytes")) as usize;
        out.push((body[0], body[5..5 + len].to_vec()));
        body = &body[5 + len..];
    }
    out
}

async fn grpc_web_get_task(app: &TestApp, task_id: &str) -> reqwest::Response {
    let request = pb::GetTaskRequest { task_id: task_id.to_owned() };
    http1()
        .post(format!("{}/scrape.v1.TaskService/GetTask", app.address))
        .header("content-type", "application/grpc-web+proto")
        .header("accept", "application/grpc-web+proto")
        .header("x-grpc-web", "1")
        .body(frame(0, &request.encode_to_vec()))
        .send()
        .await
        .expect("an HTTP/1.1 answer")
}

async fn a_grpc_web_call_over_http1_gets_the_task(backend: Backend) {
    let site = FixtureSite::start(SiteSpec::standard()).await;
    let app = TestApp::spawn_on(&site, &backend).await;
    let task = app.start(&["56"], &["bovin"]).await;
    app.progress_until_end(&task.id).await;

    let response = grpc_web_get_task(&app, &task.id).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.version(), reqwest::Version::HTTP_11);
    assert_eq!(response.headers()["content-type"], "application/grpc-web+proto");
    let body = response.bytes().await.expect("the body");
    let frames = frames(&body);
    assert_eq!(frames.len(), 2, "a message, then the trailers");
    assert_eq!(frames[0].0, 0, "a data frame");
    let got = pb::Task::decode(frames[0].1.as_slice()).expect("a Task");
    assert_eq!(got.id, task.id);
    assert_eq!(got.status(), TaskStatus::Succeeded);
    assert_eq!(frames[1].0, 0x80, "a trailer frame");
    let trailers = String::from_utf8(frames[1].1.clone()).expect("text trailers").to_ascii_lowercase();
    assert!(trailers.contains("grpc-status:0"), "{trailers:?}");

    // An unknown task: NOT_FOUND, in the headers of a trailers-only answer.
    let response = grpc_web_get_task(&app, "0192e3c4-5b6a-7c8d-9e0f-1a2b3c4d5e6f").await;
    assert_eq!(response.headers()["grpc-status"], "5");
    app.stop().await;
}

async fn exports_download_as_files_and_event_streams_end_after_the_task(backend: Backend) {
    let site = FixtureSite::start(SiteSpec::standard()).await;
    let app = TestApp::spawn_on(&site, &backend).await;
    let task = app.start(&["56"], &["bovin", "porcin"]).await;
    app.progress_until_end(&task.id).await;
    let client = http1();

    let csv = client.get(format!("{}/tasks/{}/export?format=csv", app.address, task.id)).send().await.expect("csv");
    assert_eq!(csv.status(), 200);
    assert_eq!(csv.headers()["content-type"], "text/csv; charset=utf-8");
    let disposition = csv.headers()["content-disposition"].to_str().expect("ascii").to_owned();
    assert_eq!(disposition, format!("attachment; filename=\"task-{}.csv\"", task.id));
    let text = csv.text().await.expect("the file");
    let links = site.cards("www.morbihan.gouv.fr", "bovin");
    assert!(links.iter().all(|card| text.contains(&card.link)), "every document is in the CSV");
    let json = client.get(format!("{}/tasks/{}/export?format=json", app.address, task.id)).send().await.expect("json");
    assert_eq!(json.headers()["content-type"], "application/json");
    let _: serde_json::Value = serde_json::from_str(&json.text().await.expect("the file")).expect("valid JSON");

    // A finished task's stream: its final state, then the end.
    let events = client.get(format!("{}/tasks/{}/events", app.address, task.id)).send().await.expect("events");
    assert_eq!(events.headers()["content-type"], "text/event-stream");
    let events = tokio::time::timeout(DEADLINE, events.text()).await.expect("the stream ends").expect("the events");
    assert!(events.contains("event: progress") && events.contains("\"status\":\"succeeded\""), "{events}");
    assert!(events.trim_end().ends_with("event: end\ndata: end"), "{events}");

    let missing = client.get(format!("{}/tasks/0192e3c4-5b6a-7c8d-9e0f-1a2b3c4d5e6f", app.address)).send().await;
    let missing = missing.expect("an answer");
    assert_eq!(missing.status(), 404);
    assert!(missing.text().await.expect("a page").contains("not found"));
    let nowhere = client.get(format!("{}/no/such/page", app.address)).send().await.expect("an answer");
    assert_eq!(nowhere.status(), 404);
    let session = Session::open(&client, &app.address, "/").await;
    let conflict = client
        .post(format!("{}/tasks/{}/stop", app.address, task.id))
        .header("cookie", &session.cookie)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("csrf={}", session.csrf))
        .send()
        .await
        .expect("an answer");
    assert_eq!(conflict.status(), 409, "a finished task cannot be stopped");
    assert!(conflict.text().await.expect("a page").contains("already ended"));
    app.stop().await;
}

async fn open_event_streams_end_without_holding_the_server_when_it_shuts_down(backend: Backend) {
    let site = FixtureSite::start(SiteSpec::standard()).await;
    site.set_default_fault(Some(Fault::Hang));
    let app = TestApp::spawn_tuned(&site, &backend, |c| c.shutdown_grace_secs = 1).await;
    let task = app.start(&["56"], &["bovin"]).await;
    app.wait_for(&task.id, |p| p.status() == TaskStatus::Running).await;
    let client = http1();
    let list = client.get(format!("{}/events?ids={}", app.address, task.id)).send().await.expect("list events");
    let page = client.get(format!("{}/tasks/{}/events", app.address, task.id)).send().await.expect("task events");
    let bodies = tokio::spawn(async move { (list.text().await, page.text().await) });

    let stopping = std::time::Instant::now();
    app.stop().await;
    assert!(stopping.elapsed() < std::time::Duration::from_secs(15), "stopped in {:?}", stopping.elapsed());
    let (list, page) = tokio::time::timeout(DEADLINE, bodies).await.expect("the streams end").expect("bodies");
    for body in [list.expect("list stream"), page.expect("task stream")] {
        assert!(body.contains("\"status\":\"running\""), "{body}");
        // No `end`: the browser reconnects to the next server.
        assert!(!body.contains("event: end"), "{body}");
    }
}

async fn actions_sent_from_another_sites_page_are_refused_and_leave_the_task_alone(backend: Backend) {
    let site = FixtureSite::start(SiteSpec::standard()).await;
    let pages = site.hold_all();
    let app = TestApp::spawn_on(&site, &backend).await;
    let task = app.start(&["56"], &["bovin"]).await;
    pages.wait_until_reached(1).await;
    // Redirects are the answer to look at, not to follow.
    let client = http1_builder().redirect(reqwest::redirect::Policy::none()).build().expect("an HTTP client");
    let stop = format!("{}/tasks/{}/stop", app.address, task.id);

    for (header, value) in [("origin", "https://evil.example"), ("sec-fetch-site", "cross-site")] {
        let refused = client.post(&stop).header(header, value).send().await.expect("an answer");
        assert_eq!(refused.status(), 403, "{header}: {value}");
        let page = refused.text().await.expect("a page");
        assert!(page.contains("must be sent from the dashboard"), "{page}");
        assert_eq!(app.client.get_task(&task.id).await.expect("get").status(), TaskStatus::Running);
    }
    let start = client
        .post(format!("{}/tasks", app.address))
        .header("origin", "https://evil.example")
        .header("content-type", "application/x-www-form-urlencoded")
        .body("keywords=porcin&prefectures=29")
        .send()
        .await
        .expect("an answer");
    assert_eq!(start.status(), 403);
    let listed = app.client.list_tasks(pb::ListTasksRequest::default()).await.expect("list");
    assert_eq!(listed.tasks.len(), 1, "no task was started from the other site");
    let kinds: Vec<_> = app.client.task_events(&task.id).await.expect("events").iter().map(|e| e.kind()).collect();
    assert_eq!(kinds, [pb::TaskEventKind::Created, pb::TaskEventKind::Started], "no stop was requested");

    // Without the CSRF token of a page of its own, it is refused too.
    let session = Session::open(&client, &app.address, "/").await;
    let forged = client.post(&stop).header("cookie", &session.cookie).body("csrf=forged").send().await;
    assert_eq!(forged.expect("an answer").status(), 403);
    assert_eq!(app.client.get_task(&task.id).await.expect("get").status(), TaskStatus::Running);

    // The same stop from the dashboard's own page goes through.
    let own = client
        .post(&stop)
        .header("origin", &app.address)
        .header("sec-fetch-site", "same-origin")
        .header("cookie", &session.cookie)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("csrf={}", session.csrf))
        .send()
        .await
        .expect("an answer");
    assert_eq!(own.status(), 303);
    assert_eq!(own.headers()["location"], format!("/tasks/{}", task.id).as_str());
    assert_eq!(app.client.get_task(&task.id).await.expect("get").status(), TaskStatus::Cancelled);
    pages.release();
    app.stop().await;
}

on_both_backends!(
    a_grpc_web_call_over_http1_gets_the_task,
    exports_download_as_files_and_event_streams_end_after_the_task,
    open_event_streams_end_without_holding_the_server_when_it_shuts_down,
    actions_sent_from_another_sites_page_are_refused_and_leave_the_task_alone
);
