//! A watch's notifications received by local servers on 127.0.0.1:0: a
//! webhook receiver that checks the signature and the payload and answers
//! 500 to the first attempt, and an SMTP receiver that gets one digest per
//! run that found news, with the expected links.

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use hmac::{Hmac, KeyInit, Mac};
use scrape_client::pb;
use serde_json::Value;
use sha2::Sha256;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

use crate::fixture::{FixtureSite, SiteSpec, links};
use crate::helpers::{Backend, TestApp, on_both_backends};
use crate::watch_helpers::{FINISTERE, MORBIHAN, interval, of_kind, run_and_wait, wait_events, watch};

on_both_backends!(
    a_webhook_gets_the_runs_news_signed_and_again_after_answering_500,
    a_notification_that_failed_before_a_restart_is_delivered_after_it,
    an_smtp_relay_gets_one_digest_per_run_that_found_news
);

const SECRET: &str = "a-webhook-secret-of-some-length";

/// One request the webhook receiver got.
#[derive(Debug, Clone)]
struct Received {
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    /// What the receiver answered.
    status: u16,
}

impl Received {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

/// How the receiver answers its `n`-th request (from 0).
type Answer = Arc<dyn Fn(usize) -> u16 + Send + Sync>;

/// A minimal HTTP/1.1 receiver: answers each request with the status
/// `answer` gives and records it.
async fn webhook_receiver(answer: Answer) -> (String, Arc<Mutex<Vec<Received>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}/hooks/veille", listener.local_addr().expect("address"));
    let received = Arc::new(Mutex::new(Vec::new()));
    let log = received.clone();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let (log, answer) = (log.clone(), answer.clone());
            tokio::spawn(async move {
                let (read, mut write) = stream.into_split();
                let mut reader = BufReader::new(read);
                let mut line = String::new();
                if reader.read_line(&mut line).await.unwrap_or(0) == 0 {
                    return;
                }
                let mut headers = Vec::new();
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).await.unwrap_or(0) == 0 || line.trim().is_empty() {
                        break;
                    }
                    if let Some((name, value)) = line.split_once(':') {
                        headers.push((name.trim().to_owned(), value.trim().to_owned()));
                    }
                }
                let length: usize = headers
                    .iter()
                    .find(|(n, _)| n.eq_ignore_ascii_case("content-length"))
                    .and_then(|(_, v)| v.parse().ok())
                    .unwrap_or(0);
                let mut body = vec![0; length];
                if reader.read_exact(&mut body).await.is_err() {
                    return;
                }
                let status = {
                    let mut log = log.lock().expect("log");
                    let status = answer(log.len());
                    log.push(Received { headers, body, status });
                    status
                };
                let reply = format!("HTTP/1.1 {status} Status\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
                let _ = write.write_all(reply.as_bytes()).await;
                let _ = write.shutdown().await;
            });
        }
    });
    (url, received)
}

fn signature(secret: &str, body: &[u8]) -> String {
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(secret.as_bytes()).expect("a key");
    mac.update(body);
    let hex: String = mac.finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256={hex}")
}

async fn a_webhook_gets_the_runs_news_signed_and_again_after_answering_500(backend: Backend) {
    let site = FixtureSite::start(SiteSpec { counts: vec![(FINISTERE, "bovin", 7), (MORBIHAN, "bovin", 12)] }).await;
    let (url, received) = webhook_receiver(Arc::new(|n| if n == 0 { 500 } else { 200 })).await;
    let app = TestApp::spawn_tuned(&site, &backend, |config| config.notify_retry_base_ms = 100).await;
    let mut hooked = watch("Veille ICPE", &["29", "56"], &["bovin"], interval(86_400));
    hooked.webhook = Some(pb::Webhook { url: url.clone(), secret: SECRET.into() });
    let created = app.client.create_watch(hooked).await.expect("created");

    let (run, _) = run_and_wait(&app.client, &created.id).await;
    let events = wait_events(&app.client, &created.id, "the webhook delivered", |events| {
        !of_kind(events, pb::WatchEventKind::NotificationSent).is_empty()
    })
    .await;
    let failed = of_kind(&events, pb::WatchEventKind::NotificationFailed);
    assert_eq!(failed.len(), 1, "{events:#?}");
    assert!(failed[0].message.contains("HTTP 500"), "{}", failed[0].message);
    assert_eq!(of_kind(&events, pb::WatchEventKind::NotificationSent).len(), 1);

    let received = received.lock().expect("log").clone();
    assert_eq!(received.len(), 2, "the first attempt, answered 500, and the retry");
    assert_eq!(received[0].body, received[1].body, "the same document both times");
    assert_eq!(received[0].header("x-scrape-delivery"), received[1].header("x-scrape-delivery"));
    for attempt in &received {
        assert_eq!(attempt.header("content-type"), Some("application/json"));
        assert_eq!(attempt.header("x-scrape-signature"), Some(signature(SECRET, &attempt.body).as_str()));
        assert_ne!(attempt.header("x-scrape-signature"), Some(signature("another secret", &attempt.body).as_str()));
    }
    let payload: Value = serde_json::from_slice(&received[1].body).expect("JSON");
    assert_eq!(payload["event"], "watch.news");
    assert_eq!(payload["watch"]["id"], created.id.as_str());
    assert_eq!(payload["watch"]["name"], "Veille ICPE");
    assert_eq!(payload["run"]["task_id"], run.id.as_str());
    assert_eq!(payload["run"]["status"], "succeeded");
    assert_eq!(payload["new_documents"], 19);
    assert_eq!(payload["truncated"], false);
    let documents = payload["documents"].as_array().expect("documents");
    let posted: HashSet<String> = documents.iter().map(|d| d["link"].as_str().expect("link").to_owned()).collect();
    assert_eq!(posted, links(site.cards(FINISTERE, "bovin").iter().chain(&site.cards(MORBIHAN, "bovin"))));
    let card = &site.cards(FINISTERE, "bovin")[0];
    let sent = documents.iter().find(|d| d["link"] == card.link.as_str()).expect("the card");
    assert_eq!(sent["title"], card.title.as_str());
    assert_eq!(sent["prefecture_name"], "Finistère");
    assert_eq!(sent["keyword"], "bovin");
    assert_eq!(sent["published_on"], card.published_on.as_str());

    // A run without news posts nothing.
    let (quiet, _) = run_and_wait(&app.client, &created.id).await;
    let events = app.client.watch_events(&created.id).await.expect("events");
    let last_end = of_kind(&events, pb::WatchEventKind::RunEnded).into_iter().find(|e| e.task_id == quiet.id).cloned();
    assert_eq!(last_end.map(|e| e.new_documents), Some(0));
    assert_eq!(of_kind(&events, pb::WatchEventKind::NotificationSent).len(), 1);
    app.stop().await;
}

async fn a_notification_that_failed_before_a_restart_is_delivered_after_it(backend: Backend) {
    let site = FixtureSite::start(SiteSpec { counts: vec![(FINISTERE, "bovin", 7)] }).await;
    let up = Arc::new(AtomicBool::new(false));
    let flag = up.clone();
    let (url, received) =
        webhook_receiver(Arc::new(move |_| if flag.load(Ordering::SeqCst) { 200 } else { 503 })).await;
    let app = TestApp::spawn_tuned(&site, &backend, |config| config.notify_retry_base_ms = 200).await;
    let mut hooked = watch("Veille", &["29"], &["bovin"], interval(86_400));
    hooked.webhook = Some(pb::Webhook { url, secret: SECRET.into() });
    let created = app.client.create_watch(hooked).await.expect("created");
    run_and_wait(&app.client, &created.id).await;
    wait_events(&app.client, &created.id, "a failed attempt", |events| {
        !of_kind(events, pb::WatchEventKind::NotificationFailed).is_empty()
    })
    .await;

    // The queue is in the database: the next server goes on with it, and
    // the receiver accepts only from then on.
    let app = app.restart().await;
    up.store(true, Ordering::SeqCst);
    let events = wait_events(&app.client, &created.id, "delivered after the restart", |events| {
        !of_kind(events, pb::WatchEventKind::NotificationSent).is_empty()
    })
    .await;
    assert_eq!(of_kind(&events, pb::WatchEventKind::NotificationSent).len(), 1);
    assert!(of_kind(&events, pb::WatchEventKind::NotificationAbandoned).is_empty());
    let received = received.lock().expect("log").clone();
    let accepted: Vec<&Received> = received.iter().filter(|r| r.status == 200).collect();
    assert_eq!(accepted.len(), 1, "delivered once");
    assert!(received.len() >= 2, "attempts before the restart, then the delivery");
    assert!(received.iter().all(|r| r.body == accepted[0].body), "the same notification each time");
    app.stop().await;
}

/// The messages an SMTP receiver got: the recipients and the raw message.
type Mailbox = Arc<Mutex<Vec<(Vec<String>, Vec<u8>)>>>;

/// A minimal SMTP receiver (no TLS, no authentication): enough for a
/// client to deliver messages, each recorded.
async fn smtp_receiver() -> (u16, Mailbox) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("address").port();
    let mailbox: Mailbox = Arc::new(Mutex::new(Vec::new()));
    let kept = mailbox.clone();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let kept = kept.clone();
            tokio::spawn(async move {
                let (read, mut write) = stream.into_split();
                let mut reader = BufReader::new(read);
                let _ = write.write_all(b"220 receiver.test ESMTP\r\n").await;
                let mut recipients = Vec::new();
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).await.unwrap_or(0) == 0 {
                        return;
                    }
                    let command = line.trim_end().to_ascii_uppercase();
                    let reply: &[u8] = if command.starts_with("EHLO") || command.starts_with("HELO") {
                        b"250-receiver.test\r\n250 8BITMIME\r\n"
                    } else if command.starts_with("RCPT TO:") {
                        recipients.push(line.trim_end()[8..].trim().trim_matches(['<', '>']).to_owned());
                        b"250 OK\r\n"
                    } else if command.starts_with("DATA") {
                        let _ = write.write_all(b"354 go ahead\r\n").await;
                        let mut message = Vec::new();
                        loop {
                            let mut data = String::new();
                            if reader.read_line(&mut data).await.unwrap_or(0) == 0 {
                                return;
                            }
                            if data == ".\r\n" {
                                break;
                            }
                            let data = data.strip_prefix('.').map_or(data.clone(), str::to_owned);
                            message.extend_from_slice(data.as_bytes());
                        }
                        kept.lock().expect("mailbox").push((std::mem::take(&mut recipients), message));
                        b"250 OK queued\r\n"
                    } else if command.starts_with("QUIT") {
                        let _ = write.write_all(b"221 bye\r\n").await;
                        return;
                    } else {
                        b"250 OK\r\n"
                    };
                    if write.write_all(reply).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    (port, mailbox)
}

async fn an_smtp_relay_gets_one_digest_per_run_that_found_news(backend: Backend) {
    let site = FixtureSite::start(SiteSpec { counts: vec![(FINISTERE, "bovin", 7), (MORBIHAN, "bovin", 4)] }).await;
    let (port, mailbox) = smtp_receiver().await;
    let app = TestApp::spawn_tuned(&site, &backend, |config| {
        config.smtp_url = Some(format!("smtp://127.0.0.1:{port}"));
        config.smtp_from = Some("Veille <veille@example.org>".into());
    })
    .await;
    let mut mailed = watch("Élevages bretons", &["29", "56"], &["bovin"], interval(86_400));
    mailed.email = Some(pb::EmailDigest { to: vec!["equipe@example.org".into(), "direction@example.org".into()] });
    let created = app.client.create_watch(mailed).await.expect("created");

    run_and_wait(&app.client, &created.id).await;
    wait_events(&app.client, &created.id, "the digest sent", |events| {
        !of_kind(events, pb::WatchEventKind::NotificationSent).is_empty()
    })
    .await;
    // A second run finds nothing new: no second digest.
    let (quiet, _) = run_and_wait(&app.client, &created.id).await;
    let events = app.client.watch_events(&created.id).await.expect("events");
    let quiet_end = of_kind(&events, pb::WatchEventKind::RunEnded).into_iter().find(|e| e.task_id == quiet.id).cloned();
    assert_eq!(quiet_end.map(|e| e.new_documents), Some(0));
    assert_eq!(of_kind(&events, pb::WatchEventKind::NotificationSent).len(), 1);

    let messages = mailbox.lock().expect("mailbox").clone();
    assert_eq!(messages.len(), 1, "one digest");
    let (recipients, raw) = &messages[0];
    assert_eq!(recipients, &["equipe@example.org", "direction@example.org"]);
    let message = mail_parser::MessageParser::default().parse(raw.as_slice()).expect("a MIME message");
    assert_eq!(message.subject(), Some("Élevages bretons: 11 new documents"));
    let from = message.from().and_then(|f| f.first()).and_then(|a| a.address()).map(str::to_owned);
    assert_eq!(from.as_deref(), Some("veille@example.org"));
    let text = message.body_text(0).expect("a plain-text part").into_owned();
    let html = message.body_html(0).expect("an HTML part").into_owned();
    for card in site.cards(FINISTERE, "bovin").iter().chain(&site.cards(MORBIHAN, "bovin")) {
        assert!(text.contains(&card.link), "{} missing from the text:\n{text}", card.link);
        let href = format!("href=\"{}\"", card.link.replace('&', "&amp;"));
        assert!(html.contains(&href), "{href} missing from the HTML:\n{html}");
    }
    // Grouped by prefecture, then keyword.
    let finistere = text.find("Finistère (29)").expect("a Finistère group");
    let morbihan = text.find("Morbihan (56)").expect("a Morbihan group");
    assert!(finistere < morbihan);
    let first_finistere_link = text.find(&site.cards(FINISTERE, "bovin")[0].link).expect("a link");
    assert!(finistere < first_finistere_link && first_finistere_link < morbihan, "the link is under its prefecture");
    assert!(html.contains("<h2") && html.contains("Morbihan (56)") && html.contains("<h3"));
    app.stop().await;
}
