//! The dashboard with tokens: sign-in, sessions, CSRF, roles; and, with
//! or without tokens, the Host allow-list and the security headers.

use scrape_client::pb::{self, TaskStatus};

use super::TokensFile;
use crate::dashboard::http::{Session, csrf_of, http1_builder};
use crate::fixture::{FixtureSite, SiteSpec};
use crate::helpers::{Backend, TestApp};

fn browser() -> reqwest::Client {
    http1_builder().redirect(reqwest::redirect::Policy::none()).build().expect("an HTTP client")
}

/// The `name=value` of a Set-Cookie answer, and the whole header.
fn cookie_of(response: &reqwest::Response) -> (String, String) {
    let header = response.headers()["set-cookie"].to_str().expect("text").to_owned();
    (header.split(';').next().expect("a pair").to_owned(), header)
}

/// Signs in with `token`; returns the session cookie and its CSRF token.
pub(crate) async fn sign_in(client: &reqwest::Client, app: &TestApp, token: &str) -> Session {
    let form = Session::open(client, &app.address, "/sign-in").await;
    let signed = client
        .post(format!("{}/sign-in", app.address))
        .header("cookie", &form.cookie)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(crate::dashboard::http::form_body(&[("csrf", form.csrf.as_str()), ("token", token), ("next", "/")]))
        .send()
        .await
        .expect("an answer");
    assert_eq!(signed.status(), 303);
    let (cookie, header) = cookie_of(&signed);
    assert!(header.contains("HttpOnly") && header.contains("SameSite=Strict"), "{header}");
    assert_ne!(cookie, form.cookie, "signing in starts a new session");
    let page = client.get(format!("{}/", app.address)).header("cookie", &cookie).send().await.expect("the list");
    assert_eq!(page.status(), 200);
    let html = page.text().await.expect("a page");
    assert!(html.contains("Sign out"), "{html}");
    Session { cookie, csrf: csrf_of(&html) }
}

async fn post(client: &reqwest::Client, app: &TestApp, path: &str, session: &Session, form: &[(&str, &str)]) -> u16 {
    let mut fields = vec![("csrf", session.csrf.as_str())];
    fields.extend_from_slice(form);
    let answer = client
        .post(format!("{}{path}", app.address))
        .header("cookie", &session.cookie)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(crate::dashboard::http::form_body(&fields))
        .send()
        .await
        .expect("an answer");
    answer.status().as_u16()
}

#[tokio::test(flavor = "multi_thread")]
async fn with_tokens_the_dashboard_asks_for_a_sign_in_and_each_role_gets_what_it_may_do() {
    let site = FixtureSite::start(SiteSpec::standard()).await;
    let tokens = TokensFile::new();
    let path = tokens.path.clone();
    let app = TestApp::spawn_tuned(&site, &Backend::Sqlite, |c| c.tokens_file = Some(path)).await;
    let client = browser();

    let away = client.get(format!("{}/tasks/new", app.address)).header("accept", "text/html").send().await;
    let away = away.expect("an answer");
    assert_eq!(away.status(), 303);
    assert_eq!(away.headers()["location"], "/sign-in?next=%2Ftasks%2Fnew");
    let events = client.get(format!("{}/events?ids=", app.address)).send().await.expect("an answer");
    assert_eq!(events.status(), 401, "no live events without a session");

    // A wrong token, and a right one without the form's CSRF token.
    let form = Session::open(&client, &app.address, "/sign-in").await;
    let wrong = client
        .post(format!("{}/sign-in", app.address))
        .header("cookie", &form.cookie)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(crate::dashboard::http::form_body(&[("csrf", form.csrf.as_str()), ("token", "guess")]))
        .send()
        .await
        .expect("an answer");
    assert_eq!(wrong.status(), 401);
    assert!(wrong.text().await.expect("a page").contains("not accepted"));
    let forged = client
        .post(format!("{}/sign-in", app.address))
        .header("cookie", &form.cookie)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(crate::dashboard::http::form_body(&[("csrf", "forged"), ("token", tokens.operator.as_str())]))
        .send()
        .await
        .expect("an answer");
    assert_eq!(forged.status(), 403);

    // An operator starts a task from the form; a viewer sees it, without buttons.
    let operator = sign_in(&client, &app, &tokens.operator).await;
    let started = post(&client, &app, "/tasks", &operator, &[("keywords", "bovin"), ("prefectures", "56")]).await;
    assert_eq!(started, 303);
    let listed = app_tasks(&app, &tokens).await;
    assert_eq!(listed.len(), 1);
    let id = listed[0].id.clone();
    crate::helpers::collect_stream(&super::client_with(&app.address, Some(&tokens.viewer)).await, &id).await;

    let viewer = sign_in(&client, &app, &tokens.viewer).await;
    let page = client.get(format!("{}/tasks/{id}", app.address)).header("cookie", &viewer.cookie).send().await;
    let html = page.expect("the task page").text().await.expect("a page");
    assert!(html.contains(&id) && !html.contains("button.restart") && !html.contains(">Restart<"), "{html}");
    assert!(!html.contains("New task</a>"), "a viewer is not offered the form");
    assert_eq!(post(&client, &app, &format!("/tasks/{id}/restart"), &viewer, &[]).await, 403);
    assert_eq!(post(&client, &app, "/tasks", &viewer, &[("keywords", "porcin")]).await, 403);
    assert_eq!(app_tasks(&app, &tokens).await.len(), 1, "the viewer started nothing");

    // The operator's session restarts it; a session's CSRF token is its own.
    assert_eq!(
        post(
            &client,
            &app,
            &format!("/tasks/{id}/restart"),
            &Session { csrf: viewer.csrf.clone(), cookie: operator.cookie.clone() },
            &[]
        )
        .await,
        403
    );
    assert_eq!(post(&client, &app, &format!("/tasks/{id}/restart"), &operator, &[]).await, 303);

    // Signing out ends the session: its cookie, kept, no longer works.
    assert_eq!(post(&client, &app, "/sign-out", &operator, &[]).await, 303);
    let kept = client.get(format!("{}/", app.address)).header("cookie", &operator.cookie).header("accept", "text/html");
    let answer = kept.send().await.expect("an answer");
    assert_eq!(answer.status(), 303);
    assert_eq!(answer.headers()["location"], "/sign-in?next=%2F");
    assert_eq!(post(&client, &app, &format!("/tasks/{id}/stop"), &operator, &[]).await, 401);
    app.stop().await;
}

async fn app_tasks(app: &TestApp, tokens: &TokensFile) -> Vec<pb::Task> {
    let viewer = super::client_with(&app.address, Some(&tokens.viewer)).await;
    viewer.list_tasks(pb::ListTasksRequest::default()).await.expect("list").tasks
}

#[tokio::test(flavor = "multi_thread")]
async fn a_page_of_another_name_resolving_here_cannot_act_and_every_page_carries_the_security_headers() {
    let site = FixtureSite::start(SiteSpec::standard()).await;
    let pages = site.hold_all();
    let app = TestApp::spawn(&site).await;
    let task = app.start(&["56"], &["bovin"]).await;
    pages.wait_until_reached(1).await;
    let client = browser();
    let port = app.address.rsplit(':').next().expect("a port");

    // DNS rebinding: evil.example resolves here, so its page is same-origin
    // with itself; its requests name evil.example.
    let rebound = format!("evil.example:{port}");
    for path in ["/", &format!("/tasks/{}", task.id), "/metrics", "/scrape.v1.TaskService/ListTasks"] {
        let answer = client.get(format!("{}{path}", app.address)).header("host", &rebound).send().await;
        assert_eq!(answer.expect("an answer").status(), 421, "{path}");
    }
    let stop = client
        .post(format!("{}/tasks/{}/stop", app.address, task.id))
        .header("host", &rebound)
        .header("origin", format!("http://{rebound}"))
        .send()
        .await
        .expect("an answer");
    assert_eq!(stop.status(), 421);
    assert_eq!(app.client.get_task(&task.id).await.expect("get").status(), TaskStatus::Running, "not cancelled");

    for path in ["/", "/tasks/new", &format!("/tasks/{}", task.id), "/no/such/page", "/assets/dashboard.css"] {
        let answer = client.get(format!("{}{path}", app.address)).send().await.expect("an answer");
        let headers = answer.headers();
        let csp = headers["content-security-policy"].to_str().expect("text");
        assert!(csp.contains("frame-ancestors 'none'") && csp.contains("default-src 'none'"), "{path}: {csp}");
        assert!(!csp.contains("unsafe-inline"), "{csp}");
        assert_eq!(headers["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(headers["x-frame-options"], "DENY", "{path}");
        assert_eq!(headers["referrer-policy"], "same-origin", "{path}");
    }
    let list = client.get(format!("{}/", app.address)).send().await.expect("the list").text().await.expect("a page");
    assert!(!list.contains("style="), "no inline style for the policy to block");
    pages.release();
    app.stop().await;
}
