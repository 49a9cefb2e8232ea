//! Documents: unique by absolute link across all tasks, linked to every
//! task operation that found them.

use std::collections::{HashMap, HashSet};

use diesel::prelude::*;
use diesel::sql_types::Bool;
use diesel_async::RunQueryDsl;

use crate::domain::text::fold;
use crate::domain::{Card, Document, DocumentQuery, TaskId};
use crate::store::convert::{document, to_date};
use crate::store::dialect::Dialect;
use crate::store::models::{DocumentRow, LinkRow};
use crate::store::patterns;
use crate::store::schema::{documents, task_documents};
use crate::store::{Store, StoreError, with_conn};

/// Where a page of documents starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DocumentCursor {
    /// In a task's documents, ordered by prefecture, keyword and link.
    InTask { prefecture_code: String, keyword: String, link: String },
    /// In all documents, newest first.
    Global { first_seen_at: i64, link: String },
}

impl DocumentCursor {
    /// The cursor after `last`, in a task's documents or in all of them.
    pub fn after(last: &Document, in_task: bool) -> DocumentCursor {
        if in_task {
            DocumentCursor::InTask {
                prefecture_code: last.prefecture_code.clone(),
                keyword: last.keyword.clone(),
                link: last.link.clone(),
            }
        } else {
            DocumentCursor::Global { first_seen_at: last.first_seen_at.timestamp_micros(), link: last.link.clone() }
        }
    }
}

/// The rows cards found by a task's operation become: the documents
/// (attributed to the operation when they are new) and their links to the
/// task.
pub(crate) fn card_rows(
    task_id: &str,
    prefecture_code: &str,
    keyword: &str,
    cards: &[Card],
    now_us: i64,
) -> (Vec<DocumentRow>, Vec<LinkRow>) {
    let docs = cards
        .iter()
        .map(|card| DocumentRow {
            link: card.link.clone(),
            title: card.title.clone(),
            description: card.description.clone(),
            published_on: to_date(card.published_on),
            date_label: card.date_label.clone(),
            prefecture_code: prefecture_code.to_owned(),
            keyword: keyword.to_owned(),
            first_task_id: task_id.to_owned(),
            first_seen_at: now_us,
            search_text: format!(" {} {} ", fold(&card.title), fold(&card.description)),
        })
        .collect();
    let links = cards
        .iter()
        .map(|card| LinkRow {
            task_id: task_id.to_owned(),
            prefecture_code: prefecture_code.to_owned(),
            keyword: keyword.to_owned(),
            link: card.link.clone(),
        })
        .collect();
    (docs, links)
}

impl Store {
    /// The links a task's operation has stored so far: the cards a resumed
    /// search has met already.
    pub async fn operation_links(
        &self,
        task: TaskId,
        prefecture_code: &str,
        keyword: &str,
    ) -> Result<HashSet<String>, StoreError> {
        let task_id = task.to_string();
        let links: Vec<String> = with_conn!(self, reader, |conn| {
            task_documents::table
                .filter(task_documents::task_id.eq(&task_id))
                .filter(task_documents::prefecture_code.eq(prefecture_code))
                .filter(task_documents::keyword.eq(keyword))
                .select(task_documents::link)
                .load(conn)
                .await?
        });
        Ok(links.into_iter().collect())
    }

    /// Documents matching `filter` (its keyword in the task's own spelling),
    /// starting after `cursor`, each with the keywords that found it.
    pub async fn list_documents(
        &self,
        filter: &DocumentQuery,
        cursor: Option<&DocumentCursor>,
        limit: usize,
    ) -> Result<Vec<Document>, StoreError> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        // Every word, in any order, as the start of a word of the text.
        let folded: Vec<&str> =
            filter.text.as_ref().and_then(|t| t.folded()).map(|f| f.split(' ').collect()).unwrap_or_default();
        let words: Vec<String> = folded.iter().map(|w| patterns::word_starting_with(w)).collect();
        // Rare words are looked up in the index; common ones are found
        // fastest by walking the newest documents until the page is full.
        let indexed: Option<Vec<String>> = if folded.is_empty() {
            None
        } else {
            with_conn!(self, reader, |conn| conn.indexed_documents(&folded).await?)
        };
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
                    } else if !filter.every_finding {
                        query = query.filter(diesel::dsl::sql::<Bool>(FIRST_FINDING));
                    }
                    if let Some(links) = &indexed {
                        query = query.filter(task_documents::link.eq_any(links));
                    }
                    for word in &words {
                        query = query.filter(documents::search_text.like(word).escape('\\'));
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
                if let Some(links) = &indexed {
                    query = query.filter(documents::link.eq_any(links));
                }
                for word in &words {
                    query = query.filter(documents::search_text.like(word).escape('\\'));
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
        let mut keywords = self.finding_keywords(filter.task, &rows).await?;
        rows.into_iter()
            .map(|(prefecture_code, keyword, row)| {
                let found_by = keywords.remove(&row.link).unwrap_or_else(|| vec![keyword.clone()]);
                document(prefecture_code, keyword, found_by, row)
            })
            .collect()
    }

    /// The keywords that found each of these documents: in `task`, or in
    /// any task; each list sorted, once per keyword.
    async fn finding_keywords(
        &self,
        task: Option<TaskId>,
        rows: &[(String, String, DocumentRow)],
    ) -> Result<HashMap<String, Vec<String>>, StoreError> {
        let links: Vec<&str> = rows.iter().map(|(_, _, row)| row.link.as_str()).collect();
        if links.is_empty() {
            return Ok(HashMap::new());
        }
        let task_id = task.map(|t| t.to_string());
        let found: Vec<(String, String)> = with_conn!(self, reader, |conn| {
            let mut query = task_documents::table
                .filter(task_documents::link.eq_any(&links))
                .select((task_documents::link, task_documents::keyword))
                .into_boxed();
            if let Some(task_id) = &task_id {
                query = query.filter(task_documents::task_id.eq(task_id));
            }
            query.load(conn).await?
        });
        let mut keywords: HashMap<String, Vec<String>> = HashMap::new();
        for (link, keyword) in found {
            keywords.entry(link).or_default().push(keyword);
        }
        for list in keywords.values_mut() {
            list.sort();
            list.dedup();
        }
        Ok(keywords)
    }
}

/// A task's row for a document is its first finding: no keyword before
/// this one found it in the same task and prefecture (looked up by link).
const FIRST_FINDING: &str = "NOT EXISTS (SELECT 1 FROM task_documents earlier \
     WHERE earlier.link = task_documents.link AND earlier.task_id = task_documents.task_id \
     AND earlier.prefecture_code = task_documents.prefecture_code AND earlier.keyword < task_documents.keyword)";
