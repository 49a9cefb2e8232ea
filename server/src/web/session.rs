//! Dashboard sessions: who the visitor is, and the CSRF token their forms
//! carry.
//!
//! A session is a cookie signed by the server (HMAC-SHA256 under a key
//! drawn at start-up), not a row in the database: it holds a random id, an
//! expiry, and the name and role of the token the visitor signed in with.
//! Nothing to store or clean up, and it works the same on every backend;
//! the price is that a restart signs everyone out (the key is new), and
//! that replicas behind one address each sign their own sessions. Each
//! request re-checks that the token's name and role are still in the tokens
//! file. The cookie is `HttpOnly`, `SameSite=Strict`, and `Secure` under
//! TLS; the token itself is never stored in it, nor logged.
//!
//! Every visitor has a session, signed in or not (without a tokens file
//! nobody signs in): its id is what the CSRF token of its forms is derived
//! from, and every POST must carry that token. Signing in starts a new
//! session, so a token planted before sign-in is worthless after it.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::header::{ACCEPT, COOKIE, SET_COOKIE};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use maud::{Markup, html};
use ring::hmac;
use ring::rand::SystemRandom;
use subtle::ConstantTimeEq;

use crate::auth::{Auth, Caller, Role, bearer};
use crate::web::params::{Params, local_path};
use crate::web::{PageError, Shared, layout};

/// The session cookie's name.
pub const COOKIE_NAME: &str = "scrape_session";
/// The form field of the CSRF token.
pub const CSRF_FIELD: &str = "csrf";
/// How long a session lasts.
pub const SESSION_TTL: Duration = Duration::from_secs(12 * 3600);
/// Largest form body read to check its CSRF token.
const MAX_FORM_BYTES: usize = 64 * 1024;

/// Signs and checks sessions.
pub struct Sessions {
    key: hmac::Key,
    /// Sessions signed out before their expiry, with it: their cookies are
    /// refused even if kept (the key lives as long as the process, so a
    /// list in memory covers every session it signed).
    signed_out: std::sync::Mutex<std::collections::HashMap<String, u64>>,
    /// Cookies are `Secure` when the server speaks TLS.
    secure: bool,
    auth: Auth,
}

impl std::fmt::Debug for Sessions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sessions").field("secure", &self.secure).finish_non_exhaustive()
    }
}

/// A session read from, or about to be set in, a cookie.
#[derive(Debug, Clone)]
struct Session {
    id: String,
    expires: u64,
    caller: Option<Caller>,
}

/// Who is on a page, and the CSRF token to put in its forms.
#[derive(Debug, Clone)]
pub struct Visitor {
    pub caller: Option<Caller>,
    /// The session the visitor came with (what signing out ends).
    session: Option<Session>,
    pub csrf: String,
    /// Whether the server has tokens (and so a sign-in).
    pub signs_in: bool,
}

impl Visitor {
    /// Whether the visitor may start, stop, restart and delete tasks.
    pub fn may_operate(&self) -> bool {
        !self.signs_in || self.caller.as_ref().is_some_and(|c| c.role == Role::Operator)
    }
}

fn now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

impl Sessions {
    /// Sessions signed with a key drawn now; `None` when the system has no
    /// randomness to draw it from.
    pub fn new(auth: Auth, secure: bool) -> Option<Sessions> {
        let key = hmac::Key::generate(hmac::HMAC_SHA256, &SystemRandom::new()).ok()?;
        Some(Sessions { key, signed_out: Default::default(), secure, auth })
    }

    /// A new session. Its id is a MAC of a counter and the time: unique,
    /// and unpredictable without the key.
    fn fresh(&self, caller: Option<Caller>) -> Session {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos());
        let seed = format!("id|{}|{nanos}", COUNTER.fetch_add(1, Ordering::Relaxed));
        let mac = hmac::sign(&self.key, seed.as_bytes());
        let id = mac.as_ref()[..16].iter().map(|b| format!("{b:02x}")).collect();
        Session { id, expires: now() + SESSION_TTL.as_secs(), caller }
    }

    /// `v1.PAYLOAD.MAC`, the payload `id|expires|role|name` in url-safe base64.
    fn seal(&self, session: &Session) -> String {
        let (role, name) = match &session.caller {
            Some(c) => (c.role.as_str(), c.name.as_str()),
            None => ("-", ""),
        };
        let payload = format!("{}|{}|{role}|{name}", session.id, session.expires);
        let mac = hmac::sign(&self.key, payload.as_bytes());
        format!("v1.{}.{}", URL_SAFE_NO_PAD.encode(payload), URL_SAFE_NO_PAD.encode(mac.as_ref()))
    }

    /// The session of a cookie value that this server signed and that has not
    /// expired; a caller no longer in the tokens file is signed out.
    fn open(&self, value: &str) -> Option<Session> {
        let mut parts = value.split('.');
        let (Some("v1"), Some(payload), Some(mac), None) = (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return None;
        };
        let payload = URL_SAFE_NO_PAD.decode(payload).ok()?;
        let mac = URL_SAFE_NO_PAD.decode(mac).ok()?;
        hmac::verify(&self.key, &payload, &mac).ok()?;
        let payload = String::from_utf8(payload).ok()?;
        let mut fields = payload.splitn(4, '|');
        let id = fields.next()?.to_owned();
        let expires: u64 = fields.next()?.parse().ok()?;
        let role = fields.next()?;
        let name = fields.next()?;
        if expires <= now() || self.signed_out.lock().is_ok_and(|out| out.contains_key(&id)) {
            return None;
        }
        let caller = Role::from_name(role).map(|role| Caller { name: name.to_owned(), role });
        let caller = caller.filter(|c| self.auth.still_valid(c));
        Some(Session { id, expires, caller })
    }

    /// Refuses `session`'s cookie from now on.
    fn end(&self, session: &Session) {
        if let Ok(mut out) = self.signed_out.lock() {
            let now = now();
            out.retain(|_, expires| *expires > now);
            out.insert(session.id.clone(), session.expires);
        }
    }

    /// The CSRF token of a session's forms.
    fn csrf(&self, session: &Session) -> String {
        let mac = hmac::sign(&self.key, format!("csrf|{}", session.id).as_bytes());
        URL_SAFE_NO_PAD.encode(mac.as_ref())
    }

    /// A MAC of `text` for `visitor`'s session: words only this server
    /// could have given this visitor (see `web::report`).
    pub(super) fn sign_for(&self, visitor: &Visitor, text: &str) -> String {
        let id = visitor.session.as_ref().map_or("", |s| s.id.as_str());
        let mac = hmac::sign(&self.key, format!("note|{id}|{text}").as_bytes());
        URL_SAFE_NO_PAD.encode(&mac.as_ref()[..16])
    }

    /// Whether `mac` is [`Sessions::sign_for`] of `text` for `visitor`.
    pub(super) fn signed_for(&self, visitor: &Visitor, text: &str, mac: &str) -> bool {
        bool::from(self.sign_for(visitor, text).as_bytes().ct_eq(mac.as_bytes()))
    }

    fn cookie(&self, session: &Session) -> HeaderValue {
        let secure = if self.secure { "; Secure" } else { "" };
        let value = format!(
            "{COOKIE_NAME}={}; Path=/; HttpOnly; SameSite=Strict; Max-Age={}{secure}",
            self.seal(session),
            SESSION_TTL.as_secs()
        );
        HeaderValue::from_str(&value).unwrap_or_else(|_| HeaderValue::from_static(""))
    }

    fn visitor(&self, session: &Session, caller: Option<Caller>) -> Visitor {
        Visitor { caller, session: Some(session.clone()), csrf: self.csrf(session), signs_in: self.auth.enabled() }
    }
}

fn session_cookie(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|pair| pair.trim().strip_prefix(COOKIE_NAME)?.strip_prefix('='))
}

/// Pages anyone may see before signing in.
fn open_path(path: &str) -> bool {
    path == "/sign-in" || path.starts_with("/assets/")
}

/// Middleware of the pages: reads (or starts) the session, sends visitors
/// who must sign in to the sign-in page, checks the CSRF token of every
/// POST, and hands the [`Visitor`] to the handlers. A request with a valid
/// bearer token (a script, Prometheus) needs no session and no CSRF token:
/// a browser never attaches one on its own.
pub async fn visitor(State(web): State<Shared>, request: Request, next: Next) -> Response {
    let sessions = &web.sessions;
    let (session, fresh) = match session_cookie(request.headers()).and_then(|v| sessions.open(v)) {
        Some(session) => (session, false),
        None => (sessions.fresh(None), true),
    };
    let by_token = bearer(request.headers()).and_then(|t| sessions.auth.verify(t));
    let caller = session.caller.clone().or_else(|| by_token.clone());
    if sessions.auth.enabled() && caller.is_none() && !open_path(request.uri().path()) {
        let response = must_sign_in(&request);
        return with_cookie(response, fresh.then(|| sessions.cookie(&session)));
    }
    let mut request = request;
    if request.method() == Method::POST && by_token.is_none() {
        let (parts, body) = request.into_parts();
        let Ok(bytes) = axum::body::to_bytes(body, MAX_FORM_BYTES).await else {
            return PageError::BadRequest(crate::domain::Violations::one("form", "too large")).into_response();
        };
        let sent = Params::parse(&bytes).raw(CSRF_FIELD).to_owned();
        let expected = sessions.csrf(&session);
        if !bool::from(sent.as_bytes().ct_eq(expected.as_bytes())) {
            let response = PageError::Forbidden(
                "This form has expired or did not come from the dashboard: reload the page and try again.".into(),
            )
            .into_response();
            return with_cookie(response, fresh.then(|| sessions.cookie(&session)));
        }
        request = Request::from_parts(parts, Body::from(bytes));
    }
    let visitor = sessions.visitor(&session, caller);
    let signing = matches!(request.uri().path(), "/sign-in" | "/sign-out");
    if request.method() == Method::POST && !signing && !visitor.may_operate() {
        return PageError::Forbidden(
            "Starting, stopping, restarting and deleting tasks, and changing watches, needs an operator token.".into(),
        )
        .into_response();
    }
    request.extensions_mut().insert(visitor);
    let response = next.run(request).await;
    with_cookie(response, fresh.then(|| sessions.cookie(&session)))
}

fn with_cookie(mut response: Response, cookie: Option<HeaderValue>) -> Response {
    if let Some(cookie) = cookie {
        response.headers_mut().append(SET_COOKIE, cookie);
    }
    response
}

/// Browsers go to the sign-in page and come back; anything else gets 401.
fn must_sign_in(request: &Request) -> Response {
    let wants_page = request.method() == Method::GET
        && request.headers().get(ACCEPT).and_then(|v| v.to_str().ok()).is_some_and(|v| v.contains("text/html"));
    if wants_page {
        let here = request.uri().path_and_query().map_or("/", |p| p.as_str());
        let next = url::form_urlencoded::Serializer::new(String::new()).append_pair("next", here).finish();
        return Redirect::to(&format!("/sign-in?{next}")).into_response();
    }
    let body = layout::page(
        "Sign in",
        html! { section.notice.error role="alert" { h1 { "Sign in" } p { "Sign in with a token first: " a href="/sign-in" { "sign in" } "." } } },
    );
    (StatusCode::UNAUTHORIZED, body).into_response()
}

/// `GET /sign-in`.
pub async fn page(
    axum::Extension(visitor): axum::Extension<Visitor>,
    axum::extract::RawQuery(raw): axum::extract::RawQuery,
) -> Markup {
    let params = Params::from_query(raw);
    sign_in_form(&visitor, params.get("next").unwrap_or("/"), None)
}

/// `POST /sign-in`: a token the server accepts starts a signed-in session.
pub async fn sign_in(
    State(web): State<Shared>,
    axum::Extension(visitor): axum::Extension<Visitor>,
    body: Bytes,
) -> Response {
    let params = Params::parse(&body);
    let next = local_path(params.get("next"), "/".to_owned());
    let Some(caller) = web.sessions.auth.verify(params.raw("token").trim()) else {
        let message = if web.sessions.auth.enabled() {
            "This token is not accepted by the server."
        } else {
            "This server has no tokens: nobody needs to sign in."
        };
        tracing::info!("dashboard sign-in refused");
        return (StatusCode::UNAUTHORIZED, sign_in_form(&visitor, &next, Some(message))).into_response();
    };
    tracing::info!(caller = %caller.name, role = %caller.role, "dashboard sign-in");
    let session = web.sessions.fresh(Some(caller));
    with_cookie(Redirect::to(&next).into_response(), Some(web.sessions.cookie(&session)))
}

/// `POST /sign-out`: the session's cookie is refused from now on; a new
/// session, signed in as nobody, replaces it.
pub async fn sign_out(State(web): State<Shared>, axum::Extension(visitor): axum::Extension<Visitor>) -> Response {
    if let Some(ended) = &visitor.session {
        web.sessions.end(ended);
    }
    let session = web.sessions.fresh(None);
    with_cookie(Redirect::to("/sign-in").into_response(), Some(web.sessions.cookie(&session)))
}

fn sign_in_form(visitor: &Visitor, next: &str, error: Option<&str>) -> Markup {
    let body = html! {
        section.sign-in {
            h1 { "Sign in" }
            @if let Some(error) = error { p.notice.error role="alert" #sign-in-error { (error) } }
            form.start method="post" action="/sign-in" {
                input type="hidden" name=(CSRF_FIELD) value=(visitor.csrf);
                input type="hidden" name="next" value=(next);
                div.field {
                    label for="token" { "Token" }
                    input #token type="password" name="token" autocomplete="current-password" required;
                    p.help { "A viewer or operator token of this server (see scrape-server token new)." }
                }
                div.buttons { button.primary type="submit" { "Sign in" } }
            }
        }
    };
    layout::page("Sign in", body)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::{Tokens, tokens::digest_hex};

    fn signer() -> Sessions {
        let tokens = Tokens::parse(&format!("viewer eve {}", digest_hex("t"))).expect("valid");
        Sessions::new(Auth::with_tokens(tokens), true).expect("randomness")
    }

    #[test]
    fn a_sealed_session_opens_with_its_caller_and_a_tampered_one_does_not() {
        let sessions = signer();
        let caller = Caller { name: "eve".into(), role: Role::Viewer };
        let session = sessions.fresh(Some(caller.clone()));
        let sealed = sessions.seal(&session);
        assert_eq!(sessions.open(&sealed).and_then(|s| s.caller), Some(caller));
        let payload = URL_SAFE_NO_PAD.encode(format!("{}|{}|operator|eve", session.id, session.expires));
        let mac = sealed.rsplit('.').next().expect("a mac");
        assert!(sessions.open(&format!("v1.{payload}.{mac}")).is_none(), "a role raised by hand");
        assert!(signer().open(&sealed).is_none(), "another server's key");
        let expired = Session { expires: now() - 1, ..session };
        assert!(sessions.open(&sessions.seal(&expired)).is_none());
    }

    #[test]
    fn a_caller_removed_from_the_tokens_file_is_signed_out() {
        let sessions = signer();
        let gone = sessions.fresh(Some(Caller { name: "mallory".into(), role: Role::Operator }));
        let opened = sessions.open(&sessions.seal(&gone)).expect("a valid signature");
        assert_eq!(opened.caller, None);
    }

    #[test]
    fn the_cookie_is_http_only_strict_and_secure_under_tls_and_each_session_has_its_csrf_token() {
        let sessions = signer();
        let one = sessions.fresh(None);
        let cookie = sessions.cookie(&one);
        let cookie = cookie.to_str().expect("text");
        assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict") && cookie.ends_with("; Secure"));
        assert!(
            !Sessions::new(Auth::open(), false)
                .expect("randomness")
                .cookie(&one)
                .to_str()
                .expect("text")
                .contains("Secure")
        );
        assert_ne!(sessions.csrf(&one), sessions.csrf(&sessions.fresh(None)));
        assert_eq!(sessions.csrf(&one), sessions.csrf(&one));
    }
}
