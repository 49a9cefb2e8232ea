//! The statements whose SQL, or the way it is issued, differs between the
//! backends. Everything else is written once, in [`with_conn!`] bodies that
//! call these methods on whichever connection they got.
//!
//! [`with_conn!`]: crate::store::with_conn

use diesel::prelude::*;
use diesel::sql_types::Text;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use crate::domain::TaskStatus;
use crate::store::SqliteConn;
use crate::store::convert::status_name;
use crate::store::document_index;
use crate::store::models::{DocumentRow, LinkRow, OperationRow, ProgressRow};
use crate::store::schema::{documents, operation_progress, operations, task_documents, tasks};

/// Rows per multi-row insert: SQLite binds at most 32,766 parameters, and a
/// document has ten columns.
const ROWS_PER_INSERT: usize = 1000;

/// A task a worker may claim: its id, when it first started, whether a stop
/// is pending.
pub(crate) type Candidate = (String, Option<i64>, bool);

pub(crate) trait Dialect: Send {
    /// Inserts documents (leaving those whose link is stored already) and
    /// links them to a task's operation (leaving existing links).
    async fn insert_cards(&mut self, docs: Vec<DocumentRow>, links: Vec<LinkRow>) -> QueryResult<()>;

    /// Stores where operations in flight stand (replacing what was stored),
    /// and records the operations that ended, forgetting their progress.
    async fn record_progress(&mut self, progress: Vec<ProgressRow>, ended: Vec<OperationRow>) -> QueryResult<()>;

    /// The oldest claimable task, kept from other claimers until the end of
    /// the current transaction.
    async fn next_claimable(&mut self, now_us: i64) -> QueryResult<Option<Candidate>>;

    /// Serialises, until the end of the current transaction, the writers
    /// that take the name `key` (an export file name, a request id).
    async fn lock_name(&mut self, key: &str) -> QueryResult<()>;

    /// The ids of the tasks whose search text contains `text`, when an
    /// index finds them faster than a walk through the newest tasks (a rare
    /// word), else `None`.
    async fn indexed_matches(&mut self, text: &str) -> QueryResult<Option<Vec<String>>>;

    /// Adds up to `batch` documents stored since the last step to the word
    /// index, when the backend leaves that to the store; returns how many.
    async fn index_documents(&mut self, batch: i64) -> QueryResult<u64>;

    /// The links of the documents holding every word (folded, each the
    /// start of a word), when the index finds them faster than a walk
    /// through the newest documents (rare words), else `None`.
    async fn indexed_documents(&mut self, words: &[&str]) -> QueryResult<Option<Vec<String>>>;
}

/// What a worker may claim: a pending task, or a running one whose lease
/// expired (its worker died) or was dropped (handed back), oldest first.
#[diesel::dsl::auto_type]
fn claimable(now_us: i64) -> _ {
    let pending: diesel::dsl::Eq<tasks::status, &'static str> = tasks::status.eq(status_name(TaskStatus::Pending));
    let running: diesel::dsl::Eq<tasks::status, &'static str> = tasks::status.eq(status_name(TaskStatus::Running));
    tasks::table
        .filter(pending.or(running.and(tasks::lease_expires_at.is_null().or(tasks::lease_expires_at.lt(now_us)))))
        .order((tasks::created_at.asc(), tasks::id.asc()))
        .select((tasks::id, tasks::started_at, tasks::stop_requested))
}

/// The statement storing where these operations stand, replacing what was
/// stored (the same SQL on both backends, issued differently).
macro_rules! upsert_progress {
    ($rows:expr) => {{
        use diesel::upsert::excluded;
        diesel::insert_into(operation_progress::table)
            .values($rows)
            .on_conflict((
                operation_progress::task_id,
                operation_progress::prefecture_code,
                operation_progress::keyword,
            ))
            .do_update()
            .set((
                operation_progress::next_offset.eq(excluded(operation_progress::next_offset)),
                operation_progress::pages_fetched.eq(excluded(operation_progress::pages_fetched)),
                operation_progress::items_found.eq(excluded(operation_progress::items_found)),
                operation_progress::elapsed_ms.eq(excluded(operation_progress::elapsed_ms)),
                operation_progress::updated_at.eq(excluded(operation_progress::updated_at)),
            ))
    }};
}

/// The statement forgetting the progress of an operation that ended.
macro_rules! forget_progress {
    ($ended:expr) => {
        diesel::delete(operation_progress::table.find((&$ended.task_id, &$ended.prefecture_code, &$ended.keyword)))
    };
}

/// SQLite: diesel-async has no multi-row insert on SQLite, so the rows go in
/// one blocking call through diesel's synchronous API. Its one writer
/// connection serialises claims, so no row lock is needed, and a trigram
/// FTS5 table indexes the tasks' search text.
impl Dialect for SqliteConn {
    async fn insert_cards(&mut self, docs: Vec<DocumentRow>, links: Vec<LinkRow>) -> QueryResult<()> {
        self.spawn_blocking(move |conn| {
            for chunk in docs.chunks(ROWS_PER_INSERT) {
                let insert = diesel::insert_into(documents::table).values(chunk).on_conflict_do_nothing();
                diesel::RunQueryDsl::execute(insert, conn)?;
            }
            for chunk in links.chunks(ROWS_PER_INSERT) {
                let insert = diesel::insert_into(task_documents::table).values(chunk).on_conflict_do_nothing();
                diesel::RunQueryDsl::execute(insert, conn)?;
            }
            Ok(())
        })
        .await
    }

    async fn record_progress(&mut self, progress: Vec<ProgressRow>, ended: Vec<OperationRow>) -> QueryResult<()> {
        self.spawn_blocking(move |conn| {
            for chunk in progress.chunks(ROWS_PER_INSERT) {
                diesel::RunQueryDsl::execute(upsert_progress!(chunk), conn)?;
            }
            for row in &ended {
                diesel::RunQueryDsl::execute(forget_progress!(row), conn)?;
            }
            for chunk in ended.chunks(ROWS_PER_INSERT) {
                let insert = diesel::insert_into(operations::table).values(chunk);
                diesel::RunQueryDsl::execute(insert, conn)?;
            }
            Ok(())
        })
        .await
    }

    async fn next_claimable(&mut self, now_us: i64) -> QueryResult<Option<Candidate>> {
        claimable(now_us).first(self).await.optional()
    }

    async fn lock_name(&mut self, _key: &str) -> QueryResult<()> {
        // The one writer connection already serialises every write.
        Ok(())
    }

    async fn indexed_matches(&mut self, text: &str) -> QueryResult<Option<Vec<String>>> {
        /// Above this many matches, walking the newest tasks fills a page sooner.
        const RARE: usize = 2000;
        #[derive(QueryableByName)]
        struct Match {
            #[diesel(sql_type = Text)]
            id: String,
        }
        // Trigrams need three characters.
        if text.chars().count() < 3 {
            return Ok(None);
        }
        let phrase = format!("\"{}\"", text.replace('"', "\"\""));
        let matches: Vec<Match> = diesel::sql_query(format!(
            "SELECT tasks.id AS id FROM tasks_search JOIN tasks ON tasks.rowid = tasks_search.rowid \
             WHERE tasks_search MATCH ? LIMIT {RARE}"
        ))
        .bind::<Text, _>(&phrase)
        .load(self)
        .await?;
        Ok((matches.len() < RARE).then(|| matches.into_iter().map(|m| m.id).collect()))
    }

    async fn index_documents(&mut self, batch: i64) -> QueryResult<u64> {
        document_index::index_step(self, batch).await
    }

    async fn indexed_documents(&mut self, words: &[&str]) -> QueryResult<Option<Vec<String>>> {
        document_index::matching_links(self, words).await
    }
}

/// PostgreSQL: batch inserts, `FOR UPDATE SKIP LOCKED` so that replicas
/// claiming at once take different tasks, and a pg_trgm index that serves
/// the search text's `LIKE` directly.
impl Dialect for AsyncPgConnection {
    async fn insert_cards(&mut self, docs: Vec<DocumentRow>, links: Vec<LinkRow>) -> QueryResult<()> {
        for chunk in docs.chunks(ROWS_PER_INSERT) {
            diesel::insert_into(documents::table).values(chunk).on_conflict_do_nothing().execute(self).await?;
        }
        for chunk in links.chunks(ROWS_PER_INSERT) {
            diesel::insert_into(task_documents::table).values(chunk).on_conflict_do_nothing().execute(self).await?;
        }
        Ok(())
    }

    async fn record_progress(&mut self, progress: Vec<ProgressRow>, ended: Vec<OperationRow>) -> QueryResult<()> {
        for chunk in progress.chunks(ROWS_PER_INSERT) {
            upsert_progress!(chunk).execute(self).await?;
        }
        for row in &ended {
            forget_progress!(row).execute(self).await?;
        }
        for chunk in ended.chunks(ROWS_PER_INSERT) {
            diesel::insert_into(operations::table).values(chunk).execute(self).await?;
        }
        Ok(())
    }

    async fn next_claimable(&mut self, now_us: i64) -> QueryResult<Option<Candidate>> {
        claimable(now_us).for_update().skip_locked().first(self).await.optional()
    }

    async fn lock_name(&mut self, key: &str) -> QueryResult<()> {
        diesel::sql_query("SELECT pg_advisory_xact_lock(hashtext($1))").bind::<Text, _>(key).execute(self).await?;
        Ok(())
    }

    async fn indexed_matches(&mut self, _text: &str) -> QueryResult<Option<Vec<String>>> {
        Ok(None)
    }

    async fn index_documents(&mut self, _batch: i64) -> QueryResult<u64> {
        // The GIN index is kept by the database.
        Ok(0)
    }

    async fn indexed_documents(&mut self, _words: &[&str]) -> QueryResult<Option<Vec<String>>> {
        // The planner picks the trigram index or the newest-first walk.
        Ok(None)
    }
}
