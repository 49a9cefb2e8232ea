//! The response of a call as HTTP: one JSON message for a unary RPC; for a
//! server-streaming one, Server-Sent Events when the client asks for
//! `text/event-stream` (one JSON message per event, an `error` event if
//! the stream fails), the raw bytes when the rule's `response_body` is a
//! bytes field (an export), else the first message alone (the current
//! state). A call refused at once gets its proper HTTP error: gRPC sends
//! that status before any message, and the first message of a JSON answer
//! or an export is awaited before the status line is sent.

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
    if binding.method.is_server_streaming() && events {
        // Events start at once: a stream of only new events may wait long
        // for its first, and the client should know it is connected.
        return server_sent_events(binding.clone(), replies, pool);
    }
    let first = match replies.next().await {
        Some(Ok(message)) => Some(message),
        Some(Err(status)) => return Failure::from_status(status).into_response(&pool),
        None => None,
    };
    let raw = binding.response_body.as_ref().is_some_and(|f| matches!(f.kind(), Kind::Bytes) && !f.is_list());
    if binding.method.is_server_streaming() && raw {
        let binding = binding.clone();
        let stream =
            futures_util::stream::unfold((replies, first, binding), |(mut replies, first, binding)| async move {
                let item = match first {
                    Some(message) => Ok(message),
                    None => replies.next().await?,
                };
                // A failure once bytes were sent cuts the body short: the
                // client sees an incomplete transfer, never a silently short
                // file.
                let chunk = item.and_then(|message| bytes_of(&binding.method.output(), &message, &binding));
                Some((chunk, (replies, None, binding)))
            });
        return with_type(Body::from_stream(stream), "application/octet-stream");
    }
    let Some(first) = first else {
        let status = if binding.method.is_server_streaming() {
            // Only a server shutting down ends a stream before its first message.
            Status::unavailable("the stream ended before its first message")
        } else {
            Status::internal("the call answered no message")
        };
        return Failure::from_status(status).into_response(&pool);
    };
    if !binding.method.is_server_streaming() {
        // The status follows the message: OK, or the call failed after all.
        match replies.next().await {
            None => {}
            Some(Err(status)) => return Failure::from_status(status).into_response(&pool),
            Some(Ok(_)) => {
                return Failure::from_status(Status::internal("a unary call answered twice")).into_response(&pool);
            }
        }
    }
    // A unary answer, or a stream's first message: its current state.
    // Dropping the rest of a stream ends the call.
    match json(&binding.method.output(), &first, binding) {
        Ok(body) => with_type(Body::from(body), "application/json"),
        Err(status) => Failure::from_status(status).into_response(&pool),
    }
}

/// Each message as an event, until the call ends; a failure as an `error`
/// event, which ends the stream.
fn server_sent_events(binding: Binding, replies: Replies, pool: DescriptorPool) -> Response {
    let stream = futures_util::stream::unfold(
        (replies, false, binding, pool),
        |(mut replies, failed, binding, pool)| async move {
            if failed {
                return None;
            }
            let item = replies.next().await?;
            let (event, failed) = match item.and_then(|message| json(&binding.method.output(), &message, &binding)) {
                Ok(body) => (Event::default().data(String::from_utf8_lossy(&body)), false),
                Err(status) => (Event::default().event("error").data(Failure::from_status(status).body(&pool)), true),
            };
            Some((Ok::<_, Infallible>(event), (replies, failed, binding, pool)))
        },
    );
    Sse::new(stream).keep_alive(KeepAlive::new().interval(KEEP_ALIVE)).into_response()
}

/// A response of that content type.
fn with_type(body: Body, content_type: &'static str) -> Response {
    let mut response = body.into_response();
    response.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
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
