//! An HTTP request turned into the RPC's request message: the JSON body
//! (all of the request, one field of it, or none, as the rule says), the
//! query string for the fields the body does not carry, then the path's
//! variables, which win over both. Names are lowerCamelCase or the proto's
//! own; unknown fields, malformed JSON and values of the wrong type are
//! refused, never dropped.

use prost_reflect::{DeserializeOptions, DynamicMessage, FieldDescriptor, Kind, MessageDescriptor};
use serde_json::{Map, Value};

use crate::rest::binding::{Binding, Body};
use crate::rest::status::Failure;

/// Well-known messages written as one JSON string (or bool) that a query
/// parameter can carry.
const SCALAR_MESSAGES: &[&str] = &[
    "google.protobuf.Timestamp",
    "google.protobuf.Duration",
    "google.protobuf.FieldMask",
    "google.protobuf.StringValue",
    "google.protobuf.BytesValue",
    "google.protobuf.Int32Value",
    "google.protobuf.Int64Value",
    "google.protobuf.UInt32Value",
    "google.protobuf.UInt64Value",
    "google.protobuf.FloatValue",
    "google.protobuf.DoubleValue",
    "google.protobuf.BoolValue",
];

/// Whether a field's value is one query parameter (or one per item).
pub fn is_query_leaf(field: &FieldDescriptor) -> bool {
    match field.kind() {
        Kind::Message(message) => SCALAR_MESSAGES.contains(&message.full_name()),
        _ => !field.is_map(),
    }
}

/// The request message of `binding` from the request's parts.
pub fn message(
    binding: &Binding,
    variables: Vec<(String, String)>,
    query: Option<&str>,
    body: &[u8],
) -> Result<DynamicMessage, Failure> {
    let input = binding.method.input();
    let empty = body.iter().all(u8::is_ascii_whitespace);
    let mut json = match &binding.body {
        Body::None if empty => Map::new(),
        Body::None => return Err(Failure::invalid("this route takes no body: its fields go in the query string")),
        Body::Whole if empty => Map::new(),
        Body::Whole => match parse(body)? {
            Value::Object(map) => map,
            _ => return Err(Failure::invalid("the body must be a JSON object")),
        },
        Body::Field(_) if empty => Map::new(),
        Body::Field(field) => Map::from_iter([(field.json_name().to_owned(), parse(body)?)]),
    };
    let query = query.unwrap_or_default();
    if !query.is_empty() {
        if matches!(binding.body, Body::Whole) {
            return Err(Failure::invalid("this route takes its fields in the JSON body, not the query string"));
        }
        let path_fields = binding.path_fields();
        for (name, value) in url::form_urlencoded::parse(query.as_bytes()) {
            let fields = resolve(&input, &name).map_err(|e| Failure::invalid_field(&name, e))?;
            let top = &fields[0];
            let in_body = matches!(&binding.body, Body::Field(f) if f == top);
            if in_body || path_fields.iter().any(|p| p == top.name()) {
                return Err(Failure::invalid_field(&name, "is given by the path or the body, not the query string"));
            }
            set(&mut json, &fields, &value, false).map_err(|e| Failure::invalid_field(&name, e))?;
        }
    }
    for (path, value) in variables {
        let fields = resolve(&input, &path).map_err(|e| Failure::invalid_field(&path, e))?;
        set(&mut json, &fields, &value, true).map_err(|e| Failure::invalid_field(&path, e))?;
    }
    DynamicMessage::deserialize_with_options(input, Value::Object(json), &DeserializeOptions::new())
        .map_err(|e| Failure::invalid(format!("invalid request: {e}")))
}

/// The body as JSON, or why it is not.
fn parse(body: &[u8]) -> Result<Value, Failure> {
    serde_json::from_slice(body).map_err(|e| Failure::invalid(format!("the body is not valid JSON: {e}")))
}

/// The fields along a dotted name (`createdAfter`, `watch.name`), each
/// segment a JSON or a proto name; the last one must fit in a parameter.
fn resolve(message: &MessageDescriptor, name: &str) -> Result<Vec<FieldDescriptor>, String> {
    let mut current = message.clone();
    let mut fields = Vec::new();
    let parts: Vec<&str> = name.split('.').collect();
    for (i, part) in parts.iter().enumerate() {
        let field = current
            .get_field_by_json_name(part)
            .or_else(|| current.get_field_by_name(part))
            .ok_or_else(|| format!("{} has no field {part:?}", current.full_name()))?;
        let last = i + 1 == parts.len();
        match field.kind() {
            _ if last && is_query_leaf(&field) => {}
            Kind::Message(inner) if !last && !field.is_list() && !field.is_map() && !is_query_leaf(&field) => {
                current = inner;
            }
            _ if last => return Err("is a message or a map: give its fields one by one (name.field)".into()),
            _ => return Err(format!("{part} has no fields")),
        }
        fields.push(field);
    }
    Ok(fields)
}

/// Puts one textual value at the end of `fields` in the JSON object; a
/// repeated field collects every value given. `replace` lets the path's
/// value win over one the body gave.
fn set(json: &mut Map<String, Value>, fields: &[FieldDescriptor], text: &str, replace: bool) -> Result<(), String> {
    let (leaf, parents) = fields.split_last().ok_or("no field")?;
    let mut object = json;
    for field in parents {
        rename(object, field);
        let entry = object.entry(field.json_name().to_owned()).or_insert_with(|| Value::Object(Map::new()));
        object = entry.as_object_mut().ok_or("is given in the body as something other than an object")?;
    }
    let value = scalar(leaf, text)?;
    rename(object, leaf);
    match object.get_mut(leaf.json_name()) {
        Some(Value::Array(items)) if leaf.is_list() && !replace => items.push(value),
        Some(_) if !replace => return Err("is given twice".into()),
        _ if leaf.is_list() => {
            object.insert(leaf.json_name().to_owned(), Value::Array(vec![value]));
        }
        _ => {
            object.insert(leaf.json_name().to_owned(), value);
        }
    }
    Ok(())
}

/// A value the body gave under the field's proto name moves to its JSON
/// name, so that it is found (and replaced or added to) under one key.
fn rename(object: &mut Map<String, Value>, field: &FieldDescriptor) {
    if field.name() != field.json_name()
        && let Some(given) = object.remove(field.name())
    {
        object.insert(field.json_name().to_owned(), given);
    }
}

/// The JSON of one textual value, checked here so that a bad one is
/// named: booleans as such, enum numbers as numbers, everything else as
/// the string the JSON mapping parses (numbers and well-known types accept
/// strings).
fn scalar(field: &FieldDescriptor, text: &str) -> Result<Value, String> {
    let string = || Value::String(text.to_owned());
    let number = |ok: bool, what: &str| if ok { Ok(string()) } else { Err(format!("{text:?} is not {what}")) };
    let boolean = |text: &str| match text {
        "true" => Ok(Value::Bool(true)),
        "false" => Ok(Value::Bool(false)),
        _ => Err(format!("{text:?} is not true or false")),
    };
    match field.kind() {
        Kind::Bool => boolean(text),
        Kind::Int32 | Kind::Sint32 | Kind::Sfixed32 => number(text.parse::<i32>().is_ok(), "a 32-bit integer"),
        Kind::Uint32 | Kind::Fixed32 => number(text.parse::<u32>().is_ok(), "an unsigned 32-bit integer"),
        Kind::Int64 | Kind::Sint64 | Kind::Sfixed64 => number(text.parse::<i64>().is_ok(), "a 64-bit integer"),
        Kind::Uint64 | Kind::Fixed64 => number(text.parse::<u64>().is_ok(), "an unsigned 64-bit integer"),
        Kind::Double | Kind::Float => number(text.parse::<f64>().is_ok(), "a number"),
        Kind::Enum(enumeration) => match text.parse::<i32>() {
            Ok(n) => Ok(Value::from(n)),
            Err(_) if enumeration.get_value_by_name(text).is_some() => Ok(string()),
            Err(_) => {
                let names: Vec<String> = enumeration.values().map(|v| v.name().to_owned()).collect();
                Err(format!("{text:?} is not one of {}", names.join(", ")))
            }
        },
        Kind::Message(m) if m.full_name() == "google.protobuf.BoolValue" => boolean(text),
        Kind::Message(m) => match DynamicMessage::deserialize(m.clone(), string()) {
            Ok(_) => Ok(string()),
            Err(e) => Err(format!("{text:?}: {e}")),
        },
        Kind::String | Kind::Bytes => Ok(string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rest::{binding, descriptors};

    fn route(method: &str) -> Binding {
        let pool = descriptors::pool().expect("descriptors");
        binding::bindings(&pool, "scrape.v1")
            .expect("routes")
            .into_iter()
            .find(|b| b.method.name() == method)
            .expect("a route")
    }

    fn json(message: &DynamicMessage) -> Value {
        descriptors::to_value(message)
    }

    #[test]
    fn query_parameters_fill_repeated_fields_enums_and_timestamps() {
        let list = route("ListTasks");
        let query = "statuses=TASK_STATUS_RUNNING&statuses=1&created_after=2025-01-02T03:04:05Z&pageSize=5&query=br";
        let message = message(&list, vec![], Some(query), b"").expect("valid");
        let out = json(&message);
        assert_eq!(out["statuses"], serde_json::json!(["TASK_STATUS_RUNNING", "TASK_STATUS_PENDING"]));
        assert_eq!(out["createdAfter"], "2025-01-02T03:04:05Z");
        assert_eq!((out["pageSize"].as_i64(), out["query"].as_str()), (Some(5), Some("br")));
    }

    #[test]
    fn the_path_fills_its_fields_and_wins_over_the_body() {
        let stop = route("StopTask");
        let variables = vec![("task_id".to_owned(), "from-path".to_owned())];
        let out = json(&message(&stop, variables.clone(), None, br#"{"task_id": "from-body"}"#).expect("valid"));
        assert_eq!(out["taskId"], "from-path");
        assert_eq!(json(&message(&stop, variables, None, b"").expect("an empty body"))["taskId"], "from-path");
    }

    #[test]
    fn unknown_fields_bad_values_and_misplaced_parameters_are_refused() {
        let list = route("ListTasks");
        let refused = |query: &str| message(&list, vec![], Some(query), b"").expect_err(query).status;
        assert!(refused("colour=red").message().contains("colour"));
        assert!(refused("pageSize=many").message().contains("pageSize: \"many\" is not a 32-bit integer"));
        assert!(refused("statuses=TASK_STATUS_SLEEPING").message().contains("TASK_STATUS_RUNNING"));
        assert!(refused("createdAfter=yesterday").message().contains("createdAfter"));
        assert!(refused("query=a&query=b").message().contains("twice"));
        assert!(message(&list, vec![], None, b"{}").is_err(), "a GET takes no body");
        let start = route("StartTask");
        for body in [&b"{"[..], b"[]", br#"{"keywords": "bovin"}"#, br#"{"colour": 1}"#] {
            assert!(message(&start, vec![], None, body).is_err(), "{}", String::from_utf8_lossy(body));
        }
        assert!(message(&start, vec![], Some("keywords=bovin"), b"{}").is_err(), "body: * takes no query");
        let get = route("GetTask");
        assert!(message(&get, vec![("task_id".into(), "a".into())], Some("taskId=b"), b"").is_err());
    }

    #[test]
    fn a_body_field_route_takes_the_rest_from_the_query() {
        let update = route("UpdateWatch");
        let variables = vec![("watch_id".to_owned(), "w".to_owned())];
        let out =
            json(&message(&update, variables, Some("updateMask=name,schedule"), br#"{"name": "n"}"#).expect("valid"));
        assert_eq!((out["watchId"].as_str(), out["watch"]["name"].as_str()), (Some("w"), Some("n")));
        assert_eq!(out["updateMask"], "name,schedule");
    }
}
