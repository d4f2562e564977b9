//! Connecting to PostgreSQL and migrating it; [`health`] knows whether it answers.

pub mod health;
pub mod pipeline;
pub mod reads;

use sea_orm::sqlx::postgres::PgPoolOptions;
use sea_orm::{ConnectOptions, Database, DatabaseConnection, DbErr, SqlxPostgresConnector};
use sea_orm_migration::MigratorTrait;
use std::time::Duration;

pub use health::Health;

use crate::config::DbArgs;

/// A pooled connection idle at least this long is pinged before it is handed out;
/// busier ones go straight to work. Pinging on every checkout cost one more round trip
/// per SQL statement, and a request runs several (one per loader batch).
const PING_WHEN_IDLE_FOR: Duration = Duration::from_secs(30);

/// Opens a connection pool with the configured size, acquire timeout (requests fail
/// fast instead of hanging when the pool is exhausted) and `statement_timeout`.
///
/// Prepared statements run on generic plans from the first execution
/// (`plan_cache_mode`). Every statement binds its values, and PostgreSQL would
/// otherwise plan the batch loaders' `= ANY($1)` anew on every execution, judging
/// a plan for an array of unknown length dearer than one for the array at hand:
/// planning was a fifth of the database's time on a nested page.
pub async fn connect(url: &str, args: &DbArgs) -> Result<DatabaseConnection, DbErr> {
    connect_with_health(url, args, &Health::default()).await
}

/// [`connect`], with a pool that discards, as they are checked out, the connections
/// opened before `health` last saw the database lost (a restarted server has ended
/// their sessions: handing them out would fail the requests that draw them).
pub async fn connect_with_health(
    url: &str,
    args: &DbArgs,
    health: &Health,
) -> Result<DatabaseConnection, DbErr> {
    Database::connect(options(url, args, health)).await
}

/// [`connect_with_health`], connecting when first used rather than now.
pub async fn connect_lazily(
    url: &str,
    args: &DbArgs,
    health: &Health,
) -> Result<DatabaseConnection, DbErr> {
    let mut options = options(url, args, health);
    options.connect_lazy(true).min_connections(0);
    Database::connect(options).await
}

fn options(url: &str, args: &DbArgs, health: &Health) -> ConnectOptions {
    let mut options = ConnectOptions::new(url);
    let watched = health.clone();
    options.map_sqlx_postgres_before_acquire(move |_, meta| {
        let stale = watched.predates_loss(meta.age);
        Box::pin(async move { Ok(!stale) })
    });
    options
        .max_connections(args.db_pool_size)
        .min_connections(1)
        .acquire_timeout(args.acquire_timeout())
        .connect_timeout(Duration::from_secs(10))
        .idle_timeout(Duration::from_secs(300))
        .test_before_acquire_if_idle_for(PING_WHEN_IDLE_FOR)
        .set_application_name("claimtrack")
        .sqlx_logging(false);
    let timeout_ms = args.db_statement_timeout_ms;
    if let Some(settings) = session_settings(args) {
        options.map_sqlx_postgres_pool_opts(move |pool| {
            let settings = settings.clone();
            pool.after_connect(move |conn, _| {
                let settings = settings.clone();
                Box::pin(async move {
                    sea_orm::sqlx::Executor::execute(conn, sea_orm::sqlx::AssertSqlSafe(settings))
                        .await
                        .map(drop)
                })
            })
        });
    } else {
        options
            .statement_timeout(Duration::from_millis(timeout_ms))
            .map_sqlx_postgres_opts(|o| o.options(SESSION));
    }
    options
}

/// What a connection SETs once connected, when a pooler stands between the service and
/// PostgreSQL: a pooler refuses startup options, and in session mode a client's server
/// session lasts as long as its connection, so what is SET once holds. `None`: these
/// go as startup options.
pub(crate) fn session_settings(args: &DbArgs) -> Option<String> {
    let timeout_ms = args.db_statement_timeout_ms;
    args.db_behind_pooler.then(|| {
        let set: Vec<String> = SESSION
            .iter()
            .map(|(name, value)| format!("SET {name} = {value}"))
            .collect();
        format!("SET statement_timeout = {timeout_ms}; {}", set.join("; "))
    })
}

/// The service's session settings besides `statement_timeout`, as startup options or
/// SET behind a pooler (see [`session_settings`]).
///
/// - `plan_cache_mode`: see [`connect`].
/// - `jit`: off. PostgreSQL compiles a statement whose estimated cost passes
///   `jit_above_cost`, which costs tens of milliseconds before the first row; the
///   service's statements answer in milliseconds, and a search's facets, estimated
///   from a sample, passed the threshold and spent 62 ms of 416 compiling.
const SESSION: [(&str, &str); 2] = [("plan_cache_mode", "force_generic_plan"), ("jit", "off")];

/// A pool of one connection, opened on the calling runtime, to the database `db` uses.
/// The server's workers each run a runtime of their own, and the connections they open
/// stop working when it stops: what is written after they are gone goes through this.
pub fn one_connection(db: &DatabaseConnection) -> DatabaseConnection {
    let pool = db.get_postgres_connection_pool();
    let own = PgPoolOptions::new()
        .max_connections(1)
        .min_connections(0)
        .acquire_timeout(pool.options().get_acquire_timeout())
        .connect_lazy_with((*pool.connect_options()).clone());
    SqlxPostgresConnector::from_sqlx_postgres_pool(own)
}

/// Applies every pending migration.
pub async fn migrate(db: &DatabaseConnection) -> Result<(), DbErr> {
    migration::Migrator::up(db, None).await
}
