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
    /// A connection pooler (PgBouncer in session mode) stands between the service and
    /// PostgreSQL: the session settings (`statement_timeout`, `plan_cache_mode`) are
    /// sent with `SET` once connected, since a pooler refuses them as startup options.
    #[arg(long, env = "CLAIMTRACK_DB_BEHIND_POOLER", global = true)]
    pub db_behind_pooler: bool,
    /// Connections per HTTP worker on which compiled reads are pipelined (sent one
    /// after another without waiting for the answers before them); 0: compiled reads
    /// take pooled connections like everything else. Default: 2, or 0 behind a pooler
    /// (which is sized for the pools; these would hold server connections beside them).
    #[arg(long, env = "CLAIMTRACK_DB_PIPELINE_CONNECTIONS", global = true)]
    pub db_pipeline_connections: Option<usize>,
}

impl Default for DbArgs {
    fn default() -> Self {
        Self {
            db_pool_size: 16,
            db_acquire_timeout_ms: 5_000,
            db_statement_timeout_ms: 10_000,
            db_behind_pooler: false,
            db_pipeline_connections: None,
        }
    }
}

impl DbArgs {
    /// Connections per HTTP worker for pipelined compiled reads (see
    /// [`crate::db::pipeline`]).
    pub fn pipeline_connections(&self) -> usize {
        let default = if self.db_behind_pooler { 0 } else { 2 };
        self.db_pipeline_connections.unwrap_or(default)
    }

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
    /// Manage API keys.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Bring fact-checks in: ClaimReview documents and feeds, spreadsheets (CSV), or
    /// files written by `export`. Folders are read file by file.
    Import(ImportArgs),
    /// Write records out: ClaimTrack's own JSON Lines (which `import` reads back), or a
    /// ClaimReview DataFeed of published verdicts.
    Export(ExportArgs),
}

#[derive(Debug, Clone, Args)]
pub struct ImportArgs {
    /// Files or folders to import, each file in one transaction.
    #[arg(required = true)]
    pub files: Vec<std::path::PathBuf>,
    /// The files' format; told from their content when not given.
    #[arg(long, value_enum)]
    pub format: Option<crate::ingest::import::Format>,
    /// Spreadsheet columns, as ClaimTrack field = CSV column: `speaker=speaker,text=statement,
    /// stated_on=date,rating=label,summary=justification,context=context`. Fields: speaker,
    /// text, stated_on (required), rating, summary, context, url, language, reviewer,
    /// review_url. `@FILE` reads the mapping from a file, one `field=column` a line.
    #[arg(long)]
    pub map: Option<String>,
    /// A numeric rating's labels, worst (0) to best (n-1):
    /// `pants-fire,false,barely-true,half-true,mostly-true,true`.
    #[arg(long)]
    pub scale: Option<String>,
    /// The outlet that reviewed every row of a spreadsheet (created when missing).
    #[arg(long)]
    pub reviewer: Option<String>,
    /// A `chrono` format for dates the common forms do not cover, such as `%d/%m/%Y`.
    #[arg(long)]
    pub date_format: Option<String>,
    /// The spreadsheet's field separator (`,` by default; `\t` for tab).
    #[arg(long, default_value = ",")]
    pub delimiter: String,
    /// The language of statements whose source names none.
    #[arg(long, default_value = "en")]
    pub language: String,
    /// Read and merge everything, report, and write nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Also write the report as JSON to this file.
    #[arg(long)]
    pub report: Option<std::path::PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExportFormat {
    /// ClaimTrack's own JSON Lines.
    Jsonl,
    /// A schema.org DataFeed of ClaimReview items (published verdicts with an address).
    Claimreview,
}

#[derive(Debug, Clone, Args)]
pub struct ExportArgs {
    #[arg(long, value_enum, default_value = "jsonl")]
    pub format: ExportFormat,
    /// Only statements of this speaker (slug), and what they need; repeatable.
    #[arg(long)]
    pub speaker: Vec<String>,
    /// Only statements taking a stance on this claim (slug), and what they need; repeatable.
    #[arg(long)]
    pub claim: Vec<String>,
    /// Only records changed (statements) or published (ClaimReview) on or after this day.
    #[arg(long)]
    pub since: Option<chrono::NaiveDate>,
    /// Write here instead of standard output.
    #[arg(long, short)]
    pub output: Option<std::path::PathBuf>,
}

#[derive(Debug, Clone, Subcommand)]
pub enum KeysCommand {
    /// Make a key and print it, once: only its prefix and a hash of it are stored.
    Create {
        /// Who or what the key is for.
        #[arg(long)]
        name: String,
        #[arg(long, value_enum)]
        role: KeyRole,
    },
    /// List the keys (prefix, role, name, last use, revocation).
    List,
    /// Revoke a key, by id or prefix.
    Revoke {
        /// The key's id or its 12-digit prefix.
        key: String,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum KeyRole {
    Reader,
    Editor,
    Admin,
}

impl From<KeyRole> for entity::ApiRole {
    fn from(role: KeyRole) -> Self {
        match role {
            KeyRole::Reader => Self::Reader,
            KeyRole::Editor => Self::Editor,
            KeyRole::Admin => Self::Admin,
        }
    }
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
    #[command(flatten)]
    pub access: Access,
    #[command(flatten)]
    pub live: Live,
    #[command(flatten)]
    pub replication: Replication,
}

impl Default for ServeArgs {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            no_migrate: false,
            no_demo: false,
            workers: None,
            limits: Limits::default(),
            access: Access::default(),
            live: Live::default(),
            replication: Replication::default(),
        }
    }
}

/// Where reads may go besides the primary, and how the service listens to it.
#[derive(Debug, Clone, Args)]
pub struct Replication {
    /// A streaming replica of the primary that serves queries (repeat the flag for
    /// more). Mutations, subscriptions and webhooks stay on the primary; a read that
    /// carries a `ClaimTrack-LSN` goes to a replica only once it has replayed it.
    #[arg(
        long = "database-replica-url",
        env = "DATABASE_REPLICA_URLS",
        value_delimiter = ',',
        hide_env_values = true
    )]
    pub replica_urls: Vec<String>,
    /// A replica further behind the primary than this, in milliseconds, serves no
    /// reads until it catches up.
    #[arg(long, env = "CLAIMTRACK_REPLICA_MAX_LAG_MS", default_value_t = 2_000)]
    pub replica_max_lag_ms: u64,
    /// A direct connection to the primary for LISTEN (the event log's wake-ups and the
    /// health watcher), when `DATABASE_URL` goes through a pooler.
    #[arg(long, env = "DATABASE_DIRECT_URL", hide_env_values = true)]
    pub database_direct_url: Option<String>,
}

impl Default for Replication {
    fn default() -> Self {
        Self {
            replica_urls: Vec::new(),
            replica_max_lag_ms: 2_000,
            database_direct_url: None,
        }
    }
}

impl Replication {
    pub fn max_lag(&self) -> Duration {
        Duration::from_millis(self.replica_max_lag_ms)
    }
}

/// The event log, subscriptions and webhooks.
#[derive(Debug, Clone, Args)]
pub struct Live {
    /// Days the event log keeps events (what `events` pages and a reconnecting
    /// subscriber can catch up from).
    #[arg(long, env = "CLAIMTRACK_EVENT_RETENTION_DAYS", default_value_t = 30)]
    pub event_retention_days: u32,
    /// Let webhooks target loopback, private and link-local addresses (on-premise
    /// receivers, tests); refused by default.
    #[arg(long, env = "CLAIMTRACK_WEBHOOK_ALLOW_PRIVATE")]
    pub webhook_allow_private: bool,
    /// The only hosts webhooks may target (none set: any host that passes the other
    /// rules).
    #[arg(
        long = "webhook-allowed-host",
        env = "CLAIMTRACK_WEBHOOK_ALLOWED_HOSTS",
        value_delimiter = ','
    )]
    pub webhook_allowed_hosts: Vec<String>,
    /// Milliseconds a webhook receiver has to answer.
    #[arg(long, env = "CLAIMTRACK_WEBHOOK_TIMEOUT_MS", default_value_t = 10_000)]
    pub webhook_timeout_ms: u64,
    /// Milliseconds before a failed delivery's first retry; each next waits four times
    /// longer (up to two hours), for 24 hours in all.
    #[arg(
        long,
        env = "CLAIMTRACK_WEBHOOK_FIRST_RETRY_MS",
        default_value_t = 2_000
    )]
    pub webhook_first_retry_ms: u64,
    /// Subscriptions one WebSocket connection may hold at once.
    #[arg(
        long,
        env = "CLAIMTRACK_MAX_SUBSCRIPTIONS_PER_CONNECTION",
        default_value_t = 100
    )]
    pub max_subscriptions_per_connection: usize,
}

impl Default for Live {
    fn default() -> Self {
        Self {
            event_retention_days: 30,
            webhook_allow_private: false,
            webhook_allowed_hosts: Vec::new(),
            webhook_timeout_ms: 10_000,
            webhook_first_retry_ms: 2_000,
            max_subscriptions_per_connection: 100,
        }
    }
}

impl Live {
    /// Where webhooks may deliver.
    pub fn webhook_targets(&self) -> crate::service::webhook::Targets {
        crate::service::webhook::Targets {
            allow_private: self.webhook_allow_private,
            hosts: self.webhook_allowed_hosts.clone(),
        }
    }

    /// How the webhook workers run.
    pub fn webhooks(&self) -> crate::live::webhook::Settings {
        crate::live::webhook::Settings {
            targets: self.webhook_targets(),
            timeout: std::time::Duration::from_millis(self.webhook_timeout_ms.max(1)),
            first_retry: std::time::Duration::from_millis(self.webhook_first_retry_ms),
        }
    }
}

/// Who may call, from where, and how often.
#[derive(Debug, Clone, Args)]
pub struct Access {
    /// Production mode: no introspection, no field suggestions, no GraphiQL page.
    #[arg(long, env = "CLAIMTRACK_PRODUCTION")]
    pub production: bool,
    /// Refuse reads without an API key (by default anonymous callers read published data).
    #[arg(long, env = "CLAIMTRACK_NO_ANONYMOUS_READ")]
    pub no_anonymous_read: bool,
    /// Browser origins allowed to call the API (CORS); none by default, so browsers on
    /// other sites cannot read responses.
    #[arg(
        long = "cors-origin",
        env = "CLAIMTRACK_CORS_ORIGINS",
        value_delimiter = ','
    )]
    pub cors_origins: Vec<String>,
    /// Requests per minute allowed from one IP address without a key (0: no limit).
    #[arg(long, env = "CLAIMTRACK_RATE_LIMIT_PER_IP", default_value_t = 1_200)]
    pub rate_limit_per_ip: u32,
    /// Requests per minute allowed for one API key (0: no limit).
    #[arg(long, env = "CLAIMTRACK_RATE_LIMIT_PER_KEY", default_value_t = 6_000)]
    pub rate_limit_per_key: u32,
    /// Bursts above the rate: this many seconds' worth of requests may come at once.
    #[arg(long, env = "CLAIMTRACK_RATE_LIMIT_BURST_SECONDS", default_value_t = 3)]
    pub rate_limit_burst_seconds: u32,
}

impl Default for Access {
    fn default() -> Self {
        Self {
            production: false,
            no_anonymous_read: false,
            cors_origins: Vec::new(),
            rate_limit_per_ip: 1_200,
            rate_limit_per_key: 6_000,
            rate_limit_burst_seconds: 3,
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
    /// Most aliased fields a query may use.
    #[arg(long, env = "CLAIMTRACK_MAX_ALIASES", default_value_t = 50)]
    pub max_aliases: usize,
    /// Most directives on one field.
    #[arg(long, env = "CLAIMTRACK_MAX_DIRECTIVES", default_value_t = 5)]
    pub max_directives: usize,
    /// Longest query document, in bytes.
    #[arg(long, env = "CLAIMTRACK_MAX_DOCUMENT_BYTES", default_value_t = 32 * 1024)]
    pub max_document_bytes: usize,
    /// Most operations in one batched request (a JSON array); 0 turns batching off.
    #[arg(long, env = "CLAIMTRACK_MAX_BATCH", default_value_t = 0)]
    pub max_batch: usize,
    /// Largest request body, in bytes.
    #[arg(long, env = "CLAIMTRACK_MAX_BODY_BYTES", default_value_t = 1024 * 1024)]
    pub max_body_bytes: usize,
    /// Longest a request may run, in milliseconds.
    #[arg(long, env = "CLAIMTRACK_REQUEST_TIMEOUT_MS", default_value_t = 30_000)]
    pub request_timeout_ms: u64,
    /// Most GraphQL operations executing at once; later ones wait their turn. 0: three
    /// times the database pool size.
    #[arg(long, env = "CLAIMTRACK_MAX_CONCURRENT_REQUESTS", default_value_t = 0)]
    pub max_concurrent_requests: usize,
    /// Longest a request waits for its turn before it is refused (503 with
    /// `Retry-After`), in milliseconds.
    #[arg(long, env = "CLAIMTRACK_QUEUE_TIMEOUT_MS", default_value_t = 5_000)]
    pub queue_timeout_ms: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_depth: 12,
            max_complexity: 20_000,
            max_aliases: 50,
            max_directives: 5,
            max_document_bytes: 32 * 1024,
            max_batch: 0,
            max_body_bytes: 1024 * 1024,
            request_timeout_ms: 30_000,
            max_concurrent_requests: 0,
            queue_timeout_ms: 5_000,
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
