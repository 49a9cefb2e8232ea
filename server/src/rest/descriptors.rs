//! The API's descriptors as the JSON mapping reads them: the `scrape.v1`
//! set the build writes for reflection (messages, HTTP rules, comments),
//! with the `google.rpc` error details that statuses carry.

use prost_reflect::{DescriptorPool, DynamicMessage, FileDescriptor, SerializeOptions};

/// Every message the JSON API reads or writes.
pub fn pool() -> Result<DescriptorPool, String> {
    let mut pool =
        DescriptorPool::decode(scrape_api::FILE_DESCRIPTOR_SET).map_err(|e| format!("the API's descriptors: {e}"))?;
    pool.decode_file_descriptor_set(tonic_types::pb::FILE_DESCRIPTOR_SET)
        .map_err(|e| format!("the error details' descriptors: {e}"))?;
    Ok(pool)
}

/// How messages are written: the proto3 JSON mapping (lowerCamelCase
/// names, enums by name, 64-bit integers as strings, RFC 3339 timestamps),
/// with every scalar field present even at its default value, so clients
/// find `completedOperations: 0` instead of nothing. Unset message fields
/// (a task's `completedAt` before it ends) are left out.
pub const WRITE: SerializeOptions = SerializeOptions::new().skip_default_fields(false);

/// `message` as JSON text.
pub fn to_json(message: &DynamicMessage) -> Vec<u8> {
    let mut out = Vec::new();
    let mut serializer = serde_json::Serializer::new(&mut out);
    // Writing into a Vec fails only on a non-finite float, which the
    // mapping writes as a string ("NaN") anyway.
    if message.serialize_with_options(&mut serializer, &WRITE).is_err() {
        out.clear();
        out.extend_from_slice(b"{}");
    }
    out
}

/// `message` as a JSON value.
pub fn to_value(message: &DynamicMessage) -> serde_json::Value {
    message.serialize_with_options(serde_json::value::Serializer, &WRITE).unwrap_or_default()
}

/// The comment before the element at `path` of `file` (source code info
/// paths, as the descriptors give them), its lines trimmed.
pub fn comment(file: &FileDescriptor, path: &[i32]) -> Option<String> {
    let info = file.file_descriptor_proto().source_code_info.as_ref()?;
    let location = info.location.iter().find(|l| l.path == path)?;
    let text = location.leading_comments.as_deref()?;
    let lines: Vec<&str> = text.lines().map(str::trim).collect();
    let text = lines.join("\n").trim().to_owned();
    (!text.is_empty()).then_some(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pool_holds_the_api_and_the_error_details_with_their_comments() {
        let pool = pool().expect("descriptors");
        let task = pool.get_message_by_name("scrape.v1.Task").expect("Task");
        assert!(pool.get_message_by_name("google.rpc.BadRequest").is_some());
        assert!(pool.get_message_by_name("google.rpc.Status").is_some());
        assert_eq!(comment(&task.parent_file(), task.path()).as_deref(), Some("A scraping task."));
        let id = task.get_field_by_name("id").expect("id");
        assert_eq!(comment(&task.parent_file(), id.path()).as_deref(), Some("A UUIDv7, so ids sort by creation time."));
    }
}
