//! Test harness: every test gets its own PostgreSQL database, copied from a template
//! that is migrated once (per migration set, shared by all test processes), and
//! dropped afterwards. The server is `DATABASE_URL` when set, otherwise the embedded
//! cluster under `target/test-cluster`, started on first use and shared by the run.
//! [`process`] runs the real binary; [`browser`] loads its pages in a real browser.
//! [`fixtures`] makes records through the schema, [`check`] reads what came back and
//! what was written, [`http`] serves the tests of the HTTP app.

pub mod browser;
pub mod check;
pub mod fixtures;
pub mod http;
pub mod pooler;
pub mod process;
pub mod receiver;
pub mod replica;
pub mod ws;

use std::path::PathBuf;

use claimtrack::auth::Viewer;
use claimtrack::config::Limits;
use claimtrack::graphql::AppSchema;
use entity::ApiRole;
use migration::MigratorTrait;
use sea_orm::{ConnectionTrait, Database, DatabaseConnection, Statement, TryGetable};
use serde_json::Value;

/// Advisory lock key guarding template creation across test processes.
const TEMPLATE_LOCK: i64 = 0x636c_6169_6d74;

/// A fresh, migrated database for one test.
pub struct TestDb {
    name: String,
    server: String,
    db: DatabaseConnection,
    schema: AppSchema,
}

impl TestDb {
    /// Creates the database (and the template, the first time).
    pub async fn new() -> Self {
        let server = server_url().await;
        let template = ensure_template(&server).await;
        let name = format!("claimtrack_test_{}", uuid::Uuid::now_v7().simple());
        let admin = Database::connect(with_db(&server, "postgres"))
            .await
            .expect("connect to the test server");
        admin
            .execute_unprepared(&format!("CREATE DATABASE {name} TEMPLATE {template}"))
            .await
            .expect("copy the template database");
        admin.close().await.ok();
        let url = with_db(&server, &name);
        let args = claimtrack::config::DbArgs::default();
        let db = claimtrack::db::connect(&url, &args).await.expect("connect");
        // Compiled reads go through the pipeline, as the service sends them.
        let options = claimtrack::graphql::SchemaOptions {
            reads: Some(claimtrack::db::reads::Reads::primary_pipelined(
                db.clone(),
                &url,
                &args,
            )),
            ..claimtrack::graphql::SchemaOptions::new(Limits::default())
        };
        let keys = claimtrack::auth::keys::KeyStore::new(db.clone());
        let schema = claimtrack::graphql::build_schema_with(db.clone(), keys, &options);
        Self {
            name,
            server,
            db,
            schema,
        }
    }

    pub fn schema(&self) -> &AppSchema {
        &self.schema
    }

    pub fn db(&self) -> &DatabaseConnection {
        &self.db
    }

    /// The URL of this test's database.
    pub fn url(&self) -> String {
        with_db(&self.server, &self.name)
    }

    /// Runs a GraphQL request through the real schema as a trusted caller (an admin,
    /// as the command line is); returns the whole response (`data` and `errors`).
    pub async fn exec(&self, query: &str, variables: Value) -> Value {
        self.exec_as(Viewer::trusted(), query, variables).await
    }

    /// Runs a GraphQL request as `viewer`.
    pub async fn exec_as(&self, viewer: Viewer, query: &str, variables: Value) -> Value {
        let request = async_graphql::Request::new(query)
            .variables(async_graphql::Variables::from_json(variables))
            .data(viewer);
        let response = self.schema.execute(request).await;
        serde_json::to_value(&response).expect("responses serialize")
    }

    /// How many requests this process has counted with `result` (`answered` or
    /// `deferred` for compiled documents, `outside` for the others), whatever the
    /// reason, from its metrics.
    pub fn compiled_requests(&self, result: &str) -> u64 {
        self.compiled_requests_by(result, None)
    }

    /// [`TestDb::compiled_requests`] for one `reason` (`Some("")` for compiled
    /// documents).
    pub fn compiled_requests_by(&self, result: &str, reason: Option<&str>) -> u64 {
        let result = format!("result=\"{result}\"");
        let reason = reason.map(|r| format!("reason=\"{r}\","));
        let mut labels = vec![result.as_str()];
        labels.extend(reason.as_deref());
        self.counter("claimtrack_graphql_compiled_total", &labels)
    }

    /// How many compiled reads this process sent on pipelined connections with
    /// `result` (`answered`, or `fallback`: left to the pool).
    pub fn pipelined(&self, result: &str) -> u64 {
        let result = format!("result=\"{result}\"");
        self.counter("claimtrack_sql_pipelined_total", &[&result])
    }

    /// The sum of the series of counter `name` whose labels hold each of `labels`
    /// (written `key="value"`).
    fn counter(&self, name: &str, labels: &[&str]) -> u64 {
        let metrics = claimtrack::metrics::metrics().render(&self.db);
        let prefix = format!("{name}{{");
        metrics
            .lines()
            .filter_map(|l| l.strip_prefix(prefix.as_str()))
            .filter_map(|l| l.split_once("} "))
            .filter(|(series, _)| labels.iter().all(|l| series.contains(l)))
            .map(|(_, n)| n.parse::<u64>().expect("a count"))
            .sum()
    }

    /// Makes an API key with `role` and returns the whole key (`ct_…`).
    pub async fn key(&self, role: ApiRole) -> String {
        claimtrack::service::api_key::create(
            &self.db,
            &claimtrack::service::Actor::system(),
            &format!("{role:?} test key"),
            role,
        )
        .await
        .expect("create an API key")
        .token
    }

    /// Runs a request that must succeed and returns its `data`.
    pub async fn ok(&self, query: &str, variables: Value) -> Value {
        let response = self.exec(query, variables).await;
        assert!(
            response.get("errors").is_none(),
            "unexpected errors: {response:#}"
        );
        response["data"].clone()
    }

    /// Runs a mutation that must succeed and makes one record (`{ createX(…) { x { id } } }`);
    /// the record's id.
    pub async fn created(&self, mutation: &str) -> String {
        let data = self.ok(mutation, Value::Object(Default::default())).await;
        let record = data
            .as_object()
            .and_then(|payloads| payloads.values().next())
            .and_then(Value::as_object)
            .and_then(|payload| payload.values().next())
            .unwrap_or_else(|| panic!("no record in {data}"));
        record["id"].as_str().expect("an id").to_owned()
    }

    /// Runs a request that must fail and returns its first error.
    pub async fn err(&self, query: &str, variables: Value) -> Value {
        let response = self.exec(query, variables).await;
        response["errors"][0].clone()
    }

    /// How many rows a table holds (soft-deleted ones included).
    pub async fn count(&self, table: &str) -> i64 {
        scalar(&self.db, &format!("SELECT COUNT(*) FROM {table}")).await
    }

    /// Row counts of every table, to prove a refused request wrote nothing.
    pub async fn counts(&self) -> Vec<(&'static str, i64)> {
        let mut out = Vec::new();
        for table in TABLES {
            out.push((*table, self.count(table).await));
        }
        out
    }
}

/// The one value `sql` selects, read on `c` (a pool or a transaction).
pub async fn scalar<T: TryGetable>(c: &impl ConnectionTrait, sql: &str) -> T {
    c.query_one_raw(Statement::from_string(c.get_database_backend(), sql))
        .await
        .expect("query")
        .expect("a row")
        .try_get_by_index(0)
        .expect("a value")
}

/// The `claimtrack` binary, built (incrementally) before it is handed out: tests of
/// the crate `tests` do not get `CARGO_BIN_EXE_*`. `CLAIMTRACK_TEST_BINARY` names
/// another one (a release build, for the fault suite's full run).
pub fn claimtrack_binary() -> PathBuf {
    if let Some(binary) = std::env::var_os("CLAIMTRACK_TEST_BINARY") {
        return PathBuf::from(binary);
    }
    let workspace = workspace_dir();
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace.join("target"));
    let mut build = std::process::Command::new(env!("CARGO"));
    build
        .args(["build", "-q", "-p", "claimtrack", "--bin", "claimtrack"])
        .current_dir(&workspace);
    // What cargo set for this test's own crate: ring's build script reruns when these
    // change, so inheriting them rebuilt ring and all above it (sqlx, sea-orm, the
    // service) here, and again at the next plain `cargo build`, minutes each time.
    for (name, _) in std::env::vars_os() {
        let name = name.to_string_lossy();
        if name.starts_with("CARGO_PKG_")
            || name.starts_with("CARGO_MANIFEST_")
            || [
                "CARGO_CRATE_NAME",
                "CARGO_PRIMARY_PACKAGE",
                "CARGO_TARGET_TMPDIR",
                "OUT_DIR",
            ]
            .contains(&name.as_ref())
        {
            build.env_remove(name.as_ref());
        }
    }
    let status = build.status().expect("run cargo build");
    assert!(status.success(), "building the claimtrack binary failed");
    target.join("debug").join("claimtrack")
}

/// Every table of the model.
pub const TABLES: &[&str] = &[
    "speaker",
    "speaker_role",
    "outlet",
    "article",
    "topic",
    "claim",
    "claim_topic",
    "statement",
    "statement_text_band",
    "statement_topic",
    "stance",
    "appearance",
    "verdict",
    "link",
    "revision",
    "api_key",
];

impl Drop for TestDb {
    fn drop(&mut self) {
        let server = self.server.clone();
        let name = self.name.clone();
        // Async drop does not exist: drop the database from a thread of its own.
        let _ = std::thread::spawn(move || {
            let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            rt.block_on(async {
                if let Ok(admin) = Database::connect(with_db(&server, "postgres")).await {
                    let _ = admin
                        .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                        .await;
                    let _ = admin.close().await;
                }
            });
        })
        .join();
    }
}

/// The server to test against.
async fn server_url() -> String {
    if let Ok(url) = std::env::var("DATABASE_URL") {
        return url;
    }
    let data_dir = workspace_dir().join("target").join("test-cluster");
    let options = claimtrack::embedded::ClusterOptions {
        data_dir,
        bin_dir: None,
        os_user: None,
    };
    let cluster = claimtrack::embedded::Cluster::ensure_running(&options)
        .await
        .expect("start the embedded test cluster");
    // The cluster outlives this process on purpose: the next test reuses it.
    cluster.database_url().to_owned()
}

pub fn workspace_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(PathBuf::from)
        .unwrap_or_default()
}

/// The same server URL, naming another database.
pub fn with_db(url: &str, db: &str) -> String {
    let mut parsed = url::Url::parse(url).expect("a valid database URL");
    parsed.set_path(&format!("/{db}"));
    parsed.to_string()
}

/// The template is named after the migrations compiled into this build (see
/// `build.rs`), so a changed migration gets a fresh template.
fn template_name() -> String {
    format!("claimtrack_tpl_{}", env!("CLAIMTRACK_MIGRATIONS_HASH"))
}

async fn ensure_template(server: &str) -> String {
    let template = template_name();
    // One session, so the advisory lock and the work under it share a connection.
    let mut options = sea_orm::ConnectOptions::new(with_db(server, "postgres"));
    options.max_connections(1).sqlx_logging(false);
    let admin = Database::connect(options)
        .await
        .expect("connect to the test server");
    let backend = admin.get_database_backend();
    // One process builds the template; the others wait for it. Closing the session
    // releases the lock.
    admin
        .execute_unprepared(&format!("SELECT pg_advisory_lock({TEMPLATE_LOCK})"))
        .await
        .expect("lock");
    let exists = admin
        .query_one_raw(Statement::from_sql_and_values(
            backend,
            "SELECT 1 FROM pg_database WHERE datname = $1",
            [template.clone().into()],
        ))
        .await
        .expect("look up the template")
        .is_some();
    if !exists {
        let building = format!("{template}_building");
        admin
            .execute_unprepared(&format!("DROP DATABASE IF EXISTS {building} WITH (FORCE)"))
            .await
            .expect("drop");
        admin
            .execute_unprepared(&format!("CREATE DATABASE {building}"))
            .await
            .expect("create the template");
        let db = Database::connect(with_db(server, &building))
            .await
            .expect("connect to the template");
        migration::Migrator::up(&db, None)
            .await
            .expect("migrate the template");
        db.close().await.ok();
        admin
            .execute_unprepared(&format!("ALTER DATABASE {building} RENAME TO {template}"))
            .await
            .expect("name the template");
    }
    admin.close().await.ok();
    template
}
