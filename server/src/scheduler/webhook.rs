//! Webhook notifications: a POST of a JSON document listing a run's news,
//! signed `X-Scrape-Signature: sha256=HEX` with the HMAC-SHA256 of the body
//! under the watch's secret.

use std::time::Duration;

use ring::hmac;
use serde_json::{Value, json};

use crate::catalog::Catalog;
use crate::domain::Document;
use crate::service::Outgoing;

/// The signature header: `sha256=` and the HMAC of the body, in hex.
pub const SIGNATURE_HEADER: &str = "X-Scrape-Signature";
/// The notification's id: the same on every attempt, for receivers that
/// must not act twice.
pub const DELIVERY_HEADER: &str = "X-Scrape-Delivery";

/// Why a webhook attempt failed.
#[derive(Debug, thiserror::Error)]
pub enum WebhookError {
    #[error("answered HTTP {0}")]
    Status(u16),
    #[error("{0}")]
    Request(String),
}

/// The body of a webhook POST.
pub fn payload(outgoing: &Outgoing, catalog: &Catalog) -> Value {
    let watch = &outgoing.watch;
    let run = &outgoing.run;
    json!({
        "event": "watch.news",
        "delivery_id": outgoing.notification.id.to_string(),
        "watch": { "id": watch.id.to_string(), "name": watch.spec.name },
        "run": {
            "task_id": outgoing.notification.task_id.to_string(),
            "status": outgoing.task.as_ref().map(|t| t.status.as_str()),
            "due_at": run.due_at.map(|t| t.to_rfc3339()),
            "ended_at": run.ended_at.map(|t| t.to_rfc3339()),
        },
        "new_documents": outgoing.total,
        "truncated": (outgoing.documents.len() as u64) < outgoing.total,
        "documents": outgoing.documents.iter().map(|d| document(d, catalog)).collect::<Vec<_>>(),
    })
}

fn document(d: &Document, catalog: &Catalog) -> Value {
    json!({
        "link": d.link,
        "title": d.title,
        "description": d.description,
        "published_on": d.published_on_text(),
        "date_label": d.date_label,
        "prefecture_code": d.prefecture_code,
        "prefecture_name": catalog.prefecture_by_code(&d.prefecture_code).map(|p| p.name.clone()).unwrap_or_default(),
        "keyword": d.keyword,
        "first_seen_at": d.first_seen_at.to_rfc3339(),
    })
}

/// `sha256=` and the HMAC-SHA256 of `body` under `secret`, in lower-case hex.
pub fn signature(secret: &str, body: &[u8]) -> String {
    // ring's HMAC, as the dashboard's sessions use: no second crypto library.
    let tag = hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, secret.as_bytes()), body);
    let hex: String = tag.as_ref().iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256={hex}")
}

/// Sends webhook POSTs.
#[derive(Debug, Clone)]
pub struct WebhookSender {
    client: reqwest::Client,
}

impl WebhookSender {
    /// Redirects are not followed: a webhook URL is the receiver's own.
    pub fn new(user_agent: &str, timeout: Duration) -> Result<WebhookSender, reqwest::Error> {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let client = reqwest::Client::builder()
            .user_agent(user_agent)
            .timeout(timeout)
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        Ok(WebhookSender { client })
    }

    /// POSTs the payload of `outgoing` to `url`, signed with `secret`; any
    /// 2xx answer delivers it.
    pub async fn send(
        &self,
        url: &str,
        secret: &str,
        outgoing: &Outgoing,
        catalog: &Catalog,
    ) -> Result<u16, WebhookError> {
        let body = serde_json::to_vec(&payload(outgoing, catalog)).expect("a JSON value serialises");
        let response = self
            .client
            .post(url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header(SIGNATURE_HEADER, signature(secret, &body))
            .header(DELIVERY_HEADER, outgoing.notification.id.to_string())
            .body(body)
            .send()
            .await
            .map_err(|e| WebhookError::Request(root_cause(&e)))?;
        let status = response.status().as_u16();
        if response.status().is_success() { Ok(status) } else { Err(WebhookError::Status(status)) }
    }
}

fn root_cause(err: &(dyn std::error::Error + 'static)) -> String {
    let mut text = err.to_string();
    let mut cause = err.source();
    while let Some(next) = cause {
        text = format!("{text}: {next}");
        cause = next.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signature_is_the_hmac_sha256_of_the_body_in_hex() {
        // RFC 4231, test case 2.
        let signed = signature("Jefe", b"what do ya want for nothing?");
        assert_eq!(signed, "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    }
}
