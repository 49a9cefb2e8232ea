//! What a batch of operation writes does, planned in memory from where its
//! operations stand as stored: which writes apply (in order, each from where
//! the previous one left its operation), the rows they add, and what each
//! task's counters gain.

use std::collections::{HashMap, HashSet};

use crate::domain::{EventKind, OperationProgress, TaskId};
use crate::store::StoreError;
use crate::store::convert::{progress_from, progress_row, to_i32, to_i64, to_micros, to_millis};
use crate::store::documents::card_rows;
use crate::store::models::{DocumentRow, LinkRow, NewEventRow, OperationRow, ProgressRow};
use crate::store::moves::event_row;
use crate::store::writer::{Step, Write};

/// Why a batch was not committed.
#[derive(Debug)]
pub(crate) enum Failure {
    /// These tasks are no longer their writers' (task, owner): their writes
    /// must go, the others may be committed.
    Lost(Vec<(TaskId, String)>),
    Store(StoreError),
}

impl From<StoreError> for Failure {
    fn from(e: StoreError) -> Failure {
        Failure::Store(e)
    }
}

impl From<diesel::result::Error> for Failure {
    fn from(e: diesel::result::Error) -> Failure {
        Failure::Store(e.into())
    }
}

/// What became of one write of the batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// Applied; its task's counters are those of this delta.
    Applied(usize),
    /// Not where its operation stands: refused.
    OutOfSequence,
}

/// What one worker's writes add to one task's counters.
#[derive(Debug)]
pub(crate) struct Delta {
    pub task: TaskId,
    pub task_id: String,
    pub owner: String,
    pub completed_operations: i32,
    pub failed_operations: i32,
    pub items_found: i64,
    pub new_documents: i64,
    pub pages_fetched: i64,
    /// The task's counters once the batch is written.
    pub counters: Option<crate::domain::Counters>,
}

/// An operation of a task: (task id, prefecture code, keyword).
type Place = (String, String, String);

/// The rows and counts of a batch.
#[derive(Debug, Default)]
pub(crate) struct Plan {
    pub verdicts: Vec<Verdict>,
    /// New documents by link (the first write of a link wins), then links to
    /// tasks: sorted, so that concurrent writers lock rows in one order.
    pub docs: Vec<DocumentRow>,
    pub links: Vec<LinkRow>,
    /// Where each operation still in flight stands after the batch.
    pub progress: Vec<ProgressRow>,
    /// The records of the operations that ended.
    pub ended: Vec<OperationRow>,
    /// The delta each ended operation counts in.
    ended_deltas: Vec<usize>,
    pub deltas: Vec<Delta>,
    pub events: Vec<NewEventRow>,
}

impl Plan {
    /// The tasks the writes are about.
    pub fn task_ids(writes: &[&Write]) -> Vec<String> {
        let ids: HashSet<String> = writes.iter().map(|w| w.task.to_string()).collect();
        ids.into_iter().collect()
    }

    /// The prefecture codes and keywords of the writes that start from
    /// nothing stored: such an operation may be one recorded already, which
    /// must not count again.
    pub fn fresh_places(writes: &[&Write]) -> (Vec<String>, Vec<String>) {
        let fresh = writes.iter().filter(|w| w.before.same_place(&OperationProgress::default()));
        let (codes, keywords): (HashSet<String>, HashSet<String>) =
            fresh.map(|w| (w.prefecture_code.clone(), w.keyword.clone())).unzip();
        (codes.into_iter().collect(), keywords.into_iter().collect())
    }

    /// Plans the writes, in order, from the `stored` progress of their
    /// tasks' operations and the operations among them `recorded` already.
    pub fn new(writes: &[&Write], stored: Vec<ProgressRow>, recorded: Vec<Place>) -> Result<Plan, StoreError> {
        let mut standing: HashMap<Place, OperationProgress> = HashMap::new();
        for row in &stored {
            standing
                .insert((row.task_id.clone(), row.prefecture_code.clone(), row.keyword.clone()), progress_from(row)?);
        }
        let mut done: HashSet<Place> = recorded.into_iter().collect();
        let mut in_flight: HashMap<Place, ProgressRow> = HashMap::new();
        let mut plan = Plan::default();
        for write in writes {
            let task_id = write.task.to_string();
            let place = (task_id.clone(), write.prefecture_code.clone(), write.keyword.clone());
            let current = standing.get(&place).copied().unwrap_or_default();
            if done.contains(&place) || !write.before.same_place(&current) {
                plan.verdicts.push(Verdict::OutOfSequence);
                continue;
            }
            let d = plan.delta(write, &task_id);
            let delta = &mut plan.deltas[d];
            delta.pages_fetched += i64::from(write.after.pages_fetched.saturating_sub(write.before.pages_fetched));
            delta.items_found += to_i64(write.after.items_found.saturating_sub(write.before.items_found));
            let at_us = to_micros(write.at);
            match &write.step {
                Step::Page(cards) => {
                    let (docs, links) = card_rows(&task_id, &write.prefecture_code, &write.keyword, cards, at_us);
                    plan.docs.extend(docs);
                    plan.links.extend(links);
                    standing.insert(place.clone(), write.after);
                    let row = progress_row(&task_id, &write.prefecture_code, &write.keyword, &write.after, at_us);
                    in_flight.insert(place, row);
                }
                Step::End { error } => {
                    delta.completed_operations += 1;
                    delta.failed_operations += i32::from(error.is_some());
                    if let Some(error) = error {
                        let message = format!("{} / {}: {error}", write.prefecture_code, write.keyword);
                        plan.events.push(event_row(&task_id, EventKind::OperationFailed, message, write.at));
                    }
                    plan.ended.push(OperationRow {
                        task_id: task_id.clone(),
                        prefecture_code: write.prefecture_code.clone(),
                        keyword: write.keyword.clone(),
                        items_found: to_i64(write.after.items_found),
                        new_documents: 0,
                        pages_fetched: to_i32(write.after.pages_fetched),
                        duration_ms: to_millis(write.after.elapsed),
                        error: error.clone(),
                        finished_at: at_us,
                    });
                    plan.ended_deltas.push(d);
                    standing.remove(&place);
                    in_flight.remove(&place);
                    done.insert(place);
                }
            }
            plan.verdicts.push(Verdict::Applied(d));
        }
        plan.docs.sort_by(|a, b| a.link.cmp(&b.link));
        plan.docs.dedup_by(|later, first| later.link == first.link);
        let key = |l: &LinkRow| (l.task_id.clone(), l.prefecture_code.clone(), l.keyword.clone(), l.link.clone());
        plan.links.sort_by_key(key);
        plan.links.dedup_by(|later, first| key(later) == key(first));
        plan.progress = in_flight.into_values().collect();
        plan.progress.sort_by(|a, b| {
            (&a.task_id, &a.prefecture_code, &a.keyword).cmp(&(&b.task_id, &b.prefecture_code, &b.keyword))
        });
        Ok(plan)
    }

    /// The delta of the write's task and worker.
    fn delta(&mut self, write: &Write, task_id: &str) -> usize {
        if let Some(i) = self.deltas.iter().position(|d| d.task == write.task && d.owner == write.owner) {
            return i;
        }
        self.deltas.push(Delta {
            task: write.task,
            task_id: task_id.to_owned(),
            owner: write.owner.clone(),
            completed_operations: 0,
            failed_operations: 0,
            items_found: 0,
            new_documents: 0,
            pages_fetched: 0,
            counters: None,
        });
        self.deltas.len() - 1
    }

    /// For each task with operations that ended: their prefecture codes and
    /// keywords.
    pub fn ended_places(&self) -> Vec<(String, Vec<String>, Vec<String>)> {
        let mut places: HashMap<&str, (HashSet<String>, HashSet<String>)> = HashMap::new();
        for row in &self.ended {
            let (codes, keywords) = places.entry(&row.task_id).or_default();
            codes.insert(row.prefecture_code.clone());
            keywords.insert(row.keyword.clone());
        }
        places
            .into_iter()
            .map(|(task, (codes, keywords))| {
                (task.to_owned(), codes.into_iter().collect(), keywords.into_iter().collect())
            })
            .collect()
    }

    /// Credits each ended operation of `task_id` with the documents it was
    /// the first to store (`firsts`: prefecture code, keyword, count), even
    /// those stored by its pages before a crash.
    pub fn credit_new_documents(&mut self, task_id: &str, firsts: Vec<(String, String, i64)>) {
        for (code, keyword, count) in firsts {
            let found = self
                .ended
                .iter_mut()
                .zip(&self.ended_deltas)
                .find(|(row, _)| row.task_id == task_id && row.prefecture_code == code && row.keyword == keyword);
            if let Some((row, &d)) = found {
                row.new_documents = count;
                self.deltas[d].new_documents += count;
            }
        }
    }
}
