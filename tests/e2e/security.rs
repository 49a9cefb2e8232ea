//! Safe to expose: tokens and roles on gRPC, gRPC-Web and the dashboard,
//! TLS with and without client certificates, the limits, hostile input,
//! metrics and logs — each against a real server.

pub(crate) mod dashboard;
mod input;
mod limits;
mod observability;
mod roles;
mod tls;

use std::path::PathBuf;

use scrape_client::{Client, ConnectOptions};
use scrape_server::auth::{Role, new_token};

use crate::helpers::DEADLINE;

/// A tokens file with a viewer and two operators, and their tokens.
pub struct TokensFile {
    pub path: PathBuf,
    pub viewer: String,
    pub operator: String,
    /// A second operator, for the quota of each token.
    pub other_operator: String,
    _dir: tempfile::TempDir,
}

impl TokensFile {
    pub fn new() -> TokensFile {
        let dir = tempfile::tempdir().expect("a directory");
        let viewer = new_token(Role::Viewer, "grafana").expect("a token");
        let operator = new_token(Role::Operator, "ci").expect("a token");
        let other = new_token(Role::Operator, "alice").expect("a token");
        let path = dir.path().join("tokens");
        let text = format!("# who may do what\n{}\n{}\n\n{}\n", viewer.line, operator.line, other.line);
        std::fs::write(&path, text).expect("the tokens file");
        TokensFile { path, viewer: viewer.token, operator: operator.token, other_operator: other.token, _dir: dir }
    }
}

/// A client presenting `token` (or none).
pub async fn client_with(address: &str, token: Option<&str>) -> Client {
    let options = ConnectOptions { token: token.map(str::to_owned), ..ConnectOptions::default() };
    tokio::time::timeout(DEADLINE, Client::connect_with(address, &options))
        .await
        .expect("connected within the deadline")
        .expect("connected")
}
