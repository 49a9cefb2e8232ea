//! Embedded migrations, applied at start-up. PostgreSQL replicas starting
//! together take turns under an advisory lock.

use diesel::{Connection, SqliteConnection};
use diesel_async::{AsyncConnection, AsyncMigrationHarness, AsyncPgConnection, RunQueryDsl};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

use crate::store::StoreError;

const SQLITE: EmbeddedMigrations = embed_migrations!("../migrations/sqlite");
const POSTGRES: EmbeddedMigrations = embed_migrations!("../migrations/postgres");

/// Any constant shared by every replica: the key of the migration lock.
const MIGRATION_LOCK_KEY: i64 = 0x5c2a_9e7a_0001;

pub(super) async fn sqlite(url: &str) -> Result<(), StoreError> {
    let url = url.to_owned();
    tokio::task::spawn_blocking(move || {
        let mut conn = SqliteConnection::establish(&url).map_err(|e| StoreError::Unavailable(e.to_string()))?;
        diesel::connection::SimpleConnection::batch_execute(&mut conn, "PRAGMA busy_timeout = 10000;")?;
        conn.run_pending_migrations(SQLITE).map_err(|e| StoreError::Migration(e.to_string()))?;
        Ok(())
    })
    .await
    .map_err(|e| StoreError::Migration(e.to_string()))?
}

pub(super) async fn postgres(url: &str) -> Result<(), StoreError> {
    let connect = |url: String| async move {
        AsyncPgConnection::establish(&url).await.map_err(|e| StoreError::Unavailable(e.to_string()))
    };
    let mut lock = connect(url.to_owned()).await?;
    diesel::sql_query(format!("SELECT pg_advisory_lock({MIGRATION_LOCK_KEY})")).execute(&mut lock).await?;
    let conn = connect(url.to_owned()).await?;
    let outcome = tokio::task::spawn_blocking(move || {
        let mut harness = AsyncMigrationHarness::new(conn);
        harness.run_pending_migrations(POSTGRES).map(|_| ()).map_err(|e| StoreError::Migration(e.to_string()))
    })
    .await
    .map_err(|e| StoreError::Migration(e.to_string()));
    diesel::sql_query(format!("SELECT pg_advisory_unlock({MIGRATION_LOCK_KEY})")).execute(&mut lock).await?;
    outcome?
}
