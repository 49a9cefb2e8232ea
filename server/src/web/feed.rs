//! A watch's news as an Atom 1.0 feed (RFC 4287), for any feed reader:
//! `/watches/{id}/feed.atom`. Entry ids are derived from the watch and the
//! document's link, so an entry keeps its id from one fetch to the next.

use axum::extract::{Path, State};
use axum::http::header::{CONTENT_TYPE, HOST};
use axum::http::{HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, SecondsFormat, Utc};
use uuid::Uuid;

use crate::catalog::Catalog;
use crate::domain::{Document, Watch};
use crate::service::{NewsListRequest, NewsListing};
use crate::web::watches::watch_id;
use crate::web::{PageError, Shared};

/// Entries in the feed: the latest news.
const ENTRIES: i64 = 100;

/// `GET /watches/{id}/feed.atom`.
pub async fn atom(
    State(web): State<Shared>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, PageError> {
    let id = watch_id(&id)?;
    let watch = web.watches.get_watch(id).await?;
    let listing =
        NewsListing::parse(NewsListRequest { watch_id: &id.to_string(), page_size: ENTRIES, ..Default::default() })?;
    let news = web.watches.list_news(listing).await?;
    let base = base_url(&headers);
    let body = feed(&watch, &news.items, &base, web.watches.catalog());
    let mut response = body.into_response();
    response.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static("application/atom+xml; charset=utf-8"));
    Ok(response)
}

/// `http://HOST` as the client reached the server (`https` behind a proxy
/// that says so).
fn base_url(headers: &HeaderMap) -> String {
    let text = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let host = text(HOST.as_str()).unwrap_or("localhost");
    let scheme = match text("x-forwarded-proto") {
        Some("https") => "https",
        _ => "http",
    };
    format!("{scheme}://{host}")
}

/// The stable id of a watch's entry for a document.
pub fn entry_id(watch: &Watch, link: &str) -> String {
    format!("urn:uuid:{}", Uuid::new_v5(&watch.id.uuid(), link.as_bytes()).hyphenated())
}

fn time(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// The feed of `watch`'s news, newest first.
pub fn feed(watch: &Watch, news: &[Document], base: &str, catalog: &Catalog) -> String {
    let page = format!("{base}/watches/{}", watch.id);
    let updated = news.iter().map(|d| d.first_seen_at).max().unwrap_or(watch.created_at);
    let mut xml = String::with_capacity(1024 + news.len() * 800);
    xml.push_str("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<feed xmlns=\"http://www.w3.org/2005/Atom\">\n");
    push(&mut xml, 1, "id", &format!("urn:uuid:{}", watch.id));
    push(&mut xml, 1, "title", &format!("{} — scrape-tasks", watch.spec.name));
    push(
        &mut xml,
        1,
        "subtitle",
        &format!("Documents first found by the watch {} ({})", watch.spec.name, watch.spec.schedule),
    );
    push(&mut xml, 1, "updated", &time(updated));
    xml.push_str(&format!(
        "  <link rel=\"self\" type=\"application/atom+xml\" href=\"{}\"/>\n  <link rel=\"alternate\" type=\"text/html\" href=\"{}\"/>\n",
        escape(&format!("{page}/feed.atom")),
        escape(&page)
    ));
    xml.push_str("  <author><name>scrape-tasks</name></author>\n");
    xml.push_str(&format!("  <generator version=\"{}\">scrape-tasks</generator>\n", env!("CARGO_PKG_VERSION")));
    for d in news {
        let prefecture =
            catalog.prefecture_by_code(&d.prefecture_code).map_or(d.prefecture_code.clone(), |p| p.name.clone());
        xml.push_str("  <entry>\n");
        push(&mut xml, 2, "id", &entry_id(watch, &d.link));
        push(&mut xml, 2, "title", if d.title.is_empty() { &d.link } else { &d.title });
        xml.push_str(&format!("    <link rel=\"alternate\" type=\"text/html\" href=\"{}\"/>\n", escape(&d.link)));
        push(&mut xml, 2, "updated", &time(d.first_seen_at));
        let mut summary = d.description.clone();
        if !d.date_label.is_empty() {
            summary = if summary.is_empty() { d.date_label.clone() } else { format!("{summary} ({})", d.date_label) };
        }
        if !summary.is_empty() {
            push(&mut xml, 2, "summary", &summary);
        }
        xml.push_str(&format!(
            "    <category term=\"{}\" label=\"{}\"/>\n    <category term=\"{}\"/>\n",
            escape(&d.prefecture_code),
            escape(&prefecture),
            escape(&d.keyword)
        ));
        xml.push_str("  </entry>\n");
    }
    xml.push_str("</feed>\n");
    xml
}

/// `<name>text</name>` on its own line, indented.
fn push(xml: &mut String, depth: usize, name: &str, text: &str) {
    xml.push_str(&"  ".repeat(depth));
    xml.push_str(&format!("<{name}>{}</{name}>\n", escape(text)));
}

/// Text and attribute values with XML's special characters escaped, and
/// the characters XML 1.0 cannot hold dropped.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if c < ' ' || c == '\u{FFFE}' || c == '\u{FFFF}' => {}
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xml_text_is_escaped_and_characters_xml_cannot_hold_are_dropped() {
        assert_eq!(escape("a&b <c> \"d\" 'e'\u{1}"), "a&amp;b &lt;c&gt; &quot;d&quot; &apos;e&apos;");
    }
}
