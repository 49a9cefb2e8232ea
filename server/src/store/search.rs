//! Free-text search in the folded `search_text` columns of tasks and
//! documents: a LIKE '%…%' in general, and on SQLite a trigram FTS5 index
//! for rare words (PostgreSQL's pg_trgm index serves the LIKE itself).

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};
use diesel_async::RunQueryDsl;

use crate::store::{Backend, Store, StoreError};

/// A table with a trigram index of its search text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Indexed {
    Tasks,
    Documents,
}

impl Indexed {
    fn table(self) -> &'static str {
        match self {
            Indexed::Tasks => "tasks",
            Indexed::Documents => "documents",
        }
    }

    fn index(self) -> &'static str {
        match self {
            Indexed::Tasks => "tasks_search",
            Indexed::Documents => "documents_search",
        }
    }
}

/// Above this many matches, walking the rows in list order fills a page
/// sooner than sorting every match.
const RARE: i64 = 2000;

/// `%text%` with LIKE's wildcards in `text` escaped (with `\`).
pub(crate) fn like_pattern(text: &str) -> String {
    let mut pattern = String::with_capacity(text.len() + 2);
    pattern.push('%');
    for ch in text.chars() {
        if matches!(ch, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(ch);
    }
    pattern.push('%');
    pattern
}

/// The start of the SQL condition "this row matches in the trigram index";
/// the caller binds the phrase and closes the parenthesis.
pub(crate) fn in_index(indexed: Indexed) -> String {
    let (table, index) = (indexed.table(), indexed.index());
    format!("{table}.rowid IN (SELECT rowid FROM {index} WHERE {index} MATCH ")
}

impl Store {
    /// On SQLite, the trigram-index phrase for a folded `query` when few
    /// rows match it (then the index finds them faster than a walk through
    /// every row); `None` otherwise, and on PostgreSQL.
    pub(crate) async fn rare_in_index(&self, indexed: Indexed, query: &str) -> Result<Option<String>, StoreError> {
        let Backend::Sqlite { readers, .. } = &self.backend else { return Ok(None) };
        // Trigrams need three characters.
        if query.chars().count() < 3 {
            return Ok(None);
        }
        #[derive(QueryableByName)]
        struct Matches {
            #[diesel(sql_type = BigInt)]
            n: i64,
        }
        let phrase = format!("\"{}\"", query.replace('"', "\"\""));
        let index = indexed.index();
        let mut conn = readers.get().await.map_err(StoreError::from_pool)?;
        let matches: Matches = diesel::sql_query(format!(
            "SELECT count(*) AS n FROM (SELECT rowid FROM {index} WHERE {index} MATCH ? LIMIT {RARE})"
        ))
        .bind::<Text, _>(&phrase)
        .get_result(&mut *conn)
        .await?;
        Ok((matches.n < RARE).then_some(phrase))
    }
}
