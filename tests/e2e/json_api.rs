//! The API over JSON with a plain HTTP client, against real servers and the
//! fixture site: tasks from start to end, lists and their page tokens, stops,
//! Server-Sent Events, the catalog, watches, errors as google.rpc.Status,
//! tokens and roles, and the OpenAPI document checked against the routes.

mod errors;
mod openapi;
mod roles;
mod tasks;
mod watches;

use reqwest::Method;
use serde_json::Value;

use crate::dashboard::http::http1;
use crate::helpers::{DEADLINE, TestApp};

/// A JSON client of one server, presenting a token or none.
pub struct Api {
    base: String,
    http: reqwest::Client,
    token: Option<String>,
}

/// An answer: its status, headers and JSON body (`Null` when it has none).
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub json: Value,
}

impl Api {
    /// A client of `app` without a token.
    pub fn new(app: &TestApp) -> Api {
        Api { base: app.address.clone(), http: http1(), token: None }
    }

    /// The same client presenting `token`.
    pub fn with_token(&self, token: &str) -> Api {
        Api { base: self.base.clone(), http: self.http.clone(), token: Some(token.to_owned()) }
    }

    /// A request to `path` (with its query string), with the token if any.
    pub fn request(&self, method: Method, path: &str) -> reqwest::RequestBuilder {
        let request = self.http.request(method, format!("{}{path}", self.base));
        match &self.token {
            Some(token) => request.header("authorization", format!("Bearer {token}")),
            None => request,
        }
    }

    pub async fn get(&self, path: &str) -> Answer {
        answer(self.request(Method::GET, path)).await
    }

    pub async fn post(&self, path: &str, body: &Value) -> Answer {
        let request = self.request(Method::POST, path).header("content-type", "application/json");
        answer(request.body(body.to_string())).await
    }

    pub async fn delete(&self, path: &str) -> Answer {
        answer(self.request(Method::DELETE, path)).await
    }

    /// `GET path` that must succeed; its JSON.
    pub async fn ok(&self, path: &str) -> Value {
        let answer = self.get(path).await;
        assert_eq!(answer.status, 200, "GET {path}: {}", answer.json);
        answer.json
    }

    /// Every item under `key` of a paginated list, following
    /// `nextPageToken` from `path` (which has a query string).
    pub async fn all_pages(&self, path: &str, key: &str) -> (Vec<Value>, usize) {
        let mut items = Vec::new();
        let mut token = String::new();
        let mut pages = 0;
        loop {
            let separator = if path.contains('?') { '&' } else { '?' };
            let page = self.ok(&format!("{path}{separator}pageToken={token}")).await;
            pages += 1;
            items.extend(page[key].as_array().expect("a list").iter().cloned());
            token = page["nextPageToken"].as_str().expect("a token, empty on the last page").to_owned();
            if token.is_empty() {
                return (items, pages);
            }
            assert!(pages < 1000, "the pages end");
        }
    }

    /// Opens a stream of Server-Sent Events at `path`.
    pub async fn events(&self, path: &str) -> Events {
        let response =
            self.request(Method::GET, path).header("accept", "text/event-stream").send().await.expect("sent");
        assert_eq!(response.status(), 200, "GET {path}");
        let content_type = response.headers()["content-type"].to_str().expect("text").to_owned();
        assert!(content_type.starts_with("text/event-stream"), "{content_type}");
        Events { response, buffer: Vec::new() }
    }

    /// A task started by `POST /v1/tasks`; its id.
    pub async fn start(&self, prefectures: &[&str], keywords: &[&str]) -> String {
        let started =
            self.post("/v1/tasks", &serde_json::json!({ "keywords": keywords, "prefectures": prefectures })).await;
        assert_eq!(started.status, 200, "{}", started.json);
        started.json["id"].as_str().expect("an id").to_owned()
    }

    /// Follows the task's progress events to the end of the stream; all of them.
    pub async fn progress_until_end(&self, id: &str) -> Vec<Value> {
        let mut events = self.events(&format!("/v1/tasks/{id}/progress")).await;
        let mut all = Vec::new();
        while let Some((kind, data)) = events.next().await {
            assert_eq!(kind, "message", "{data}");
            all.push(data);
        }
        all
    }
}

async fn answer(request: reqwest::RequestBuilder) -> Answer {
    let response = request.send().await.expect("an answer");
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body = response.bytes().await.expect("a body");
    let json = if body.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&body)))
    };
    Answer { status, headers, json }
}

/// Server-Sent Events as they arrive.
pub struct Events {
    response: reqwest::Response,
    /// Bytes, not text: a chunk may end inside a character.
    buffer: Vec<u8>,
}

impl Events {
    /// The next event (its type, `message` by default, and its data as
    /// JSON); `None` when the server ends the stream.
    pub async fn next(&mut self) -> Option<(String, Value)> {
        tokio::time::timeout(DEADLINE, async {
            loop {
                if let Some(end) = self.buffer.windows(2).position(|w| w == b"\n\n") {
                    let block: Vec<u8> = self.buffer.drain(..end + 2).collect();
                    let block = String::from_utf8(block).expect("UTF-8 events");
                    let mut kind = "message".to_owned();
                    let mut data = String::new();
                    for line in block.lines() {
                        if let Some(value) = line.strip_prefix("event:") {
                            kind = value.trim().to_owned();
                        } else if let Some(value) = line.strip_prefix("data:") {
                            data.push_str(value.strip_prefix(' ').unwrap_or(value));
                        }
                    }
                    // A block of comments only is a keep-alive.
                    if data.is_empty() {
                        continue;
                    }
                    let json = serde_json::from_str(&data).unwrap_or_else(|e| panic!("event data ({e}): {data}"));
                    return Some((kind, json));
                }
                let chunk = self.response.chunk().await.expect("the event stream")?;
                self.buffer.extend_from_slice(&chunk);
            }
        })
        .await
        .expect("an event or the end within the deadline")
    }
}

/// The google.rpc.Status of a failed answer: its code, after checking the
/// HTTP status and the shape.
pub fn rpc_code(answer: &Answer, http: u16) -> i64 {
    assert_eq!(answer.status, http, "{}", answer.json);
    assert_eq!(answer.headers["content-type"], "application/json");
    assert!(answer.json["message"].as_str().is_some_and(|m| !m.is_empty()), "{}", answer.json);
    assert!(answer.json["details"].is_array(), "{}", answer.json);
    answer.json["code"].as_i64().expect("a code")
}

/// The fields named by the `BadRequest` of a 400 answer.
pub fn violations(answer: &Answer) -> Vec<String> {
    assert_eq!(rpc_code(answer, 400), 3, "INVALID_ARGUMENT");
    let details = answer.json["details"].as_array().expect("details");
    let bad = details
        .iter()
        .find(|d| d["@type"] == "type.googleapis.com/google.rpc.BadRequest")
        .unwrap_or_else(|| panic!("a BadRequest: {}", answer.json));
    bad["fieldViolations"]
        .as_array()
        .expect("violations")
        .iter()
        .map(|v| v["field"].as_str().expect("a field").to_owned())
        .collect()
}
