//! A task from start to end: what it stores, and how it stops.

use std::collections::{HashMap, HashSet};

use scrape_client::pb::{self, TaskStatus};
use scrape_server::scrape::profile::DEFAULT_MAX_OFFSET;

use crate::fixture::{Fault, FixtureSite, PAGE_SIZE, SiteSpec, links};
use crate::helpers::{Backend, DEADLINE, TestApp, code, eventually, on_both_backends};

const PREFECTURES: [(&str, &str); 3] =
    [("56", "www.morbihan.gouv.fr"), ("29", "www.finistere.gouv.fr"), ("2A", "www.corse-du-sud.gouv.fr")];
const KEYWORDS: [&str; 2] = ["bovin", "porcin"];

async fn a_task_over_three_prefectures_and_two_keywords_succeeds_and_stores_exactly_the_fixture_cards(
    backend: Backend,
) {
    let site = FixtureSite::start(SiteSpec::standard()).await;
    let app = TestApp::spawn_on(&site, &backend).await;

    let task = app.start(&["Morbihan", "29", "corse du sud"], &KEYWORDS).await;
    assert!(matches!(task.status(), TaskStatus::Pending | TaskStatus::Running), "{:?}", task.status());
    let params = task.parameters.clone().expect("parameters");
    assert_eq!(params.target_prefectures, ["2A", "29", "56"], "in catalog order");

    let updates = app.progress_until_end(&task.id).await;
    let last = updates.last().expect("at least one update");
    assert_eq!(last.status(), TaskStatus::Succeeded);
    assert_eq!((last.completed_operations, last.total_operations), (6, 6));
    assert_eq!(last.percent, 100.0);
    assert_eq!(last.in_flight_operations, 0);
    let completed: Vec<u32> = updates.iter().map(|p| p.completed_operations).collect();
    assert!(completed.windows(2).all(|w| w[0] <= w[1]), "progress never goes back: {completed:?}");

    // Per operation: exactly the fixture's cards and pages.
    let results = app.results(&task.id).await;
    assert_eq!(results.len(), 6);
    for result in &results {
        let domain = PREFECTURES.iter().find(|(code, _)| *code == result.prefecture_code).expect("known").1;
        let expected = site.cards(domain, &result.keyword);
        assert_eq!(result.items_found, expected.len() as u64, "{result:?}");
        assert_eq!(result.pages_fetched, site.pages(domain, &result.keyword), "{result:?}");
        assert_eq!(result.error, "", "{result:?}");
    }

    // Every card, field by field, under the operation that found it.
    let documents = app.documents(&task.id).await;
    let mut expected_rows = HashSet::new();
    for (code, domain) in PREFECTURES {
        for keyword in KEYWORDS {
            for card in site.cards(domain, keyword) {
                expected_rows.insert((code.to_owned(), keyword.to_owned(), card.link.clone()));
                let doc = documents
                    .iter()
                    .find(|d| d.link == card.link && d.keywords.iter().any(|k| k == keyword))
                    .unwrap_or_else(|| panic!("{} not stored under {keyword}", card.link));
                assert_eq!(doc.title, card.title);
                assert_eq!(doc.description, card.description);
                assert_eq!(doc.date_label, card.date_label);
                assert_eq!(doc.published_on, card.published_on);
                assert_eq!(doc.prefecture_code, code);
            }
        }
    }
    let stored_rows: HashSet<_> = documents
        .iter()
        .flat_map(|d| d.keywords.iter().map(|k| (d.prefecture_code.clone(), k.clone(), d.link.clone())))
        .collect();
    assert_eq!(stored_rows, expected_rows);
    let stored_links: HashSet<&str> = documents.iter().map(|d| d.link.as_str()).collect();
    assert_eq!(documents.len(), stored_links.len(), "one entry per document, whatever the keywords that found it");
    assert!(documents.iter().any(|d| d.keywords.len() == 2), "the fixture has documents found by both keywords");
    for d in &documents {
        assert_eq!(d.keywords.first(), Some(&d.keyword), "the first keyword that found it: {d:?}");
    }

    // Totals: documents shared by two keywords are new only once.
    let site = &site;
    let all_cards: Vec<_> =
        PREFECTURES.iter().flat_map(|(_, d)| KEYWORDS.iter().flat_map(move |k| site.cards(d, k))).collect();
    let distinct = links(&all_cards).len() as u64;
    assert!(distinct < all_cards.len() as u64, "the fixture shares documents between keywords");
    let task = app.client.get_task(&task.id).await.expect("get");
    let summary = task.summary.clone().expect("summary");
    assert_eq!(summary.items_found, all_cards.len() as u64);
    assert_eq!(summary.new_documents, distinct);
    assert_eq!(results.iter().map(|r| r.new_documents).sum::<u64>(), distinct);
    let per_keyword: HashMap<_, _> = summary.keywords.iter().map(|k| (k.keyword.as_str(), k.items_found)).collect();
    assert_eq!(per_keyword["bovin"], 23 + 7 + 15);
    assert_eq!(per_keyword["porcin"], 10 + 31);

    // Consistent timestamps.
    let created = task.created_at.expect("created");
    let started = task.started_at.expect("started");
    let completed = task.completed_at.expect("completed");
    assert!(created.seconds <= started.seconds && started.seconds <= completed.seconds);
    app.stop().await;
}

async fn a_stop_during_a_hanging_page_cancels_the_task_at_once_and_keeps_its_partial_results(backend: Backend) {
    let site = FixtureSite::start(SiteSpec::standard()).await;
    // Page 2 of Corse-du-Sud × porcin never answers (and the request
    // timeout is minutes away).
    let hanging = FixtureSite::page_path("www.corse-du-sud.gouv.fr", "porcin", 2);
    site.set_fault(&hanging, Fault::Hang);
    let app = TestApp::spawn_on(&site, &backend).await;

    let task = app.start(&["56", "29", "2A"], &KEYWORDS).await;
    let stuck = app.wait_for(&task.id, |p| p.completed_operations == 5 && p.in_flight_operations == 1).await;
    assert_eq!(stuck.status(), TaskStatus::Running);
    // The last operation is on its way to the hanging page.
    eventually("the hanging page is requested", || site.hits(&hanging) == 1).await;

    // StopTask waits for the task to end; it only comes back CANCELLED if
    // the hanging request was aborted.
    let stopped = app.client.stop_task(&task.id).await.expect("stop");
    assert_eq!(stopped.status(), TaskStatus::Cancelled);
    assert!(stopped.completed_at.is_some());
    assert!(stopped.started_at.is_some());

    // The five finished operations and page 1 of the cut one are kept.
    let results = app.results(&task.id).await;
    assert_eq!(results.len(), 5);
    assert!(!results.iter().any(|r| r.prefecture_code == "2A" && r.keyword == "porcin"));
    let documents = app.documents(&task.id).await;
    let first_page = site.cards("www.corse-du-sud.gouv.fr", "porcin").into_iter().take(10);
    for card in first_page {
        assert!(
            documents.iter().any(|d| d.link == card.link && d.keywords.iter().any(|k| k == "porcin")),
            "{} from the page before the hang is kept",
            card.link
        );
    }

    // Stopping it again is refused: it has ended.
    assert_eq!(code(app.client.stop_task(&task.id).await), tonic::Code::FailedPrecondition);
    let events = app.client.task_events(&task.id).await.expect("events");
    let kinds: Vec<_> = events.iter().map(|e| e.kind()).collect();
    assert_eq!(
        kinds,
        [
            pb::TaskEventKind::Created,
            pb::TaskEventKind::Started,
            pb::TaskEventKind::StopRequested,
            pb::TaskEventKind::Stopped
        ]
    );
    app.stop().await;
}

async fn a_pending_task_stops_at_once_without_ever_starting(backend: Backend) {
    let site = FixtureSite::start(SiteSpec::standard()).await;
    let app = TestApp::spawn_tuned(&site, &backend, |config| {
        config.workers = 0; // an API-only server: tasks stay pending
    })
    .await;

    let task = app.start(&["56"], &["bovin"]).await;
    let stopped = tokio::time::timeout(DEADLINE, app.client.stop_task(&task.id)).await.expect("in time").expect("stop");
    assert_eq!(stopped.status(), TaskStatus::Cancelled);
    assert!(stopped.started_at.is_none());
    assert!(stopped.completed_at.is_some());
    assert_eq!(site.total_hits(), 0);
    app.stop().await;
}

async fn the_same_request_id_returns_the_same_task(backend: Backend) {
    let site = FixtureSite::start(SiteSpec::standard()).await;
    let app = TestApp::spawn_on(&site, &backend).await;
    let request = pb::StartTaskRequest {
        keywords: vec!["bovin".into()],
        prefectures: vec!["56".into()],
        request_id: "import-2025-03-12".into(),
        ..Default::default()
    };
    let first = app.client.start_task(request.clone()).await.expect("first");
    let second = app.client.start_task(request).await.expect("retry");
    assert_eq!(first.id, second.id);
    let listed = app.client.list_tasks(pb::ListTasksRequest::default()).await.expect("list");
    assert_eq!(listed.tasks.len(), 1);
    app.stop().await;
}

async fn a_site_that_never_runs_out_of_results_is_cut_at_the_maximum_offset(backend: Backend) {
    let mut spec = SiteSpec::standard();
    spec.counts.push(("www.ain.gouv.fr", "bovin", 5 * DEFAULT_MAX_OFFSET as usize));
    let site = FixtureSite::start(spec).await;
    let app = TestApp::spawn_on(&site, &backend).await;
    let task = app.start(&["Ain"], &["bovin"]).await;
    app.progress_until_end(&task.id).await;
    let results = app.results(&task.id).await;
    // Offsets 0, PAGE_SIZE, … DEFAULT_MAX_OFFSET: full pages up to the cut.
    let pages = DEFAULT_MAX_OFFSET / PAGE_SIZE as u32 + 1;
    assert_eq!((results[0].pages_fetched, results[0].items_found), (pages, u64::from(pages) * PAGE_SIZE as u64));
    app.stop().await;
}

on_both_backends!(
    a_task_over_three_prefectures_and_two_keywords_succeeds_and_stores_exactly_the_fixture_cards,
    a_stop_during_a_hanging_page_cancels_the_task_at_once_and_keeps_its_partial_results,
    a_pending_task_stops_at_once_without_ever_starting,
    the_same_request_id_returns_the_same_task,
    a_site_that_never_runs_out_of_results_is_cut_at_the_maximum_offset,
    documents_are_found_by_the_words_of_their_title_or_description
);

async fn documents_are_found_by_the_words_of_their_title_or_description(backend: Backend) {
    let site = FixtureSite::start(SiteSpec::standard()).await;
    let app = TestApp::spawn_on(&site, &backend).await;
    let task = app.start(&["56", "2A"], &["bovin"]).await;
    app.progress_until_end(&task.id).await;
    let search = |query: &str| {
        let request = pb::ListDocumentsRequest { query: query.into(), page_size: 1000, ..Default::default() };
        let client = app.client.clone();
        async move {
            client
                .list_documents(request)
                .await
                .expect("documents")
                .documents
                .into_iter()
                .map(|d| d.link)
                .collect::<HashSet<_>>()
        }
    };
    let cards: Vec<_> = [MORBIHAN_DOMAIN, CORSE_DOMAIN].iter().flat_map(|d| site.cards(d, "bovin")).collect();
    let mentioning = |word: &str| -> HashSet<String> {
        cards.iter().filter(|c| c.description.contains(word)).map(|c| c.link.clone()).collect()
    };
    // Accents and case do not matter.
    let expected = mentioning("méthanisation");
    assert!(!expected.is_empty());
    assert_eq!(search("METHANISATION").await, expected);
    assert_eq!(search("Plouay (7 animaux)").await, mentioning("Plouay (7 animaux)"));
    assert!(search("ornithorynque").await.is_empty());
    // Every word, in any order; each may be the start of a word, never a
    // piece from inside one.
    let both = mentioning("méthanisation");
    assert_eq!(search("méthanisation bovin").await, both);
    assert_eq!(search("bovin méthanisation").await, both);
    assert_eq!(search("METHAN BOV").await, both);
    assert_eq!(search("unite plou").await, both);
    assert!(search("ovin").await.is_empty(), "ovin is inside bovin, not the start of a word");
    assert!(search("thanisation").await.is_empty());
    assert!(search("méthanisation ornithorynque").await.is_empty(), "every word must be there");
    let plouay: HashSet<String> =
        cards.iter().filter(|c| c.description.contains("Plouay")).map(|c| c.link.clone()).collect();
    assert_eq!(search("plouay").await, plouay);
    assert!(search("plouay").await.len() > both.len());
    app.stop().await;
}

const MORBIHAN_DOMAIN: &str = "www.morbihan.gouv.fr";
const CORSE_DOMAIN: &str = "www.corse-du-sud.gouv.fr";
