//! A watch's news: the documents its runs saw first, newest first.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;

use crate::domain::{Document, TaskId, WatchId};
use crate::store::convert::{from_micros, to_micros};
use crate::store::schema::watch_documents;
use crate::store::{Store, StoreError, with_conn};

/// Where a page of news starts: strictly after this document, newest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewsCursor {
    pub first_seen_at: i64,
    pub link: String,
}

impl NewsCursor {
    pub fn after(last: &Document) -> NewsCursor {
        NewsCursor { first_seen_at: to_micros(last.first_seen_at), link: last.link.clone() }
    }
}

/// Which news to list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NewsFilter {
    /// Only those first seen at or after this time.
    pub since: Option<DateTime<Utc>>,
    /// Only those of this run.
    pub task: Option<TaskId>,
}

type NewsRow = (String, String, String, Option<String>, String, String, String, i64);

impl Store {
    /// A watch's news matching `filter`, newest first (then by link),
    /// starting after `cursor`.
    pub async fn watch_news(
        &self,
        watch: WatchId,
        filter: &NewsFilter,
        cursor: Option<&NewsCursor>,
        limit: usize,
    ) -> Result<Vec<Document>, StoreError> {
        let key = watch.to_string();
        let task = filter.task.map(|t| t.to_string());
        let rows: Vec<NewsRow> = with_conn!(self, reader, |conn| {
            let mut query = watch_documents::table
                .filter(watch_documents::watch_id.eq(&key))
                .select((
                    watch_documents::link,
                    watch_documents::title,
                    watch_documents::description,
                    watch_documents::published_on,
                    watch_documents::date_label,
                    watch_documents::prefecture_code,
                    watch_documents::keyword,
                    watch_documents::first_seen_at,
                ))
                .into_boxed();
            if let Some(since) = filter.since {
                query = query.filter(watch_documents::first_seen_at.ge(to_micros(since)));
            }
            if let Some(task) = &task {
                query = query.filter(watch_documents::task_id.eq(task));
            }
            if let Some(NewsCursor { first_seen_at, link }) = cursor {
                query = query.filter(
                    watch_documents::first_seen_at
                        .lt(first_seen_at)
                        .or(watch_documents::first_seen_at.eq(first_seen_at).and(watch_documents::link.gt(link))),
                );
            }
            query
                .order((watch_documents::first_seen_at.desc(), watch_documents::link.asc()))
                .limit(i64::try_from(limit).unwrap_or(i64::MAX))
                .load(conn)
                .await?
        });
        rows.into_iter()
            .map(|(link, title, description, published_on, date_label, prefecture_code, keyword, first_seen_at)| {
                let published_on = published_on
                    .map(|d| {
                        chrono::NaiveDate::parse_from_str(&d, "%Y-%m-%d")
                            .map_err(|_| StoreError::Corrupt(format!("date {d:?}")))
                    })
                    .transpose()?;
                Ok(Document {
                    link,
                    title,
                    description,
                    published_on,
                    date_label,
                    prefecture_code,
                    keywords: vec![keyword.clone()],
                    keyword,
                    first_seen_at: from_micros(first_seen_at)?,
                })
            })
            .collect()
    }
}
