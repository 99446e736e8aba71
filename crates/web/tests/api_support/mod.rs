//! Support for the API tests: calls that check every reply against the OpenAPI document,
//! and assertions about the audit trail.
//!
//! Every reply goes through [`Api::call`], which finds the operation the document
//! declares for the path and method, insists the status is one it declares, and
//! validates the body (and declared headers) against it; a request that succeeded must
//! also have used only declared query parameters and a body its schema accepts. So every
//! test keeps the document honest, not only the ones about the document.
#![allow(dead_code, clippy::unwrap_used)]

use crate::support::{Reply, TestApp};
use axum::http::{Method, StatusCode};
use serde_json::{Value, json};
use std::collections::BTreeSet;

/// The OpenAPI document, parsed.
pub struct Doc(pub Value);

impl Doc {
    /// The document the API serves.
    pub fn load() -> Doc {
        Doc(serde_json::from_str(web::api::doc::document()).expect("the document is JSON"))
    }

    /// The path template (`/people/{id}`) matching a concrete path under `/api/v1`,
    /// preferring literal segments over parameters.
    pub fn template_for(&self, path: &str) -> Option<String> {
        let path = path.split('?').next().unwrap_or(path);
        let path = path.strip_prefix("/api/v1").unwrap_or(path);
        let want: Vec<&str> = path.split('/').collect();
        let mut best: Option<(usize, String)> = None;
        for template in self.0["paths"].as_object().unwrap().keys() {
            let have: Vec<&str> = template.split('/').collect();
            if have.len() != want.len() {
                continue;
            }
            let mut literal = 0;
            let fits = have.iter().zip(&want).all(|(h, w)| {
                if h.starts_with('{') {
                    true
                } else {
                    literal += usize::from(h == w);
                    h == w
                }
            });
            if fits && best.as_ref().is_none_or(|(n, _)| literal > *n) {
                best = Some((literal, template.clone()));
            }
        }
        best.map(|(_, t)| t)
    }

    /// Follows a `#/components/...` reference (or returns the value itself).
    pub fn resolve<'a>(&'a self, v: &'a Value) -> &'a Value {
        match v.get("$ref").and_then(Value::as_str) {
            Some(r) => {
                let pointer = r.strip_prefix('#').unwrap_or_else(|| panic!("only local refs: {r}"));
                self.resolve(self.0.pointer(pointer).unwrap_or_else(|| panic!("dangling $ref {r}")))
            }
            None => v,
        }
    }

    /// The operation for a method on a path template.
    pub fn operation(&self, method: &str, template: &str) -> Option<&Value> {
        self.0["paths"].get(template)?.get(method.to_ascii_lowercase())
    }

    /// The names of the query parameters an operation declares.
    pub fn query_parameters(&self, op: &Value) -> BTreeSet<String> {
        op["parameters"]
            .as_array()
            .map(|ps| {
                ps.iter()
                    .map(|p| self.resolve(p))
                    .filter(|p| p["in"] == "query")
                    .map(|p| p["name"].as_str().unwrap().to_string())
                    .collect()
            })
            .unwrap_or_default()
    }

    /// A validator for `schema`, resolving `$ref`s into this document's components as
    /// the document states them.
    pub fn validator(&self, schema: &Value) -> jsonschema::Validator {
        compile(schema, &self.0["components"])
    }

    /// A validator for a reply: as [`Doc::validator`], but every object the document
    /// describes is closed, so a reply carrying a field the document does not name (a
    /// renamed or stray field) fails rather than passing as an extra.
    pub fn reply_validator(&self, schema: &Value) -> jsonschema::Validator {
        let mut components = self.0["components"].clone();
        let in_all_of = all_of_targets(&self.0["components"]["schemas"]);
        for (name, schema) in components["schemas"].as_object_mut().unwrap() {
            close(schema, !in_all_of.contains(name));
        }
        let mut schema = schema.clone();
        close(&mut schema, true);
        compile(&schema, &components)
    }

    /// Checks a reply against the document: declared status, media type, headers and
    /// body schema; and, when it succeeded, that the request used only what the document
    /// declares. Panics with the reason when it does not match.
    pub fn check(&self, method: &Method, path: &str, body: Option<&Value>, reply: &Reply) {
        let template = self.template_for(path).unwrap_or_else(|| panic!("{path} is not in the document"));
        let op = self
            .operation(method.as_str(), &template)
            .unwrap_or_else(|| panic!("{method} {template} is not in the document"));
        let status = reply.status.as_u16().to_string();
        let declared = op["responses"].get(&status).unwrap_or_else(|| {
            panic!(
                "{method} {path} answered {status}, which the document does not declare for {template}: {}",
                reply.body
            )
        });
        if reply.status.is_success() {
            self.check_request(method, path, op, body);
        }
        let declared = self.resolve(declared);
        if let Some(headers) = declared.get("headers").and_then(Value::as_object) {
            for name in headers.keys() {
                assert!(
                    reply.headers.contains_key(name.as_str()),
                    "{method} {path} {status}: header {name} is declared but missing"
                );
            }
        }
        let Some(content) = declared.get("content").and_then(Value::as_object) else {
            assert!(reply.body.is_empty(), "{method} {path} {status}: no body is declared, got {}", reply.body);
            return;
        };
        let content_type = reply.headers.get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("");
        let media = content_type.split(';').next().unwrap_or("").trim();
        let media_schema = content.get(media).unwrap_or_else(|| {
            panic!("{method} {path} {status}: content type {content_type:?} is not declared ({:?})", content.keys())
        })["schema"]
            .clone();
        let body: Value = if media == "text/plain" {
            Value::String(reply.body.clone())
        } else {
            serde_json::from_str(&reply.body)
                .unwrap_or_else(|e| panic!("{method} {path} {status}: body is not JSON ({e}): {}", reply.body))
        };
        let validator = self.reply_validator(&media_schema);
        let errors: Vec<String> =
            validator.iter_errors(&body).map(|e| format!("{} at {}", e, e.instance_path())).collect();
        assert!(
            errors.is_empty(),
            "{method} {path} {status}: the body does not match the document:\n{}\n{body:#}",
            errors.join("\n")
        );
    }

    /// A request that was accepted named only declared query parameters and sent a body
    /// its operation's schema accepts.
    fn check_request(&self, method: &Method, path: &str, op: &Value, body: Option<&Value>) {
        let declared = self.query_parameters(op);
        if let Some((_, query)) = path.split_once('?') {
            let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query).unwrap();
            for (name, _) in pairs {
                assert!(
                    declared.contains(&name),
                    "{method} {path}: query parameter {name} was accepted but is not declared ({declared:?})"
                );
            }
        }
        let schema = &op["requestBody"]["content"]["application/json"]["schema"];
        if let (Some(body), false) = (body, schema.is_null()) {
            let errors: Vec<String> =
                self.validator(schema).iter_errors(body).map(|e| format!("{} at {}", e, e.instance_path())).collect();
            assert!(
                errors.is_empty(),
                "{method} {path}: the body was accepted but the document's schema refuses it:\n{}\n{body:#}",
                errors.join("\n")
            );
        }
    }
}

/// Compiles `schema` with `components` beside it, for its `#/components/...` references.
fn compile(schema: &Value, components: &Value) -> jsonschema::Validator {
    let mut root = schema.clone();
    if let Some(o) = root.as_object_mut() {
        o.insert("components".into(), components.clone());
    } else {
        root = json!({ "allOf": [schema], "components": components });
    }
    jsonschema::options()
        .with_draft(jsonschema::Draft::Draft202012)
        .should_validate_formats(true)
        .build(&root)
        .unwrap_or_else(|e| panic!("schema does not compile: {e}\n{schema}"))
}

/// The component schemas some `allOf` builds on: closing one of those at its top would
/// refuse the fields the other parts add.
fn all_of_targets(schemas: &Value) -> BTreeSet<String> {
    fn walk(v: &Value, out: &mut BTreeSet<String>) {
        match v {
            Value::Object(o) => {
                if let Some(parts) = o.get("allOf").and_then(Value::as_array) {
                    for r in parts.iter().filter_map(|p| p.get("$ref")).filter_map(Value::as_str) {
                        out.insert(r.rsplit('/').next().unwrap().to_string());
                    }
                }
                o.values().for_each(|x| walk(x, out));
            }
            Value::Array(a) => a.iter().for_each(|x| walk(x, out)),
            _ => {}
        }
    }
    let mut out = BTreeSet::new();
    walk(schemas, &mut out);
    out
}

/// Closes every object schema within `v` (`unevaluatedProperties: false`, which sees
/// through `allOf` and `$ref`) unless it says what else it allows; `top` is false for a
/// schema that is one part of an `allOf`, which its whole closes instead.
fn close(v: &mut Value, top: bool) {
    match v {
        Value::Object(o) => {
            let object = o.contains_key("properties") || o.contains_key("allOf");
            if top && object && !o.contains_key("additionalProperties") {
                o.insert("unevaluatedProperties".into(), Value::Bool(false));
            }
            for (key, x) in o.iter_mut() {
                match (key.as_str(), x) {
                    ("allOf", Value::Array(parts)) => parts.iter_mut().for_each(|p| close(p, false)),
                    ("properties", Value::Object(props)) => props.values_mut().for_each(|p| close(p, true)),
                    (_, x) => close(x, true),
                }
            }
        }
        Value::Array(a) => a.iter_mut().for_each(|x| close(x, true)),
        _ => {}
    }
}

/// The app with its API document: every call is checked against the document.
pub struct Api<'a> {
    /// The app.
    pub app: &'a TestApp,
    /// The document.
    pub doc: Doc,
}

impl<'a> Api<'a> {
    /// An API client for `app`.
    pub fn new(app: &'a TestApp) -> Self {
        Api { app, doc: Doc::load() }
    }

    /// Sends a request and checks the reply against the document.
    pub async fn call(&self, method: Method, path: &str, token: Option<&str>, body: Option<Value>) -> Reply {
        let reply = self.app.api(method.clone(), path, token, body.clone()).await;
        self.doc.check(&method, path, body.as_ref(), &reply);
        reply
    }

    /// GET as `token`.
    pub async fn get(&self, path: &str, token: &str) -> Reply {
        self.call(Method::GET, path, Some(token), None).await
    }

    /// GET that must answer 200; the body.
    pub async fn get_ok(&self, path: &str, token: &str) -> Value {
        let r = self.get(path, token).await;
        assert_eq!(r.status, StatusCode::OK, "GET {path}: {}", r.body);
        r.json()
    }

    /// A command that must be accepted with `status` and add exactly one audit entry,
    /// chained to the one before it. The body.
    pub async fn command(&self, method: Method, path: &str, token: &str, body: Value, status: StatusCode) -> Value {
        self.command_reply(method, path, token, body, status).await.json()
    }

    /// As [`Api::command`], the whole reply (for its headers).
    pub async fn command_reply(
        &self,
        method: Method,
        path: &str,
        token: &str,
        body: Value,
        status: StatusCode,
    ) -> Reply {
        let (seq, hash) = store::query::audit_head(&self.app.store).await.unwrap();
        let r = self.call(method.clone(), path, Some(token), Some(body)).await;
        assert_eq!(r.status, status, "{method} {path}: {}", r.body);
        assert_chained(self.app, seq, &hash, 1).await;
        r
    }

    /// A request that must be refused with `status` as problem details (naming `field`
    /// among its errors, when given) and leave the audit trail as it was. The problem.
    pub async fn refused(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
        status: StatusCode,
        field: Option<&str>,
    ) -> Value {
        let before = self.app.audit_len().await;
        let r = self.call(method.clone(), path, token, body).await;
        assert_eq!(r.status, status, "{method} {path}: {}", r.body);
        assert_eq!(r.headers.get("content-type").unwrap(), "application/problem+json", "{method} {path}");
        let p = r.json();
        assert_eq!(p["status"], status.as_u16(), "{p}");
        if let Some(f) = field {
            let named: Vec<&str> = p["errors"]
                .as_array()
                .map(|e| e.iter().filter_map(|e| e["field"].as_str()).collect())
                .unwrap_or_default();
            assert!(named.contains(&f), "{method} {path}: expected field {f} among {named:?}: {p}");
        }
        if status == StatusCode::UNAUTHORIZED {
            assert!(r.headers.contains_key("www-authenticate"), "{method} {path}: 401 without WWW-Authenticate");
        }
        assert_eq!(self.app.audit_len().await, before, "{method} {path}: a refused request wrote to the audit trail");
        p
    }
}

/// Sends a request as [`TestApp::api`] does, and checks the reply against the document.
pub async fn checked(app: &TestApp, method: Method, path: &str, token: Option<&str>, body: Option<Value>) -> Reply {
    Api::new(app).call(method, path, token, body).await
}

/// Asserts `n` entries were appended after entry `seq` (whose hash was `hash`), the first
/// chained to it, and that the whole chain verifies up to the head.
pub async fn assert_chained(app: &TestApp, seq: i64, hash: &str, n: i64) {
    let store = &app.store;
    let (now, _) = store::query::audit_head(store).await.unwrap();
    assert_eq!(now, seq + n, "expected {n} new audit entries");
    let added = store::query::audit_entries(store, seq + 1, 100).await.unwrap();
    assert_eq!(added.len() as i64, n);
    assert_eq!(added[0].prev_hash, hash, "the new entry is not chained to the previous head");
    let verified =
        i64::try_from(store::trail::verify_entries(store).await.unwrap().expect("the audit chain verifies").entries)
            .unwrap();
    assert_eq!(verified, now);
}

/// A referral body for one new child.
pub fn referral_body(team: i64) -> Value {
    json!({
        "team": team, "source": "school", "referrer": "Head teacher, Hill School",
        "concern": "bruising to face, explanation inconsistent", "categories": ["physical"],
        "children": [{"given_name": "Alfie", "family_name": "Scott", "dob": "2014-01-01", "sex": "male", "nhs_number": "943 476 5919"}]
    })
}

/// A referral about a new child decided with `decision` by the team manager: the case it
/// opened and the child.
pub async fn open_case(api: &Api<'_>, tm: &str, decision: &str) -> (i64, i64) {
    let r =
        api.command(Method::POST, "/api/v1/referrals", tm, referral_body(api.app.team.0), StatusCode::CREATED).await;
    let made = api
        .command(
            Method::POST,
            &format!("/api/v1/referrals/{}/decision", r["id"]),
            tm,
            json!({"decision": decision, "reason": "injury, explanation inconsistent"}),
            StatusCode::OK,
        )
        .await;
    (made["opened"][0].as_i64().unwrap(), r["children"][0]["id"].as_i64().unwrap())
}

/// A child on a child protection plan (category physical), allocated to sw1: the case
/// and the child.
pub async fn cp_case(api: &Api<'_>, tm: &str) -> (i64, i64) {
    let (case, child) = open_case(api, tm, "strategy_discussion").await;
    api.command(
        Method::POST,
        &format!("/api/v1/cases/{case}/allocation"),
        tm,
        json!({"worker": api.app.sw.staff.0}),
        StatusCode::OK,
    )
    .await;
    let plan = api
        .command(
            Method::POST,
            &format!("/api/v1/cases/{case}/plan"),
            tm,
            json!({"plan": "cp", "category": "physical"}),
            StatusCode::OK,
        )
        .await;
    assert_eq!(plan["stage"], "cp");
    (case, child)
}

/// A visit by sw1 that did not get in: the `child_not_seen` escalation it raised.
pub async fn no_access(api: &Api<'_>, sw: &str, case: i64, child: i64) -> Value {
    api.command(
        Method::POST,
        &format!("/api/v1/cases/{case}/visits"),
        sw,
        json!({"outcome": "no_access", "note": "nobody answered"}),
        StatusCode::CREATED,
    )
    .await;
    let list = api.get_ok(&format!("/api/v1/people/{child}/escalations"), sw).await;
    let open: Vec<&Value> = list
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["escalation"]["trigger"] == "child_not_seen" && r["escalation"]["state"] != "resolved")
        .collect();
    assert_eq!(open.len(), 1, "one open child_not_seen: {list:#}");
    open[0]["escalation"].clone()
}
