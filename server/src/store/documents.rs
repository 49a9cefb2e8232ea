//! Documents: unique by absolute link across all tasks, linked to every
//! task operation that found them.

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, RunQueryDsl};

use crate::domain::TaskId;
use crate::scrape::Card;
use crate::store::convert::{from_micros, to_micros};
use crate::store::models::DocumentRow;
use crate::store::schema::{documents, task_documents};
use crate::store::write::{self, CardRows};
use crate::store::{Backend, Store, StoreError, with_conn};

/// A stored document as one task found it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredCard {
    pub link: String,
    pub title: String,
    pub description: String,
    pub published_on: Option<NaiveDate>,
    pub date_label: String,
    /// The prefecture and keyword under which the task found it.
    pub prefecture_code: String,
    pub keyword: String,
    pub first_seen_at: DateTime<Utc>,
}

/// Which documents to list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DocumentFilter {
    /// Only those this task found (with the prefecture and keyword it found
    /// them under); all documents otherwise.
    pub task: Option<TaskId>,
    pub prefecture_code: Option<String>,
    pub keyword: Option<String>,
    /// Folded text to find in the folded title and description.
    pub query: Option<String>,
}

/// Where a page of documents starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DocumentCursor {
    /// In a task's documents, ordered by prefecture, keyword and link.
    InTask { prefecture_code: String, keyword: String, link: String },
    /// In all documents, newest first.
    Global { first_seen_at: i64, link: String },
}

/// Batch inserts of cards on PostgreSQL, inside the caller's transaction.
pub(crate) async fn insert_cards(
    conn: &mut diesel_async::AsyncPgConnection,
    rows: &CardRows,
) -> Result<(), StoreError> {
    diesel::insert_into(documents::table).values(&rows.docs).on_conflict_do_nothing().execute(conn).await?;
    diesel::insert_into(task_documents::table).values(&rows.links).on_conflict_do_nothing().execute(conn).await?;
    Ok(())
}

impl Store {
    /// Stores cards found by a task's operation without recording the
    /// operation (what a stopped operation had found), in one transaction:
    /// documents seen for the first time are inserted (and attributed to
    /// this operation), every card is linked to the task.
    pub async fn store_cards(
        &self,
        task: TaskId,
        prefecture_code: &str,
        keyword: &str,
        cards: &[Card],
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let rows = CardRows::new(&task.to_string(), prefecture_code, keyword, cards, to_micros(now));
        match &self.backend {
            Backend::Sqlite { writer, .. } => {
                let mut conn = writer.get().await.map_err(StoreError::from_pool)?;
                conn.spawn_blocking(move |conn| {
                    conn.immediate_transaction(|conn| write::sqlite::insert_cards(conn, &rows))
                })
                .await?;
            }
            Backend::Postgres { pool } => {
                let mut conn = pool.get().await.map_err(StoreError::from_pool)?;
                conn.transaction::<_, StoreError, _>(async |conn| insert_cards(conn, &rows).await).await?;
            }
        }
        Ok(())
    }

    /// Documents matching `filter`, starting after `cursor`.
    pub async fn list_documents(
        &self,
        filter: &DocumentFilter,
        cursor: Option<&DocumentCursor>,
        limit: usize,
    ) -> Result<Vec<StoredCard>, StoreError> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let pattern = filter.query.as_deref().map(crate::store::tasks::like_pattern);
        let rows: Vec<(String, String, DocumentRow)> = match filter.task {
            Some(task) => {
                let task_id = task.to_string();
                with_conn!(self, reader, |conn| {
                    let mut query = task_documents::table
                        .inner_join(documents::table)
                        .filter(task_documents::task_id.eq(&task_id))
                        .select((task_documents::prefecture_code, task_documents::keyword, DocumentRow::as_select()))
                        .into_boxed();
                    if let Some(code) = &filter.prefecture_code {
                        query = query.filter(task_documents::prefecture_code.eq(code));
                    }
                    if let Some(keyword) = &filter.keyword {
                        query = query.filter(task_documents::keyword.eq(keyword));
                    }
                    if let Some(pattern) = &pattern {
                        query = query.filter(documents::search_text.like(pattern).escape('\\'));
                    }
                    if let Some(DocumentCursor::InTask { prefecture_code, keyword, link }) = cursor {
                        query = query.filter(
                            task_documents::prefecture_code.gt(prefecture_code).or(task_documents::prefecture_code
                                .eq(prefecture_code)
                                .and(
                                    task_documents::keyword
                                        .gt(keyword)
                                        .or(task_documents::keyword.eq(keyword).and(task_documents::link.gt(link))),
                                )),
                        );
                    }
                    query
                        .order((task_documents::prefecture_code, task_documents::keyword, task_documents::link))
                        .limit(limit)
                        .load(conn)
                        .await?
                })
            }
            None => with_conn!(self, reader, |conn| {
                let mut query = documents::table
                    .select((documents::prefecture_code, documents::keyword, DocumentRow::as_select()))
                    .into_boxed();
                if let Some(code) = &filter.prefecture_code {
                    query = query.filter(documents::prefecture_code.eq(code));
                }
                if let Some(keyword) = &filter.keyword {
                    query = query.filter(documents::keyword.eq(keyword));
                }
                if let Some(pattern) = &pattern {
                    query = query.filter(documents::search_text.like(pattern).escape('\\'));
                }
                if let Some(DocumentCursor::Global { first_seen_at, link }) = cursor {
                    query = query.filter(
                        documents::first_seen_at
                            .lt(first_seen_at)
                            .or(documents::first_seen_at.eq(first_seen_at).and(documents::link.lt(link))),
                    );
                }
                query.order((documents::first_seen_at.desc(), documents::link.desc())).limit(limit).load(conn).await?
            }),
        };
        rows.into_iter()
            .map(|(prefecture_code, keyword, doc)| {
                Ok(StoredCard {
                    link: doc.link,
                    title: doc.title,
                    description: doc.description,
                    published_on: doc
                        .published_on
                        .as_deref()
                        .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok()),
                    date_label: doc.date_label,
                    prefecture_code,
                    keyword,
                    first_seen_at: from_micros(doc.first_seen_at)?,
                })
            })
            .collect()
    }
}
