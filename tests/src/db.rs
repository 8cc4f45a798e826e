//! Temporary databases: a SQLite file, or a fresh database created on the
//! machine's MariaDB / PostgreSQL and dropped afterwards.

use std::path::PathBuf;

use sqlx::Row;

/// Which engine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Mysql,
    Postgres,
}

impl Backend {
    /// The name the daemon's config uses.
    pub fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Mysql => "mysql",
            Backend::Postgres => "postgres",
        }
    }
}

/// One observation row, as the tests compare them.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct ObsRow {
    pub id: String,
    pub evidence_ref: String,
    pub primitive: String,
    pub attacker_uuid: String,
}

/// A `logs` row for the poll path (contracts.md §5.4).
#[derive(Debug, Clone)]
pub struct LogRow {
    pub timestamp: String,
    pub decky: String,
    pub service: String,
    pub event_type: String,
    pub attacker_ip: String,
    pub fields: String,
}

/// A database that exists for one test.
pub struct TestDb {
    pub backend: Backend,
    /// URL the daemon connects with.
    pub url: String,
    admin_url: Option<String>,
    name: Option<String>,
    _dir: Option<tempfile::TempDir>,
    rt: tokio::runtime::Runtime,
    /// The connection [`TestDb::wait_stored_sessions`] polls on, opened on
    /// first use and kept (a new connection per poll costs milliseconds).
    counter: std::sync::Mutex<Option<CounterPool>>,
}

enum CounterPool {
    Sqlite(sqlx::SqlitePool),
    Mysql(sqlx::MySqlPool),
    Postgres(sqlx::PgPool),
}

fn runtime() -> tokio::runtime::Runtime {
    match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => panic!("tokio runtime: {e}"),
    }
}

/// Replaces the database name (the path) of an admin URL.
fn with_db(admin: &str, db: &str) -> String {
    let (head, query) = match admin.split_once('?') {
        Some((h, q)) => (h, Some(q)),
        None => (admin, None),
    };
    let scheme_end = head.find("://").map(|i| i + 3).unwrap_or(0);
    let base = match head[scheme_end..].find('/') {
        Some(i) => &head[..scheme_end + i],
        None => head,
    };
    match query {
        Some(q) => format!("{base}/{db}?{q}"),
        None => format!("{base}/{db}"),
    }
}

impl TestDb {
    /// A SQLite file in a temporary directory (created by the daemon).
    pub fn sqlite() -> TestDb {
        let dir = match tempfile::Builder::new().prefix("e2e-db").tempdir() {
            Ok(d) => d,
            Err(e) => panic!("tempdir: {e}"),
        };
        let path: PathBuf = dir.path().join("profiler.db");
        TestDb {
            backend: Backend::Sqlite,
            url: format!("sqlite://{}", path.display()),
            admin_url: None,
            name: None,
            _dir: Some(dir),
            rt: runtime(),
            counter: Default::default(),
        }
    }

    /// A fresh database on MariaDB (`$DECNET_E2E_MYSQL_URL`), or `None` if
    /// the server cannot be reached.
    pub fn mysql() -> Option<TestDb> {
        let admin = std::env::var("DECNET_E2E_MYSQL_URL")
            .unwrap_or_else(|_| "mysql://root@127.0.0.1:3306/test".into());
        Self::server(Backend::Mysql, admin)
    }

    /// A fresh database on PostgreSQL (`$DECNET_E2E_PG_URL`), or `None`.
    pub fn postgres() -> Option<TestDb> {
        let admin = std::env::var("DECNET_E2E_PG_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
        Self::server(Backend::Postgres, admin)
    }

    fn server(backend: Backend, admin: String) -> Option<TestDb> {
        let rt = runtime();
        let name = format!("e2e_{}", &uuid::Uuid::new_v4().simple().to_string()[..12]);
        let created = rt.block_on(async {
            let sql = format!("CREATE DATABASE {name}");
            match backend {
                Backend::Mysql => {
                    let pool = sqlx::MySqlPool::connect(&admin).await.ok()?;
                    sqlx::query(&sql).execute(&pool).await.ok()?;
                    pool.close().await;
                }
                Backend::Postgres => {
                    let pool = sqlx::PgPool::connect(&admin).await.ok()?;
                    sqlx::query(&sql).execute(&pool).await.ok()?;
                    pool.close().await;
                }
                Backend::Sqlite => return None,
            }
            Some(())
        });
        created?;
        Some(TestDb {
            backend,
            url: with_db(&admin, &name),
            admin_url: Some(admin),
            name: Some(name),
            _dir: None,
            rt,
            counter: Default::default(),
        })
    }

    /// The `[database]` section of the daemon's TOML config.
    pub fn toml(&self) -> String {
        format!(
            "[database]\nbackend = \"{}\"\nurl = \"{}\"\nschema = \"own\"\n",
            self.backend.name(),
            self.url
        )
    }

    /// All observation rows, sorted.
    pub fn observations(&self) -> Vec<ObsRow> {
        let sql = "SELECT id, evidence_ref, primitive, attacker_uuid FROM observations";
        let rows = self.rt.block_on(async {
            let mut out = Vec::new();
            macro_rules! collect {
                ($pool:expr) => {{
                    let pool = $pool;
                    let rows = sqlx::query(sql).fetch_all(&pool).await.unwrap_or_default();
                    for r in rows {
                        out.push(ObsRow {
                            id: r.try_get(0).unwrap_or_default(),
                            evidence_ref: r.try_get(1).unwrap_or_default(),
                            primitive: r.try_get(2).unwrap_or_default(),
                            attacker_uuid: r.try_get(3).unwrap_or_default(),
                        });
                    }
                    pool.close().await;
                }};
            }
            match self.backend {
                Backend::Sqlite => {
                    if let Ok(p) = sqlx::SqlitePool::connect(&self.url).await {
                        collect!(p)
                    }
                }
                Backend::Mysql => {
                    if let Ok(p) = sqlx::MySqlPool::connect(&self.url).await {
                        collect!(p)
                    }
                }
                Backend::Postgres => {
                    if let Ok(p) = sqlx::PgPool::connect(&self.url).await {
                        collect!(p)
                    }
                }
            }
            out
        });
        let mut rows = rows;
        rows.sort();
        rows
    }

    /// Polls the number of sessions stored (distinct `evidence_ref`) every
    /// 5 ms on one connection until `done(count)` or `timeout`; returns the
    /// last count seen. Fast enough to stop a daemon within a few sessions
    /// of a chosen point.
    pub fn wait_stored_sessions(
        &self,
        timeout: std::time::Duration,
        mut done: impl FnMut(usize) -> bool,
    ) -> usize {
        let sql = "SELECT COUNT(DISTINCT evidence_ref) FROM observations";
        let deadline = std::time::Instant::now() + timeout;
        let mut slot = match self.counter.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        };
        self.rt.block_on(async {
            if slot.is_none() {
                macro_rules! one {
                    ($opts:ty, $variant:ident) => {
                        <$opts>::new()
                            .max_connections(1)
                            .connect(&self.url)
                            .await
                            .ok()
                            .map(CounterPool::$variant)
                    };
                }
                *slot = match self.backend {
                    Backend::Sqlite => one!(sqlx::sqlite::SqlitePoolOptions, Sqlite),
                    Backend::Mysql => one!(sqlx::mysql::MySqlPoolOptions, Mysql),
                    Backend::Postgres => one!(sqlx::postgres::PgPoolOptions, Postgres),
                };
            }
            let mut last = 0usize;
            loop {
                macro_rules! count {
                    ($pool:expr) => {
                        sqlx::query_scalar::<_, i64>(sql)
                            .fetch_one($pool)
                            .await
                            .ok()
                    };
                }
                let n = match slot.as_ref() {
                    Some(CounterPool::Sqlite(p)) => count!(p),
                    Some(CounterPool::Mysql(p)) => count!(p),
                    Some(CounterPool::Postgres(p)) => count!(p),
                    None => None,
                };
                if let Some(n) = n {
                    last = usize::try_from(n).unwrap_or(0);
                }
                if done(last) || std::time::Instant::now() >= deadline {
                    return last;
                }
                tokio::time::sleep(std::time::Duration::from_millis(5)).await;
            }
        })
    }

    /// Inserts `logs` rows (the daemon must have created the tables).
    pub fn insert_logs(&self, rows: &[LogRow]) -> Result<(), String> {
        self.rt.block_on(async {
            macro_rules! insert {
                ($pool:expr, $sql:expr) => {{
                    let pool = $pool;
                    // One transaction: the rows appear at once, as a backlog.
                    let mut tx = pool
                        .begin()
                        .await
                        .map_err(|e| format!("insert into logs: {e}"))?;
                    for r in rows {
                        sqlx::query($sql)
                            .bind(&r.timestamp)
                            .bind(&r.decky)
                            .bind(&r.service)
                            .bind(&r.event_type)
                            .bind(&r.attacker_ip)
                            .bind("")
                            .bind(&r.fields)
                            .bind("")
                            .execute(&mut *tx)
                            .await
                            .map_err(|e| format!("insert into logs: {e}"))?;
                    }
                    tx.commit()
                        .await
                        .map_err(|e| format!("insert into logs: {e}"))?;
                    pool.close().await;
                }};
            }
            let q = "INSERT INTO logs (timestamp, decky, service, event_type, attacker_ip, raw_line, fields, msg) VALUES (?, ?, ?, ?, ?, ?, ?, ?)";
            let q_pg = "INSERT INTO logs (timestamp, decky, service, event_type, attacker_ip, raw_line, fields, msg) VALUES ($1::timestamp, $2, $3, $4, $5, $6, $7, $8)";
            match self.backend {
                Backend::Sqlite => {
                    let p = sqlx::SqlitePool::connect(&self.url).await.map_err(|e| e.to_string())?;
                    insert!(p, q)
                }
                Backend::Mysql => {
                    let p = sqlx::MySqlPool::connect(&self.url).await.map_err(|e| e.to_string())?;
                    insert!(p, q)
                }
                Backend::Postgres => {
                    let p = sqlx::PgPool::connect(&self.url).await.map_err(|e| e.to_string())?;
                    insert!(p, q_pg)
                }
            }
            Ok(())
        })
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let (Some(admin), Some(name)) = (self.admin_url.clone(), self.name.clone()) else {
            return;
        };
        let backend = self.backend;
        self.rt.block_on(async move {
            match backend {
                Backend::Mysql => {
                    if let Ok(pool) = sqlx::MySqlPool::connect(&admin).await {
                        let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name}"))
                            .execute(&pool)
                            .await;
                        pool.close().await;
                    }
                }
                Backend::Postgres => {
                    if let Ok(pool) = sqlx::PgPool::connect(&admin).await {
                        let _ =
                            sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                                .execute(&pool)
                                .await;
                        pool.close().await;
                    }
                }
                Backend::Sqlite => {}
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::with_db;

    #[test]
    fn admin_url_gets_the_test_database() {
        assert_eq!(
            with_db("mysql://root@127.0.0.1:3306/test", "e2e_x"),
            "mysql://root@127.0.0.1:3306/e2e_x"
        );
        assert_eq!(
            with_db(
                "postgres://postgres@127.0.0.1:5432/test?sslmode=disable",
                "e2e_x"
            ),
            "postgres://postgres@127.0.0.1:5432/e2e_x?sslmode=disable"
        );
        assert_eq!(with_db("mysql://h:1", "d"), "mysql://h:1/d");
    }
}
