//! Who may do what: the tokens the server accepts (`tokens`), the role each
//! RPC needs (`access`), and the check of both on every gRPC and gRPC-Web
//! call (`guard`). The dashboard signs people in with the same tokens (see
//! `web::session`).
//!
//! Without a tokens file every call is allowed, as on a server that only
//! loopback clients reach: [`check_exposure`] refuses to serve anything
//! else that way unless told to.

pub mod access;
mod guard;
pub mod tokens;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::http::HeaderMap;
use axum::http::header::AUTHORIZATION;

pub use access::Access;
pub use guard::grpc_guard;
pub use tokens::{NewToken, Tokens, TokensError, new_token};

/// The gRPC routes behind the guard: every call checked against the
/// tokens and the role its method needs.
pub fn guarded(routes: tonic::service::Routes, auth: Auth) -> tonic::service::Routes {
    let router = routes.into_axum_router().layer(axum::middleware::from_fn_with_state(auth, grpc_guard));
    tonic::service::Routes::from(router)
}

/// What a token allows. An operator may do all a viewer may.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Role {
    /// Reads tasks, results, documents, events, exports and the catalog.
    Viewer,
    /// Also starts, stops, restarts, deletes and purges tasks.
    Operator,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Operator => "operator",
        }
    }

    pub fn from_name(name: &str) -> Option<Role> {
        match name {
            "viewer" => Some(Role::Viewer),
            "operator" => Some(Role::Operator),
            _ => None,
        }
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Who is calling: the name and role of the token presented. Put in the
/// extensions of each request the guard lets through.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub name: String,
    pub role: Role,
}

/// Why a call was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("a token is required: send `authorization: Bearer TOKEN`")]
    Missing,
    #[error("this token is not accepted by the server")]
    Unknown,
    #[error("the token {name:?} has the {has} role; this call needs the {needs} role")]
    Forbidden { name: String, has: Role, needs: Role },
}

/// The server's tokens, or none (every call allowed). Cheap to clone.
#[derive(Debug, Clone, Default)]
pub struct Auth {
    tokens: Option<Arc<Tokens>>,
}

impl Auth {
    /// Checks tokens against `tokens`.
    pub fn with_tokens(tokens: Tokens) -> Auth {
        Auth { tokens: Some(Arc::new(tokens)) }
    }

    /// Allows every call (no tokens file).
    pub fn open() -> Auth {
        Auth::default()
    }

    /// Whether the server checks tokens.
    pub fn enabled(&self) -> bool {
        self.tokens.is_some()
    }

    /// The caller presenting `token`, when it is one of ours.
    pub fn verify(&self, token: &str) -> Option<Caller> {
        self.tokens.as_ref()?.verify(token).cloned()
    }

    /// Whether a caller signed in earlier is still in the tokens file with
    /// the same role.
    pub fn still_valid(&self, caller: &Caller) -> bool {
        self.tokens.as_ref().is_some_and(|t| t.has(&caller.name, caller.role))
    }

    /// Checks the bearer token of a request against what it needs. `None`
    /// means allowed without a caller (open calls, or no tokens file).
    pub fn check(&self, headers: &HeaderMap, access: Access) -> Result<Option<Caller>, Refusal> {
        let Some(tokens) = &self.tokens else { return Ok(None) };
        let needs = match access {
            Access::Open => return Ok(None),
            Access::Needs(role) => role,
        };
        let token = bearer(headers).ok_or(Refusal::Missing)?;
        let caller = tokens.verify(token).ok_or(Refusal::Unknown)?;
        permit(caller, needs).map(|c| Some(c.clone()))
    }
}

/// `caller`, when its role is at least `needs`.
pub fn permit(caller: &Caller, needs: Role) -> Result<&Caller, Refusal> {
    if caller.role >= needs {
        Ok(caller)
    } else {
        Err(Refusal::Forbidden { name: caller.name.clone(), has: caller.role, needs })
    }
}

/// The token of an `authorization: Bearer TOKEN` header.
pub fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(AUTHORIZATION)?.to_str().ok()?.trim();
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim()).filter(|t| !t.is_empty())
}

/// How an address is served.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exposure {
    /// With tokens, or on loopback only.
    Protected,
    /// Open to other hosts, as the operator asked (`--insecure-no-auth`):
    /// worth a warning.
    OpenOnPurpose,
}

/// A server without tokens (`protected` false) serves only loopback
/// clients, unless the operator says otherwise (`insecure`).
pub fn check_exposure(address: SocketAddr, protected: bool, insecure: bool) -> Result<Exposure, String> {
    if protected || address.ip().is_loopback() {
        return Ok(Exposure::Protected);
    }
    if insecure {
        return Ok(Exposure::OpenOnPurpose);
    }
    Err(format!(
        "refusing to serve {address} without authentication: other hosts can reach it. Give a tokens file \
         (--tokens-file, see `scrape-server token new`), listen on a loopback address (127.0.0.1), or pass \
         --insecure-no-auth to serve it open anyway"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(value: &'static str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(AUTHORIZATION, value.parse().expect("a header"));
        headers
    }

    fn auth() -> Auth {
        let text = format!(
            "viewer eve {}\noperator olga {}",
            tokens::digest_hex("viewer-token"),
            tokens::digest_hex("operator-token")
        );
        Auth::with_tokens(Tokens::parse(&text).expect("valid"))
    }

    #[test]
    fn each_role_may_do_what_it_allows_and_nothing_more() {
        let auth = auth();
        let viewer = headers("Bearer viewer-token");
        let operator = headers("bearer operator-token");
        assert_eq!(
            auth.check(&viewer, Access::Needs(Role::Viewer)).expect("allowed").map(|c| c.name),
            Some("eve".into())
        );
        assert!(matches!(auth.check(&viewer, Access::Needs(Role::Operator)), Err(Refusal::Forbidden { .. })));
        assert!(auth.check(&operator, Access::Needs(Role::Operator)).is_ok());
        assert!(auth.check(&operator, Access::Needs(Role::Viewer)).is_ok());
        assert_eq!(auth.check(&HeaderMap::new(), Access::Needs(Role::Viewer)), Err(Refusal::Missing));
        assert_eq!(auth.check(&headers("Bearer nope"), Access::Needs(Role::Viewer)), Err(Refusal::Unknown));
        assert_eq!(auth.check(&headers("Basic dmlld2VyLXRva2Vu"), Access::Needs(Role::Viewer)), Err(Refusal::Missing));
        assert_eq!(auth.check(&HeaderMap::new(), Access::Open), Ok(None));
        assert_eq!(Auth::open().check(&HeaderMap::new(), Access::Needs(Role::Operator)), Ok(None));
    }

    #[test]
    fn only_loopback_addresses_are_served_without_tokens_unless_told_otherwise() {
        let any: SocketAddr = "0.0.0.0:50051".parse().expect("address");
        let lan: SocketAddr = "192.0.2.7:50051".parse().expect("address");
        let local: SocketAddr = "127.0.0.1:50051".parse().expect("address");
        let local6: SocketAddr = "[::1]:50051".parse().expect("address");
        assert!(check_exposure(any, false, false).is_err());
        assert!(check_exposure(lan, false, false).is_err());
        assert_eq!(check_exposure(local, false, false), Ok(Exposure::Protected));
        assert_eq!(check_exposure(local6, false, false), Ok(Exposure::Protected));
        assert_eq!(check_exposure(any, false, true), Ok(Exposure::OpenOnPurpose));
        assert_eq!(check_exposure(any, true, false), Ok(Exposure::Protected));
    }
}
