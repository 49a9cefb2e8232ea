//! Errors over JSON: a google.rpc.Status with the HTTP status of its code,
//! the field violations gRPC sends, and clear refusals of requests that are
//! not JSON, not a route, or not from here.

use serde_json::json;

use super::{Api, rpc_code, violations};
use crate::fixture::{FixtureSite, SiteSpec};
use crate::helpers::TestApp;

#[tokio::test(flavor = "multi_thread")]
async fn a_bad_start_is_a_400_naming_each_field_and_an_unknown_task_a_404() {
    let site = FixtureSite::start(SiteSpec::standard()).await;
    let app = TestApp::spawn(&site).await;
    let api = Api::new(&app);

    let bad = api.post("/v1/tasks", &json!({ "keywords": [" "], "prefectures": ["Atlantide"] })).await;
    assert_eq!(violations(&bad), ["keywords[0]", "prefectures[0]"]);
    assert!(bad.json["message"].as_str().expect("a message").contains("Atlantide"), "{}", bad.json);
    let none = api.post("/v1/tasks", &json!({})).await;
    assert_eq!(violations(&none), ["keywords"]);

    let unknown = api.get("/v1/tasks/01a232e7-1cc1-77cd-8392-39d7ac5f0000").await;
    assert_eq!(rpc_code(&unknown, 404), 5);
    assert_eq!(unknown.json["details"], json!([]));
    assert_eq!(violations(&api.get("/v1/tasks/not-a-task-id").await), ["task_id"]);
    assert_eq!(rpc_code(&api.delete("/v1/tasks/01a232e7-1cc1-77cd-8392-39d7ac5f0000").await, 404), 5);

    // Query parameters are checked, each by its name.
    assert_eq!(violations(&api.get("/v1/tasks?pageSize=many").await), ["pageSize"]);
    assert_eq!(violations(&api.get("/v1/tasks?statuses=TASK_STATUS_ASLEEP").await), ["statuses"]);
    assert_eq!(violations(&api.get("/v1/tasks?colour=red").await), ["colour"]);
    assert_eq!(violations(&api.get("/v1/tasks?createdAfter=yesterday").await), ["createdAfter"]);
    let export = api.get("/v1/tasks/01a232e7-1cc1-77cd-8392-39d7ac5f0000:export").await;
    assert_eq!(violations(&export), ["format"]);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn malformed_json_unknown_fields_and_other_content_types_are_refused_clearly() {
    let site = FixtureSite::start(SiteSpec::standard()).await;
    let app = TestApp::spawn(&site).await;
    let api = Api::new(&app);
    let send = |body: &'static str, content_type: &'static str| {
        let request = api.request(reqwest::Method::POST, "/v1/tasks").header("content-type", content_type);
        super::answer(request.body(body))
    };

    let malformed = send(r#"{"keywords": ["bovin""#, "application/json").await;
    assert_eq!(rpc_code(&malformed, 400), 3);
    assert!(malformed.json["message"].as_str().expect("text").contains("not valid JSON"), "{}", malformed.json);
    let unknown = send(r#"{"keywords": ["bovin"], "colour": "red"}"#, "application/json").await;
    assert_eq!(rpc_code(&unknown, 400), 3);
    assert!(unknown.json["message"].as_str().expect("text").contains("colour"), "{}", unknown.json);
    let wrong_type = send(r#"{"keywords": "bovin"}"#, "application/json").await;
    assert_eq!(rpc_code(&wrong_type, 400), 3);
    let not_an_object = send(r#"["bovin"]"#, "application/json").await;
    assert_eq!(rpc_code(&not_an_object, 400), 3);
    let form = send("keywords=bovin", "application/x-www-form-urlencoded").await;
    assert_eq!(rpc_code(&form, 415), 3);
    assert!(form.json["message"].as_str().expect("text").contains("application/json"), "{}", form.json);
    // Proto field names are accepted as well as JSON names.
    let proto_names =
        send(r#"{"keywords": ["bovin"], "prefectures": ["56"], "days_limit": 30}"#, "application/json").await;
    assert_eq!(proto_names.status, 200, "{}", proto_names.json);
    assert_eq!(proto_names.json["parameters"]["daysLimit"], 30);

    let big = format!(r#"{{"keywords": ["{}"]}}"#, "a".repeat(2 * 1024 * 1024));
    let request = api.request(reqwest::Method::POST, "/v1/tasks").header("content-type", "application/json");
    assert_eq!(rpc_code(&super::answer(request.body(big)).await, 413), 8, "RESOURCE_EXHAUSTED");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn paths_that_are_no_route_are_404_and_other_methods_405() {
    let site = FixtureSite::start(SiteSpec::standard()).await;
    let app = TestApp::spawn(&site).await;
    let api = Api::new(&app);
    for path in ["/v1/nothing", "/v1/tasks/abc/nothing", "/v1/tasks/abc:explode", "/v1"] {
        let missing = api.get(path).await;
        assert_eq!(rpc_code(&missing, 404), 5, "{path}");
        assert!(missing.json["message"].as_str().expect("text").contains("/openapi.json"), "{}", missing.json);
    }
    let put = super::answer(api.request(reqwest::Method::PUT, "/v1/tasks")).await;
    assert_eq!(rpc_code(&put, 405), 12);
    let allow = put.headers["allow"].to_str().expect("text");
    assert!(allow.contains("GET") && allow.contains("POST"), "{allow}");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn json_routes_answer_only_the_allowed_hosts_with_the_security_headers_and_refuse_other_sites() {
    let site = FixtureSite::start(SiteSpec::standard()).await;
    let app = TestApp::spawn(&site).await;
    let api = Api::new(&app);

    let regions = api.request(reqwest::Method::GET, "/v1/regions").send().await.expect("an answer");
    assert_eq!(regions.status(), 200);
    assert_eq!(regions.headers()["x-content-type-options"], "nosniff");
    assert_eq!(regions.headers()["x-frame-options"], "DENY");
    assert!(regions.headers().contains_key("content-security-policy"));
    let rebound = api.request(reqwest::Method::GET, "/v1/regions").header("host", "evil.example").send().await;
    assert_eq!(rebound.expect("an answer").status(), 421, "a name the server is not reached by");
    let rebound = api.request(reqwest::Method::GET, "/openapi.json").header("host", "evil.example").send().await;
    assert_eq!(rebound.expect("an answer").status(), 421);

    // Even without tokens, a page on another site cannot make a visitor's
    // browser stop tasks here.
    let forged = api.request(reqwest::Method::POST, "/v1/tasks:stopAll").header("origin", "https://evil.example");
    assert_eq!(rpc_code(&super::answer(forged).await, 403), 7);
    let fetched = api.request(reqwest::Method::POST, "/v1/tasks:stopAll").header("sec-fetch-site", "cross-site");
    assert_eq!(rpc_code(&super::answer(fetched).await, 403), 7);
    let own_origin = api.request(reqwest::Method::POST, "/v1/tasks:stopAll").header("origin", app.address.as_str());
    assert_eq!(super::answer(own_origin).await.json, json!({ "stoppedCount": 0 }));
    app.stop().await;
}
