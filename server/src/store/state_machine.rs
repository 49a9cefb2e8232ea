//! The task lifecycle walked at random against a real SQLite store: whatever
//! the sequence of claims, stops, finishes, releases and restarts, the four
//! timestamps stay consistent with the status.

use chrono::{TimeDelta, Utc};

use crate::domain::{Ending, Task, TaskStatus};
use crate::store::testing::{new_task, sqlite_store};
use crate::store::{Change, StopOutcome};

fn check(task: &Task, step: &str) {
    let context = format!("after {step}: {task:?}");
    assert_eq!(task.status.is_terminal(), task.completed_at.is_some(), "completed_at iff terminal, {context}");
    match task.status {
        TaskStatus::Pending => assert!(task.started_at.is_none(), "{context}"),
        TaskStatus::Running => assert!(task.started_at.is_some(), "{context}"),
        _ => {}
    }
    if let (Some(started), Some(completed)) = (task.started_at, task.completed_at) {
        assert!(started <= completed, "{context}");
    }
    if let Some(started) = task.started_at {
        assert!(task.created_at <= started, "{context}");
    }
    assert!(task.created_at <= task.updated_at, "{context}");
}

#[tokio::test(flavor = "multi_thread")]
async fn random_walks_through_the_lifecycle_keep_the_timestamps_consistent() {
    let (_dir, store) = sqlite_store("walk.db").await;
    let mut clock = Utc::now();
    let new = new_task(&["bovin"], &["56"], clock);
    let id = new.id;
    let crate::store::Inserted::Created(task) = store.insert_task(new).await.expect("insert") else {
        panic!("not created")
    };
    check(&task, "create");

    let lease = std::time::Duration::from_secs(30);
    let mut rng = fastrand::Rng::with_seed(20250312);
    let mut seen = std::collections::HashSet::new();
    for step in 0..400 {
        clock += TimeDelta::milliseconds(rng.i64(1..5000));
        let action = rng.u8(0..6);
        let name = match action {
            0 => {
                store.claim_next("walker", clock, lease).await.expect("claim");
                "claim"
            }
            1 => {
                let outcome = store.request_stop(id, clock).await.expect("stop");
                assert!(!matches!(outcome, StopOutcome::NotFound), "the task vanished");
                "stop"
            }
            2 | 3 => {
                let ending = [Ending::Succeeded, Ending::Failed, Ending::Cancelled][rng.usize(0..3)];
                store.finish_task(id, "walker", ending, None, clock).await.expect("finish");
                "finish"
            }
            4 => {
                store.release_task(id, "walker", clock).await.expect("release");
                "release"
            }
            _ => {
                match store.restart_task(id, clock).await.expect("restart") {
                    Change::Done(task) => assert_eq!(task.status, TaskStatus::Pending),
                    Change::Refused(status) => assert!(!status.is_terminal()),
                    Change::NotFound => panic!("the task vanished"),
                }
                "restart"
            }
        };
        let task = store.task(id).await.expect("read").expect("exists");
        seen.insert(task.status.as_str());
        check(&task, &format!("step {step} ({name})"));
    }
    assert_eq!(seen.len(), 5, "the walk visited every status: {seen:?}");
}
