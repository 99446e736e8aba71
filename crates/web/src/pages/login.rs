//! Signing in and out.

use super::{FormErrors, Layout, render};
use crate::auth::session_cookie_name;
use crate::{AppState, PageUser};
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use axum_extra::extract::CookieJar;
use axum_extra::extract::cookie::{Cookie, SameSite};
use commands::CommandError;
use domain::{FieldError, Rejection};
use serde::Deserialize;

/// The pre-session cookie that protects the sign-in form (double submit).
const LOGIN_CSRF_COOKIE: &str = "safeguard_login_csrf";

pub fn routes() -> Router<AppState> {
    Router::new().route("/login", get(show).post(submit)).route("/logout", post(logout)).route("/", get(home))
}

#[derive(askama::Template)]
#[template(path = "login.html")]
struct LoginPage {
    layout: Layout,
    errors: FormErrors,
    login: String,
    next: String,
    csrf: String,
}

#[derive(Debug, Deserialize, Default)]
struct NextQuery {
    #[serde(default)]
    next: Option<String>,
}

/// Only local paths are followed after sign-in (no open redirects).
fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n) if n.starts_with('/') && !n.starts_with("//") && !n.starts_with("/\\") => n.to_string(),
        _ => "/".to_string(),
    }
}

fn fresh_token() -> String {
    commands::auth::new_token()[..32].to_string()
}

fn login_cookie(value: String, secure: bool) -> Cookie<'static> {
    let mut c = Cookie::new(LOGIN_CSRF_COOKIE, value);
    c.set_http_only(true);
    c.set_same_site(SameSite::Strict);
    c.set_secure(secure);
    c.set_path("/login");
    c
}

async fn show(State(state): State<AppState>, jar: CookieJar, Query(q): Query<NextQuery>) -> Response {
    let csrf =
        jar.get(LOGIN_CSRF_COOKIE).map(|c| c.value().to_string()).filter(|v| v.len() == 32).unwrap_or_else(fresh_token);
    let page = LoginPage {
        layout: Layout::anonymous(),
        errors: FormErrors::default(),
        login: String::new(),
        next: safe_next(q.next.as_deref()),
        csrf: csrf.clone(),
    };
    (jar.add(login_cookie(csrf, state.secure_cookies)), render(&page)).into_response()
}

#[derive(Debug, Deserialize)]
struct LoginForm {
    #[serde(default)]
    login: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    next: Option<String>,
    #[serde(default)]
    csrf: String,
}

async fn submit(State(state): State<AppState>, jar: CookieJar, Form(form): Form<LoginForm>) -> Response {
    let next = safe_next(form.next.as_deref());
    let expected = jar.get(LOGIN_CSRF_COOKIE).map(|c| c.value().to_string()).unwrap_or_default();
    let again = |errors: Vec<FieldError>, jar: CookieJar| {
        let csrf = fresh_token();
        let page = LoginPage {
            layout: Layout::anonymous(),
            errors: FormErrors(errors),
            login: form.login.clone(),
            next: next.clone(),
            csrf: csrf.clone(),
        };
        let mut res = (jar.add(login_cookie(csrf, state.secure_cookies)), render(&page)).into_response();
        *res.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
        res
    };
    if expected.is_empty() || expected != form.csrf {
        return again(vec![FieldError::new("login", "the sign-in form expired; please try again")], jar);
    }
    let mut errors = vec![];
    if form.login.trim().is_empty() {
        errors.push(FieldError::new("login", "enter your login"));
    }
    if form.password.is_empty() {
        errors.push(FieldError::new("password", "enter your password"));
    }
    if !errors.is_empty() {
        return again(errors, jar);
    }
    match state.svc.sign_in(&form.login, &form.password).await {
        Ok(session) => {
            let mut c = Cookie::new(session_cookie_name(state.secure_cookies), session.token);
            c.set_http_only(true);
            c.set_same_site(SameSite::Lax);
            c.set_secure(state.secure_cookies);
            c.set_path("/");
            // No Max-Age: the cookie dies with the browser (shared computers), and the
            // server ends the session at its expiry regardless.
            let jar = jar.remove(Cookie::build(LOGIN_CSRF_COOKIE).path("/login")).add(c);
            (jar, Redirect::to(&next)).into_response()
        }
        Err(CommandError::Rejected(Rejection::Invalid(fields))) => again(fields, jar),
        Err(e) => crate::PageError::from(e).into_response(),
    }
}

#[derive(Debug, Deserialize)]
struct CsrfForm {
    #[serde(default)]
    csrf: String,
}

async fn logout(
    State(state): State<AppState>,
    user: PageUser,
    jar: CookieJar,
    Form(form): Form<CsrfForm>,
) -> Result<Response, crate::PageError> {
    user.check_csrf(&form.csrf)?;
    state.svc.sign_out(&user.actor, &user.session).await?;
    let jar = jar.remove(Cookie::build(session_cookie_name(state.secure_cookies)).path("/"));
    Ok((jar, Redirect::to("/login")).into_response())
}

/// The home page sends each person to where their work is.
async fn home(user: PageUser) -> Redirect {
    use domain::staff::Role;
    Redirect::to(match user.actor.role {
        Role::Partner => "/referrals",
        Role::Administrator => "/admin/staff",
        Role::Auditor => "/audit",
        _ => "/my-work",
    })
}
