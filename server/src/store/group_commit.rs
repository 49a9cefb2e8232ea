//! The store's writer on a real SQLite store: writes queued together are
//! committed in one transaction, each applies only where its operation
//! stands and while its worker owns the task, and an operation's end moves
//! its progress into its record, so that nothing counts twice.

use std::time::Duration;

use chrono::Utc;

use crate::domain::{Card, Counters, OperationProgress, TaskId};
use crate::store::testing::{new_task, sqlite_store};
use crate::store::{Backend, Step, Store, Write, WriteError};

const LEASE: Duration = Duration::from_secs(30);

async fn store() -> (tempfile::TempDir, Store) {
    sqlite_store("writer.db").await
}

/// A task over three prefectures and two keywords, claimed by `owner`.
async fn claimed_task(store: &Store, owner: &str) -> TaskId {
    let new = new_task(&["bovin", "porcin"], &["56", "29", "22"], Utc::now());
    let id = new.id;
    store.insert_task(new).await.expect("insert");
    let claim = store.claim_next(owner, Utc::now(), LEASE).await.expect("claim").expect("the task");
    assert_eq!(claim.task.id, id);
    id
}

fn card(link: &str) -> Card {
    Card {
        link: format!("https://example.gouv.fr/{link}"),
        title: format!("Arrêté {link}"),
        description: String::new(),
        date_label: String::new(),
        published_on: None,
    }
}

/// Where an operation stands after `pages` pages of `items` kept cards.
fn at(pages: u32, items: u64) -> OperationProgress {
    OperationProgress { next_offset: pages * 10, pages_fetched: pages, items_found: items, elapsed: Duration::ZERO }
}

/// Page `page` of an operation, found after `before`, with these cards.
fn page(task: TaskId, owner: &str, code: &str, before: OperationProgress, links: &[&str]) -> Write {
    let after = at(before.pages_fetched + 1, before.items_found + links.len() as u64);
    Write {
        task,
        owner: owner.to_owned(),
        prefecture_code: code.to_owned(),
        keyword: "bovin".to_owned(),
        before,
        after,
        step: Step::Page(links.iter().map(|l| card(l)).collect()),
        at: Utc::now(),
    }
}

/// The end of an operation after `before`: its last, empty page.
fn end(task: TaskId, owner: &str, code: &str, before: OperationProgress) -> Write {
    let after = at(before.pages_fetched + 1, before.items_found);
    Write { step: Step::End { error: None }, after, ..page(task, owner, code, before, &[]) }
}

async fn counters(store: &Store, task: TaskId) -> Counters {
    store.task(task).await.expect("read").expect("the task").counters
}

#[tokio::test(flavor = "multi_thread")]
async fn pages_of_several_operations_queued_while_the_writer_waits_are_committed_in_one_transaction() {
    let (_dir, store) = store().await;
    let task = claimed_task(&store, "worker").await;
    // The database is busy: the writer waits for its one connection.
    let Backend::Sqlite { writer, .. } = &store.backend else { panic!("a SQLite store") };
    let busy = writer.get().await.expect("the writer connection");

    let mut answers = Vec::new();
    for (code, links) in [("56", ["a1", "a2"]), ("29", ["b1", "b2"]), ("22", ["c1", "c2"])] {
        let first = page(task, "worker", code, at(0, 0), &links[..1]);
        let second = page(task, "worker", code, first.after, &links[1..]);
        answers.push(store.queue_write(first).await);
        answers.push(store.queue_write(second).await);
    }
    drop(busy);
    let mut last = Counters::default();
    for answer in answers {
        last = answer.await.expect("written");
    }

    assert_eq!(store.committed_batches(), 1, "six writes of three operations, one transaction");
    assert_eq!((last.pages_fetched, last.items_found, last.completed_operations), (6, 6, 0));
    assert_eq!(counters(&store, task).await, last, "the answer carries the stored counters");
    let in_flight = store.operations_in_flight(task).await.expect("progress");
    assert_eq!(in_flight.len(), 3);
    assert!(in_flight.iter().all(|op| op.progress.same_place(&at(2, 2))), "{in_flight:?}");
    for code in ["56", "29", "22"] {
        assert_eq!(store.operation_links(task, code, "bovin").await.expect("links").len(), 2, "{code}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_write_applies_only_where_its_operation_stands_and_an_end_records_it_once() {
    let (_dir, store) = store().await;
    let task = claimed_task(&store, "worker").await;
    let first = page(task, "worker", "56", at(0, 0), &["x", "y"]);
    store.write(first.clone()).await.expect("page 1");

    // The same page again, or a page after one never stored, counts nothing.
    assert!(matches!(store.write(first.clone()).await, Err(WriteError::OutOfSequence)));
    let skipping = page(task, "worker", "56", at(5, 9), &["z"]);
    assert!(matches!(store.write(skipping).await, Err(WriteError::OutOfSequence)));
    assert_eq!((counters(&store, task).await.pages_fetched, counters(&store, task).await.items_found), (1, 2));

    // Its end: the progress becomes the operation's record.
    let done = store.write(end(task, "worker", "56", first.after)).await.expect("end");
    assert_eq!((done.completed_operations, done.pages_fetched, done.items_found, done.new_documents), (1, 2, 2, 2));
    assert!(store.operations_in_flight(task).await.expect("progress").is_empty());
    let recorded = store.operations(task).await.expect("operations");
    assert_eq!(recorded.len(), 1);
    assert_eq!(
        (recorded[0].outcome.pages_fetched, recorded[0].outcome.items_found, recorded[0].new_documents),
        (2, 2, 2)
    );

    // Ended, it takes nothing more: neither its end again nor a fresh start.
    assert!(matches!(store.write(end(task, "worker", "56", first.after)).await, Err(WriteError::OutOfSequence)));
    assert!(matches!(store.write(end(task, "worker", "56", at(0, 0))).await, Err(WriteError::OutOfSequence)));
    assert!(matches!(store.write(page(task, "worker", "56", at(0, 0), &["w"])).await, Err(WriteError::OutOfSequence)));
    assert_eq!(counters(&store, task).await, done, "nothing counted twice");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_document_is_new_for_the_operation_that_stored_it_first_even_across_its_pages() {
    let (_dir, store) = store().await;
    let task = claimed_task(&store, "worker").await;
    let a1 = page(task, "worker", "56", at(0, 0), &["shared", "only-a"]);
    let a2 = page(task, "worker", "56", a1.after, &["later-a"]);
    store.write(a1).await.expect("a, page 1");
    store.write(a2.clone()).await.expect("a, page 2");
    let b1 = page(task, "worker", "29", at(0, 0), &["shared", "only-b"]);
    store.write(b1.clone()).await.expect("b, page 1");
    store.write(end(task, "worker", "29", b1.after)).await.expect("b ends first");
    let last = store.write(end(task, "worker", "56", a2.after)).await.expect("a ends");

    let new: Vec<(String, u64)> = store
        .operations(task)
        .await
        .expect("operations")
        .into_iter()
        .map(|op| (op.outcome.prefecture_code, op.new_documents))
        .collect();
    assert_eq!(new, [("29".to_owned(), 1), ("56".to_owned(), 3)], "the shared document is the first finder's");
    assert_eq!((last.items_found, last.new_documents), (5, 4), "five cards, four distinct documents");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_worker_that_no_longer_owns_its_task_writes_nothing_while_the_others_writes_commit() {
    let (_dir, store) = store().await;
    let kept = claimed_task(&store, "worker").await;
    let taken = claimed_task(&store, "worker").await;
    // Another worker took the second task over.
    store.release_task(taken, "worker", Utc::now()).await.expect("release");
    store.claim_next("successor", Utc::now(), LEASE).await.expect("claim").expect("the released task");

    let Backend::Sqlite { writer, .. } = &store.backend else { panic!("a SQLite store") };
    let busy = writer.get().await.expect("the writer connection");
    let ours = store.queue_write(page(kept, "worker", "56", at(0, 0), &["k1"])).await;
    let lost = store.queue_write(page(taken, "worker", "56", at(0, 0), &["t1"])).await;
    let lost_end = store.queue_write(end(taken, "worker", "29", at(0, 0))).await;
    drop(busy);

    assert_eq!(ours.await.expect("written").pages_fetched, 1);
    assert!(matches!(lost.await, Err(WriteError::Lost)));
    assert!(matches!(lost_end.await, Err(WriteError::Lost)));
    assert_eq!(counters(&store, taken).await, Counters { total_operations: 6, ..Counters::default() });
    assert!(store.operations_in_flight(taken).await.expect("progress").is_empty());
    assert!(store.operations(taken).await.expect("operations").is_empty());
    assert!(store.operation_links(taken, "56", "bovin").await.expect("links").is_empty());
    assert_eq!(store.operation_links(kept, "56", "bovin").await.expect("links").len(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_restart_forgets_the_progress_of_operations_a_stop_cut_short() {
    let (_dir, store) = store().await;
    let task = claimed_task(&store, "worker").await;
    store.write(page(task, "worker", "56", at(0, 0), &["p1"])).await.expect("page 1");
    store.finish_task(task, "worker", crate::domain::Ending::Cancelled, None, Utc::now()).await.expect("stopped");
    assert_eq!(store.operations_in_flight(task).await.expect("progress").len(), 1, "kept while stopped");

    store.restart_task(task, Utc::now()).await.expect("restart");
    assert!(store.operations_in_flight(task).await.expect("progress").is_empty());
    assert!(store.operation_links(task, "56", "bovin").await.expect("links").is_empty());
    assert_eq!(counters(&store, task).await.pages_fetched, 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_deleted_task_takes_the_progress_of_its_operations_with_it() {
    let (_dir, store) = store().await;
    let task = claimed_task(&store, "worker").await;
    store.write(page(task, "worker", "56", at(0, 0), &["p1"])).await.expect("page 1");
    store.finish_task(task, "worker", crate::domain::Ending::Cancelled, None, Utc::now()).await.expect("stopped");

    store.delete_task(task).await.expect("delete");
    assert!(store.operations_in_flight(task).await.expect("progress").is_empty(), "deleted with its task");
}
