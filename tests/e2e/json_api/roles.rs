//! Tokens and roles over JSON, as on gRPC: 401 without a known token, 403
//! for a role too low, and a dashboard session cookie is no credential.

use serde_json::json;

use super::{Api, rpc_code};
use crate::dashboard::http::{Session, form_body, http1_builder};
use crate::fixture::{FixtureSite, SiteSpec};
use crate::helpers::{Backend, TestApp};
use crate::security::TokensFile;

async fn protected(site: &FixtureSite, tokens: &TokensFile) -> TestApp {
    let path = tokens.path.clone();
    TestApp::spawn_tuned(site, &Backend::Sqlite, |c| c.tokens_file = Some(path)).await
}

#[tokio::test(flavor = "multi_thread")]
async fn without_a_known_token_json_calls_are_401_and_a_viewer_may_read_but_not_change() {
    let site = FixtureSite::start(SiteSpec::standard()).await;
    let tokens = TokensFile::new();
    let app = protected(&site, &tokens).await;
    let anonymous = Api::new(&app);
    let start = json!({ "keywords": ["bovin"], "prefectures": ["56"] });

    for answer in [
        anonymous.get("/v1/tasks").await,
        anonymous.get("/v1/regions").await,
        anonymous.post("/v1/tasks", &start).await,
    ] {
        assert_eq!(rpc_code(&answer, 401), 16, "UNAUTHENTICATED");
        assert_eq!(answer.headers["www-authenticate"], "Bearer");
    }
    let stranger = anonymous.with_token("not-a-token-of-this-server").get("/v1/tasks").await;
    assert_eq!(rpc_code(&stranger, 401), 16);
    assert!(!stranger.json.to_string().contains("not-a-token"), "the token is not echoed");
    // The description of the API is open, like reflection.
    assert_eq!(anonymous.get("/openapi.json").await.status, 200);

    let viewer = anonymous.with_token(&tokens.viewer);
    let operator = anonymous.with_token(&tokens.operator);
    let denied = viewer.post("/v1/tasks", &start).await;
    assert_eq!(rpc_code(&denied, 403), 7, "PERMISSION_DENIED");
    assert!(denied.json["message"].as_str().expect("text").contains("operator"), "{}", denied.json);
    let id = operator.start(&["56"], &["bovin"]).await;
    let end = viewer.progress_until_end(&id).await;
    assert_eq!(end.last().expect("an end")["status"], "TASK_STATUS_SUCCEEDED", "a viewer follows progress");
    assert_eq!(viewer.ok(&format!("/v1/tasks/{id}")).await["id"], id.as_str());
    assert_eq!(viewer.ok("/v1/tasks").await["tasks"].as_array().map(Vec::len), Some(1));
    viewer.ok("/v1/regions").await;
    for path in [format!("/v1/tasks/{id}:restart"), "/v1/tasks:stopAll".to_owned(), "/v1/tasks:purge".to_owned()] {
        assert_eq!(rpc_code(&viewer.post(&path, &json!({})).await, 403), 7, "{path}");
    }
    assert_eq!(rpc_code(&viewer.delete(&format!("/v1/tasks/{id}")).await, 403), 7);
    assert_eq!(viewer.ok(&format!("/v1/tasks/{id}")).await["status"], "TASK_STATUS_SUCCEEDED", "untouched");
    let deleted = operator.delete(&format!("/v1/tasks/{id}")).await;
    assert_eq!(deleted.status, 200, "{}", deleted.json);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_dashboard_session_cookie_is_not_accepted_by_the_json_api() {
    let site = FixtureSite::start(SiteSpec::standard()).await;
    let tokens = TokensFile::new();
    let app = protected(&site, &tokens).await;
    let browser = http1_builder().redirect(reqwest::redirect::Policy::none()).build().expect("a client");
    let form = Session::open(&browser, &app.address, "/sign-in").await;
    let fields = [("csrf", form.csrf.as_str()), ("token", tokens.operator.as_str()), ("next", "/")];
    let signed = browser
        .post(format!("{}/sign-in", app.address))
        .header("cookie", &form.cookie)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form_body(&fields))
        .send()
        .await
        .expect("an answer");
    assert_eq!(signed.status(), 303);
    let cookie = signed.headers()["set-cookie"].to_str().expect("text").split(';').next().expect("a pair").to_owned();
    let page = browser.get(format!("{}/", app.address)).header("cookie", &cookie).send().await.expect("the list");
    assert_eq!(page.status(), 200, "the session works on the dashboard");

    let api = Api::new(&app);
    let with_cookie = api
        .request(reqwest::Method::POST, "/v1/tasks:stopAll")
        .header("cookie", &cookie)
        .header("x-csrf-token", &form.csrf);
    assert_eq!(rpc_code(&super::answer(with_cookie).await, 401), 16, "only a bearer token counts");
    let read = api.request(reqwest::Method::GET, "/v1/tasks").header("cookie", &cookie);
    assert_eq!(rpc_code(&super::answer(read).await, 401), 16);
    app.stop().await;
}
