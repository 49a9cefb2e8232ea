//! Opaque page tokens for keyset pagination: url-safe base64 of a JSON array
//! `[kind, key…]` holding the sort key of the last item of the page (and,
//! for tasks, the order it was listed in).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::domain::{Document, OperationResult, TaskId, TaskOrder};
use crate::store::{DocumentCursor, OperationCursor, TaskCursor};

/// A token that was not issued by this server (or for another list).
#[derive(Debug, thiserror::Error)]
#[error("invalid page token: pass back a next_page_token unchanged, or nothing for the first page")]
pub struct InvalidPageToken;

pub(super) fn encode(kind: &str, parts: &[String]) -> String {
    let mut all = vec![kind.to_owned()];
    all.extend_from_slice(parts);
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(&all).expect("strings serialise"))
}

pub(super) fn decode<const N: usize>(kind: &str, token: &str) -> Result<[String; N], InvalidPageToken> {
    let bytes = URL_SAFE_NO_PAD.decode(token.trim()).map_err(|_| InvalidPageToken)?;
    let mut parts: Vec<String> = serde_json::from_slice(&bytes).map_err(|_| InvalidPageToken)?;
    if parts.len() != N + 1 || parts[0] != kind {
        return Err(InvalidPageToken);
    }
    parts.remove(0);
    parts.try_into().map_err(|_| InvalidPageToken)
}

/// Decodes an optional token (empty: the first page).
pub(super) fn optional<T>(
    token: &str,
    parse: impl FnOnce(&str) -> Result<T, InvalidPageToken>,
) -> Result<Option<T>, InvalidPageToken> {
    if token.trim().is_empty() { Ok(None) } else { parse(token).map(Some) }
}

/// A task page token was not issued by this server, or was issued for
/// another order than the one asked.
#[derive(Debug, thiserror::Error)]
pub enum TaskTokenError {
    #[error(transparent)]
    Invalid(#[from] InvalidPageToken),
    #[error(
        "was issued for order_by {issued:?}, not {asked:?}: send the order_by of the call that returned it, \
         or no page_token for a first page"
    )]
    OtherOrder { issued: String, asked: &'static str },
}

/// `["tasks", order, key, created_at, id]`: the order the page was listed
/// in, and where the next page starts in it.
pub fn task_token(after: &TaskCursor, order: TaskOrder) -> String {
    encode("tasks", &[order.as_str().to_owned(), after.key.clone(), after.created_at.to_string(), after.id.clone()])
}

/// The cursor of a task page token, which must have been issued for `order`.
pub fn task_cursor(token: &str, order: TaskOrder) -> Result<Option<TaskCursor>, TaskTokenError> {
    if token.trim().is_empty() {
        return Ok(None);
    }
    let [issued, key, created_at, id] = match decode("tasks", token) {
        Ok(parts) => parts,
        // Tokens of servers that listed newest first only.
        Err(_) => {
            let [created_at, id] = decode("tasks", token)?;
            [TaskOrder::NEWEST_FIRST.as_str().to_owned(), String::new(), created_at, id]
        }
    };
    if issued != order.as_str() {
        return Err(TaskTokenError::OtherOrder { issued, asked: order.as_str() });
    }
    let id: TaskId = id.parse().map_err(|_| InvalidPageToken)?;
    let created_at = created_at.parse().map_err(|_| InvalidPageToken)?;
    Ok(Some(TaskCursor { key, created_at, id: id.to_string() }))
}

pub fn operation_token(last: &OperationResult) -> String {
    encode("operations", &[last.prefecture_code().to_owned(), last.keyword().to_owned()])
}

pub fn operation_cursor(token: &str) -> Result<Option<OperationCursor>, InvalidPageToken> {
    optional(token, |token| {
        let [prefecture_code, keyword] = decode("operations", token)?;
        Ok(OperationCursor { prefecture_code, keyword })
    })
}

pub fn document_token(last: &Document, in_task: bool) -> String {
    match DocumentCursor::after(last, in_task) {
        DocumentCursor::InTask { prefecture_code, keyword, link } => {
            encode("task-documents", &[prefecture_code, keyword, link])
        }
        DocumentCursor::Global { first_seen_at, link } => encode("documents", &[first_seen_at.to_string(), link]),
    }
}

pub fn document_cursor(token: &str, in_task: bool) -> Result<Option<DocumentCursor>, InvalidPageToken> {
    optional(token, |token| {
        if in_task {
            let [prefecture_code, keyword, link] = decode("task-documents", token)?;
            Ok(DocumentCursor::InTask { prefecture_code, keyword, link })
        } else {
            let [first_seen_at, link] = decode("documents", token)?;
            Ok(DocumentCursor::Global { first_seen_at: first_seen_at.parse().map_err(|_| InvalidPageToken)?, link })
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip() {
        let cursor = OperationCursor { prefecture_code: "2A".into(), keyword: "bœuf: \"label\"".into() };
        let token = encode("operations", &[cursor.prefecture_code.clone(), cursor.keyword.clone()]);
        assert_eq!(operation_cursor(&token).ok().flatten(), Some(cursor));
        assert_eq!(operation_cursor("").ok().flatten(), None);
    }

    #[test]
    fn a_task_token_reads_back_in_its_own_order_only() {
        let cursor =
            TaskCursor { key: "running".into(), created_at: 1_733_000_000_000_000, id: TaskId::new().to_string() };
        for order in TaskOrder::ALL {
            let token = task_token(&cursor, order);
            assert_eq!(task_cursor(&token, order).ok().flatten(), Some(cursor.clone()));
            for other in TaskOrder::ALL.into_iter().filter(|o| *o != order) {
                let refused = task_cursor(&token, other).expect_err("another order");
                assert!(matches!(refused, TaskTokenError::OtherOrder { .. }), "{order} read as {other}");
                assert!(refused.to_string().contains(order.as_str()), "{refused}");
            }
        }
    }

    #[test]
    fn tokens_of_servers_that_listed_newest_first_only_still_read_in_that_order() {
        let id = TaskId::new().to_string();
        let legacy = encode("tasks", &["1733000000000000".into(), id.clone()]);
        let cursor = task_cursor(&legacy, TaskOrder::NEWEST_FIRST).expect("valid").expect("a cursor");
        assert_eq!(cursor, TaskCursor { key: String::new(), created_at: 1_733_000_000_000_000, id });
        assert!(task_cursor(&legacy, TaskOrder::NEWEST_FIRST.reversed()).is_err());
    }

    #[test]
    fn garbage_and_foreign_tokens_are_refused() {
        let foreign = encode("operations", &["56".into(), "bovin".into()]);
        for garbage in ["abc", "!!!", "W10", &URL_SAFE_NO_PAD.encode("[\"tasks\",\"x\",\"y\"]"), &foreign] {
            assert!(task_cursor(garbage, TaskOrder::NEWEST_FIRST).is_err(), "{garbage}");
        }
        assert!(document_cursor(&foreign, true).is_err());
    }
}

#[cfg(test)]
mod properties {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        #[test]
        fn operation_tokens_round_trip_whatever_their_keys(prefecture_code in any::<String>(), keyword in any::<String>()) {
            let token = encode("operations", &[prefecture_code.clone(), keyword.clone()]);
            prop_assert!(token.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
            let cursor = operation_cursor(&token).expect("valid").expect("a cursor");
            prop_assert_eq!(cursor, OperationCursor { prefecture_code, keyword });
        }

        #[test]
        fn any_text_as_a_page_token_is_a_cursor_or_a_refusal_never_a_panic(token in any::<String>(), in_task: bool) {
            let _ = task_cursor(&token, TaskOrder::NEWEST_FIRST);
            let _ = operation_cursor(&token);
            let _ = document_cursor(&token, in_task);
        }

        #[test]
        fn a_token_of_one_list_is_refused_by_the_others(a in "[a-z0-9]{1,10}", b in "[a-z0-9]{1,10}") {
            let token = encode("operations", &[a, b]);
            prop_assert!(task_cursor(&token, TaskOrder::NEWEST_FIRST).is_err());
            prop_assert!(document_cursor(&token, true).is_err());
            prop_assert!(document_cursor(&token, false).is_err());
        }
    }
}
