//! The `scrape-server` binary itself: its defaults and its signals.

use std::time::Duration;

use tokio_stream::StreamExt;
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;

use crate::helpers::{DEADLINE, binary};

#[tokio::test(flavor = "multi_thread")]
async fn with_no_arguments_the_server_serves_on_50051_with_scrape_db_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().expect("dir");
    drop(std::net::TcpListener::bind("127.0.0.1:50051").expect("port 50051 is free (stop any server running on it)"));
    let mut child = tokio::process::Command::new(binary("scrape-server"))
        .current_dir(dir.path())
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .kill_on_drop(true)
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("scrape-server starts");

    // Wait for it to serve: the health stream answers once it is up.
    let channel = tokio::time::timeout(DEADLINE, async {
        loop {
            match tonic::transport::Endpoint::from_static("http://127.0.0.1:50051").connect().await {
                Ok(channel) => return channel,
                Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
            }
        }
    })
    .await
    .expect("the server listens on 127.0.0.1:50051");
    let mut health = HealthClient::new(channel);
    let mut watch = health.watch(HealthCheckRequest { service: String::new() }).await.expect("watch").into_inner();
    let first = watch.next().await.expect("a status").expect("ok");
    assert_eq!(first.status(), ServingStatus::Serving);
    assert!(dir.path().join("scrape.db").exists(), "the default database is ./scrape.db");

    let pid = child.id().expect("pid").to_string();
    let killed = std::process::Command::new("kill").args(["-TERM", &pid]).status().expect("kill");
    assert!(killed.success());
    let status = tokio::time::timeout(DEADLINE, child.wait()).await.expect("exits after SIGTERM").expect("wait");
    assert!(status.success(), "a clean exit after SIGTERM: {status:?}");
}
