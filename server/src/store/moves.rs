//! The domain's lifecycle moves ([`Transition`]) as column changes: the
//! store applies a move to a row whose status the move allows, and logs
//! the move's event in the same transaction.

use chrono::{DateTime, Utc};

use crate::domain::lifecycle::Mark;
use crate::domain::{EventKind, Transition};
use crate::store::convert::{status_name, to_micros};
use crate::store::models::{NewEventRow, TaskChange};

/// Who takes the task, for a claim.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Taker<'a> {
    pub owner: &'a str,
    pub lease_until: i64,
}

/// The row of an event, to insert in the caller's transaction.
pub(crate) fn event_row(task_id: &str, kind: EventKind, message: impl Into<String>, at: DateTime<Utc>) -> NewEventRow {
    NewEventRow {
        task_id: task_id.to_owned(),
        at: to_micros(at),
        kind: kind.as_str().to_owned(),
        message: message.into(),
    }
}

/// The column changes of `transition` at `now`. `started_at` is the row's
/// current start (a claim keeps it); `taker` is the claimer; `error` is
/// what a finish records.
pub(crate) fn change(
    transition: Transition,
    now: DateTime<Utc>,
    started_at: Option<i64>,
    taker: Option<Taker<'_>>,
    error: Option<String>,
) -> TaskChange {
    let now_us = to_micros(now);
    let effects = transition.effects();
    let stamp = |mark: Mark, current: Option<i64>| match mark {
        Mark::Keep => None,
        Mark::Set => Some(Some(now_us)),
        Mark::SetIfUnset => Some(Some(current.unwrap_or(now_us))),
        Mark::Clear => Some(None),
    };
    let (owner, lease_expires_at) = match (effects.owner, taker) {
        (Mark::Set | Mark::SetIfUnset, Some(t)) => (Some(Some(t.owner.to_owned())), Some(Some(t.lease_until))),
        (Mark::Clear, _) => (Some(None), Some(None)),
        _ => (None, None),
    };
    let zero = effects.clears_results;
    TaskChange {
        status: Some(status_name(transition.to()).to_owned()),
        updated_at: Some(now_us),
        started_at: stamp(effects.started_at, started_at),
        completed_at: stamp(effects.completed_at, None),
        owner,
        lease_expires_at,
        stop_requested: match effects.stop_requested {
            Mark::Keep => None,
            Mark::Clear => Some(false),
            Mark::Set | Mark::SetIfUnset => Some(true),
        },
        error: match effects.error {
            Mark::Keep => None,
            Mark::Clear => Some(None),
            Mark::Set | Mark::SetIfUnset => Some(error),
        },
        completed_operations: zero.then_some(0),
        failed_operations: zero.then_some(0),
        items_found: zero.then_some(0),
        new_documents: zero.then_some(0),
        pages_fetched: zero.then_some(0),
    }
}
