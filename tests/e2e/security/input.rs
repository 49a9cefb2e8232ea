//! Hostile input that changes nothing: invisible characters refused in
//! every text field, an error of bounded size for a flood of bad values,
//! formulas neutralised in CSV exports, and a non-loopback address refused
//! without tokens.

use scrape_client::pb;
use tonic::Code;
use tonic_types::StatusExt;

use crate::fixture::{FORMULAS, FixtureSite, SiteSpec};
use crate::helpers::{TestApp, bad_fields, binary, code};

#[tokio::test(flavor = "multi_thread")]
async fn bidi_controls_and_invisible_characters_are_refused_in_every_text_field() {
    let site = FixtureSite::start(SiteSpec::standard()).await;
    let app = TestApp::spawn(&site).await;
    let request = pb::StartTaskRequest {
        keywords: vec!["bo\u{202E}vin".into()],
        exclude_keywords: vec!["\u{200B}porcin".into()],
        export: Some(pb::ExportOptions {
            file_name: "rapport\u{202E}gpj.exe".into(),
            format: pb::ExportFormat::Csv.into(),
        }),
        request_id: "id\u{FEFF}".into(),
        ..Default::default()
    };
    assert_eq!(
        bad_fields(app.client.start_task(request).await),
        ["keywords[0]", "exclude_keywords[0]", "export.file_name", "request_id"]
    );
    let list = pb::ListTasksRequest { query: "morbihan\u{2066}".into(), ..Default::default() };
    assert_eq!(bad_fields(app.client.list_tasks(list).await), ["query"]);
    let documents =
        pb::ListDocumentsRequest { keyword: "bovin\u{061C}".into(), query: "x\u{200F}".into(), ..Default::default() };
    assert_eq!(bad_fields(app.client.list_documents(documents).await), ["keyword", "query"]);
    assert!(
        app.client.list_tasks(pb::ListTasksRequest::default()).await.expect("list").tasks.is_empty(),
        "nothing started"
    );
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn ten_thousand_unknown_prefectures_get_a_short_error_listing_twenty_problems() {
    let site = FixtureSite::start(SiteSpec::standard()).await;
    let app = TestApp::spawn(&site).await;
    let keywords = (0..10_000).map(|i| format!("\u{7}{i}")).collect();
    let request =
        pb::StartTaskRequest { keywords, prefectures: vec!["Atlantide".into(); 10_000], ..Default::default() };
    let status = app.client.start_task(request).await.expect_err("invalid");
    assert_eq!(status.code(), Code::InvalidArgument);
    let details = status.get_details_bad_request().expect("BadRequest details");
    // The keywords are over the limit (one problem), the prefectures too.
    let fields: Vec<_> = details.field_violations.iter().map(|v| v.field.as_str()).collect();
    assert_eq!(fields, ["keywords", "prefectures"]);

    // Many distinct problems: twenty listed, the rest counted.
    let keywords = (0..50).map(|i| format!("\u{7}{i}")).collect();
    let many = pb::StartTaskRequest { keywords, exclude_keywords: vec!["\u{202E}".into(); 50], ..Default::default() };
    let status = app.client.start_task(many).await.expect_err("invalid");
    let details = status.get_details_bad_request().expect("BadRequest details");
    assert_eq!(details.field_violations.len(), 21, "twenty problems and a count of the rest");
    assert_eq!(details.field_violations[20].description, "80 more problem(s) not listed");
    assert!(status.message().ends_with("and 80 more problem(s) not listed"), "{}", status.message());
    let size = status.message().len() + status.details().len();
    assert!(size < 8 * 1024, "the error holds {size} bytes");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn titles_a_spreadsheet_would_run_as_formulas_are_neutralised_in_csv_exports() {
    let site = FixtureSite::start(SiteSpec { counts: vec![("www.morbihan.gouv.fr", "formule", 4)] }).await;
    let app = TestApp::spawn(&site).await;
    let task = app.start(&["56"], &["formule"]).await;
    app.progress_until_end(&task.id).await;
    let mut csv = Vec::new();
    app.client
        .export_task(&task.id, pb::ExportFormat::Csv, |chunk| {
            csv.extend_from_slice(chunk);
            Ok(())
        })
        .await
        .expect("export");
    let mut reader = csv::Reader::from_reader(csv.as_slice());
    let titles: Vec<String> = reader.records().map(|r| r.expect("a row")[4].to_owned()).collect();
    assert_eq!(titles.len(), 4);
    for formula in FORMULAS {
        assert!(titles.contains(&format!("'{formula}")), "{formula} in {titles:?}");
    }
    // The JSON export keeps the titles as they are: only spreadsheets run them.
    let mut json = Vec::new();
    app.client
        .export_task(&task.id, pb::ExportFormat::Json, |chunk| {
            json.extend_from_slice(chunk);
            Ok(())
        })
        .await
        .expect("export");
    assert!(String::from_utf8(json).expect("text").contains("\"=HYPERLINK("));
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn without_tokens_an_address_other_hosts_can_reach_is_refused_at_start_up() {
    let dir = tempfile::tempdir().expect("a directory");
    let database = format!("--database-url=sqlite://{}", dir.path().join("s.db").display());
    let refused = tokio::process::Command::new(binary("scrape-server"))
        .args(["--listen=0.0.0.0:0", &database])
        .output()
        .await
        .expect("runs");
    assert!(!refused.status.success());
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(stderr.contains("refusing to serve 0.0.0.0:0 without authentication"), "{stderr}");
    assert!(!String::from_utf8_lossy(&refused.stdout).contains("listening on"), "nothing was bound");

    // With --insecure-no-auth it serves, and says so.
    let mut open = tokio::process::Command::new(binary("scrape-server"))
        .args(["--listen=0.0.0.0:0", &database, "--insecure-no-auth", "--workers=0"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("starts");
    let stdout = open.stdout.take().expect("stdout");
    let mut stdout = tokio::io::AsyncBufReadExt::lines(tokio::io::BufReader::new(stdout));
    let address = crate::helpers::listening_address(&mut stdout).await;
    let port = address.rsplit(':').next().expect("a port");
    let client = crate::helpers::connect(&format!("http://127.0.0.1:{port}")).await;
    assert_eq!(code(client.get_task("0192e3c4-5b6a-7c8d-9e0f-1a2b3c4d5e6f").await), Code::NotFound);
    let pid = open.id().expect("running").to_string();
    std::process::Command::new("kill").args(["-TERM", &pid]).status().expect("kill");
    let out =
        tokio::time::timeout(crate::helpers::DEADLINE, open.wait_with_output()).await.expect("exits").expect("output");
    assert!(String::from_utf8_lossy(&out.stderr).contains("--insecure-no-auth"), "the warning is logged");
}
