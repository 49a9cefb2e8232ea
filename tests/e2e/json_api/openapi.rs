//! The OpenAPI document against the routes: every RPC has an operation,
//! every operation answers (no 404 or 405), paths outside it do not, its
//! references resolve, and what a route answers fits its schema.

use std::collections::BTreeSet;

use reqwest::Method;
use scrape_server::auth::access::METHODS;
use serde_json::{Value, json};

use super::{Api, rpc_code};
use crate::fixture::{FixtureSite, SiteSpec};
use crate::helpers::TestApp;

/// The routes the API promises (in the protos' HTTP rules).
const ROUTES: &[(&str, &str)] = &[
    ("post", "/v1/tasks"),
    ("get", "/v1/tasks"),
    ("get", "/v1/tasks/{task_id}"),
    ("post", "/v1/tasks/{task_id}:stop"),
    ("post", "/v1/tasks:stopAll"),
    ("post", "/v1/tasks/{task_id}:restart"),
    ("delete", "/v1/tasks/{task_id}"),
    ("post", "/v1/tasks:purge"),
    ("get", "/v1/tasks/{task_id}/results"),
    ("get", "/v1/documents"),
    ("get", "/v1/tasks/{task_id}/documents"),
    ("get", "/v1/tasks/{task_id}/events"),
    ("get", "/v1/tasks/{task_id}/progress"),
    ("get", "/v1/tasks/{task_id}:export"),
    ("get", "/v1/regions"),
    ("get", "/v1/prefectures"),
    ("post", "/v1/watches"),
    ("get", "/v1/watches"),
    ("get", "/v1/watches/{watch_id}"),
    ("patch", "/v1/watches/{watch_id}"),
    ("delete", "/v1/watches/{watch_id}"),
    ("post", "/v1/watches/{watch_id}:run"),
];

/// Every `$ref` in the document.
fn references(value: &Value, out: &mut BTreeSet<String>) {
    match value {
        Value::Object(map) => {
            if let Some(Value::String(target)) = map.get("$ref") {
                out.insert(target.clone());
            }
            map.values().for_each(|v| references(v, out));
        }
        Value::Array(items) => items.iter().for_each(|v| references(v, out)),
        _ => {}
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_openapi_document_has_every_rpc_and_every_operation_in_it_answers() {
    let site = FixtureSite::start(SiteSpec::standard()).await;
    let app = TestApp::spawn(&site).await;
    let api = Api::new(&app);
    let document = api.ok("/openapi.json").await;
    assert_eq!(document["openapi"], "3.1.0");
    let paths = document["paths"].as_object().expect("paths");

    // Every RPC of the API, and every promised route.
    let operations: Vec<(String, String, &Value)> = paths
        .iter()
        .flat_map(|(path, item)| {
            item.as_object().expect("a path item").iter().map(move |(method, op)| (method.clone(), path.clone(), op))
        })
        .collect();
    for (method, _) in METHODS {
        assert!(
            operations.iter().any(|(_, _, op)| op["x-grpc-method"] == *method),
            "{method} has no operation in the document"
        );
    }
    for (method, path) in ROUTES {
        assert!(operations.iter().any(|(m, p, _)| m == method && p == path), "{method} {path} is not in the document");
    }
    let mut ids = BTreeSet::new();
    for (_, _, op) in &operations {
        assert!(ids.insert(op["operationId"].as_str().expect("an operationId")), "operationIds are unique");
    }
    let mut targets = BTreeSet::new();
    references(&document, &mut targets);
    for target in &targets {
        let name = target.strip_prefix("#/components/schemas/").unwrap_or_else(|| panic!("{target}"));
        assert!(document["components"]["schemas"].get(name).is_some(), "{target} resolves");
    }

    // A task and a watch for the path variables.
    let task = api.start(&["56"], &["bovin"]).await;
    api.progress_until_end(&task).await;
    let watch = api
        .post(
            "/v1/watches",
            &json!({ "name": "w", "task": { "keywords": ["bovin"] }, "schedule": { "interval": "3600s" } }),
        )
        .await;
    let watch = watch.json["id"].as_str().unwrap_or_else(|| panic!("a watch: {}", watch.json)).to_owned();

    // What GET /v1/tasks/{task_id} answers has only the schema's properties.
    let answered = api.ok(&format!("/v1/tasks/{task}")).await;
    let schema = &document["components"]["schemas"]["scrape.v1.Task"]["properties"];
    for key in answered.as_object().expect("a task").keys() {
        assert!(schema.get(key).is_some(), "{key} is in the Task schema");
    }

    // Every operation answers; deletions last (and the purge of every
    // finished task after them), so that the ids still exist.
    let mut order = operations.clone();
    order.sort_by_key(|(method, path, _)| (path.ends_with(":purge"), method == "delete"));
    for (method, path, op) in order {
        let mut url = path.replace("{task_id}", &task).replace("{watch_id}", &watch).replace("{region}", "Bretagne");
        let streams = op["responses"]["200"]["content"].get("text/event-stream").is_some();
        if streams && url.contains("streamEvents") {
            // Stored events first: its first message comes at once.
            url.push_str("?since=2000-01-01T00:00:00Z");
        }
        let method = Method::from_bytes(method.to_ascii_uppercase().as_bytes()).expect("a method");
        let mut request = api.request(method.clone(), &url);
        if op.get("requestBody").is_some() {
            request = request.header("content-type", "application/json").body("{}");
        }
        let answer = super::answer(request).await;
        assert!(![404, 405].contains(&answer.status), "{method} {url}: {} {}", answer.status, answer.json);
    }

    // Paths outside the document are no route.
    for path in ["/v1/tasks/x/nothing", "/v1/watches:nothing", "/v1/catalog"] {
        let answer = api.get(path).await;
        assert_eq!(rpc_code(&answer, 404), 5, "{path}");
        assert!(!paths.contains_key(path));
    }
    app.stop().await;
}
