//! Many stored tasks at once, written straight into the database (after the
//! server's own migrations created it): finished ones mostly, some failed,
//! cancelled and pending, a millisecond apart.

use diesel::SqliteConnection;
use diesel_async::sync_connection_wrapper::SyncConnectionWrapper;
use diesel_async::{AsyncConnection, AsyncPgConnection, SimpleAsyncConnection};
use scrape_server::store::{DatabaseUrl, PoolConfig, Store};

/// The first task's creation time (2025-01-01), in microseconds.
pub const BASE_MICROS: i64 = 1_735_689_600_000_000;

const COLUMNS: &str = "id, status, keywords, regions, prefectures, targets, exclude_keywords, days_limit, search_text, \
     total_operations, completed_operations, failed_operations, items_found, new_documents, pages_fetched, \
     stop_requested, created_at, updated_at, started_at, completed_at";

/// Mostly three common keywords; one task in 100,000 searches a rare one.
const KEYWORD_SQL: &str = "(CASE WHEN n % 100000 = 7 THEN 'caprin' WHEN n % 3 = 0 THEN 'bovin' \
                           WHEN n % 3 = 1 THEN 'porcin' ELSE 'volaille' END)";

/// The id of the `n`th seeded task: ordered like creation, with a
/// scrambled tail like a real UUIDv7's random bits.
pub fn task_id(n: u64) -> String {
    format!("{:08x}-{:04x}-7000-8000-{:012x}", n / 65536, n % 65536, (n * 2_654_435_761) % (1 << 48))
}

/// The status of the `n`th task.
fn status_sql(n: &str) -> String {
    format!(
        "CASE WHEN {n} % 50 = 0 THEN 'pending' WHEN {n} % 20 = 1 THEN 'failed' \
         WHEN {n} % 20 = 2 THEN 'cancelled' ELSE 'succeeded' END"
    )
}

fn values_sql(n: &str, id: &str, keyword: &str) -> String {
    let created = format!("({BASE_MICROS} + {n} * 1000)");
    let pending = format!("{n} % 50 = 0");
    format!(
        "{id}, {status}, '[\"' || {keyword} || '\"]', '[]', '[\"56\"]', '[\"56\"]', '[]', 0, \
         ' ' || {id} || ' | ' || {keyword} || ' | 56 morbihan ', 1, \
         CASE WHEN {pending} THEN 0 ELSE 1 END, 0, 12, 10, 3, FALSE, {created}, {created} + 5000000, \
         CASE WHEN {pending} THEN NULL ELSE {created} + 1000000 END, \
         CASE WHEN {pending} THEN NULL ELSE {created} + 5000000 END",
        status = status_sql(n)
    )
}

/// Creates the database schema through the server's migrations, then
/// inserts `count` tasks.
pub async fn tasks(url: &str, count: usize) -> anyhow::Result<()> {
    let parsed = DatabaseUrl::parse(url)?;
    drop(Store::open(&parsed, PoolConfig::default()).await?);
    match parsed {
        DatabaseUrl::Sqlite(url) => {
            let id = "printf('%08x-%04x-7000-8000-%012x', n / 65536, n % 65536, (n * 2654435761) % 281474976710656)";
            let keyword = KEYWORD_SQL;
            let sql = format!(
                "WITH RECURSIVE seq(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM seq WHERE n < {count}) \
                 INSERT INTO tasks ({COLUMNS}) SELECT {} FROM seq;",
                values_sql("n", id, keyword)
            );
            let mut conn = SyncConnectionWrapper::<SqliteConnection>::establish(&url).await?;
            conn.batch_execute(&sql).await?;
        }
        DatabaseUrl::Postgres(url) => {
            let id = "(lpad(to_hex(n / 65536), 8, '0') || '-' || lpad(to_hex(n % 65536), 4, '0') || '-7000-8000-' \
                      || lpad(to_hex((n::bigint * 2654435761) % 281474976710656), 12, '0'))";
            let keyword = KEYWORD_SQL;
            let sql = format!(
                "INSERT INTO tasks ({COLUMNS}) SELECT {} FROM generate_series(1, {count}) AS n; ANALYZE tasks;",
                values_sql("n", id, keyword)
            );
            let mut conn = AsyncPgConnection::establish(&url).await?;
            conn.batch_execute(&sql).await?;
        }
    }
    Ok(())
}
