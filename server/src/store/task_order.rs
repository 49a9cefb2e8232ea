//! The orders of a list of tasks: for each one, its SQL order and the keyset
//! condition that starts a page strictly after a cursor. Every order ends
//! with the same tie-breaker (newest first, then id), so it is total, and
//! each is served by an index of the same shape (see the `task_orders`
//! migration).

use crate::domain::{SortKey, TaskOrder};
use crate::store::models::TaskRow;

/// Where a page of tasks starts: strictly after the task with these keys,
/// in the page's order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskCursor {
    /// The stored value of the order's key: the status name or the keywords'
    /// sort key (empty when the order is by creation time).
    pub key: String,
    pub created_at: i64,
    pub id: String,
}

impl TaskCursor {
    /// The cursor of a page that starts after `row` in `order`, from the
    /// values as stored, so that the next page starts exactly there.
    pub(crate) fn after(row: &TaskRow, order: TaskOrder) -> TaskCursor {
        let key = match order.key {
            SortKey::CreatedAt => String::new(),
            SortKey::Status => row.status.clone(),
            SortKey::Keywords => row.keywords_key.clone(),
        };
        TaskCursor { key, created_at: row.created_at, id: row.id.clone() }
    }
}

/// One page of a list of tasks: its order, where it starts (the first page
/// when `after` is `None`), and how many tasks it holds at most.
#[derive(Debug, Clone, Copy)]
pub struct TaskPage<'a> {
    pub order: TaskOrder,
    pub after: Option<&'a TaskCursor>,
    pub limit: usize,
}

/// `$rows`, a boxed query of tasks, as the page `$page`: in its order, from
/// strictly after its cursor, at most its limit.
///
/// A macro rather than a function: the query's type differs per backend,
/// and the body is instantiated for each by `with_conn!`.
macro_rules! in_page {
    ($rows:expr, $page:expr) => {{
        use $crate::domain::SortKey;
        use $crate::store::schema::tasks;
        let page: &$crate::store::TaskPage<'_> = $page;
        let mut rows = $rows;
        let descending = page.order.descending;
        if let Some(c) = page.after {
            // After the cursor among the tasks that tie with it on the key.
            let tie =
                tasks::created_at.lt(c.created_at).or(tasks::created_at.eq(c.created_at).and(tasks::id.lt(&c.id)));
            rows = match (page.order.key, descending) {
                (SortKey::CreatedAt, true) => rows.filter(tie),
                (SortKey::CreatedAt, false) => rows.filter(
                    tasks::created_at.gt(c.created_at).or(tasks::created_at.eq(c.created_at).and(tasks::id.gt(&c.id))),
                ),
                (SortKey::Status, false) => rows.filter(tasks::status.gt(&c.key).or(tasks::status.eq(&c.key).and(tie))),
                (SortKey::Status, true) => rows.filter(tasks::status.lt(&c.key).or(tasks::status.eq(&c.key).and(tie))),
                (SortKey::Keywords, false) => {
                    rows.filter(tasks::keywords_key.gt(&c.key).or(tasks::keywords_key.eq(&c.key).and(tie)))
                }
                (SortKey::Keywords, true) => {
                    rows.filter(tasks::keywords_key.lt(&c.key).or(tasks::keywords_key.eq(&c.key).and(tie)))
                }
            };
        }
        let newest = (tasks::created_at.desc(), tasks::id.desc());
        let rows = match (page.order.key, descending) {
            (SortKey::CreatedAt, true) => rows.order(newest),
            (SortKey::CreatedAt, false) => rows.order((tasks::created_at.asc(), tasks::id.asc())),
            (SortKey::Status, false) => rows.order((tasks::status.asc(), newest.0, newest.1)),
            (SortKey::Status, true) => rows.order((tasks::status.desc(), newest.0, newest.1)),
            (SortKey::Keywords, false) => rows.order((tasks::keywords_key.asc(), newest.0, newest.1)),
            (SortKey::Keywords, true) => rows.order((tasks::keywords_key.desc(), newest.0, newest.1)),
        };
        rows.limit(i64::try_from(page.limit).unwrap_or(i64::MAX))
    }};
}
pub(crate) use in_page;

#[cfg(test)]
mod tests {
    use chrono::{TimeDelta, Utc};

    use crate::domain::order::keywords_key;
    use crate::domain::{SortKey, Task, TaskOrder, TaskStatus};
    use crate::store::testing::{new_task, sqlite_store};
    use crate::store::{Inserted, TaskPage, TaskSearch};

    /// The order `order` puts `tasks` in, computed here.
    fn sorted(mut tasks: Vec<Task>, order: TaskOrder) -> Vec<String> {
        let key = |t: &Task| match order.key {
            SortKey::CreatedAt => String::new(),
            SortKey::Status => t.status.as_str().to_owned(),
            SortKey::Keywords => keywords_key(t.spec.keywords.iter()),
        };
        tasks.sort_by(|a, b| {
            let by_key = key(a).cmp(&key(b));
            let newest = (b.created_at, b.id.to_string()).cmp(&(a.created_at, a.id.to_string()));
            match (order.key, order.descending) {
                (SortKey::CreatedAt, true) => newest,
                (SortKey::CreatedAt, false) => newest.reverse(),
                (_, false) => by_key.then(newest),
                (_, true) => by_key.reverse().then(newest),
            }
        });
        tasks.iter().map(|t| t.id.to_string()).collect()
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn pages_of_two_walk_every_order_exactly_and_the_count_follows_the_filters() {
        let (_dir, store) = sqlite_store("orders.db").await;
        let start = Utc::now();
        let lists: [&[&str]; 7] =
            [&["porcin"], &["Bovin", "ovin"], &["bovin"], &["Élevage"], &["abeille"], &["bovin"], &["volaille"]];
        let mut tasks = Vec::new();
        for (i, keywords) in lists.iter().enumerate() {
            // Two pairs created at the same moment: ties on every key but the id.
            let at = start + TimeDelta::seconds([0, 1, 1, 2, 3, 3, 4][i]);
            let Inserted::Created(task) = store.insert_task(new_task(keywords, &["56"], at)).await.expect("insert")
            else {
                panic!("not created")
            };
            if i % 3 == 0 {
                store.request_stop(task.id, at).await.expect("cancelled");
            }
            tasks.push(store.task(task.id).await.expect("read").expect("stored"));
        }
        let search = TaskSearch::default();
        for order in TaskOrder::ALL {
            let mut walked = Vec::new();
            let mut after = None;
            loop {
                let page = TaskPage { order, after: after.as_ref(), limit: 2 };
                let listed = store.list_tasks(&search, &page).await.expect("a page");
                walked.extend(listed.iter().map(|(t, _)| t.id.to_string()));
                match listed.last() {
                    Some((_, cursor)) if listed.len() == 2 => after = Some(cursor.clone()),
                    _ => break,
                }
            }
            assert_eq!(walked, sorted(tasks.clone(), order), "{order}");
        }
        assert_eq!(store.count_tasks(&search).await.expect("count"), 7);
        let mut cancelled = TaskSearch::default();
        cancelled.query.statuses = vec![TaskStatus::Cancelled];
        assert_eq!(store.count_tasks(&cancelled).await.expect("count"), 3);
        cancelled.query.created_after = Some(start + TimeDelta::seconds(1));
        assert_eq!(store.count_tasks(&cancelled).await.expect("count"), 2, "created at 2 s and 4 s");
    }
}
