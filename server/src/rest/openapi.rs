//! The OpenAPI 3.1 document of the JSON routes, generated from the
//! descriptors: one operation per binding, its path and query parameters
//! from the request's fields, its body and responses from the messages,
//! its text from the protos' comments, and the role each call needs.

use std::collections::BTreeMap;

use prost_reflect::{DescriptorPool, MessageDescriptor};
use serde_json::{Map, Value, json};

use crate::auth::access::{self, Access};
use crate::rest::binding::{Binding, Body, field_at};
use crate::rest::descriptors::comment;
use crate::rest::request::is_query_leaf;
use crate::rest::schema::Schemas;

/// How deep the query string names fields of nested messages (`a.b.c`).
const QUERY_DEPTH: usize = 3;

/// The whole document.
pub fn document(pool: &DescriptorPool, bindings: &[Binding]) -> Value {
    let mut schemas = Schemas::default();
    let mut paths = Map::new();
    // Operation ids are unique: an additional binding is `Service_Method_2`.
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    for binding in bindings {
        let service = binding.method.parent_service();
        let base = format!("{}_{}", service.name(), binding.method.name());
        let count = seen.entry(base.clone()).or_default();
        *count += 1;
        let id = if *count == 1 { base } else { format!("{base}_{count}") };
        let item = paths.entry(binding.template.to_string()).or_insert_with(|| json!({}));
        item[binding.http_method.as_str().to_ascii_lowercase()] = operation(binding, id, &mut schemas);
    }
    for name in ["google.rpc.Status", "google.rpc.BadRequest", "google.rpc.QuotaFailure"] {
        if let Some(message) = pool.get_message_by_name(name) {
            schemas.message(&message);
        }
    }
    let mut tags = Vec::new();
    for service in pool.services().filter(|s| bindings.iter().any(|b| b.method.parent_service() == s)) {
        let mut tag = json!({ "name": service.name() });
        if let Some(text) = comment(&service.parent_file(), service.path()) {
            tag["description"] = Value::String(text);
        }
        tags.push(tag);
    }
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "scrape-tasks",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "The scrape.v1 API over JSON: the same calls as gRPC, with the proto3 JSON mapping \
                (lowerCamelCase names, enums by name, 64-bit integers as strings, RFC 3339 timestamps). \
                Errors are a google.rpc.Status with the HTTP status of its code. Generated from the protos.",
        },
        "tags": tags,
        "paths": paths,
        "components": {
            "schemas": schemas.into_components(),
            "securitySchemes": {
                "bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "A token of the server's tokens file (`scrape-server token new`); \
                        not needed when the server has none.",
                },
            },
        },
    })
}

/// One operation.
fn operation(binding: &Binding, id: String, schemas: &mut Schemas) -> Value {
    let method = &binding.method;
    let input = method.input();
    let mut description = comment(&method.parent_file(), method.path()).unwrap_or_default();
    let mut security = json!([]);
    if let Access::Needs(role) = access::access(&binding.grpc_path()) {
        description = format!("{description}\n\nNeeds a token with the {role} role, when the server has tokens.");
        security = json!([{ "bearer": [] }]);
    }
    let summary = summary(&description);
    let mut parameters = Vec::new();
    for variable in binding.template.variables() {
        let Ok(field) = field_at(&input, variable) else { continue };
        parameters.push(json!({
            "name": variable, "in": "path", "required": true, "schema": schemas.field(&field),
        }));
    }
    if !matches!(binding.body, Body::Whole) {
        let mut skip = binding.path_fields();
        if let Body::Field(field) = &binding.body {
            skip.push(field.name().to_owned());
        }
        query_parameters(&input, &skip, "", 0, schemas, &mut parameters);
    }
    let mut operation = json!({
        "operationId": id,
        "tags": [method.parent_service().name()],
        "summary": summary,
        "description": description.trim(),
        "parameters": parameters,
        "responses": {
            "200": success(binding, schemas),
            "default": {
                "description": "The call failed: a google.rpc.Status; `details` holds a google.rpc.BadRequest \
                    naming each invalid field.",
                "content": { "application/json": { "schema": { "$ref": "#/components/schemas/google.rpc.Status" } } },
            },
        },
        "security": security,
        "x-grpc-method": binding.grpc_path(),
    });
    match &binding.body {
        Body::None => {}
        Body::Whole => {
            let path_fields = binding.path_fields();
            let schema = if path_fields.iter().any(|f| input.get_field_by_name(f).is_some()) {
                // The path's fields are not repeated in the body.
                let mut object = schemas.object(&input);
                if let Some(properties) = object["properties"].as_object_mut() {
                    for field in path_fields.iter().filter_map(|f| input.get_field_by_name(f)) {
                        properties.remove(field.json_name());
                    }
                }
                object
            } else {
                schemas.message(&input)
            };
            operation["requestBody"] = json!({ "content": { "application/json": { "schema": schema } } });
        }
        Body::Field(field) => {
            let schema = schemas.field(field);
            operation["requestBody"] =
                json!({ "required": true, "content": { "application/json": { "schema": schema } } });
        }
    }
    operation
}

/// The fields of `message` a query string may set, one parameter each,
/// nested messages by their dotted names.
fn query_parameters(
    message: &MessageDescriptor,
    skip: &[String],
    prefix: &str,
    depth: usize,
    schemas: &mut Schemas,
    out: &mut Vec<Value>,
) {
    for field in message.fields().filter(|f| !skip.iter().any(|s| s == f.name())) {
        let name = format!("{prefix}{}", field.json_name());
        if is_query_leaf(&field) {
            let mut parameter = json!({ "name": name, "in": "query", "schema": schemas.field(&field) });
            if field.is_list() {
                parameter["description"] = Value::String("Repeat the parameter for each value.".into());
            }
            out.push(parameter);
        } else if let prost_reflect::Kind::Message(inner) = field.kind()
            && !field.is_list()
            && !field.is_map()
            && depth < QUERY_DEPTH
        {
            query_parameters(&inner, &[], &format!("{name}."), depth + 1, schemas, out);
        }
    }
}

/// The successful response.
fn success(binding: &Binding, schemas: &mut Schemas) -> Value {
    let output = binding.method.output();
    let schema = match &binding.response_body {
        Some(field) => schemas.field(field),
        None => schemas.message(&output),
    };
    if !binding.method.is_server_streaming() {
        return json!({ "description": "The response.", "content": { "application/json": { "schema": schema } } });
    }
    if binding.response_body.as_ref().is_some_and(|f| matches!(f.kind(), prost_reflect::Kind::Bytes)) {
        return json!({
            "description": "The bytes of every message of the stream, concatenated.",
            "content": { "application/octet-stream": { "schema": { "type": "string", "format": "binary" } } },
        });
    }
    json!({
        "description": "With `Accept: text/event-stream`, Server-Sent Events: each event's data is one message \
            of the stream in JSON, until the stream ends; an `error` event carries a google.rpc.Status and ends \
            it. Otherwise the first message (the current state) as JSON.",
        "content": {
            "text/event-stream": { "schema": schema.clone() },
            "application/json": { "schema": schema },
        },
    })
}

/// The first sentence of a comment, on one line.
fn summary(comment: &str) -> String {
    let paragraph = comment.split("\n\n").next().unwrap_or_default().replace('\n', " ");
    match paragraph.find(". ") {
        Some(end) => paragraph[..=end].to_owned(),
        None => paragraph,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rest::{binding, descriptors};

    #[test]
    fn every_binding_is_an_operation_with_its_parameters_body_and_role() {
        let pool = descriptors::pool().expect("descriptors");
        let bindings = binding::bindings(&pool, "scrape.v1").expect("routes");
        let document = document(&pool, &bindings);
        for binding in &bindings {
            let method = binding.http_method.as_str().to_ascii_lowercase();
            let operation = &document["paths"][binding.template.to_string()][&method];
            assert_eq!(operation["x-grpc-method"], binding.grpc_path().as_str(), "{method} {}", binding.template);
        }
        let list = &document["paths"]["/v1/tasks"]["get"];
        let names: Vec<&str> =
            list["parameters"].as_array().expect("parameters").iter().filter_map(|p| p["name"].as_str()).collect();
        assert_eq!(
            names,
            ["statuses", "createdAfter", "createdBefore", "query", "pageSize", "pageToken", "watchId", "orderBy"]
        );
        assert_eq!(list["summary"], "Lists tasks, newest first unless `order_by` says otherwise.");
        let stop = &document["paths"]["/v1/tasks/{task_id}:stop"]["post"];
        assert_eq!(
            stop["requestBody"]["content"]["application/json"]["schema"]["properties"],
            json!({}),
            "task_id is in the path"
        );
        assert!(stop["description"].as_str().expect("text").contains("operator role"));
        let documents = &document["paths"]["/v1/tasks/{task_id}/documents"]["get"];
        assert_eq!(documents["operationId"], "TaskService_ListDocuments_2");
        let update = &document["paths"]["/v1/watches/{watch_id}"]["patch"];
        assert_eq!(
            update["requestBody"]["content"]["application/json"]["schema"]["$ref"],
            "#/components/schemas/scrape.v1.Watch"
        );
        assert_eq!(summary("Stops a task: at once.\nThen more. And more.\n\nDetails."), "Stops a task: at once.");
    }
}
