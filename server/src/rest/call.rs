//! One RPC called in-process through the server's own gRPC routes, so that
//! a JSON call meets the same token check, roles, limits and request
//! checks as a gRPC one: the request message framed as gRPC, the caller's
//! `authorization` header passed on (and nothing else: cookies are not a
//! credential here), then the response's frames read back one message at
//! a time, and its status from the trailers.

use axum::body::Bytes;
use axum::http::header::{AUTHORIZATION, CONTENT_TYPE, TE};
use axum::http::{Extensions, HeaderMap, HeaderValue, Method, Request, Version};
use http_body_util::BodyExt;
use tonic::service::Routes;
use tonic::transport::server::TcpConnectInfo;
use tonic::{Code, Status};
use tower::ServiceExt;

/// Length of a gRPC frame's header: a compression flag, a big-endian length.
const FRAME_HEADER: usize = 5;

/// The messages of a response, as they arrive.
#[derive(Debug)]
pub struct Replies {
    body: tonic::body::Body,
    buffer: Vec<u8>,
    /// The trailers came (with an OK status): what is buffered is all.
    ended: bool,
}

/// Calls `path` (`/scrape.v1.TaskService/GetTask`) with the encoded
/// `message`, presenting the caller's token from `headers`; `extensions`
/// are the HTTP request's (its connection's address is passed on). A status other than
/// OK sent before any message is the error.
pub async fn call(
    routes: &Routes,
    path: &str,
    headers: &HeaderMap,
    extensions: Extensions,
    message: &[u8],
) -> Result<Replies, Status> {
    let length = u32::try_from(message.len()).map_err(|_| Status::resource_exhausted("the request is too large"))?;
    let mut framed = Vec::with_capacity(FRAME_HEADER + message.len());
    framed.push(0);
    framed.extend_from_slice(&length.to_be_bytes());
    framed.extend_from_slice(message);

    let mut request = Request::new(axum::body::Body::from(framed));
    *request.method_mut() = Method::POST;
    *request.uri_mut() = path.parse().map_err(|_| Status::internal("a method path"))?;
    *request.version_mut() = Version::HTTP_2;
    // The connection's addresses, for whatever logs the call; nothing of
    // the outer router's own extensions.
    if let Some(info) = extensions.get::<TcpConnectInfo>() {
        request.extensions_mut().insert(info.clone());
    }
    let outgoing = request.headers_mut();
    outgoing.insert(CONTENT_TYPE, HeaderValue::from_static("application/grpc"));
    outgoing.insert(TE, HeaderValue::from_static("trailers"));
    if let Some(token) = headers.get(AUTHORIZATION) {
        outgoing.insert(AUTHORIZATION, token.clone());
    }

    let response = match routes.clone().oneshot(request).await {
        Ok(response) => response,
        Err(never) => match never {},
    };
    // A status in the headers is a trailers-only answer: no message follows.
    if let Some(status) = Status::from_header_map(response.headers())
        && status.code() != Code::Ok
    {
        return Err(status);
    }
    Ok(Replies { body: response.into_body(), buffer: Vec::new(), ended: false })
}

impl Replies {
    /// The next encoded message; `None` once the call ended with OK; the
    /// status when it ended otherwise.
    pub async fn next(&mut self) -> Option<Result<Bytes, Status>> {
        loop {
            match self.take() {
                Ok(Some(message)) => return Some(Ok(message)),
                Ok(None) => {}
                Err(status) => return Some(Err(status)),
            }
            if self.ended {
                return (!self.buffer.is_empty()).then(|| Err(Status::internal("a truncated response message")));
            }
            match self.body.frame().await {
                Some(Ok(frame)) => match frame.into_data() {
                    Ok(data) => self.buffer.extend_from_slice(&data),
                    Err(frame) => {
                        self.ended = true;
                        let status = frame.into_trailers().ok().and_then(|t| Status::from_header_map(&t));
                        match status {
                            Some(status) if status.code() == Code::Ok => {}
                            Some(status) => return Some(Err(status)),
                            None => return Some(Err(Status::internal("the response ended without a status"))),
                        }
                    }
                },
                Some(Err(status)) => {
                    self.ended = true;
                    return Some(Err(status));
                }
                None => {
                    self.ended = true;
                    return Some(Err(Status::internal("the response ended without a status")));
                }
            }
        }
    }

    /// A whole message from the buffer, if one is there.
    fn take(&mut self) -> Result<Option<Bytes>, Status> {
        if self.buffer.len() < FRAME_HEADER {
            return Ok(None);
        }
        if self.buffer[0] != 0 {
            // Nothing asked for compression, so the server never compresses.
            return Err(Status::internal("a compressed response message"));
        }
        let length = u32::from_be_bytes([self.buffer[1], self.buffer[2], self.buffer[3], self.buffer[4]]) as usize;
        if self.buffer.len() < FRAME_HEADER + length {
            return Ok(None);
        }
        let message = Bytes::copy_from_slice(&self.buffer[FRAME_HEADER..FRAME_HEADER + length]);
        self.buffer.drain(..FRAME_HEADER + length);
        Ok(Some(message))
    }
}
