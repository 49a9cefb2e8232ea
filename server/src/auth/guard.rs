//! The check on every gRPC and gRPC-Web call: the role its method needs
//! (`access`), the token it presents, and a span named after the method and
//! the caller for everything the call logs. Refusals are `UNAUTHENTICATED`
//! (no token, or one the server does not know) and `PERMISSION_DENIED` (a
//! role too low); the token itself is never logged.

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use tracing::Instrument;

use crate::auth::{Auth, Refusal, access};

/// Middleware of the gRPC routes (gRPC-Web calls reach it decoded).
pub async fn grpc_guard(State(auth): State<Auth>, mut request: Request, next: Next) -> Response {
    let method = request.uri().path().to_owned();
    let span = tracing::info_span!("rpc", %method, caller = tracing::field::Empty);
    match auth.check(request.headers(), access::access(&method)) {
        Ok(caller) => {
            if let Some(caller) = caller {
                span.record("caller", caller.name.as_str());
                request.extensions_mut().insert(caller);
            }
            next.run(request).instrument(span).await
        }
        Err(refusal) => {
            span.in_scope(|| tracing::info!(reason = %refusal, "call refused"));
            let status = match refusal {
                Refusal::Missing | Refusal::Unknown => tonic::Status::unauthenticated(refusal.to_string()),
                Refusal::Forbidden { .. } => tonic::Status::permission_denied(refusal.to_string()),
            };
            status.into_http()
        }
    }
}
