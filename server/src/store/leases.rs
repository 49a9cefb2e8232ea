//! Leases on a real SQLite store, on an injected clock: a task whose worker
//! stopped renewing is taken over, and the first worker can no longer
//! renew, finish or release it.

use std::time::Duration;

use chrono::{TimeDelta, Utc};

use crate::domain::{Ending, TaskId, TaskStatus};
use crate::store::testing::{new_task, sqlite_store};
use crate::store::{LeaseState, Store};

const LEASE: Duration = Duration::from_secs(30);

async fn store_with_a_task() -> (tempfile::TempDir, Store, TaskId) {
    let (dir, store) = sqlite_store("leases.db").await;
    let new = new_task(&["bovin"], &["56"], Utc::now());
    let id = new.id;
    store.insert_task(new).await.expect("insert");
    (dir, store, id)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_task_whose_lease_expired_is_taken_over_and_its_first_worker_loses_it() {
    let (_dir, store, id) = store_with_a_task().await;
    let start = Utc::now();
    let lease = TimeDelta::from_std(LEASE).expect("lease");

    let first = store.claim_next("first", start, LEASE).await.expect("claim").expect("a task to claim");
    assert_eq!(first.task.id, id);
    assert!(!first.resumed);
    let started_at = first.task.started_at.expect("started");

    let held = start + lease / 2;
    assert!(store.claim_next("second", held, LEASE).await.expect("claim").is_none(), "the lease still holds");
    assert_eq!(
        store.renew_lease(id, "first", held, LEASE).await.expect("renew"),
        LeaseState::Held { stop_requested: false }
    );

    // The first worker stops renewing; its lease runs out.
    let expired = held + lease + TimeDelta::seconds(1);
    let second = store.claim_next("second", expired, LEASE).await.expect("claim").expect("the expired task");
    assert_eq!(second.task.id, id);
    assert!(second.resumed, "a task started before is resumed");
    assert_eq!(second.task.started_at, Some(started_at), "a takeover keeps the first start");

    let later = expired + TimeDelta::seconds(1);
    assert_eq!(store.renew_lease(id, "first", later, LEASE).await.expect("renew"), LeaseState::Lost);
    assert!(store.finish_task(id, "first", Ending::Succeeded, None, later).await.expect("finish").is_none());
    store.release_task(id, "first", later).await.expect("release");
    let task = store.task(id).await.expect("read").expect("exists");
    assert_eq!(task.status, TaskStatus::Running, "the first worker changed nothing");
    assert_eq!(
        store.renew_lease(id, "second", later, LEASE).await.expect("renew"),
        LeaseState::Held { stop_requested: false },
        "the task is the second worker's"
    );
    let done = store.finish_task(id, "second", Ending::Succeeded, None, later).await.expect("finish");
    assert_eq!(done.map(|t| t.status), Some(TaskStatus::Succeeded));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_task_handed_back_is_claimed_at_once_and_a_stop_reaches_its_next_worker() {
    let (_dir, store, id) = store_with_a_task().await;
    let now = Utc::now();
    store.claim_next("first", now, LEASE).await.expect("claim").expect("a task");
    store.release_task(id, "first", now).await.expect("release");
    store.request_stop(id, now).await.expect("stop");
    let next = store.claim_next("second", now, LEASE).await.expect("claim").expect("the handed-back task");
    assert!(next.resumed);
    assert!(next.stop_requested, "the stop asked while nobody ran it is handed to the next worker");
}
