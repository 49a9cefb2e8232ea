//! Each role on gRPC and gRPC-Web: what it may call, and the refusals.

use prost::Message;
use scrape_client::pb;
use tonic::Code;

use super::{TokensFile, client_with};
use crate::dashboard::http::{frame, frames, http1};
use crate::fixture::{FixtureSite, SiteSpec};
use crate::helpers::{Backend, TestApp, code};

async fn protected(site: &FixtureSite, tokens: &TokensFile) -> TestApp {
    let path = tokens.path.clone();
    TestApp::spawn_tuned(site, &Backend::Sqlite, |c| c.tokens_file = Some(path)).await
}

fn start_request() -> pb::StartTaskRequest {
    pb::StartTaskRequest { keywords: vec!["bovin".into()], prefectures: vec!["56".into()], ..Default::default() }
}

#[tokio::test(flavor = "multi_thread")]
async fn without_a_known_token_every_call_but_health_and_reflection_is_unauthenticated() {
    let site = FixtureSite::start(SiteSpec::standard()).await;
    let tokens = TokensFile::new();
    let app = protected(&site, &tokens).await;

    let anonymous = client_with(&app.address, None).await;
    assert_eq!(code(anonymous.list_tasks(pb::ListTasksRequest::default()).await), Code::Unauthenticated);
    assert_eq!(code(anonymous.list_regions().await), Code::Unauthenticated);
    assert_eq!(code(anonymous.start_task(start_request()).await), Code::Unauthenticated);
    let stranger = client_with(&app.address, Some("not-a-token-of-this-server")).await;
    let refused = stranger.list_tasks(pb::ListTasksRequest::default()).await.expect_err("refused");
    assert_eq!(refused.code(), Code::Unauthenticated);
    assert!(!refused.message().contains("not-a-token"), "the token is not echoed: {}", refused.message());

    // Load balancers and grpcurl need neither.
    assert!(anonymous.health().await.expect("health is open"));
    let mut reflection = tonic_reflection::pb::v1::server_reflection_client::ServerReflectionClient::new(
        tonic::transport::Channel::from_shared(app.address.clone()).expect("address").connect().await.expect("connect"),
    );
    let request = tonic_reflection::pb::v1::ServerReflectionRequest {
        host: String::new(),
        message_request: Some(tonic_reflection::pb::v1::server_reflection_request::MessageRequest::ListServices(
            String::new(),
        )),
    };
    let mut answers = reflection
        .server_reflection_info(tokio_stream::iter([request]))
        .await
        .expect("reflection is open")
        .into_inner();
    assert!(answers.message().await.expect("an answer").is_some());
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_viewer_reads_everything_and_changes_nothing_while_an_operator_does_both() {
    let site = FixtureSite::start(SiteSpec::standard()).await;
    let tokens = TokensFile::new();
    let app = protected(&site, &tokens).await;
    let viewer = client_with(&app.address, Some(&tokens.viewer)).await;
    let operator = client_with(&app.address, Some(&tokens.operator)).await;

    let denied = viewer.start_task(start_request()).await.expect_err("a viewer cannot start");
    assert_eq!(denied.code(), Code::PermissionDenied);
    assert!(denied.message().contains("grafana") && denied.message().contains("operator"), "{}", denied.message());
    let task = operator.start_task(start_request()).await.expect("an operator starts");
    let end = crate::helpers::collect_stream(&viewer, &task.id).await;
    assert_eq!(end.last().expect("an end").status(), pb::TaskStatus::Succeeded, "a viewer streams progress");

    // Everything a viewer may read.
    assert_eq!(viewer.get_task(&task.id).await.expect("get").id, task.id);
    assert_eq!(viewer.list_tasks(pb::ListTasksRequest::default()).await.expect("list").tasks.len(), 1);
    let results = pb::ListTaskResultsRequest { task_id: task.id.clone(), ..Default::default() };
    assert!(!viewer.list_task_results(results).await.expect("results").results.is_empty());
    viewer.list_documents(pb::ListDocumentsRequest::default()).await.expect("documents");
    assert!(!viewer.task_events(&task.id).await.expect("events").is_empty());
    let mut exported = Vec::new();
    viewer
        .export_task(&task.id, pb::ExportFormat::Json, |chunk| {
            exported.extend_from_slice(chunk);
            Ok(())
        })
        .await
        .expect("export");
    assert!(!exported.is_empty());
    assert!(!viewer.list_regions().await.expect("regions").is_empty());
    assert!(!viewer.list_prefectures("Bretagne").await.expect("prefectures").is_empty());

    // Nothing a viewer may change.
    assert_eq!(code(viewer.stop_task(&task.id).await), Code::PermissionDenied);
    assert_eq!(code(viewer.restart_task(&task.id).await), Code::PermissionDenied);
    assert_eq!(code(viewer.delete_task(&task.id).await), Code::PermissionDenied);
    assert_eq!(code(viewer.stop_all_tasks().await), Code::PermissionDenied);
    assert_eq!(code(viewer.purge_tasks(pb::PurgeTasksRequest::default()).await), Code::PermissionDenied);
    assert_eq!(viewer.get_task(&task.id).await.expect("get").status(), pb::TaskStatus::Succeeded, "untouched");

    operator.restart_task(&task.id).await.expect("an operator restarts");
    crate::helpers::collect_stream(&operator, &task.id).await;
    operator.delete_task(&task.id).await.expect("an operator deletes");
    assert_eq!(code(operator.get_task(&task.id).await), Code::NotFound);
    app.stop().await;
}

async fn grpc_web_list(app: &TestApp, token: Option<&str>) -> reqwest::Response {
    let mut request = http1()
        .post(format!("{}/scrape.v1.TaskService/ListTasks", app.address))
        .header("content-type", "application/grpc-web+proto")
        .header("x-grpc-web", "1");
    if let Some(token) = token {
        request = request.header("authorization", format!("Bearer {token}"));
    }
    request.body(frame(0, &pb::ListTasksRequest::default().encode_to_vec())).send().await.expect("an answer")
}

#[tokio::test(flavor = "multi_thread")]
async fn grpc_web_calls_from_a_browser_need_the_same_bearer_token() {
    let site = FixtureSite::start(SiteSpec::standard()).await;
    let tokens = TokensFile::new();
    let app = protected(&site, &tokens).await;

    let refused = grpc_web_list(&app, None).await;
    assert_eq!(refused.headers()["grpc-status"], "16", "UNAUTHENTICATED");
    let refused = grpc_web_list(&app, Some("forged")).await;
    assert_eq!(refused.headers()["grpc-status"], "16");

    let allowed = grpc_web_list(&app, Some(&tokens.viewer)).await;
    assert_eq!(allowed.status(), 200);
    let body = allowed.bytes().await.expect("a body");
    let frames = frames(&body);
    let trailers = String::from_utf8(frames.last().expect("trailers").1.clone()).expect("text");
    assert!(trailers.contains("grpc-status:0"), "{trailers}");
    pb::ListTasksResponse::decode(frames[0].1.as_slice()).expect("a list");

    let start = http1()
        .post(format!("{}/scrape.v1.TaskService/StartTask", app.address))
        .header("content-type", "application/grpc-web+proto")
        .header("authorization", format!("Bearer {}", tokens.viewer))
        .body(frame(0, &start_request().encode_to_vec()))
        .send()
        .await
        .expect("an answer");
    assert_eq!(start.headers()["grpc-status"], "7", "PERMISSION_DENIED");
    app.stop().await;
}
