//! Command line and configuration. Every setting is a flag and an environment
//! variable; `Cli::parse` builds it once and everything else receives it by value.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Debug, Clone, Parser)]
#[command(
    name = "claimtrack",
    version,
    about = "Claim tracking and fact-check database with a GraphQL API"
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Option<Command>,
}

impl Cli {
    /// The command to run; `serve` when none is given.
    pub fn command(&self) -> Command {
        self.command
            .clone()
            .unwrap_or(Command::Serve(ServeArgs::default()))
    }
}

#[derive(Debug, Clone, Args)]
pub struct GlobalArgs {
    /// PostgreSQL server to use. When unset, ClaimTrack runs its own private cluster
    /// under the data directory, from the PostgreSQL binaries installed on the machine.
    #[arg(long, env = "DATABASE_URL", global = true, hide_env_values = true)]
    pub database_url: Option<String>,
    /// Where the embedded PostgreSQL cluster keeps its data.
    #[arg(
        long,
        env = "CLAIMTRACK_DATA_DIR",
        default_value = "./data",
        global = true
    )]
    pub data_dir: PathBuf,
    /// Directory holding `initdb`, `pg_ctl` and `postgres` for the embedded cluster
    /// (default: PATH, then the newest /usr/lib/postgresql/*/bin).
    #[arg(long, env = "CLAIMTRACK_PG_BIN_DIR", global = true)]
    pub pg_bin_dir: Option<PathBuf>,
    /// Log line format.
    #[arg(long, env = "CLAIMTRACK_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text, global = true)]
    pub log_format: LogFormat,
    /// Log filter, in `tracing_subscriber::EnvFilter` syntax.
    #[arg(
        long,
        env = "CLAIMTRACK_LOG",
        default_value = "info,sqlx=warn,sea_orm=warn",
        global = true
    )]
    pub log: String,
    #[command(flatten)]
    pub db: DbArgs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

/// Database connection settings.
#[derive(Debug, Clone, Args)]
pub struct DbArgs {
    /// Largest number of pooled database connections.
    #[arg(
        long,
        env = "CLAIMTRACK_DB_POOL_SIZE",
        default_value_t = 16,
        global = true
    )]
    pub db_pool_size: u32,
    /// How long a request waits for a pooled connection before failing, in milliseconds.
    #[arg(
        long,
        env = "CLAIMTRACK_DB_ACQUIRE_TIMEOUT_MS",
        default_value_t = 5_000,
        global = true
    )]
    pub db_acquire_timeout_ms: u64,
    /// PostgreSQL `statement_timeout` for every connection, in milliseconds.
    #[arg(
        long,
        env = "CLAIMTRACK_DB_STATEMENT_TIMEOUT_MS",
        default_value_t = 10_000,
        global = true
    )]
    pub db_statement_timeout_ms: u64,
}

impl Default for DbArgs {
    fn default() -> Self {
        Self {
            db_pool_size: 16,
            db_acquire_timeout_ms: 5_000,
            db_statement_timeout_ms: 10_000,
        }
    }
}

impl DbArgs {
    pub fn acquire_timeout(&self) -> Duration {
        Duration::from_millis(self.db_acquire_timeout_ms)
    }
}

#[derive(Debug, Clone, Subcommand)]
pub enum Command {
    /// Run the GraphQL service (the default command).
    Serve(ServeArgs),
    /// Apply pending database migrations and exit.
    Migrate,
    /// Load data sets.
    Seed(SeedArgs),
    /// Manage the embedded PostgreSQL cluster.
    #[command(subcommand)]
    Db(DbCommand),
    /// Print the GraphQL schema (SDL), as committed in `api/schema.graphql`.
    Schema,
    /// Load a generated data set for benchmarks (deterministic from the seed).
    Generate(GenerateArgs),
}

#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "CLAIMTRACK_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// Do not apply pending migrations on start.
    #[arg(long, env = "CLAIMTRACK_NO_MIGRATE")]
    pub no_migrate: bool,
    /// Do not load the demo data set into a freshly created embedded cluster.
    #[arg(long, env = "CLAIMTRACK_NO_DEMO")]
    pub no_demo: bool,
    /// HTTP worker threads (default: one per core).
    #[arg(long, env = "CLAIMTRACK_WORKERS")]
    pub workers: Option<usize>,
    #[command(flatten)]
    pub limits: Limits,
}

impl Default for ServeArgs {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            no_migrate: false,
            no_demo: false,
            workers: None,
            limits: Limits::default(),
        }
    }
}

/// Limits applied to every GraphQL request.
#[derive(Debug, Clone, Args)]
pub struct Limits {
    /// Deepest field nesting a query may have.
    #[arg(long, env = "CLAIMTRACK_MAX_DEPTH", default_value_t = 12)]
    pub max_depth: usize,
    /// Highest complexity a query may have (each field costs 1, list fields their page size).
    #[arg(long, env = "CLAIMTRACK_MAX_COMPLEXITY", default_value_t = 20_000)]
    pub max_complexity: usize,
    /// Largest request body, in bytes.
    #[arg(long, env = "CLAIMTRACK_MAX_BODY_BYTES", default_value_t = 1024 * 1024)]
    pub max_body_bytes: usize,
    /// Longest a request may run, in milliseconds.
    #[arg(long, env = "CLAIMTRACK_REQUEST_TIMEOUT_MS", default_value_t = 30_000)]
    pub request_timeout_ms: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_depth: 12,
            max_complexity: 20_000,
            max_body_bytes: 1024 * 1024,
            request_timeout_ms: 30_000,
        }
    }
}

#[derive(Debug, Clone, Args)]
pub struct SeedArgs {
    /// Load the demo data set (idempotent).
    #[arg(long)]
    pub demo: bool,
}

#[derive(Debug, Clone, Args)]
pub struct GenerateArgs {
    /// How many statements (speakers: a tenth, claims: a twentieth, articles: a quarter).
    #[arg(long, default_value_t = 10_000)]
    pub statements: i64,
    /// Shifts dates and stance sequences; the same seed gives the same data.
    #[arg(long, default_value_t = 42)]
    pub seed: i64,
}

#[derive(Debug, Clone, Subcommand)]
pub enum DbCommand {
    /// Start the embedded cluster and leave it running.
    Start,
    /// Stop the embedded cluster, whoever started it.
    Stop,
    /// Say whether the embedded cluster runs, and its URL.
    Status,
}
