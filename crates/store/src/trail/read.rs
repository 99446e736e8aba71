//! Reading the stored entries in runs for a whole-log check: with SQLite's own interface
//! on a thread of its own, or through the pool (an in-memory database).

use super::corrupt;
use crate::{Store, StoreError};
use sqlx::Row;

/// A run of consecutive stored entries, in order: their canonical texts joined by
/// newlines (which canonical JSON never holds raw), and their stored previous and chain
/// hashes (hex, concatenated).
#[derive(Debug, Default)]
pub(super) struct Run {
    pub(super) entries: String,
    pub(super) hashes: String,
    pub(super) len: usize,
}

/// Stands for a stored hash of the wrong length, so that the hashes stay 64 characters
/// apart; it matches no hash.
const NOT_A_HASH: &str = "????????????????????????????????????????????????????????????????";

impl Run {
    /// Adds one stored entry and its stored hashes.
    pub(super) fn push(&mut self, entry: &str, prev_hash: &str, hash: &str) {
        if self.len > 0 {
            self.entries.push('\n');
        }
        self.entries.push_str(entry);
        for hash in [prev_hash, hash] {
            // Anything but 64 characters cannot match a hash: kept in step as one.
            self.hashes.push_str(if hash.len() == 64 { hash } else { NOT_A_HASH });
        }
        self.len += 1;
    }
}

pub(super) type Runs = tokio::sync::mpsc::Sender<Result<Run, StoreError>>;

/// Reads entries 1..=`upto` in runs of `run` entries with SQLite's own interface on a
/// thread of its own: through `sqlx`, each row costs more than hashing it does.
pub(super) fn read_sqlite_file(path: std::path::PathBuf, upto: i64, run: usize, out: Runs) {
    let read = || -> Result<(), StoreError> {
        let failed = |e: rusqlite::Error| corrupt(format!("reading the trail from {}: {e}", path.display()));
        let db =
            rusqlite::Connection::open_with_flags(&path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY).map_err(failed)?;
        let mut statement =
            db.prepare("SELECT entry, prev_hash, hash FROM audit_log WHERE seq <= ?1 ORDER BY seq").map_err(failed)?;
        let mut rows = statement.query([upto]).map_err(failed)?;
        let mut current = Run::default();
        while let Some(row) = rows.next().map_err(failed)? {
            let text = |i| row.get_ref(i).ok().and_then(|v| v.as_str().ok()).unwrap_or("");
            current.push(text(0), text(1), text(2));
            if current.len == run && out.blocking_send(Ok(std::mem::take(&mut current))).is_err() {
                return Ok(());
            }
        }
        if current.len > 0 {
            let _ = out.blocking_send(Ok(current));
        }
        Ok(())
    };
    if let Err(e) = read() {
        let _ = out.blocking_send(Err(e));
    }
}

/// Reads entries 1..=`upto` through the pool, a run per statement: for an in-memory
/// SQLite database, which no other connection can open.
pub(super) async fn read_through_pool(store: Store, upto: i64, run: usize, out: Runs) {
    let step = i64::try_from(run).unwrap_or(i64::MAX);
    let mut from = 1;
    while from <= upto {
        let read = read_range(&store, from, (from + step).min(upto + 1)).await;
        let failed = read.is_err();
        if out.send(read).await.is_err() || failed {
            return;
        }
        from += step;
    }
}

/// Entries `from..to` as one run, read as one row (SQLite).
async fn read_range(store: &Store, from: i64, to: i64) -> Result<Run, StoreError> {
    let r = sqlx::query(
        "SELECT group_concat(entry, char(10) ORDER BY seq) AS e, group_concat(prev_hash || hash, '' ORDER BY seq) AS h,
                count(*) AS n
         FROM audit_log WHERE seq >= $1 AND seq < $2",
    )
    .bind(from)
    .bind(to)
    .fetch_one(store.pool())
    .await?;
    Ok(Run {
        entries: r.try_get::<Option<String>, _>("e")?.unwrap_or_default(),
        hashes: r.try_get::<Option<String>, _>("h")?.unwrap_or_default(),
        len: usize::try_from(r.try_get::<i64, _>("n")?).unwrap_or(0),
    })
}

/// The SQLite file behind `store`, when it is one another connection can open.
pub(super) fn sqlite_file(store: &Store) -> Option<std::path::PathBuf> {
    if store.backend() != crate::Backend::Sqlite {
        return None;
    }
    let url = store.pool().connect_options().database_url.clone();
    let options = <sqlx::sqlite::SqliteConnectOptions as sqlx::ConnectOptions>::from_url(&url).ok()?;
    let path = options.get_filename();
    (!path.as_os_str().is_empty() && path.exists()).then(|| path.to_path_buf())
}
