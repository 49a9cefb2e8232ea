//! ListDocuments' words as the index serves them: exactly what a scan of
//! every document finds, for rare and common words, prefixes and several
//! words in any order, in all documents and in a task's, including the
//! documents stored since the index last caught up.

use std::collections::{BTreeSet, HashSet};

use scrape_client::pb;
use scrape_server::domain::text::fold;

use crate::fixture::{FixtureSite, SiteSpec};
use crate::helpers::{Backend, TestApp, on_both_backends};

on_both_backends!(the_indexed_word_search_finds_exactly_what_a_scan_finds);

/// The folded words of a document's title and description.
fn words(d: &pb::Document) -> Vec<String> {
    fold(&format!("{} {}", d.title, d.description)).split(' ').map(str::to_owned).collect()
}

/// What a scan finds: the documents holding, for every word of the query,
/// a word that starts with it.
fn scan(documents: &[pb::Document], query: &str) -> HashSet<String> {
    let wanted: Vec<String> = fold(query).split(' ').filter(|w| !w.is_empty()).map(str::to_owned).collect();
    documents
        .iter()
        .filter(|d| {
            let own = words(d);
            wanted.iter().all(|w| own.iter().any(|o| o.starts_with(w.as_str())))
        })
        .map(|d| d.link.clone())
        .collect()
}

async fn search(app: &TestApp, task_id: &str, query: &str, page_size: i32) -> HashSet<String> {
    let request = pb::ListDocumentsRequest {
        task_id: task_id.to_owned(),
        query: query.to_owned(),
        page_size,
        ..Default::default()
    };
    let found = app.client.all_documents(request).await.expect("documents");
    let links: HashSet<String> = found.iter().map(|d| d.link.clone()).collect();
    assert_eq!(links.len(), found.len(), "{query:?}: a document listed twice");
    links
}

/// Queries over the corpus: each word (rare and common), its prefixes,
/// pairs in both orders, accents and capitals as typed, and absent words.
fn queries(documents: &[pb::Document]) -> Vec<String> {
    let vocabulary: BTreeSet<String> = documents.iter().flat_map(words).collect();
    // Every word, but only some of the card numbers.
    let (numbers, letters): (Vec<&String>, Vec<&String>) =
        vocabulary.iter().partition(|w| w.chars().all(|c| c.is_ascii_digit()));
    let mut queries: Vec<String> = Vec::new();
    for word in letters.into_iter().chain(numbers.into_iter().step_by(40)) {
        queries.push(word.clone());
        let chars: Vec<char> = word.chars().collect();
        if chars.len() > 2 {
            queries.push(chars[..chars.len() / 2 + 1].iter().collect());
            queries.push(chars[1..].iter().collect());
        }
    }
    for d in documents.iter().step_by(97) {
        let own = words(d);
        if let (Some(first), Some(last)) = (own.first(), own.last()) {
            queries.push(format!("{first} {last}"));
            queries.push(format!("{last} {first}"));
        }
        queries.push(d.title.to_uppercase());
    }
    queries.extend(["Méthanisation PORC".into(), "élevage bov".into(), "ornithorynque".into(), "bovin zzz".into()]);
    queries.sort();
    queries.dedup();
    queries
}

async fn the_indexed_word_search_finds_exactly_what_a_scan_finds(backend: Backend) {
    let mut spec = SiteSpec::standard();
    // More documents with "bovin" than the index serves (a walk finds
    // those); a site lists 1,000 results at most.
    spec.counts.extend([
        ("www.ain.gouv.fr", "bovin", 1000),
        ("www.aisne.gouv.fr", "bovin", 1000),
        ("www.allier.gouv.fr", "bovin", 300),
    ]);
    let site = FixtureSite::start(spec).await;
    let app = TestApp::spawn_on(&site, &backend).await;
    let first = app.start(&["01", "02", "03", "56", "2A"], &["bovin", "porcin"]).await;
    app.progress_until_end(&first.id).await;
    // A second task stores more right before the searches: some of them
    // may not be in the index yet.
    let second = app.start(&["29"], &["bovin", "volaille"]).await;
    app.progress_until_end(&second.id).await;

    let everything = app
        .client
        .all_documents(pb::ListDocumentsRequest { page_size: 1000, ..Default::default() })
        .await
        .expect("all");
    assert!(everything.len() > 2300, "{} documents", everything.len());
    let queries = queries(&everything);
    assert!(queries.len() > 100, "{} queries", queries.len());
    let mut found_some = 0;
    for (i, query) in queries.iter().enumerate() {
        let expected = scan(&everything, query);
        found_some += usize::from(!expected.is_empty());
        // Rare words in small pages too, which the cursor continues.
        let page_size = if i % 3 == 0 && expected.len() < 200 { 20 } else { 1000 };
        assert_eq!(search(&app, "", query, page_size).await, expected, "{query:?} in all documents");
    }
    assert!(found_some * 2 > queries.len(), "most queries find documents: {found_some} of {}", queries.len());

    // In a task: the same words over its own documents.
    let own = app.documents(&second.id).await;
    for query in queries.iter().step_by(3) {
        assert_eq!(search(&app, &second.id, query, 1000).await, scan(&own, query), "{query:?} in task {}", second.id);
    }
    app.stop().await;
}
