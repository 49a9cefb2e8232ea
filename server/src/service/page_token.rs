//! Opaque page tokens for keyset pagination: url-safe base64 of a JSON array
//! `[kind, key…]` holding the sort key of the last item of the page.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::domain::{Document, OperationResult, Task, TaskId};
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

pub fn task_token(last: &Task) -> String {
    let cursor = TaskCursor::after(last);
    encode("tasks", &[cursor.created_at.to_string(), cursor.id])
}

pub fn task_cursor(token: &str) -> Result<Option<TaskCursor>, InvalidPageToken> {
    optional(token, |token| {
        let [created_at, id] = decode("tasks", token)?;
        let id: TaskId = id.parse().map_err(|_| InvalidPageToken)?;
        Ok(TaskCursor { created_at: created_at.parse().map_err(|_| InvalidPageToken)?, id: id.to_string() })
    })
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
    fn garbage_and_foreign_tokens_are_refused() {
        let foreign = encode("operations", &["56".into(), "bovin".into()]);
        for garbage in ["abc", "!!!", "W10", &URL_SAFE_NO_PAD.encode("[\"tasks\",\"x\",\"y\"]"), &foreign] {
            assert!(task_cursor(garbage).is_err(), "{garbage}");
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
            let _ = task_cursor(&token);
            let _ = operation_cursor(&token);
            let _ = document_cursor(&token, in_task);
        }

        #[test]
        fn a_token_of_one_list_is_refused_by_the_others(a in "[a-z0-9]{1,10}", b in "[a-z0-9]{1,10}") {
            let token = encode("operations", &[a, b]);
            prop_assert!(task_cursor(&token).is_err());
            prop_assert!(document_cursor(&token, true).is_err());
            prop_assert!(document_cursor(&token, false).is_err());
        }
    }
}
