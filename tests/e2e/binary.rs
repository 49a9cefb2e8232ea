//! The `scrape-server` binary itself: its defaults and its signals.

use tokio_stream::StreamExt;
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;

use crate::helpers::{DEADLINE, binary, listening_address};

#[tokio::test(flavor = "multi_thread")]
async fn with_no_arguments_the_server_serves_on_50051_with_scrape_db_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().expect("dir");
    drop(std::net::TcpListener::bind("127.0.0.1:50051").expect("port 50051 is free (stop any server running on it)"));
    let mut child = tokio::process::Command::new(binary("scrape-server"))
        .current_dir(dir.path())
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .kill_on_drop(true)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("scrape-server starts");
    let stdout = child.stdout.take().expect("a piped standard output");
    let mut stdout = tokio::io::AsyncBufReadExt::lines(tokio::io::BufReader::new(stdout));
    assert_eq!(listening_address(&mut stdout).await, "http://127.0.0.1:50051");

    // The health stream answers once it serves.
    let channel =
        tokio::time::timeout(DEADLINE, tonic::transport::Endpoint::from_static("http://127.0.0.1:50051").connect())
            .await
            .expect("connected within the deadline")
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
