//! The trail for auditors over the API: the latest signed checkpoint (the C2SP text),
//! inclusion and consistency proofs, the entries in their canonical encoding, and a
//! check of the whole log. Auditors only.

use super::doc::{Conflict, Forbidden, Invalid, Unauthenticated, Unavailable, UnsupportedMediaType};
use super::{ApiJson, ApiQuery};
use crate::error::ApiError;
use crate::{ApiUser, AppState, Origin};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::IntoResponse;
use commands::Caller;
use commands::read_models::{ConsistencyProof, ExportedEntry, InclusionProof};
use serde::{Deserialize, Serialize};

/// `GET /audit/checkpoint`: the latest signed checkpoint as text (signing one first when
/// entries are not yet covered).
#[utoipa::path(
    get, path = "/audit/checkpoint", tag = "audit", operation_id = "getCheckpoint",
    summary = "The latest signed checkpoint of the trail, signing one first if entries are not yet covered (auditors)",
    description = "C2SP checkpoint text: origin, tree size, base64 root, `time <RFC 3339>`, a blank line, then `— <key name> <base64(key id ‖ Ed25519 signature)>`. The verifier key is printed by `safeguard audit key`.",
    responses(
        (status = 200, description = "The signed checkpoint", body = String, content_type = "text/plain"),
        (status = 401, response = Unauthenticated),
        (status = 403, response = Forbidden),
        (status = 409, response = Conflict),
        (status = 503, response = Unavailable),
    ),
)]
pub async fn checkpoint(State(state): State<AppState>, ApiUser(actor): ApiUser) -> Result<impl IntoResponse, ApiError> {
    let c = state.svc.latest_checkpoint(Caller::Staff(&actor)).await?;
    Ok(([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], c.text))
}

/// `GET /audit/proof/{seq}?size=`: the inclusion proof of an entry.
#[utoipa::path(
    get, path = "/audit/proof/{seq}", tag = "audit", operation_id = "getInclusionProof",
    summary = "RFC 6962 inclusion proof of an entry in the tree of `size` entries (default: now) (auditors)",
    params(
        ("seq" = i64, Path, description = "The entry's sequence number.", minimum = 1),
        ("size" = Option<i64>, Query, description = "The size of the tree the proof is for; default the whole trail now.", minimum = 1),
    ),
    responses(
        (status = 200, description = "The proof", body = InclusionProof),
        (status = 401, response = Unauthenticated),
        (status = 403, response = Forbidden),
        (status = 422, response = Invalid),
        (status = 503, response = Unavailable),
    ),
)]
pub async fn proof(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    Path(seq): Path<String>,
    query: ApiQuery,
) -> Result<Json<InclusionProof>, ApiError> {
    let mut params = query.params(&["size"]);
    let size = params.count("size", i64::MAX).and_then(|n| u64::try_from(n).ok());
    let seq = match seq.parse::<u64>() {
        Ok(n) if n > 0 => n,
        _ => {
            params.push("seq", "must be an entry's sequence number, from 1");
            0
        }
    };
    params.finish()?;
    Ok(Json(state.svc.audit_inclusion(Caller::Staff(&actor), seq, size).await?))
}

/// `GET /audit/consistency?old=&new=`: the consistency proof between two sizes.
#[utoipa::path(
    get, path = "/audit/consistency", tag = "audit", operation_id = "getConsistencyProof",
    summary = "RFC 6962 consistency proof between two sizes of the trail (auditors)",
    params(
        ("old" = i64, Query, description = "The earlier tree size.", minimum = 1),
        ("new" = i64, Query, description = "The later tree size.", minimum = 1),
    ),
    responses(
        (status = 200, description = "The proof", body = ConsistencyProof),
        (status = 401, response = Unauthenticated),
        (status = 403, response = Forbidden),
        (status = 422, response = Invalid),
        (status = 503, response = Unavailable),
    ),
)]
pub async fn consistency(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    query: ApiQuery,
) -> Result<Json<ConsistencyProof>, ApiError> {
    let mut params = query.params(&["old", "new"]);
    let old = params.count("old", i64::MAX);
    let new = params.count("new", i64::MAX);
    if !params.given("old") {
        params.push("old", "give the earlier tree size");
    }
    if !params.given("new") {
        params.push("new", "give the later tree size");
    }
    params.finish()?;
    let (old, new) = (old.unwrap_or(1).unsigned_abs(), new.unwrap_or(1).unsigned_abs());
    Ok(Json(state.svc.audit_consistency(Caller::Staff(&actor), old, new).await?))
}

/// `GET /audit/entries?from=&limit=`: entries in their canonical encoding (base64). An
/// export, so itself on the trail.
#[utoipa::path(
    get, path = "/audit/entries", tag = "audit", operation_id = "exportEntries",
    summary = "Entries in their canonical encoding, with the bytes in base64, for an outside verifier (auditors)",
    params(
        ("from" = Option<i64>, Query, description = "The first entry; default 1.", minimum = 1),
        ("limit" = Option<i64>, Query, description = "At most this many; default 1000.", minimum = 1, maximum = 10000),
    ),
    responses(
        (status = 200, description = "Entries, in order", body = Vec<ExportedEntry>),
        (status = 401, response = Unauthenticated),
        (status = 403, response = Forbidden),
        (status = 422, response = Invalid),
        (status = 503, response = Unavailable),
    ),
)]
pub async fn entries(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    origin: Origin,
    query: ApiQuery,
) -> Result<Json<Vec<ExportedEntry>>, ApiError> {
    let mut params = query.params(&["from", "limit"]);
    let from = params.count("from", i64::MAX).unwrap_or(1);
    let limit = params.count("limit", 10_000).unwrap_or(1_000);
    params.finish()?;
    let entries = state.svc.audit_export(Caller::Staff(&actor), from, limit).await?;
    let what = format!("audit entries from {from}");
    let rows = u32::try_from(entries.len()).unwrap_or(u32::MAX);
    let read = domain::event::Event::DataExported { what, rows, read: origin.api() };
    state.svc.record_read(&actor, "audit", read).await?;
    Ok(Json(entries))
}

/// What to check the log against: a checkpoint the auditor kept, if any.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VerifyBody {
    /// A signed checkpoint's text, as `GET /audit/checkpoint` gave it earlier.
    #[serde(default)]
    checkpoint: Option<String>,
}

/// The outcome of a whole-log check.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct VerifyReport {
    /// Whether everything checked out.
    ok: bool,
    /// Entries checked (when it verified).
    entries: Option<u64>,
    /// The root over them, hex (when it verified).
    root: Option<String>,
    /// Stored checkpoints checked (when it verified).
    checkpoints: Option<usize>,
    /// The first bad entry (when it did not).
    first_bad_entry: Option<i64>,
    /// What is wrong (when it did not).
    problem: Option<String>,
}

/// `POST /audit/verify`: recomputes the whole trail and checks it against every stored
/// checkpoint and the one given.
#[utoipa::path(
    post, path = "/audit/verify", tag = "audit", operation_id = "verifyTrail",
    summary = "Recompute every leaf, the tree and the chain; check every stored checkpoint and, if given, one the auditor kept (auditors)",
    request_body = VerifyBody,
    responses(
        (status = 200, description = "The outcome; when it does not verify, the first bad entry and what is wrong", body = VerifyReport),
        (status = 401, response = Unauthenticated),
        (status = 403, response = Forbidden),
        (status = 415, response = UnsupportedMediaType),
        (status = 422, response = Invalid),
        (status = 503, response = Unavailable),
    ),
)]
pub async fn verify(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    ApiJson(body): ApiJson<VerifyBody>,
) -> Result<Json<VerifyReport>, ApiError> {
    let report = match state.svc.audit_verify(Caller::Staff(&actor), body.checkpoint.as_deref()).await? {
        Ok(v) => VerifyReport {
            ok: true,
            entries: Some(v.entries),
            root: Some(v.root),
            checkpoints: Some(v.checkpoints),
            first_bad_entry: None,
            problem: None,
        },
        Err(e) => VerifyReport {
            ok: false,
            entries: None,
            root: None,
            checkpoints: None,
            first_bad_entry: Some(e.seq),
            problem: Some(e.problem),
        },
    };
    Ok(Json(report))
}
