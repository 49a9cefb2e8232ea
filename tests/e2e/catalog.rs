//! The catalog service, reflection and health.

use scrape_client::pb;
use tokio_stream::StreamExt;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;
use tonic_reflection::pb::v1::ServerReflectionRequest;
use tonic_reflection::pb::v1::server_reflection_client::ServerReflectionClient;
use tonic_reflection::pb::v1::server_reflection_request::MessageRequest;
use tonic_reflection::pb::v1::server_reflection_response::MessageResponse;

use crate::fixture::{FixtureSite, SiteSpec};
use crate::helpers::{TestApp, bad_fields};

#[tokio::test(flavor = "multi_thread")]
async fn the_catalog_lists_regions_and_their_prefectures() {
    let site = FixtureSite::start(SiteSpec::standard()).await;
    let app = TestApp::spawn(&site).await;
    let regions = app.client.list_regions().await.expect("regions");
    assert_eq!(regions.len(), 18);
    assert!(regions.contains(&pb::Region { code: "53".into(), name: "Bretagne".into() }));
    assert_eq!(app.client.list_prefectures("").await.expect("all").len(), 101);
    let bretagne = app.client.list_prefectures("bretagne").await.expect("Bretagne");
    let names: Vec<_> = bretagne.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["Côtes-d'Armor", "Finistère", "Ille-et-Vilaine", "Morbihan"]);
    assert_eq!(bretagne[3].domain, "www.morbihan.gouv.fr");
    assert_eq!(bad_fields(app.client.list_prefectures("Atlantide").await), ["region"]);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn reflection_lists_the_services_and_health_says_serving() {
    let site = FixtureSite::start(SiteSpec::standard()).await;
    let app = TestApp::spawn(&site).await;
    let channel =
        tonic::transport::Endpoint::from_shared(app.address.clone()).expect("uri").connect().await.expect("connect");

    let mut reflection = ServerReflectionClient::new(channel.clone());
    let request = ServerReflectionRequest {
        host: String::new(),
        message_request: Some(MessageRequest::ListServices(String::new())),
    };
    let mut responses =
        reflection.server_reflection_info(tokio_stream::iter([request])).await.expect("reflection").into_inner();
    let response = responses.next().await.expect("a response").expect("ok");
    let Some(MessageResponse::ListServicesResponse(list)) = response.message_response else {
        panic!("unexpected reflection answer: {response:?}");
    };
    let names: Vec<_> = list.service.into_iter().map(|s| s.name).collect();
    for service in ["scrape.v1.TaskService", "scrape.v1.CatalogService", "grpc.health.v1.Health"] {
        assert!(names.iter().any(|n| n == service), "{service} missing from {names:?}");
    }

    let mut health = HealthClient::new(channel);
    for service in ["", "scrape.v1.TaskService"] {
        let status = health
            .check(tonic_health::pb::HealthCheckRequest { service: service.into() })
            .await
            .expect("health")
            .into_inner()
            .status();
        assert_eq!(status, ServingStatus::Serving, "{service:?}");
    }
    app.stop().await;
}
