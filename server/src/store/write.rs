//! The writes of an operation's results: its cards (documents and their
//! links to the task), its row, and the task's counters, in one transaction.
//! SQLite runs the whole transaction in one blocking call, with diesel's
//! synchronous API; PostgreSQL in one asynchronous transaction with batch
//! inserts.

use diesel::prelude::*;

use crate::domain::text::fold;
use crate::scrape::Card;
use crate::store::convert::to_date;
use crate::store::models::{DocumentRow, LinkRow, NewEventRow, OperationRow, TaskRow};
use crate::store::schema::{documents, operations, task_documents, task_events, tasks};

/// The rows a batch of cards becomes.
#[derive(Debug, Clone, Default)]
pub(crate) struct CardRows {
    pub docs: Vec<DocumentRow>,
    pub links: Vec<LinkRow>,
}

impl CardRows {
    /// Documents found by a task's operation (attributed to it when they are
    /// new) and their links to the task.
    pub fn new(task_id: &str, prefecture_code: &str, keyword: &str, cards: &[Card], now_us: i64) -> CardRows {
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
                search_text: format!("{} {}", fold(&card.title), fold(&card.description)),
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
        CardRows { docs, links }
    }
}

/// An operation's row and what goes with it.
#[derive(Debug, Clone)]
pub(crate) struct OperationWrite {
    pub operation: OperationRow,
    pub cards: CardRows,
    /// Logged when the operation failed.
    pub event: Option<NewEventRow>,
    pub now_us: i64,
}

/// Synchronous SQLite statements, run inside one `immediate_transaction`.
pub(crate) mod sqlite {
    use super::*;

    pub fn insert_cards(conn: &mut SqliteConnection, rows: &CardRows) -> QueryResult<()> {
        // Row by row: diesel has no batch upsert on SQLite, and prepared
        // statements make each row cheap.
        for doc in &rows.docs {
            diesel::insert_into(documents::table).values(doc).on_conflict_do_nothing().execute(conn)?;
        }
        for link in &rows.links {
            diesel::insert_into(task_documents::table).values(link).on_conflict_do_nothing().execute(conn)?;
        }
        Ok(())
    }

    /// Stores the cards, records the operation unless it was recorded
    /// already, adds it to the task's counters; returns the task's row.
    pub fn record(conn: &mut SqliteConnection, write: &OperationWrite) -> QueryResult<TaskRow> {
        insert_cards(conn, &write.cards)?;
        let op = &write.operation;
        let new_documents: i64 =
            first_found_by(op.task_id.clone(), op.prefecture_code.clone(), op.keyword.clone()).get_result(conn)?;
        let row = OperationRow { new_documents, ..op.clone() };
        let inserted = diesel::insert_into(operations::table).values(&row).on_conflict_do_nothing().execute(conn)?;
        if inserted == 1 {
            diesel::update(tasks::table.find(&op.task_id)).set(counters(&row, write.now_us)).execute(conn)?;
            if let Some(event) = &write.event {
                diesel::insert_into(task_events::table).values(event).execute(conn)?;
            }
        }
        tasks::table.find(&op.task_id).select(TaskRow::as_select()).first(conn)
    }
}

/// How many documents an operation was the first to store: those count as
/// new, even when the operation runs again after a crash or a restart.
#[diesel::dsl::auto_type]
pub(crate) fn first_found_by(task_id: String, prefecture_code: String, keyword: String) -> _ {
    documents::table
        .filter(documents::first_task_id.eq(task_id))
        .filter(documents::prefecture_code.eq(prefecture_code))
        .filter(documents::keyword.eq(keyword))
        .count()
}

/// The update adding one operation to its task's counters.
#[expect(clippy::type_complexity, reason = "diesel's changeset type of six assignments")]
pub(crate) fn counters(
    row: &OperationRow,
    now_us: i64,
) -> (
    diesel::dsl::Eq<tasks::completed_operations, diesel::dsl::Add<tasks::completed_operations, i32>>,
    diesel::dsl::Eq<tasks::failed_operations, diesel::dsl::Add<tasks::failed_operations, i32>>,
    diesel::dsl::Eq<tasks::items_found, diesel::dsl::Add<tasks::items_found, i64>>,
    diesel::dsl::Eq<tasks::new_documents, diesel::dsl::Add<tasks::new_documents, i64>>,
    diesel::dsl::Eq<tasks::pages_fetched, diesel::dsl::Add<tasks::pages_fetched, i64>>,
    diesel::dsl::Eq<tasks::updated_at, i64>,
) {
    (
        tasks::completed_operations.eq(tasks::completed_operations + 1),
        tasks::failed_operations.eq(tasks::failed_operations + i32::from(row.error.is_some())),
        tasks::items_found.eq(tasks::items_found + row.items_found),
        tasks::new_documents.eq(tasks::new_documents + row.new_documents),
        tasks::pages_fetched.eq(tasks::pages_fetched + i64::from(row.pages_fetched)),
        tasks::updated_at.eq(now_us),
    )
}
