//! The write path of running operations. Operations queue their pages and
//! their ends; one writer task per store takes everything queued (up to a
//! bound) and commits it in one transaction — group commit — then
//! acknowledges each write. A write applies only where its operation stands
//! as stored, and only while its worker still owns the task: nothing is
//! counted twice, and a worker that lost its task writes nothing.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, RunQueryDsl};
use tokio::sync::{mpsc, oneshot};

use crate::domain::{Card, Counters, OperationProgress, TaskId};
use crate::store::batch::{Failure, Plan, Verdict};
use crate::store::dialect::Dialect;
use crate::store::document_index;
use crate::store::models::{CountersRow, ProgressRow};
use crate::store::schema::{documents, operation_progress, operations, task_events, tasks};
use crate::store::{Backend, Store, StoreError, with_conn};

/// Writes waiting for the writer at most: an operation queueing a page
/// past it waits for room, so memory stays bounded however slow the
/// database is (a write holds one page's cards).
pub const QUEUE_CAPACITY: usize = 128;

/// While writes keep coming, the word index takes what it lacks after this
/// many commits.
const COMMITS_PER_INDEX_STEP: u32 = 4;

/// Writes committed together at most. On the local mirror of every site
/// (no politeness delay), batches of 64 already take a fifth off the CPU
/// of one transaction per operation; bigger ones save little more, hold
/// more cards in memory, and hold the database's write lock (on SQLite, the
/// one writer connection) long enough to delay claims and heartbeats.
const MAX_BATCH: usize = 64;

/// Longest pause between two attempts at a batch while the database is
/// unavailable.
const RETRY_CAP: Duration = Duration::from_secs(5);

/// One write of a running operation: a page it fetched, or its end.
#[derive(Debug, Clone)]
pub struct Write {
    pub task: TaskId,
    /// The worker running the task: the write applies only while the task
    /// is still its own.
    pub owner: String,
    pub prefecture_code: String,
    pub keyword: String,
    /// Where the operation stood after its previous write (zero before its
    /// first): the write applies only if that is what is stored.
    pub before: OperationProgress,
    /// Where it stands after this write.
    pub after: OperationProgress,
    pub step: Step,
    /// When the page was fetched, or the operation ended.
    pub at: DateTime<Utc>,
}

/// What a write adds to its operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// A page: its cards are stored and linked to the task.
    Page(Vec<Card>),
    /// The end: the operation's progress becomes its record (failed with
    /// `error`, if any).
    End { error: Option<String> },
}

/// Why a write was not applied.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    /// The task is no longer the writing worker's (another took it over, or
    /// it ended): the write must not count.
    #[error("the task is no longer this worker's")]
    Lost,
    /// The operation is not stored where the write started (an earlier
    /// write of it was not applied, or it ended already).
    #[error("out of sequence: the operation is not stored where the write started")]
    OutOfSequence,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The answer to a queued write: the task's counters once it is committed,
/// or why it was not applied.
#[derive(Debug)]
pub struct Acknowledgement(oneshot::Receiver<Result<Counters, WriteError>>);

impl Future for Acknowledgement {
    type Output = Result<Counters, WriteError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        Pin::new(&mut self.0).poll(cx).map(|answer| {
            answer.unwrap_or_else(|_| {
                Err(WriteError::Store(StoreError::Unavailable("the store's writer stopped".into())))
            })
        })
    }
}

/// A write waiting for the writer, with where its answer goes.
#[derive(Debug)]
struct Queued {
    write: Write,
    ack: oneshot::Sender<Result<Counters, WriteError>>,
}

impl Queued {
    /// Nobody waits for the answer any more (the operation gave up): an
    /// uncommitted write is dropped rather than retried.
    fn abandoned(&self) -> bool {
        self.ack.is_closed()
    }

    fn answer(self, answer: Result<Counters, WriteError>) {
        let _ = self.ack.send(answer);
    }
}

/// The queue of a store's writer; the writer stops once every store handle
/// is dropped.
#[derive(Debug, Clone)]
pub(crate) struct Writer {
    queue: mpsc::Sender<Queued>,
    batches: Arc<AtomicU64>,
}

impl Writer {
    /// Starts the writer of a store's backend.
    pub(crate) fn start(backend: Backend) -> Writer {
        let (queue, receiver) = mpsc::channel(QUEUE_CAPACITY);
        let batches = Arc::new(AtomicU64::new(0));
        let committer = Committer { backend, batches: batches.clone() };
        tokio::spawn(committer.run(receiver));
        Writer { queue, batches }
    }
}

impl Store {
    /// Queues a write for the store's writer, waiting only while its queue
    /// is full; the acknowledgement resolves once the write is committed
    /// (with the task's counters) or refused.
    pub async fn queue_write(&self, write: Write) -> Acknowledgement {
        let (ack, answer) = oneshot::channel();
        // Should the writer be gone, the dropped write answers as unavailable.
        let _ = self.writer.queue.send(Queued { write, ack }).await;
        Acknowledgement(answer)
    }

    /// Queues a write and waits for its commit.
    pub async fn write(&self, write: Write) -> Result<Counters, WriteError> {
        self.queue_write(write).await.await
    }

    /// Transactions the writer committed so far.
    pub fn committed_batches(&self) -> u64 {
        AtomicU64::load(&self.writer.batches, Ordering::Relaxed)
    }
}

/// The writer task's side: the backend it writes to.
struct Committer {
    backend: Backend,
    batches: Arc<AtomicU64>,
}

impl Committer {
    async fn run(self, mut queue: mpsc::Receiver<Queued>) {
        // Documents may wait for the word index: stored before a restart,
        // or by the last commits. It is filled between commits: a batch
        // whenever no write waits, and all that is behind every few commits
        // while writes keep coming, so that it lags by a few commits at most.
        let mut behind = true;
        let mut commits_since_step = 0;
        loop {
            let first = match queue.try_recv() {
                Ok(first) => first,
                Err(mpsc::error::TryRecvError::Disconnected) => break,
                Err(mpsc::error::TryRecvError::Empty) if behind => {
                    behind = self.index_documents(document_index::INDEX_BATCH).await;
                    commits_since_step = 0;
                    continue;
                }
                Err(mpsc::error::TryRecvError::Empty) => match queue.recv().await {
                    Some(first) => first,
                    None => break,
                },
            };
            behind = true;
            commits_since_step += 1;
            if commits_since_step >= COMMITS_PER_INDEX_STEP {
                self.index_documents(i64::MAX).await;
                commits_since_step = 0;
            }
            let Some(failed) = self.commit(Some(&mut queue), vec![first]).await else { continue };
            // A batch that failed for another reason than an unavailable
            // database: each write alone, so that one bad write fails only
            // itself (and, out of sequence, the later writes of its
            // operation).
            for queued in failed {
                let _ = self.commit(None, vec![queued]).await;
            }
        }
        tracing::debug!("store writer stopped");
    }

    /// One step of the word index (at most `batch` documents); returns
    /// whether documents may still wait for it.
    async fn index_documents(&self, batch: i64) -> bool {
        let step: Result<u64, StoreError> =
            async { Ok(with_conn!(self, writer, |conn| conn.index_documents(batch).await?)) }.await;
        match step {
            Ok(indexed) => indexed > 0 && i64::try_from(indexed).is_ok_and(|n| n >= batch),
            Err(e) => {
                // Searches scan what the index lacks; the next commit tries again.
                tracing::warn!(error = %e, "the word index of documents could not be extended");
                false
            }
        }
    }

    /// Commits `batch` (joined by what `queue` holds once a connection is
    /// ours), retrying while the database is unavailable, and answers each
    /// write. Returns the batch, unanswered, when it failed otherwise and
    /// held more than one write.
    async fn commit(
        &self,
        mut queue: Option<&mut mpsc::Receiver<Queued>>,
        mut batch: Vec<Queued>,
    ) -> Option<Vec<Queued>> {
        let mut pause = Duration::from_millis(50);
        let mut attempt = 1;
        loop {
            batch.retain(|queued| !queued.abandoned());
            if batch.is_empty() && queue.as_ref().is_none_or(|q| q.is_empty()) {
                return None;
            }
            match self.transaction(queue.as_deref_mut(), &mut batch).await {
                Ok(answers) => {
                    if !batch.is_empty() {
                        let n = self.batches.fetch_add(1, Ordering::Relaxed) + 1;
                        tracing::trace!(batch = n, writes = batch.len(), "writes committed");
                    }
                    for (queued, answer) in batch.into_iter().zip(answers) {
                        queued.answer(answer);
                    }
                    return None;
                }
                Err(Failure::Lost(lost)) => {
                    // Those tasks' writes are refused; the others go again.
                    let (refused, kept) = batch.into_iter().partition(|q| {
                        lost.iter().any(|(task, owner)| q.write.task == *task && q.write.owner == *owner)
                    });
                    let refused: Vec<Queued> = refused;
                    for queued in refused {
                        queued.answer(Err(WriteError::Lost));
                    }
                    batch = kept;
                }
                Err(Failure::Store(e)) if e.is_unavailable() => {
                    if attempt == 1 || attempt % 10 == 0 {
                        tracing::warn!(error = %e, attempt, writes = batch.len(), "store unavailable; retrying the writes");
                    }
                    tokio::time::sleep(pause).await;
                    pause = (pause * 2).min(RETRY_CAP);
                    attempt += 1;
                }
                Err(Failure::Store(e)) => {
                    if batch.len() > 1 {
                        tracing::warn!(error = %e, writes = batch.len(), "a batch of writes failed; writing them one by one");
                        return Some(batch);
                    }
                    tracing::error!(error = %e, "a write failed");
                    if let Some(queued) = batch.pop() {
                        queued.answer(Err(WriteError::Store(e)));
                    }
                    return None;
                }
            }
        }
    }

    /// One transaction over the batch: what each write adds, checked
    /// against where its operation stands and who owns its task.
    async fn transaction(
        &self,
        queue: Option<&mut mpsc::Receiver<Queued>>,
        batch: &mut Vec<Queued>,
    ) -> Result<Vec<Result<Counters, WriteError>>, Failure> {
        with_conn!(self, writer, |conn| {
            // Writes queued while the connection was awaited join the batch.
            if let Some(queue) = queue {
                while batch.len() < MAX_BATCH {
                    let Ok(queued) = queue.try_recv() else { break };
                    if !queued.abandoned() {
                        batch.push(queued);
                    }
                }
            }
            if batch.is_empty() {
                return Ok(Vec::new());
            }
            let writes: Vec<&Write> = batch.iter().map(|queued| &queued.write).collect();
            let task_ids = Plan::task_ids(&writes);
            conn.transaction::<_, Failure, _>(async |conn| {
                let stored: Vec<ProgressRow> = operation_progress::table
                    .filter(operation_progress::task_id.eq_any(&task_ids))
                    .select(ProgressRow::as_select())
                    .load(conn)
                    .await?;
                let (codes, keywords) = Plan::fresh_places(&writes);
                let recorded: Vec<(String, String, String)> = if codes.is_empty() {
                    Vec::new()
                } else {
                    operations::table
                        .filter(operations::task_id.eq_any(&task_ids))
                        .filter(operations::prefecture_code.eq_any(&codes))
                        .filter(operations::keyword.eq_any(&keywords))
                        .select((operations::task_id, operations::prefecture_code, operations::keyword))
                        .load(conn)
                        .await?
                };
                let mut plan = Plan::new(&writes, stored, recorded)?;
                if !plan.links.is_empty() {
                    conn.insert_cards(std::mem::take(&mut plan.docs), std::mem::take(&mut plan.links)).await?;
                }
                for (task_id, codes, keywords) in plan.ended_places() {
                    let firsts: Vec<(String, String, i64)> = documents::table
                        .filter(documents::first_task_id.eq(&task_id))
                        .filter(documents::prefecture_code.eq_any(&codes))
                        .filter(documents::keyword.eq_any(&keywords))
                        .group_by((documents::prefecture_code, documents::keyword))
                        .select((documents::prefecture_code, documents::keyword, diesel::dsl::count_star()))
                        .load(conn)
                        .await?;
                    plan.credit_new_documents(&task_id, firsts);
                }
                if !plan.progress.is_empty() || !plan.ended.is_empty() {
                    conn.record_progress(std::mem::take(&mut plan.progress), std::mem::take(&mut plan.ended)).await?;
                }
                let now = crate::store::convert::to_micros(Utc::now());
                let mut lost = Vec::new();
                for delta in &mut plan.deltas {
                    let after: Option<CountersRow> =
                        diesel::update(tasks::table.find(&delta.task_id).filter(tasks::owner.eq(&delta.owner)))
                            .set((
                                tasks::completed_operations
                                    .eq(tasks::completed_operations + delta.completed_operations),
                                tasks::failed_operations.eq(tasks::failed_operations + delta.failed_operations),
                                tasks::items_found.eq(tasks::items_found + delta.items_found),
                                tasks::new_documents.eq(tasks::new_documents + delta.new_documents),
                                tasks::pages_fetched.eq(tasks::pages_fetched + delta.pages_fetched),
                                tasks::updated_at.eq(now),
                            ))
                            .returning(CountersRow::as_returning())
                            .get_result(conn)
                            .await
                            .optional()?;
                    match after {
                        Some(row) => delta.counters = Some(Counters::try_from(row)?),
                        None => lost.push((delta.task, delta.owner.clone())),
                    }
                }
                if !lost.is_empty() {
                    return Err(Failure::Lost(lost));
                }
                for event in &plan.events {
                    diesel::insert_into(task_events::table).values(event).execute(conn).await?;
                }
                Ok(plan.answers())
            })
            .await
        })
    }
}

impl Plan {
    /// The answer to each write, in order.
    fn answers(&self) -> Vec<Result<Counters, WriteError>> {
        self.verdicts
            .iter()
            .map(|verdict| match verdict {
                Verdict::Applied(delta) => {
                    self.deltas[*delta].counters.ok_or(WriteError::Store(StoreError::Corrupt("no counters".into())))
                }
                Verdict::OutOfSequence => Err(WriteError::OutOfSequence),
            })
            .collect()
    }
}
