//! The dashboard's address over plain HTTP/1.1: gRPC-Web calls as a browser
//! client sends them, export downloads, event streams, missing pages,
//! actions refused when another site's page sends them; the new actions,
//! sorting, pages and the picker as a browser without the script uses them;
//! and a viewer refused each action.

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

/// A browser without the script: its session, and redirects shown, not followed.
struct Plain {
    client: reqwest::Client,
    address: String,
    session: Session,
}

impl Plain {
    async fn open(app: &TestApp) -> Plain {
        let client = http1_builder().redirect(reqwest::redirect::Policy::none()).build().expect("an HTTP client");
        let session = Session::open(&client, &app.address, "/").await;
        Plain { client, address: app.address.clone(), session }
    }

    /// Sends a form of the dashboard's pages, with the session's CSRF token.
    async fn post(&self, path: &str, fields: &[(&str, &str)]) -> reqwest::Response {
        let mut all = vec![("csrf", self.session.csrf.as_str())];
        all.extend_from_slice(fields);
        self.client
            .post(format!("{}{path}", self.address))
            .header("cookie", &self.session.cookie)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form_body(&all))
            .send()
            .await
            .expect("an answer")
    }

    /// A page's status and HTML.
    async fn get(&self, path: &str) -> (u16, String) {
        let page =
            self.client.get(format!("{}{path}", self.address)).header("cookie", &self.session.cookie).send().await;
        let page = page.expect("an answer");
        (page.status().as_u16(), page.text().await.expect("a page"))
    }

    /// Follows the redirect that answered a form; returns the page's address and HTML.
    async fn follow(&self, answer: reqwest::Response) -> (String, String) {
        assert_eq!(answer.status(), 303, "{}", answer.text().await.unwrap_or_default());
        let location = answer.headers()["location"].to_str().expect("a location").to_owned();
        let (status, html) = self.get(&location).await;
        assert_eq!(status, 200, "{location}");
        (location, html)
    }
}

/// The text of a report on a page, tags removed.
fn report_of(html: &str) -> Option<String> {
    let tag = html.find("id=\"report\"")?;
    let at = html[tag..].find('>')? + tag + 1;
    let end = html[at..].find("</section>")? + at;
    let mut text = String::new();
    let mut in_tag = false;
    for c in html[at..end].chars() {
        match c {
            '<' => in_tag = true,
            '>' => in_tag = false,
            c if !in_tag => text.push(c),
            _ => {}
        }
    }
    Some(text)
}

async fn without_the_script_a_finished_task_is_deleted_a_running_one_refused_with_why_and_stop_all_asks_first(
    backend: Backend,
) {
    let site = FixtureSite::start(SiteSpec::standard()).await;
    site.set_fault(&FixtureSite::page_path("www.finistere.gouv.fr", "bovin", 1), Fault::Hang);
    let app = TestApp::spawn_on(&site, &backend).await;
    let done = app.start(&["56"], &["bovin"]).await;
    app.progress_until_end(&done.id).await;
    let running = app.start(&["29"], &["bovin"]).await;
    app.wait_for(&running.id, |p| p.status() == TaskStatus::Running).await;
    let plain = Plain::open(&app).await;

    let refused = plain.post(&format!("/tasks/{}/delete", running.id), &[("next", "/")]).await;
    assert_eq!(refused.status(), 409);
    let page = refused.text().await.expect("a page");
    assert!(page.contains("is running: stop it before deleting it"), "{page}");
    assert_eq!(app.client.get_task(&running.id).await.expect("kept").status(), TaskStatus::Running);

    let deleted = plain.post(&format!("/tasks/{}/delete", done.id), &[("next", &format!("/tasks/{}", done.id))]).await;
    let (location, page) = plain.follow(deleted).await;
    assert!(location.starts_with("/?done="), "to the list, not to the page gone: {location}");
    assert_eq!(report_of(&page).as_deref(), Some("Deleted 1 task."));
    assert_eq!(crate::helpers::code(app.client.get_task(&done.id).await), tonic::Code::NotFound);

    // Without the script's dialog, the server asks.
    let asked = plain.post("/tasks/stop-all", &[("next", "/?status=running")]).await;
    assert_eq!(asked.status(), 200);
    let page = asked.text().await.expect("a page");
    assert!(page.contains("Stop all tasks?") && page.contains(">1 task<"), "{page}");
    assert!(page.contains("name=\"confirmed\" value=\"yes\""), "{page}");
    assert_eq!(app.client.get_task(&running.id).await.expect("get").status(), TaskStatus::Running, "not yet");
    let confirmed = plain.post("/tasks/stop-all", &[("next", "/?status=running"), ("confirmed", "yes")]).await;
    let (location, page) = plain.follow(confirmed).await;
    assert!(location.starts_with("/?status=running&done="), "{location}");
    assert_eq!(report_of(&page).as_deref(), Some("Stopped 1 task: every pending and running one."));
    assert_eq!(app.client.get_task(&running.id).await.expect("get").status(), TaskStatus::Cancelled);

    // A report is the session's own: another visitor's link says nothing.
    let other = Plain::open(&app).await;
    let (status, page) = other.get(&location).await;
    assert_eq!(status, 200);
    assert_eq!(report_of(&page), None, "{page}");
    let tampered = location.replace("done=", "done=x");
    assert_eq!(report_of(&plain.get(&tampered).await.1), None);
    app.stop().await;
}

async fn ticked_rows_sent_without_the_script_are_each_done_or_refused_with_why(backend: Backend) {
    let site = FixtureSite::start(SiteSpec::standard()).await;
    site.set_fault(&FixtureSite::page_path("www.finistere.gouv.fr", "bovin", 1), Fault::Hang);
    let app = TestApp::spawn_on(&site, &backend).await;
    let a = app.start(&["56"], &["bovin"]).await;
    let b = app.start(&["56"], &["porcin"]).await;
    app.progress_until_end(&a.id).await;
    app.progress_until_end(&b.id).await;
    let running = app.start(&["29"], &["bovin"]).await;
    app.wait_for(&running.id, |p| p.status() == TaskStatus::Running).await;
    let plain = Plain::open(&app).await;

    // "Select all on this page" without the script: every row comes ticked.
    let (_, page) = plain.get("/?select=all").await;
    assert_eq!(page.matches("name=\"task\"").count(), 3);
    assert_eq!(page.matches("form=\"bulk\" checked").count(), 3, "{page}");

    let delete = [("action", "delete"), ("task", a.id.as_str()), ("task", running.id.as_str()), ("next", "/")];
    let (_, page) = plain.follow(plain.post("/tasks/bulk", &delete).await).await;
    let report = report_of(&page).expect("a report");
    assert!(report.starts_with("Deleted 1 task.1 task refused:"), "{report}");
    assert!(
        report.contains(&format!("{}: task {} is running: stop it before deleting it", running.id, running.id)),
        "{report}"
    );
    assert_eq!(crate::helpers::code(app.client.get_task(&a.id).await), tonic::Code::NotFound);

    let stop = [("action", "stop"), ("task", b.id.as_str()), ("task", running.id.as_str()), ("task", a.id.as_str())];
    let (_, page) = plain.follow(plain.post("/tasks/bulk", &stop).await).await;
    let report = report_of(&page).expect("a report");
    assert!(report.starts_with("Stopped 1 task.2 tasks refused:"), "{report}");
    assert!(report.contains(&format!("task {} already ended (succeeded)", b.id)), "{report}");
    assert!(report.contains(&format!("task {} not found", a.id)), "the one deleted: {report}");
    assert_eq!(app.client.get_task(&running.id).await.expect("get").status(), TaskStatus::Cancelled);

    let restart = [("action", "restart"), ("task", b.id.as_str()), ("task", b.id.as_str())];
    let (_, page) = plain.follow(plain.post("/tasks/bulk", &restart).await).await;
    assert_eq!(report_of(&page).as_deref(), Some("Restarted 1 task."), "a task ticked twice is done once");

    for (fields, problem) in [
        (vec![("action", "stop")], "tick at least one task"),
        (vec![("action", "explode"), ("task", b.id.as_str())], "must be stop, restart or delete"),
        (vec![("action", "stop"), ("task", "nope")], "is not a task id"),
    ] {
        let answer = plain.post("/tasks/bulk", &fields).await;
        assert_eq!(answer.status(), 400, "{fields:?}");
        assert!(answer.text().await.expect("a page").contains(problem), "{problem}");
    }
    app.progress_until_end(&b.id).await;
    app.stop().await;
}

async fn without_the_script_the_list_sorts_and_pages_by_links_and_the_picker_posts_every_box(backend: Backend) {
    let site = FixtureSite::start(SiteSpec::standard()).await;
    let app = TestApp::spawn_on(&site, &backend).await;
    for keyword in ["bovin", "porcin", "ovin"] {
        let task = app.start(&["56"], &[keyword]).await;
        app.progress_until_end(&task.id).await;
    }
    let plain = Plain::open(&app).await;

    let (_, page) = plain.get("/?order=keywords&size=2").await;
    assert!(page.contains(">3 tasks<"), "the count");
    assert!(page.contains("aria-sort=\"ascending\" data-sort=\"keywords\""), "the column sorted");
    assert!(page.contains("order=keywords+desc"), "the same column the other way");
    let next = page.split("rel=\"next\" href=\"").nth(1).expect("a next page").split('"').next().expect("a link");
    let next = next.replace("&amp;", "&");
    assert!(next.contains("order=keywords") && next.contains("size=2") && next.contains("page="), "{next}");
    let (status, _) = plain.get(&next).await;
    assert_eq!(status, 200);
    // A page token of one order is refused in another.
    let (status, page) = plain.get(&next.replace("order=keywords", "order=status")).await;
    assert_eq!(status, 400);
    assert!(page.contains("order_by"), "{page}");
    let (status, page) = plain.get("/?order=progress").await;
    assert_eq!(status, 400);
    assert!(page.contains("cannot order by"), "{page}");

    // Every box is in the page, the filter box hidden until the script shows it.
    for form in ["/tasks/new", "/watches/new"] {
        let (_, page) = plain.get(form).await;
        assert_eq!(page.matches("name=\"prefectures\"").count(), 101, "{form}");
        assert_eq!(page.matches("name=\"regions\"").count(), 18, "{form}");
        assert!(page.contains("data-place-filter hidden"), "{form}");
    }
    // A region ticked with some of its prefectures, and another prefecture.
    let started = plain
        .post("/tasks", &[("keywords", "bovin"), ("regions", "53"), ("prefectures", "56"), ("prefectures", "2A")])
        .await;
    assert_eq!(started.status(), 303);
    let id = started.headers()["location"].to_str().expect("a location").rsplit('/').next().expect("an id").to_owned();
    let parameters = app.client.get_task(&id).await.expect("get").parameters.expect("parameters");
    assert_eq!((parameters.regions, parameters.prefectures), (vec!["53".to_owned()], vec!["2A".to_owned()]));
    assert_eq!(parameters.target_prefectures, ["2A", "22", "29", "35", "56"]);
    app.progress_until_end(&id).await;
    app.stop().await;
}

on_both_backends!(
    a_grpc_web_call_over_http1_gets_the_task,
    exports_download_as_files_and_event_streams_end_after_the_task,
    open_event_streams_end_without_holding_the_server_when_it_shuts_down,
    actions_sent_from_another_sites_page_are_refused_and_leave_the_task_alone,
    without_the_script_a_finished_task_is_deleted_a_running_one_refused_with_why_and_stop_all_asks_first,
    ticked_rows_sent_without_the_script_are_each_done_or_refused_with_why,
    without_the_script_the_list_sorts_and_pages_by_links_and_the_picker_posts_every_box
);

/// With tokens: a viewer's list and task pages offer no new action, and
/// each one posted by hand is refused, changing nothing.
#[tokio::test(flavor = "multi_thread")]
async fn a_viewer_is_offered_none_of_the_new_actions_and_is_refused_each_one() {
    use crate::security::TokensFile;
    use crate::security::dashboard::sign_in;

    let site = FixtureSite::start(SiteSpec::standard()).await;
    site.set_fault(&FixtureSite::page_path("www.finistere.gouv.fr", "bovin", 1), Fault::Hang);
    let tokens = TokensFile::new();
    let path = tokens.path.clone();
    let app = TestApp::spawn_tuned(&site, &Backend::Sqlite, |c| c.tokens_file = Some(path)).await;
    let operator = crate::security::client_with(&app.address, Some(&tokens.operator)).await;
    let start = |prefecture: &str| pb::StartTaskRequest {
        keywords: vec!["bovin".into()],
        prefectures: vec![prefecture.into()],
        ..Default::default()
    };
    let done = operator.start_task(start("56")).await.expect("started");
    crate::helpers::collect_stream(&operator, &done.id).await;
    let running = operator.start_task(start("29")).await.expect("started");
    let client = http1_builder().redirect(reqwest::redirect::Policy::none()).build().expect("an HTTP client");
    let viewer = sign_in(&client, &app, &tokens.viewer).await;
    let plain = Plain { client, address: app.address.clone(), session: viewer };

    let (_, list) = plain.get("/").await;
    assert!(list.contains(&done.id) && list.contains(&running.id));
    for absent in
        ["name=\"task\"", "id=\"bulk\"", "/tasks/stop-all", "/delete\"", "select-all", "Select all on this page"]
    {
        assert!(!list.contains(absent), "a viewer's list has no {absent}");
    }
    let (_, page) = plain.get(&format!("/tasks/{}", done.id)).await;
    assert!(!page.contains("/delete\"") && !page.contains("button class=\"delete\""), "no Delete on the task page");

    for (path, fields) in [
        (format!("/tasks/{}/delete", done.id), vec![]),
        ("/tasks/stop-all".to_owned(), vec![("confirmed", "yes")]),
        ("/tasks/bulk".to_owned(), vec![("action", "delete"), ("task", done.id.as_str())]),
        ("/tasks/bulk".to_owned(), vec![("action", "stop"), ("task", running.id.as_str())]),
    ] {
        let answer = plain.post(&path, &fields).await;
        assert_eq!(answer.status(), 403, "{path} {fields:?}");
        assert!(answer.text().await.expect("a page").contains("needs an operator token"), "{path}");
    }
    assert_eq!(operator.get_task(&done.id).await.expect("kept").status(), TaskStatus::Succeeded);
    assert_eq!(operator.get_task(&running.id).await.expect("get").status(), TaskStatus::Running, "not stopped");
    operator.stop_task(&running.id).await.expect("stopped");
    app.stop().await;
}
