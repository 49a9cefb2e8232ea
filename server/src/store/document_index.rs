//! The word index of the documents' search text, which ListDocuments'
//! words are looked up in.
//!
//! On SQLite an FTS5 trigram table (`documents_search`) over the documents,
//! filled in batches by the store's writer between commits rather than by
//! the crawl's inserts; `search_progress` says how far it got, and a search
//! also scans the few documents stored since. On PostgreSQL a pg_trgm GIN
//! index that the database keeps itself (its pending list batches the
//! insertions) and that serves the `LIKE` filters directly.

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};
use diesel_async::RunQueryDsl;

use crate::store::SqliteConn;
use crate::store::patterns;

/// Documents indexed per step of the writer: small enough that the writes
/// queued meanwhile wait only a moment.
pub(crate) const INDEX_BATCH: i64 = 1000;

/// Above this many matches, walking the newest documents fills a page
/// sooner than the index.
const RARE: usize = 2000;

/// Indexes up to `batch` documents stored since the last step; returns how
/// many (0: the index is complete).
pub(crate) async fn index_step(conn: &mut SqliteConn, batch: i64) -> QueryResult<u64> {
    #[derive(QueryableByName)]
    struct Reached {
        #[diesel(sql_type = BigInt)]
        rowid: i64,
        #[diesel(sql_type = BigInt)]
        count: i64,
    }
    use diesel_async::AsyncConnection;
    conn.transaction::<_, diesel::result::Error, _>(async |conn| {
        let reached: Reached = diesel::sql_query(
            "SELECT coalesce(max(rowid), 0) AS rowid, count(*) AS count FROM (SELECT rowid FROM documents \
             WHERE rowid > (SELECT indexed_up_to FROM search_progress WHERE name = 'documents') \
             ORDER BY rowid LIMIT ?)",
        )
        .bind::<BigInt, _>(batch)
        .get_result(conn)
        .await?;
        if reached.count == 0 {
            return Ok(0);
        }
        diesel::sql_query(
            "INSERT INTO documents_search (rowid, search_text) SELECT rowid, search_text FROM documents \
             WHERE rowid > (SELECT indexed_up_to FROM search_progress WHERE name = 'documents') AND rowid <= ?",
        )
        .bind::<BigInt, _>(reached.rowid)
        .execute(conn)
        .await?;
        diesel::sql_query("UPDATE search_progress SET indexed_up_to = ? WHERE name = 'documents'")
            .bind::<BigInt, _>(reached.rowid)
            .execute(conn)
            .await?;
        Ok(u64::try_from(reached.count).unwrap_or(0))
    })
    .await
}

/// The links of the documents whose search text holds every word (folded,
/// each the start of a word), when they are few enough for the index to
/// beat a walk through the newest documents; `None` otherwise, or when no
/// word is long enough for trigrams.
pub(crate) async fn matching_links(conn: &mut SqliteConn, words: &[&str]) -> QueryResult<Option<Vec<String>>> {
    #[derive(QueryableByName)]
    struct Link {
        #[diesel(sql_type = Text)]
        link: String,
    }
    // A word's pattern starts with a space: two letters make a trigram.
    let indexed: Vec<String> =
        words.iter().filter(|w| w.chars().count() >= 2).map(|w| patterns::word_starting_with(w)).collect();
    if indexed.is_empty() {
        return Ok(None);
    }
    // Folded words hold letters and digits only: nothing to escape, and a
    // plain two-argument LIKE is what FTS5 serves from its trigrams.
    let all = |column: &str| indexed.iter().map(|_| format!("{column} LIKE ?")).collect::<Vec<_>>().join(" AND ");
    let mut found = diesel::sql_query(format!(
        "SELECT documents.link AS link FROM documents_search JOIN documents ON documents.rowid = documents_search.rowid \
         WHERE {} LIMIT {RARE}",
        all("documents_search.search_text")
    ))
    .into_boxed();
    for pattern in &indexed {
        found = found.bind::<Text, _>(pattern.clone());
    }
    let mut links: Vec<Link> = found.load(conn).await?;
    if links.len() >= RARE {
        return Ok(None);
    }
    // The documents stored since the index's last step.
    let mut recent = diesel::sql_query(format!(
        "SELECT link FROM documents WHERE rowid > (SELECT indexed_up_to FROM search_progress WHERE name = 'documents') \
         AND {}",
        all("search_text")
    ))
    .into_boxed();
    for pattern in &indexed {
        recent = recent.bind::<Text, _>(pattern.clone());
    }
    links.extend(recent.load::<Link>(conn).await?);
    Ok(Some(links.into_iter().map(|l| l.link).collect()))
}
