//! Shared test support: an in-process app on a fresh store (SQLite or PostgreSQL), a
//! small team of staff, and helpers to send requests as each of them.
#![allow(dead_code)]

use axum::Router;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use commands::staff::{LeadershipInput, StaffInput, TeamInput};
use commands::{Caller, Config, Service};
use domain::authz::Actor;
use domain::clock::SimulatedClock;
use domain::ids::TeamId;
use http_body_util::BodyExt;
use std::sync::Arc;
use store::Backend;
use store::testing::TestStore;
use tower::ServiceExt;

/// Every test account's password.
pub const PASSWORD: &str = "correct horse battery";

/// An app with one team: tm1 (team manager), sw1 and sw2 (social workers), sm1
/// (service manager), pc1 (police partner), admin (administrator) and aud1 (auditor).
pub struct TestApp {
    pub store: TestStore,
    pub svc: Service,
    pub clock: Arc<SimulatedClock>,
    pub app: Router,
    pub team: TeamId,
    pub tm: Actor,
    pub sw: Actor,
    pub sw2: Actor,
    pub sm: Actor,
    pub partner: Actor,
    pub admin: Actor,
    pub auditor: Actor,
}

/// A response, read whole.
pub struct Reply {
    pub status: StatusCode,
    pub headers: axum::http::HeaderMap,
    pub body: String,
}

impl Reply {
    /// The body as JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }
}

async fn add(svc: &Service, login: &str, role: &str, team: Option<TeamId>, agency: Option<&str>) -> Actor {
    svc.add_staff(
        Caller::System("test"),
        &StaffInput {
            login: login.into(),
            name: format!("{} Person", login.to_uppercase()),
            role: role.into(),
            agency: agency.map(Into::into),
            team: team.map(|t| t.0),
            password: PASSWORD.into(),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    svc.sign_in(login, PASSWORD).await.unwrap().actor
}

/// The key the test service signs checkpoints of its trail with.
pub fn audit_key() -> audit::SigningKey {
    audit::SigningKey::from_seed("test.example/audit", &[7u8; 32]).unwrap()
}

impl TestApp {
    /// A fresh app on `backend`, or `None` when PostgreSQL is unavailable outside CI.
    pub async fn new(backend: Backend) -> Option<TestApp> {
        let store = TestStore::new(backend).await?;
        let clock = Arc::new(SimulatedClock::new("2026-03-02T09:00:00Z".parse().unwrap()));
        // The trail's signing key, as a server holds it (outside the database).
        let audit_key = Some(Arc::new(audit_key()));
        let svc = Service::new(store.store.clone(), clock.clone(), Config { audit_key, ..Config::default() });
        let team = svc.create_team(Caller::System("test"), &TeamInput { name: "North".into() }).await.unwrap();
        let tm = add(&svc, "tm1", "team_manager", Some(team), None).await;
        let sw = add(&svc, "sw1", "social_worker", Some(team), None).await;
        let sw2 = add(&svc, "sw2", "social_worker", Some(team), None).await;
        let sm = add(&svc, "sm1", "service_manager", None, None).await;
        let partner = add(&svc, "pc1", "partner", None, Some("police")).await;
        let admin = add(&svc, "admin", "administrator", None, None).await;
        let auditor = add(&svc, "aud1", "auditor", None, None).await;
        svc.set_team_leadership(
            Caller::System("test"),
            team,
            &LeadershipInput {
                team_manager: Some(tm.staff.0),
                service_manager: Some(sm.staff.0),
                head_of_service: None,
            },
        )
        .await
        .unwrap();
        let app = web::router(web::AppState { svc: svc.clone(), secure_cookies: false });
        Some(TestApp { store, svc, clock, app, team, tm, sw, sw2, sm, partner, admin, auditor })
    }

    /// A bearer token for `login`.
    pub async fn token(&self, actor: &Actor) -> String {
        self.svc.issue_token(actor, "test").await.unwrap().1
    }

    /// A session cookie value (`name=token`) and its CSRF token, for page tests.
    pub async fn session(&self, login: &str) -> (String, String) {
        let s = self.svc.sign_in(login, PASSWORD).await.unwrap();
        (format!("{}={}", web::SESSION_COOKIE, s.token), commands::auth::csrf_token(&s.token))
    }

    /// Sends a request and reads the whole reply.
    pub async fn send(&self, req: Request<Body>) -> Reply {
        let res = self.app.clone().oneshot(req).await.unwrap();
        let status = res.status();
        let headers = res.headers().clone();
        let bytes = res.into_body().collect().await.unwrap().to_bytes();
        Reply { status, headers, body: String::from_utf8_lossy(&bytes).into_owned() }
    }

    /// An API call with an optional bearer token and JSON body.
    pub async fn api(&self, method: Method, path: &str, token: Option<&str>, body: Option<serde_json::Value>) -> Reply {
        let mut b = Request::builder().method(method).uri(path);
        if let Some(t) = token {
            b = b.header(header::AUTHORIZATION, format!("Bearer {t}"));
        }
        let req = match body {
            Some(v) => b.header(header::CONTENT_TYPE, "application/json").body(Body::from(v.to_string())).unwrap(),
            None => b.body(Body::empty()).unwrap(),
        };
        self.send(req).await
    }

    /// A page GET with a session cookie.
    pub async fn get_page(&self, path: &str, cookie: Option<&str>) -> Reply {
        let mut b = Request::builder().uri(path);
        if let Some(c) = cookie {
            b = b.header(header::COOKIE, c);
        }
        self.send(b.body(Body::empty()).unwrap()).await
    }

    /// A form POST with a session cookie; `fields` are name/value pairs (repeat a name
    /// for several values).
    pub async fn post_form(&self, path: &str, cookie: Option<&str>, fields: &[(&str, &str)]) -> Reply {
        let body = fields.iter().map(|(k, v)| format!("{}={}", enc(k), enc(v))).collect::<Vec<_>>().join("&");
        let mut b = Request::builder()
            .method(Method::POST)
            .uri(path)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
        if let Some(c) = cookie {
            b = b.header(header::COOKIE, c);
        }
        self.send(b.body(Body::from(body)).unwrap()).await
    }

    /// The number of audit entries.
    pub async fn audit_len(&self) -> i64 {
        store::query::audit_head(&self.store).await.unwrap().0
    }

    /// Drops the test database.
    pub async fn teardown(self) {
        self.store.teardown().await;
    }
}

fn enc(s: &str) -> String {
    web::pages::urlencode(s).replace('/', "%2F")
}

/// Defines one test per backend (`name::sqlite`, `name::postgres`) taking a `&TestApp`.
#[macro_export]
macro_rules! app_test {
    ($name:ident, |$app:ident| $body:expr) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            async fn run($app: &$crate::support::TestApp) {
                $body.await
            }

            #[tokio::test]
            async fn sqlite() {
                let app = $crate::support::TestApp::new(store::Backend::Sqlite).await.expect("sqlite");
                run(&app).await;
                app.teardown().await;
            }

            #[tokio::test]
            async fn postgres() {
                if let Some(app) = $crate::support::TestApp::new(store::Backend::Postgres).await {
                    run(&app).await;
                    app.teardown().await;
                }
            }
        }
    };
}
