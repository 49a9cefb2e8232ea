//! The gRPC transport: the task, watch and catalog services, server reflection
//! (v1 and v1alpha) and `grpc.health.v1`, in one router.

pub mod catalog;
pub mod convert;
pub mod status;
pub mod tasks;
pub mod watch_convert;
pub mod watches;

use scrape_api::pb::catalog_service_server::CatalogServiceServer;
use scrape_api::pb::task_service_server::TaskServiceServer;
use scrape_api::pb::watch_service_server::WatchServiceServer;
use tonic::service::Routes;
use tonic_health::server::HealthReporter;

pub use catalog::CatalogApi;
pub use tasks::TaskApi;
pub use watches::WatchApi;

/// Largest message accepted from a client.
const MAX_REQUEST_BYTES: usize = 1024 * 1024;

/// Every gRPC service of the server, and the health reporter to flip to
/// NOT_SERVING on shutdown.
pub async fn routes(
    tasks: TaskApi,
    catalog: CatalogApi,
    watches: WatchApi,
) -> Result<(Routes, HealthReporter), tonic_reflection::server::Error> {
    let (health, health_service) = tonic_health::server::health_reporter();
    health.set_serving::<TaskServiceServer<TaskApi>>().await;
    health.set_serving::<WatchServiceServer<WatchApi>>().await;
    health.set_serving::<CatalogServiceServer<CatalogApi>>().await;

    let reflection = || {
        tonic_reflection::server::Builder::configure()
            .register_encoded_file_descriptor_set(scrape_api::FILE_DESCRIPTOR_SET)
            .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
            .register_encoded_file_descriptor_set(tonic_types::pb::FILE_DESCRIPTOR_SET)
    };
    let routes = Routes::builder()
        .add_service(TaskServiceServer::new(tasks).max_decoding_message_size(MAX_REQUEST_BYTES))
        .add_service(CatalogServiceServer::new(catalog).max_decoding_message_size(MAX_REQUEST_BYTES))
        .add_service(WatchServiceServer::new(watches).max_decoding_message_size(MAX_REQUEST_BYTES))
        .add_service(health_service)
        .add_service(reflection().build_v1()?)
        .add_service(reflection().build_v1alpha()?)
        .clone()
        .routes();
    Ok((routes, health))
}

/// Marks every service NOT_SERVING (the overall status included).
pub async fn set_not_serving(health: &HealthReporter) {
    health.set_not_serving::<TaskServiceServer<TaskApi>>().await;
    health.set_not_serving::<CatalogServiceServer<CatalogApi>>().await;
    health.set_not_serving::<WatchServiceServer<WatchApi>>().await;
    health.set_service_status("", tonic_health::ServingStatus::NotServing).await;
}
