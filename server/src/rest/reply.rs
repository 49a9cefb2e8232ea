//! The response of a call as HTTP: one JSON message for a unary RPC; for a
//! server-streaming one, Server-Sent Events when the client asks for
//! `text/event-stream` (one JSON message per event, an `error` event if
//! the stream fails), the raw bytes when the rule's `response_body` is a
//! bytes field (an export), else the first message alone (the current
//! state). The first message is awaited before the status line is sent,
//! so a call refused at once gets its proper HTTP error.

use std::convert::Infallible;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::http::HeaderValue;
use axum::http::header::{ACCEPT, CONTENT_TYPE, HeaderMap};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use prost_reflect::{DescriptorPool, DynamicMessage, Kind, MessageDescriptor};
use tonic::Status;

use crate::rest::binding::Binding;
use crate::rest::call::Replies;
use crate::rest::descriptors;
use crate::rest::status::Failure;

/// A comment this often lets the server notice a client that left while
/// nothing happened.
const KEEP_ALIVE: Duration = Duration::from_secs(15);

/// Whether the client asks for Server-Sent Events.
pub fn wants_events(headers: &HeaderMap) -> bool {
    headers.get_all(ACCEPT).iter().filter_map(|v| v.to_str().ok()).any(|v| v.contains("text/event-stream"))
}

/// The HTTP response to `replies`.
pub async fn respond(binding: &Binding, mut replies: Replies, events: bool, pool: DescriptorPool) -> Response {
    let output = binding.method.output();
    let first = match replies.next().await {
        Some(Ok(message)) => Some(message),
        Some(Err(status)) => return Failure::from_status(status).into_response(&pool),
        None => None,
    };
    let raw = binding.response_body.as_ref().is_some_and(|f| matches!(f.kind(), Kind::Bytes) && !f.is_list());
    if !binding.method.is_server_streaming() {
        let Some(first) = first else { return missing(&pool) };
        return match replies.next().await {
            None => match json(&output, &first, binding) {
                Ok(body) => with_type(Body::from(body), "application/json"),
                Err(status) => Failure::from_status(status).into_response(&pool),
            },
            Some(Err(status)) => Failure::from_status(status).into_response(&pool),
            Some(Ok(_)) => Failure::from_status(Status::internal("a unary call answered twice")).into_response(&pool),
        };
    }
    if events {
        let binding = binding.clone();
        let stream = futures_util::stream::unfold(
            (replies, first, false, binding, pool),
            |(mut replies, first, done, binding, pool)| async move {
                if done {
                    return None;
                }
                let item = match first {
                    Some(message) => Some(Ok(message)),
                    None => replies.next().await,
                };
                let (event, done) = match item?.and_then(|message| json(&binding.method.output(), &message, &binding)) {
                    Ok(body) => (Event::default().data(String::from_utf8_lossy(&body)), false),
                    Err(status) => {
                        (Event::default().event("error").data(Failure::from_status(status).body(&pool)), true)
                    }
                };
                Some((Ok::<_, Infallible>(event), (replies, None, done, binding, pool)))
            },
        );
        return Sse::new(stream).keep_alive(KeepAlive::new().interval(KEEP_ALIVE)).into_response();
    }
    if raw {
        let binding = binding.clone();
        let stream =
            futures_util::stream::unfold((replies, first, binding), |(mut replies, first, binding)| async move {
                let item = match first {
                    Some(message) => Some(Ok(message)),
                    None => replies.next().await,
                };
                // A failure once bytes were sent cuts the body short: the client
                // sees an incomplete transfer, never a silently short file.
                let chunk = item?.and_then(|message| bytes_of(&binding.method.output(), &message, &binding));
                Some((chunk, (replies, None, binding)))
            });
        return with_type(Body::from_stream(stream), "application/octet-stream");
    }
    let Some(first) = first else { return missing(&pool) };
    match json(&output, &first, binding) {
        Ok(body) => with_type(Body::from(body), "application/json"),
        Err(status) => Failure::from_status(status).into_response(&pool),
    }
}

/// A response of that content type.
fn with_type(body: Body, content_type: &'static str) -> Response {
    let mut response = body.into_response();
    response.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}

/// A stream that ended before its first message: nothing to show yet.
fn missing(pool: &DescriptorPool) -> Response {
    Failure::from_status(Status::not_found("the call answered no message")).into_response(pool)
}

/// The message (or its `response_body` field) as JSON.
fn json(output: &MessageDescriptor, encoded: &Bytes, binding: &Binding) -> Result<Vec<u8>, Status> {
    let message = DynamicMessage::decode(output.clone(), encoded.clone())
        .map_err(|e| Status::internal(format!("an undecodable response: {e}")))?;
    match &binding.response_body {
        None => Ok(descriptors::to_json(&message)),
        Some(field) => {
            let value = descriptors::to_value(&message);
            Ok(value.get(field.json_name()).cloned().unwrap_or_default().to_string().into_bytes())
        }
    }
}

/// The bytes of the message's `response_body` field.
fn bytes_of(output: &MessageDescriptor, encoded: &Bytes, binding: &Binding) -> Result<Bytes, Status> {
    let message = DynamicMessage::decode(output.clone(), encoded.clone())
        .map_err(|e| Status::internal(format!("an undecodable response: {e}")))?;
    let field = binding.response_body.as_ref().ok_or_else(|| Status::internal("no response body field"))?;
    Ok(message.get_field(field).as_bytes().cloned().unwrap_or_default())
}
