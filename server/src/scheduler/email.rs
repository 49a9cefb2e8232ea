//! Email digests: one message per run that found news, plain text and HTML,
//! the news grouped by prefecture and keyword with their links, sent over
//! SMTP with lettre.

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::{DateTime, Utc};
use lettre::message::{Mailbox, MultiPart};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use maud::html;

use crate::catalog::Catalog;
use crate::domain::{Document, Schedule};
use crate::service::Outgoing;

/// Why a digest could not be sent.
#[derive(Debug, thiserror::Error)]
pub enum EmailError {
    #[error("SMTP URL: {0}")]
    Url(String),
    #[error("address {0:?}: {1}")]
    Address(String, String),
    #[error("building the message: {0}")]
    Message(String),
    #[error("SMTP: {0}")]
    Smtp(String),
}

/// What a digest says, in both forms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Digest {
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// The news of a run by prefecture code, then keyword, in order.
type Groups<'a> = BTreeMap<&'a str, BTreeMap<&'a str, Vec<&'a Document>>>;

fn groups(documents: &[Document]) -> Groups<'_> {
    let mut groups: Groups<'_> = BTreeMap::new();
    for d in documents {
        groups.entry(&d.prefecture_code).or_default().entry(&d.keyword).or_default().push(d);
    }
    groups
}

/// The run's time as its watch's people read it: in the cron schedule's
/// time zone, else in UTC.
fn when(at: DateTime<Utc>, schedule: &Schedule) -> String {
    match schedule {
        Schedule::Cron(cron) => match cron.time_zone().parse::<chrono_tz::Tz>() {
            Ok(zone) => at.with_timezone(&zone).format("%Y-%m-%d %H:%M %Z").to_string(),
            Err(_) => at.format("%Y-%m-%d %H:%M UTC").to_string(),
        },
        Schedule::Interval(_) => at.format("%Y-%m-%d %H:%M UTC").to_string(),
    }
}

/// The digest of a run's news.
pub fn digest(outgoing: &Outgoing, catalog: &Catalog) -> Digest {
    let watch = &outgoing.watch;
    let name = &watch.spec.name;
    let total = outgoing.total;
    let subject = format!("{name}: {total} new document{}", if total == 1 { "" } else { "s" });
    let at = outgoing.run.due_at.or(outgoing.run.ended_at).unwrap_or(outgoing.run.requested_at);
    let intro = format!(
        "{total} new document{} found by the run of {} (task {}).",
        if total == 1 { "" } else { "s" },
        when(at, &watch.spec.schedule),
        outgoing.notification.task_id
    );
    let listed = outgoing.documents.len() as u64;
    let more = (listed < total).then(|| format!("Only the first {listed} are listed here."));
    let prefecture = |code: &str| {
        catalog.prefecture_by_code(code).map_or_else(|| code.to_owned(), |p| format!("{} ({})", p.name, p.code))
    };
    let grouped = groups(&outgoing.documents);

    let mut text = format!("{name}\n\n{intro}\n");
    if let Some(more) = &more {
        text.push_str(more);
        text.push('\n');
    }
    for (code, keywords) in &grouped {
        text.push_str(&format!("\n{}\n", prefecture(code)));
        for (keyword, documents) in keywords {
            text.push_str(&format!("  {keyword}\n"));
            for d in documents {
                text.push_str(&format!("    * {}\n", if d.title.is_empty() { &d.link } else { &d.title }));
                if !d.date_label.is_empty() {
                    text.push_str(&format!("      {}\n", d.date_label));
                }
                text.push_str(&format!("      {}\n", d.link));
            }
        }
    }
    text.push_str(&format!("\n-- \nscrape-tasks, watch {}\n", watch.id));

    let html = html! {
        (maud::DOCTYPE)
        html lang="fr" {
            head { meta charset="utf-8"; title { (subject) } }
            body style="font-family: sans-serif; line-height: 1.4" {
                h1 style="font-size: 1.3em" { (name) }
                p { (intro) }
                @if let Some(more) = &more { p { (more) } }
                @for (code, keywords) in &grouped {
                    h2 style="font-size: 1.15em; margin-top: 1.2em" { (prefecture(code)) }
                    @for (keyword, documents) in keywords {
                        h3 style="font-size: 1em" { (keyword) }
                        ul {
                            @for d in documents {
                                li {
                                    a href=(d.link) { @if d.title.is_empty() { (d.link) } @else { (d.title) } }
                                    @if !d.date_label.is_empty() { br; small { (d.date_label) } }
                                    @if !d.description.is_empty() { br; span { (d.description) } }
                                }
                            }
                        }
                    }
                }
                hr;
                p { small { "scrape-tasks, watch " (watch.id.to_string()) } }
            }
        }
    }
    .into_string();
    Digest { subject, text, html }
}

/// Sends digests through one SMTP relay.
#[derive(Clone)]
pub struct EmailSender {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl std::fmt::Debug for EmailSender {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmailSender").field("from", &self.from.to_string()).finish_non_exhaustive()
    }
}

impl EmailSender {
    /// `smtp://host:25` (plain, as for a relay on loopback),
    /// `smtp://user:password@host:587?tls=required` (STARTTLS) or
    /// `smtps://host:465` (TLS), sending as `from`.
    pub fn new(url: &str, from: &str, timeout: Duration) -> Result<EmailSender, EmailError> {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
            .map_err(|e| EmailError::Url(e.to_string()))?
            .timeout(Some(timeout))
            .build();
        let from = from.parse::<Mailbox>().map_err(|e| EmailError::Address(from.to_owned(), e.to_string()))?;
        Ok(EmailSender { transport, from })
    }

    /// Sends the digest of `outgoing` to the watch's recipients.
    pub async fn send(&self, outgoing: &Outgoing, catalog: &Catalog) -> Result<Vec<String>, EmailError> {
        let digest = digest(outgoing, catalog);
        let mut message = Message::builder().from(self.from.clone()).subject(digest.subject);
        let recipients = outgoing.watch.spec.email_to.clone();
        for to in &recipients {
            let mailbox = to.parse::<Mailbox>().map_err(|e| EmailError::Address(to.clone(), e.to_string()))?;
            message = message.to(mailbox);
        }
        let message = message
            .multipart(MultiPart::alternative_plain_html(digest.text, digest.html))
            .map_err(|e| EmailError::Message(e.to_string()))?;
        self.transport.send(message).await.map_err(|e| EmailError::Smtp(e.to_string()))?;
        Ok(recipients)
    }
}
