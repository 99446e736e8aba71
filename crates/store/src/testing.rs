//! Fresh, isolated stores for tests, on SQLite and on PostgreSQL.
//!
//! SQLite tests get a new file in a temporary directory. PostgreSQL tests get a new
//! schema in the database named by `TEST_DATABASE_URL` (default
//! `postgres://postgres@127.0.0.1:5432/test`), dropped again by [`TestStore::teardown`].
//! When PostgreSQL cannot be reached the test is skipped with a message, unless `CI` is
//! set to `true`, when it fails: CI must prove both backends.

use crate::{Backend, Store};
use sqlx::Executor;

/// The PostgreSQL server tests use.
pub fn postgres_url() -> String {
    std::env::var("TEST_DATABASE_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

fn in_ci() -> bool {
    std::env::var("CI").map(|v| v == "true" || v == "1").unwrap_or(false)
}

/// A migrated, empty store that cleans up after itself.
pub struct TestStore {
    /// The store.
    pub store: Store,
    _dir: Option<tempfile::TempDir>,
    pg_schema: Option<String>,
}

impl std::ops::Deref for TestStore {
    type Target = Store;
    fn deref(&self) -> &Store {
        &self.store
    }
}

impl TestStore {
    /// A fresh store on `backend`, or `None` when PostgreSQL is unavailable outside CI.
    pub async fn new(backend: Backend) -> Option<TestStore> {
        match backend {
            Backend::Sqlite => Some(Self::sqlite().await),
            Backend::Postgres => Self::postgres().await,
        }
    }

    /// A fresh SQLite store in a temporary file.
    pub async fn sqlite() -> TestStore {
        let dir = tempfile::tempdir().expect("temporary directory");
        let path = dir.path().join("test.db");
        let store = Store::open(&path.display().to_string()).await.expect("open SQLite test store");
        TestStore { store, _dir: Some(dir), pg_schema: None }
    }

    /// A fresh PostgreSQL schema, or `None` (skip) when the server is down outside CI.
    pub async fn postgres() -> Option<TestStore> {
        let url = postgres_url();
        let admin = match Store::connect_with(Backend::Postgres, &url, None).await {
            Ok(s) => s,
            Err(e) if !in_ci() => {
                eprintln!("skipping PostgreSQL test: cannot reach {url}: {e}");
                return None;
            }
            Err(e) => panic!("CI=true but PostgreSQL at {url} is unreachable: {e}"),
        };
        let schema = format!("t_{}", hex::encode(rand::random::<[u8; 8]>()));
        admin
            .pool()
            .execute(sqlx::AssertSqlSafe(format!("CREATE SCHEMA \"{schema}\"")))
            .await
            .expect("create test schema");
        admin.close().await;
        let store =
            Store::connect_with(Backend::Postgres, &url, Some(schema.clone())).await.expect("connect to test schema");
        store.migrate().await.expect("migrate test schema");
        Some(TestStore { store, _dir: None, pg_schema: Some(schema) })
    }

    /// What another process passes as `--db` to reach this same database: the SQLite
    /// file, or the PostgreSQL URL with the test schema as its search path.
    pub fn database_spec(&self) -> String {
        match (&self.pg_schema, &self._dir) {
            (Some(schema), _) => {
                let url = postgres_url();
                let sep = if url.contains('?') { '&' } else { '?' };
                format!("{url}{sep}options=-c%20search_path%3D{schema}")
            }
            (None, Some(dir)) => dir.path().join("test.db").display().to_string(),
            (None, None) => "sqlite::memory:".to_string(),
        }
    }

    /// A second handle on the same PostgreSQL schema through another address (a proxy
    /// standing in for the server, which a test can cut).
    pub async fn reconnect_via(&self, host_and_port: &str) -> Store {
        let schema = self.pg_schema.clone().expect("a PostgreSQL test store");
        let url = postgres_url().replacen("127.0.0.1:5432", host_and_port, 1);
        assert!(url.contains(host_and_port), "TEST_DATABASE_URL names 127.0.0.1:5432");
        Store::connect_with(Backend::Postgres, &url, Some(schema)).await.expect("connect through the proxy")
    }

    /// A second, independent handle on the same database (another "process").
    pub async fn reconnect(&self) -> Store {
        match (&self.pg_schema, self.store.backend()) {
            (Some(schema), Backend::Postgres) => {
                Store::connect_with(Backend::Postgres, &postgres_url(), Some(schema.clone())).await.expect("reconnect")
            }
            _ => {
                let dir = self._dir.as_ref().expect("SQLite test stores live in a directory");
                Store::connect(&dir.path().join("test.db").display().to_string()).await.expect("reconnect")
            }
        }
    }

    /// Drops the PostgreSQL schema (SQLite's directory goes when dropped).
    pub async fn teardown(self) {
        self.store.close().await;
        if let Some(schema) = self.pg_schema
            && let Ok(admin) = Store::connect_with(Backend::Postgres, &postgres_url(), None).await
        {
            let _ = admin.pool().execute(sqlx::AssertSqlSafe(format!("DROP SCHEMA \"{schema}\" CASCADE"))).await;
            admin.close().await;
        }
    }
}

/// Defines one async test per backend: `name::sqlite` and `name::postgres`. The body
/// gets the store, or with `|t: TestStore|` the whole per-test database (to open a
/// second handle on it, as a second process would).
///
/// ```text
/// store_test!(decides_a_referral, |store| async move { … });
/// store_test!(two_processes_agree, |t: TestStore| async move { let other = t.reconnect().await; … });
/// ```
#[macro_export]
macro_rules! store_test {
    ($name:ident, |$t:ident: TestStore| $body:expr) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            async fn run($t: &$crate::testing::TestStore) {
                $body.await
            }

            #[tokio::test]
            async fn sqlite() {
                let t = $crate::testing::TestStore::sqlite().await;
                run(&t).await;
                t.teardown().await;
            }

            #[tokio::test]
            async fn postgres() {
                if let Some(t) = $crate::testing::TestStore::postgres().await {
                    run(&t).await;
                    t.teardown().await;
                }
            }
        }
    };
    ($name:ident, |$store:ident| $body:expr) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            async fn run($store: &$crate::Store) {
                $body.await
            }

            #[tokio::test]
            async fn sqlite() {
                let t = $crate::testing::TestStore::sqlite().await;
                run(&t.store).await;
                t.teardown().await;
            }

            #[tokio::test]
            async fn postgres() {
                if let Some(t) = $crate::testing::TestStore::postgres().await {
                    run(&t.store).await;
                    t.teardown().await;
                }
            }
        }
    };
}
