//! Opaque page tokens for keyset pagination.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::domain::Task;
use crate::store::TaskCursor;

/// Where the next page of tasks starts. Encoded as url-safe base64 of
/// `t1:<created_at micros>:<id>`; clients must treat it as opaque.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageToken {
    pub cursor: TaskCursor,
}

/// A token that was not issued by this server.
#[derive(Debug, thiserror::Error)]
#[error("invalid page token: pass back a next_page_token unchanged, or nothing for the first page")]
pub struct InvalidPageToken;

impl PageToken {
    pub fn after(task: &Task) -> PageToken {
        PageToken { cursor: TaskCursor::after(task) }
    }

    pub fn encode(&self) -> String {
        URL_SAFE_NO_PAD.encode(format!("t1:{}:{}", self.cursor.created_at, self.cursor.id))
    }

    pub fn decode(token: &str) -> Result<PageToken, InvalidPageToken> {
        let bytes = URL_SAFE_NO_PAD.decode(token.trim()).map_err(|_| InvalidPageToken)?;
        let text = String::from_utf8(bytes).map_err(|_| InvalidPageToken)?;
        let mut parts = text.splitn(3, ':');
        let (Some("t1"), Some(created_at), Some(id)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(InvalidPageToken);
        };
        let created_at = created_at.parse().map_err(|_| InvalidPageToken)?;
        let id: crate::domain::TaskId = id.parse().map_err(|_| InvalidPageToken)?;
        Ok(PageToken { cursor: TaskCursor { created_at, id: id.to_string() } })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip_and_garbage_is_refused() {
        let token = PageToken {
            cursor: TaskCursor { created_at: 1_700_000_000_000_000, id: crate::domain::TaskId::new().to_string() },
        };
        assert_eq!(PageToken::decode(&token.encode()).ok(), Some(token));
        for garbage in ["", "abc", "!!!", &URL_SAFE_NO_PAD.encode("t1:x:y"), &URL_SAFE_NO_PAD.encode("t2:1:2")] {
            assert!(PageToken::decode(garbage).is_err(), "{garbage}");
        }
    }
}
