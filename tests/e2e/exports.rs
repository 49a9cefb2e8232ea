//! ExportTask: each format parses back to the stored results, whatever the
//! size of the task.

use std::collections::{HashMap, HashSet};

use scrape_client::pb;

use crate::fixture::{FixtureSite, SiteSpec};
use crate::helpers::{Backend, TestApp, on_both_backends};

/// (prefecture code, keyword, link) → (title, description, published_on, date label)
type Rows = HashMap<(String, String, String), (String, String, String, String)>;

async fn export(app: &TestApp, id: &str, format: pb::ExportFormat) -> Vec<u8> {
    let mut out = Vec::new();
    app.client
        .export_task(id, format, |chunk| {
            out.extend_from_slice(chunk);
            Ok(())
        })
        .await
        .expect("export");
    out
}

async fn an_export_in_each_format_parses_back_to_the_stored_results(backend: Backend) {
    let mut spec = SiteSpec::standard();
    // Enough documents for the export to span several store pages and chunks.
    spec.counts.push(("www.ain.gouv.fr", "bovin", 987));
    let site = FixtureSite::start(spec).await;
    let app = TestApp::spawn_on(&site, &backend).await;
    let task = app.start(&["56", "01"], &["bovin", "porcin"]).await;
    app.progress_until_end(&task.id).await;

    let stored: Rows = app
        .documents(&task.id)
        .await
        .into_iter()
        .flat_map(|d| {
            d.keywords.clone().into_iter().map(move |k| {
                (
                    (d.prefecture_code.clone(), k, d.link.clone()),
                    (d.title.clone(), d.description.clone(), d.published_on.clone(), d.date_label.clone()),
                )
            })
        })
        .collect();
    assert_eq!(stored.len(), 23 + 10 + 987);

    let json: serde_json::Value =
        serde_json::from_slice(&export(&app, &task.id, pb::ExportFormat::Json).await).expect("JSON");
    let from_json: Rows = json["documents"]
        .as_array()
        .expect("documents")
        .iter()
        .map(|d| {
            let s = |k: &str| d[k].as_str().expect(k).to_owned();
            (
                (s("prefecture_code"), s("keyword"), s("link")),
                (s("title"), s("description"), s("published_on"), s("date_label")),
            )
        })
        .collect();
    assert_eq!(from_json, stored);
    assert_eq!(json["operations"].as_array().expect("operations").len(), 4);

    let csv = export(&app, &task.id, pb::ExportFormat::Csv).await;
    assert!(csv.windows(2).any(|w| w == b"\r\n"), "RFC 4180 line ends");
    let mut reader = csv::Reader::from_reader(csv.as_slice());
    let headers = reader.headers().expect("headers").clone();
    let column = |name: &str| headers.iter().position(|h| h == name).expect(name);
    let from_csv: Rows = reader
        .records()
        .map(|r| {
            let r = r.expect("a CSV record");
            let s = |k: &str| r[column(k)].to_owned();
            (
                (s("prefecture_code"), s("keyword"), s("link")),
                (s("title"), s("description"), s("published_on"), s("date_label")),
            )
        })
        .collect();
    assert_eq!(from_csv, stored);

    let pretty = String::from_utf8(export(&app, &task.id, pb::ExportFormat::Pretty).await).expect("UTF-8");
    let pretty_links: HashSet<&str> = pretty.lines().filter_map(|l| l.strip_prefix("  https://")).collect();
    let stored_links: HashSet<String> =
        stored.keys().map(|(_, _, link)| link.trim_start_matches("https://").to_owned()).collect();
    assert_eq!(pretty_links.len(), stored_links.len());
    assert!(pretty_links.iter().all(|l| stored_links.contains(*l)));
    assert!(pretty.contains("== Morbihan (56) — bovin: 23 items"), "{}", &pretty[..400]);
    app.stop().await;
}

on_both_backends!(an_export_in_each_format_parses_back_to_the_stored_results);
