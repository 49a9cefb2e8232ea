//! JSON Schemas of the API's messages and enums for the OpenAPI document,
//! as the proto3 JSON mapping writes them: lowerCamelCase properties, enums
//! by name, 64-bit integers as strings, well-known types as their JSON
//! form (a Timestamp is an RFC 3339 string). Descriptions are the protos'
//! comments.

use std::collections::BTreeMap;

use prost_reflect::{EnumDescriptor, FieldDescriptor, Kind, MessageDescriptor};
use serde_json::{Map, Value, json};

use crate::rest::descriptors::comment;

/// The component schemas met so far, by full name.
#[derive(Debug, Default)]
pub struct Schemas {
    components: BTreeMap<String, Value>,
}

impl Schemas {
    /// Everything referenced, for `components.schemas`.
    pub fn into_components(self) -> Map<String, Value> {
        self.components.into_iter().collect()
    }

    /// The schema of a message: inline for a well-known type, else a
    /// reference to its component (added with every type it uses).
    pub fn message(&mut self, message: &MessageDescriptor) -> Value {
        if let Some(schema) = well_known(message) {
            return schema;
        }
        let name = message.full_name().to_owned();
        if !self.components.contains_key(&name) {
            // A placeholder first: a message may contain itself.
            self.components.insert(name.clone(), Value::Null);
            let schema = self.object(message);
            self.components.insert(name.clone(), schema);
        }
        reference(&name)
    }

    /// The object schema of a message's fields.
    pub fn object(&mut self, message: &MessageDescriptor) -> Value {
        let mut properties = Map::new();
        for field in message.fields() {
            properties.insert(field.json_name().to_owned(), self.field(&field));
        }
        let mut schema = json!({ "type": "object", "properties": properties });
        let mut description = comment(&message.parent_file(), message.path()).unwrap_or_default();
        for oneof in message.oneofs().filter(|o| !o.is_synthetic()) {
            let names = oneof.fields().map(|f| format!("`{}`", f.json_name())).collect::<Vec<_>>().join(", ");
            description = format!("{description}\n\nAt most one of {names}.").trim().to_owned();
        }
        if !description.is_empty() {
            schema["description"] = Value::String(description);
        }
        schema
    }

    /// The schema of a field, with its comment.
    pub fn field(&mut self, field: &FieldDescriptor) -> Value {
        let mut schema = if field.is_map() {
            let Kind::Message(entry) = field.kind() else { return json!({}) };
            json!({ "type": "object", "additionalProperties": self.kind(&entry.map_entry_value_field().kind()) })
        } else if field.is_list() {
            json!({ "type": "array", "items": self.kind(&field.kind()) })
        } else {
            self.kind(&field.kind())
        };
        if let Some(text) = comment(&field.parent_file(), field.path())
            && let Some(object) = schema.as_object_mut()
        {
            object.insert("description".into(), Value::String(text));
        }
        schema
    }

    /// The schema of one value of a kind.
    pub fn kind(&mut self, kind: &Kind) -> Value {
        match kind {
            Kind::Double => json!({ "type": "number", "format": "double" }),
            Kind::Float => json!({ "type": "number", "format": "float" }),
            Kind::Int32 | Kind::Sint32 | Kind::Sfixed32 => json!({ "type": "integer", "format": "int32" }),
            Kind::Uint32 | Kind::Fixed32 => json!({ "type": "integer", "format": "uint32", "minimum": 0 }),
            // Strings, so that no value loses precision in JavaScript.
            Kind::Int64 | Kind::Sint64 | Kind::Sfixed64 => json!({ "type": "string", "format": "int64" }),
            Kind::Uint64 | Kind::Fixed64 => json!({ "type": "string", "format": "uint64" }),
            Kind::Bool => json!({ "type": "boolean" }),
            Kind::String => json!({ "type": "string" }),
            Kind::Bytes => json!({ "type": "string", "format": "byte", "contentEncoding": "base64" }),
            Kind::Message(message) => self.message(message),
            Kind::Enum(enumeration) => self.enumeration(enumeration),
        }
    }

    /// A reference to an enum's component: its value names.
    fn enumeration(&mut self, enumeration: &EnumDescriptor) -> Value {
        let name = enumeration.full_name().to_owned();
        if !self.components.contains_key(&name) {
            let names: Vec<String> = enumeration.values().map(|v| v.name().to_owned()).collect();
            let mut lines: Vec<String> = comment(&enumeration.parent_file(), enumeration.path()).into_iter().collect();
            for value in enumeration.values() {
                if let Some(text) = comment(&value.parent_file(), value.path()) {
                    lines.push(format!("- `{}`: {}", value.name(), text.replace('\n', " ")));
                }
            }
            let mut schema = json!({ "type": "string", "enum": names });
            if !lines.is_empty() {
                schema["description"] = Value::String(lines.join("\n"));
            }
            self.components.insert(name.clone(), schema);
        }
        reference(&name)
    }
}

fn reference(name: &str) -> Value {
    json!({ "$ref": format!("#/components/schemas/{name}") })
}

/// The JSON form of the well-known types.
fn well_known(message: &MessageDescriptor) -> Option<Value> {
    let schema = match message.full_name() {
        "google.protobuf.Timestamp" => json!({ "type": "string", "format": "date-time" }),
        "google.protobuf.Duration" => json!({
            "type": "string",
            "pattern": "^-?[0-9]+(\\.[0-9]{1,9})?s$",
            "description": "Seconds with an `s` suffix, e.g. \"1.5s\".",
        }),
        "google.protobuf.FieldMask" => json!({
            "type": "string",
            "description": "Field names, comma-separated, e.g. \"name,schedule\".",
        }),
        "google.protobuf.Any" => json!({
            "type": "object",
            "properties": { "@type": { "type": "string" } },
            "required": ["@type"],
            "additionalProperties": true,
        }),
        "google.protobuf.Empty" => json!({ "type": "object" }),
        "google.protobuf.Struct" => json!({ "type": "object", "additionalProperties": true }),
        "google.protobuf.Value" => json!({}),
        "google.protobuf.ListValue" => json!({ "type": "array", "items": {} }),
        "google.protobuf.StringValue" => json!({ "type": "string" }),
        "google.protobuf.BytesValue" => json!({ "type": "string", "format": "byte" }),
        "google.protobuf.BoolValue" => json!({ "type": "boolean" }),
        "google.protobuf.Int32Value" | "google.protobuf.UInt32Value" => json!({ "type": "integer" }),
        "google.protobuf.Int64Value" | "google.protobuf.UInt64Value" => json!({ "type": "string", "format": "int64" }),
        "google.protobuf.FloatValue" | "google.protobuf.DoubleValue" => json!({ "type": "number" }),
        _ => return None,
    };
    Some(schema)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rest::descriptors;

    #[test]
    fn messages_are_described_as_the_json_mapping_writes_them() {
        let pool = descriptors::pool().expect("descriptors");
        let mut schemas = Schemas::default();
        let task = pool.get_message_by_name("scrape.v1.Task").expect("Task");
        assert_eq!(schemas.message(&task), json!({ "$ref": "#/components/schemas/scrape.v1.Task" }));
        let components = schemas.into_components();
        let properties = &components["scrape.v1.Task"]["properties"];
        assert_eq!(properties["createdAt"]["type"], "string");
        assert_eq!(properties["createdAt"]["format"], "date-time");
        assert_eq!(properties["status"]["$ref"], "#/components/schemas/scrape.v1.TaskStatus");
        assert_eq!(properties["id"]["description"], "A UUIDv7, so ids sort by creation time.");
        let summary = &components["scrape.v1.TaskSummary"]["properties"];
        assert_eq!(summary["itemsFound"]["type"], "string", "uint64 as a string");
        assert_eq!(summary["keywords"]["items"]["$ref"], "#/components/schemas/scrape.v1.KeywordSummary");
        let statuses = components["scrape.v1.TaskStatus"]["enum"].as_array().expect("names");
        assert!(statuses.contains(&json!("TASK_STATUS_RUNNING")));
        assert!(components.values().all(|schema| !schema.is_null()), "every placeholder filled");
    }
}
