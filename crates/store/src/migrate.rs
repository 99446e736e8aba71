//! A small migration runner: each numbered SQL file runs once, in its own transaction,
//! recorded in `schema_migrations`. PostgreSQL takes an advisory lock so several
//! `serve` processes starting together migrate once.

use crate::{Backend, Store, StoreError};
use sqlx::{AssertSqlSafe, Connection, Row};

struct Migration {
    version: i64,
    name: &'static str,
    sqlite: &'static str,
    postgres: &'static str,
}

macro_rules! migration {
    ($version:literal, $name:literal) => {
        Migration {
            version: $version,
            name: $name,
            sqlite: include_str!(concat!("../migrations/sqlite/", $name, ".sql")),
            postgres: include_str!(concat!("../migrations/postgres/", $name, ".sql")),
        }
    };
}

const MIGRATIONS: &[Migration] = &[
    migration!(1, "0001_foundation"),
    migration!(2, "0002_escalation"),
    migration!(3, "0003_disagreements"),
    migration!(4, "0004_timer_indexes"),
    migration!(5, "0005_escalation_ids"),
    migration!(6, "0006_outbox"),
    migration!(7, "0007_qualification"),
    migration!(8, "0008_visits_seen"),
    migration!(9, "0009_duplicates"),
    migration!(10, "0010_audit_tree"),
    migration!(11, "0011_audit_append"),
    migration!(12, "0012_write_probe"),
];

/// An arbitrary constant naming safeguard's migration lock.
const PG_LOCK_KEY: i64 = 0x5AFE_6A2D;

fn latest() -> i64 {
    MIGRATIONS.last().map(|m| m.version).unwrap_or(0)
}

pub(crate) async fn run(store: &Store) -> Result<usize, StoreError> {
    let mut conn = store.pool().acquire().await?;
    if store.backend() == Backend::Postgres {
        sqlx::query("SELECT pg_advisory_lock($1)").bind(PG_LOCK_KEY).execute(&mut *conn).await?;
    }
    let result = run_locked(store.backend(), &mut conn).await;
    if store.backend() == Backend::Postgres {
        sqlx::query("SELECT pg_advisory_unlock($1)").bind(PG_LOCK_KEY).execute(&mut *conn).await?;
    }
    result
}

async fn run_locked(backend: Backend, conn: &mut sqlx::AnyConnection) -> Result<usize, StoreError> {
    sqlx::raw_sql(
        "CREATE TABLE IF NOT EXISTS schema_migrations (
            version BIGINT PRIMARY KEY,
            name TEXT NOT NULL,
            applied_at TEXT NOT NULL
        )",
    )
    .execute(&mut *conn)
    .await?;
    let applied = applied_version(conn).await?;
    if applied > latest() {
        return Err(StoreError::SchemaTooNew { found: applied, known: latest() });
    }
    let mut ran = 0;
    for m in MIGRATIONS.iter().filter(|m| m.version > applied) {
        let sql = match backend {
            Backend::Sqlite => m.sqlite,
            Backend::Postgres => m.postgres,
        };
        let mut tx = conn.begin().await?;
        sqlx::raw_sql(AssertSqlSafe(sql)).execute(&mut *tx).await.map_err(|source| StoreError::Migration {
            version: m.version,
            name: m.name,
            source,
        })?;
        sqlx::query("INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)")
            .bind(m.version)
            .bind(m.name)
            .bind(jiff::Timestamp::now().to_string())
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        tracing::info!(version = m.version, name = m.name, "applied migration");
        ran += 1;
    }
    Ok(ran)
}

async fn applied_version(conn: &mut sqlx::AnyConnection) -> Result<i64, StoreError> {
    let row = sqlx::query("SELECT CAST(COALESCE(MAX(version), 0) AS BIGINT) AS v FROM schema_migrations")
        .fetch_one(&mut *conn)
        .await?;
    Ok(row.try_get::<i64, _>("v")?)
}

pub(crate) async fn is_current(store: &Store) -> Result<bool, StoreError> {
    let mut conn = store.pool().acquire().await?;
    match applied_version(&mut conn).await {
        Ok(v) => Ok(v == latest()),
        // No migrations table yet: not current.
        Err(StoreError::Database(sqlx::Error::Database(_))) => Ok(false),
        Err(e) => Err(e),
    }
}
