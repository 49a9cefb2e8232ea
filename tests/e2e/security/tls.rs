//! TLS on the one address: gRPC, the dashboard and gRPC-Web over it, and
//! client certificates when the server requires them. The certificates are
//! made for each test (rcgen); none is kept in the repository.

use std::path::{Path, PathBuf};

use rcgen::{BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair};
use scrape_client::{Client, ConnectOptions, pb};
use scrape_server::config::Config;
use tokio::sync::oneshot;

use crate::fixture::{FixtureSite, SiteSpec};
use crate::helpers::{DEADLINE, test_config};

/// A CA, a server certificate for localhost and 127.0.0.1 signed by it,
/// and a client certificate signed by it, as PEM files.
struct Pki {
    dir: tempfile::TempDir,
}

impl Pki {
    fn new() -> Pki {
        let dir = tempfile::tempdir().expect("a directory");
        let ca_key = KeyPair::generate().expect("a key");
        let mut ca = CertificateParams::new(Vec::<String>::new()).expect("params");
        ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca.distinguished_name.push(DnType::CommonName, "scrape-tasks test CA");
        let ca_cert = ca.self_signed(&ca_key).expect("the CA");
        let leaf = |names: Vec<String>, usage: ExtendedKeyUsagePurpose, name: &str| {
            let key = KeyPair::generate().expect("a key");
            let mut params = CertificateParams::new(names).expect("params");
            params.extended_key_usages = vec![usage];
            params.distinguished_name.push(DnType::CommonName, name);
            let cert = params.signed_by(&key, &ca_cert, &ca_key).expect("signed");
            std::fs::write(dir.path().join(format!("{name}.pem")), cert.pem()).expect("write");
            std::fs::write(dir.path().join(format!("{name}.key")), key.serialize_pem()).expect("write");
        };
        leaf(vec!["localhost".into(), "127.0.0.1".into()], ExtendedKeyUsagePurpose::ServerAuth, "server");
        leaf(vec!["client.example".into()], ExtendedKeyUsagePurpose::ClientAuth, "client");
        std::fs::write(dir.path().join("ca.pem"), ca_cert.pem()).expect("write");
        Pki { dir }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
}

/// A server in this process over TLS; dropped, it shuts down.
struct TlsServer {
    port: u16,
    _shutdown: oneshot::Sender<()>,
    _dir: tempfile::TempDir,
}

async fn serve(site: &FixtureSite, tune: impl FnOnce(&mut Config)) -> TlsServer {
    let dir = tempfile::tempdir().expect("a directory");
    let mut config = test_config(site, dir.path());
    tune(&mut config);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("address").port();
    let (tx, rx) = oneshot::channel();
    tokio::spawn(scrape_server::run(config, listener, async {
        let _ = rx.await;
    }));
    TlsServer { port, _shutdown: tx, _dir: dir }
}

fn tls(pki: &Pki) -> impl FnOnce(&mut Config) + '_ {
    |config| {
        config.tls_cert = Some(pki.path("server.pem"));
        config.tls_key = Some(pki.path("server.key"));
    }
}

async fn connect(server: &TlsServer, ca: &Path, identity: Option<(PathBuf, PathBuf)>) -> Result<Client, String> {
    let options = ConnectOptions { tls_ca: Some(ca.to_owned()), tls_identity: identity, ..ConnectOptions::default() };
    let address = format!("https://localhost:{}", server.port);
    let client = tokio::time::timeout(DEADLINE, Client::connect_with(&address, &options)).await.expect("in time");
    client.map_err(|e| e.to_string())
}

fn https(pki: &Pki) -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let ca = reqwest::Certificate::from_pem(&std::fs::read(pki.path("ca.pem")).expect("read")).expect("a CA");
    reqwest::Client::builder().add_root_certificate(ca).timeout(DEADLINE).build().expect("an HTTPS client")
}

#[tokio::test(flavor = "multi_thread")]
async fn grpc_and_the_dashboard_are_served_over_tls_with_secure_cookies() {
    let site = FixtureSite::start(SiteSpec::standard()).await;
    let pki = Pki::new();
    let server = serve(&site, tls(&pki)).await;

    let client = connect(&server, &pki.path("ca.pem"), None).await.expect("a TLS connection");
    assert!(client.health().await.expect("health"));
    let task = client
        .start_task(pb::StartTaskRequest {
            keywords: vec!["bovin".into()],
            prefectures: vec!["56".into()],
            ..Default::default()
        })
        .await
        .expect("started over TLS");
    let end = crate::helpers::collect_stream(&client, &task.id).await;
    assert_eq!(end.last().expect("an end").status(), pb::TaskStatus::Succeeded);

    let page = https(&pki).get(format!("https://localhost:{}/", server.port)).send().await.expect("the dashboard");
    assert_eq!(page.status(), 200);
    let cookie = page.headers()["set-cookie"].to_str().expect("text").to_owned();
    assert!(cookie.contains("; Secure"), "{cookie}");
    assert!(page.text().await.expect("a page").contains(&task.id));

    // Plain HTTP to the TLS port gets nothing.
    let plain = reqwest::Client::new().get(format!("http://127.0.0.1:{}/", server.port)).timeout(DEADLINE).send().await;
    assert!(plain.is_err() || plain.is_ok_and(|r| !r.status().is_success()));
    // A client that does not trust the CA refuses the server.
    let untrusting = Client::connect(&format!("https://localhost:{}", server.port)).await;
    assert!(untrusting.is_err(), "the system roots do not know the test CA");
}

#[tokio::test(flavor = "multi_thread")]
async fn with_a_client_ca_only_clients_with_a_certificate_it_signed_are_served() {
    let site = FixtureSite::start(SiteSpec::standard()).await;
    let pki = Pki::new();
    let ca = pki.path("ca.pem");
    let server = serve(&site, |config| {
        tls(&pki)(config);
        config.tls_client_ca = Some(pki.path("ca.pem"));
    })
    .await;

    let without = async {
        let client = connect(&server, &ca, None).await?;
        client.list_regions().await.map_err(|e| e.to_string())
    };
    assert!(without.await.is_err(), "no client certificate, no call");
    let page = https(&pki).get(format!("https://localhost:{}/", server.port)).send().await;
    assert!(page.is_err(), "nor any page");

    let identity = Some((pki.path("client.pem"), pki.path("client.key")));
    let client = connect(&server, &ca, identity).await.expect("a mutual TLS connection");
    assert!(!client.list_regions().await.expect("regions").is_empty());
}
