//! Who is asking: the session cookie or a bearer token, resolved once per request.

use crate::AppState;
use crate::error::{ApiError, PageError, Problem};
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum_extra::extract::CookieJar;
use commands::CommandError;
use domain::authz::Actor;

/// The session cookie's name. The `__Host-` prefix (when served over TLS) pins it to
/// this host and path.
pub const SESSION_COOKIE: &str = "safeguard_session";

/// The cookie name in use: `__Host-` prefixed when cookies are secure.
pub fn session_cookie_name(secure: bool) -> &'static str {
    if secure { "__Host-safeguard_session" } else { SESSION_COOKIE }
}

fn session_token(parts: &Parts, secure: bool) -> Option<String> {
    CookieJar::from_headers(&parts.headers).get(session_cookie_name(secure)).map(|c| c.value().to_string())
}

fn bearer_token(parts: &Parts) -> Option<String> {
    let v = parts.headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = v.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim().to_string())
}

/// A signed-in caller of the API (session cookie or bearer token); 401 otherwise.
#[derive(Debug, Clone)]
pub struct ApiUser(pub Actor);

impl FromRequestParts<AppState> for ApiUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        if let Some(token) = bearer_token(parts) {
            return Ok(ApiUser(state.svc.bearer(&token).await?));
        }
        match session_token(parts, state.secure_cookies) {
            Some(token) => Ok(ApiUser(state.svc.session(&token).await?)),
            None => Err(ApiError(Problem::from_command(&CommandError::Unauthenticated))),
        }
    }
}

/// A signed-in person using the pages; otherwise a redirect to the sign-in page.
#[derive(Debug, Clone)]
pub struct PageUser {
    /// Who.
    pub actor: Actor,
    /// The session token (needed to sign out).
    pub session: String,
    /// The CSRF token every form must carry back.
    pub csrf: String,
}

impl PageUser {
    /// Refuses a form that does not carry this session's CSRF token.
    pub fn check_csrf(&self, sent: &str) -> Result<(), PageError> {
        if constant_time_eq(sent.as_bytes(), self.csrf.as_bytes()) {
            Ok(())
        } else {
            Err(PageError::Show(Problem::new(
                StatusCode::FORBIDDEN,
                "csrf",
                "The form has expired",
                "go back, reload the page and try again",
            )))
        }
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

impl FromRequestParts<AppState> for PageUser {
    type Rejection = PageError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let next = parts.uri.path_and_query().map(|p| p.as_str().to_string()).unwrap_or_else(|| "/".into());
        let sign_in = || PageError::SignIn {
            next: if parts.method == axum::http::Method::GET { next.clone() } else { "/".into() },
        };
        let Some(token) = session_token(parts, state.secure_cookies) else { return Err(sign_in()) };
        match state.svc.session(&token).await {
            Ok(actor) => Ok(PageUser { actor, csrf: commands::auth::csrf_token(&token), session: token }),
            Err(CommandError::Unauthenticated) => Err(sign_in()),
            Err(e) => Err(e.into()),
        }
    }
}

/// Where a request came from, for reads on the trail: the client's address and its
/// `User-Agent`. Never refuses a request; what cannot be told is `unknown`.
#[derive(Debug, Clone)]
pub struct Origin {
    /// The first `X-Forwarded-For` address (set by the proxy in front), else the
    /// connection's peer address when the server was started with it, else `unknown`.
    pub from: String,
    /// The `User-Agent`, shortened to what the trail keeps.
    pub agent: String,
}

impl Origin {
    /// A read on the pages from here.
    pub fn page(&self) -> domain::event::ReadFrom {
        domain::event::ReadFrom::new("page", &self.from, &self.agent)
    }

    /// A read through the API from here.
    pub fn api(&self) -> domain::event::ReadFrom {
        domain::event::ReadFrom::new("api", &self.from, &self.agent)
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Origin {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        // Only an address that parses is kept: the header is text anyone can send.
        let forwarded = parts
            .headers
            .get("x-forwarded-for")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(',').next())
            .and_then(|first| first.trim().parse::<std::net::IpAddr>().ok());
        let peer = || {
            parts
                .extensions
                .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
                .map(|axum::extract::ConnectInfo(addr)| addr.ip())
        };
        let from = forwarded.or_else(peer).map_or_else(|| "unknown".to_string(), |ip| ip.to_string());
        let agent = parts.headers.get(header::USER_AGENT).and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
        Ok(Origin { from, agent: agent.chars().take(domain::event::ReadFrom::AGENT_CHARS).collect() })
    }
}
