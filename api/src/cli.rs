//! What each command does. `main.rs` parses the command line, sets up logging and
//! calls [`run`].

use std::io;
use std::time::Instant;

use actix_web::{App, HttpServer, middleware};
use sea_orm::{DatabaseConnection, DbErr};
use tracing::{Instrument, info, warn};

use crate::config::{
    Cli, Command, DbCommand, ExportArgs, ExportFormat, GlobalArgs, ImportArgs, KeysCommand,
    ServeArgs,
};
use crate::db::Health;
use crate::db::reads::Reads;
use crate::embedded::{self, Cluster, ClusterOptions, EmbeddedError, Supervisor};
use crate::error::ApiError;
use crate::http::{AppState, configure};
use crate::ingest::import::{self, Settings};
use crate::ingest::{exchange, table};
use crate::service::validate;

/// Why a command failed.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error(transparent)]
    Embedded(#[from] EmbeddedError),
    #[error("database: {0}")]
    Database(#[from] DbErr),
    #[error("loading data: {0:?}")]
    Data(ApiError),
    #[error("{0}")]
    Io(#[from] io::Error),
    #[error("{0}")]
    Usage(String),
}

/// A database connection, the embedded cluster behind it when there is one, and what
/// is known of its health (see [`crate::db::health`]; watched only by `serve`).
pub struct Opened {
    pub db: DatabaseConnection,
    pub cluster: Option<Cluster>,
    pub health: Health,
}

impl Opened {
    /// Closes the pool and stops the embedded cluster if this process started it.
    pub async fn close(self) -> Result<(), CliError> {
        self.db.close().await.ok();
        if let Some(cluster) = self.cluster {
            cluster.stop().await?;
        }
        Ok(())
    }
}

fn cluster_options(global: &GlobalArgs) -> ClusterOptions {
    ClusterOptions {
        data_dir: global.data_dir.clone(),
        bin_dir: global.pg_bin_dir.clone(),
        os_user: None,
    }
}

/// Connects to `DATABASE_URL`, or to the embedded cluster (starting it if needed).
pub async fn open(global: &GlobalArgs) -> Result<Opened, CliError> {
    let health = Health::default();
    match &global.database_url {
        Some(url) => Ok(Opened {
            db: crate::db::connect_with_health(url, &global.db, &health).await?,
            cluster: None,
            health,
        }),
        None => {
            let cluster = Cluster::ensure_running(&cluster_options(global)).await?;
            match crate::db::connect_with_health(cluster.database_url(), &global.db, &health).await
            {
                Ok(db) => Ok(Opened {
                    db,
                    cluster: Some(cluster),
                    health,
                }),
                Err(e) => {
                    cluster.stop().await.ok();
                    Err(e.into())
                }
            }
        }
    }
}

pub async fn run(cli: Cli) -> Result<(), CliError> {
    let global = cli.global.clone();
    match cli.command() {
        Command::Serve(args) => serve(&global, args).await,
        Command::Migrate => {
            let opened = open(&global).await?;
            let result = crate::db::migrate(&opened.db).await;
            opened.close().await?;
            result?;
            info!("migrations applied");
            Ok(())
        }
        Command::Seed(args) => {
            if !args.demo {
                return Err(CliError::Usage(
                    "say which data set to load: `claimtrack seed --demo`".into(),
                ));
            }
            let opened = open(&global).await?;
            let result = seed(&opened.db).await;
            opened.close().await?;
            let created = result?;
            info!(created, "demo data set is in place");
            Ok(())
        }
        Command::Db(command) => db_command(&global, command).await,
        Command::Generate(args) => {
            let opened = open(&global).await?;
            let result = async {
                crate::db::migrate(&opened.db).await?;
                let scale = crate::service::generate::Scale {
                    statements: args.statements,
                    seed: args.seed,
                };
                crate::service::generate::generate(&opened.db, scale)
                    .await
                    .map_err(CliError::Data)
            }
            .await;
            opened.close().await?;
            let loaded = result?;
            info!(?loaded, "generated data set loaded");
            Ok(())
        }
        Command::Keys(command) => {
            on_database(
                &global,
                |db| async move { keys_command(&db, command).await },
            )
            .await
        }
        Command::Import(args) => {
            on_database(&global, |db| async move { import_command(&db, args).await }).await
        }
        Command::Export(args) => {
            on_database(&global, |db| async move { export_command(&db, args).await }).await
        }
        Command::Schema => {
            use std::io::Write;
            let mut out = io::stdout().lock();
            out.write_all(crate::graphql::sdl().as_bytes())?;
            Ok(())
        }
    }
}

/// Runs `command` on the migrated database, then closes it (and stops the embedded
/// cluster if this process started it).
async fn on_database<F, Fut>(global: &GlobalArgs, command: F) -> Result<(), CliError>
where
    F: FnOnce(DatabaseConnection) -> Fut,
    Fut: std::future::Future<Output = Result<(), CliError>>,
{
    let opened = open(global).await?;
    let result = async {
        crate::db::migrate(&opened.db).await?;
        command(opened.db.clone()).await
    }
    .await;
    opened.close().await?;
    result
}

/// The import's reading settings from the command line.
fn import_settings(args: &ImportArgs) -> Result<Settings, CliError> {
    use std::str::FromStr;
    let usage = |e: &dyn std::fmt::Display| CliError::Usage(e.to_string());
    let csv = match &args.map {
        None => None,
        Some(map) => {
            let map = match map.strip_prefix('@') {
                Some(file) => std::fs::read_to_string(file)?
                    .lines()
                    .map(str::trim)
                    .filter(|l| !l.is_empty() && !l.starts_with('#'))
                    .collect::<Vec<_>>()
                    .join(","),
                None => map.clone(),
            };
            let delimiter = match args.delimiter.as_str() {
                "\\t" | "tab" => b'\t',
                d if d.len() == 1 => d.as_bytes()[0],
                d => {
                    return Err(CliError::Usage(format!(
                        "--delimiter must be one character, not {d:?}"
                    )));
                }
            };
            Some(table::Options {
                mapping: table::Mapping::from_str(&map).map_err(|e| usage(&e))?,
                scale: args
                    .scale
                    .as_deref()
                    .map(table::Scale::from_str)
                    .transpose()
                    .map_err(|e| usage(&e))?,
                date_format: args.date_format.clone(),
                delimiter,
            })
        }
    };
    if csv.is_none() && (args.scale.is_some() || args.date_format.is_some()) {
        return Err(CliError::Usage(
            "--scale and --date-format read spreadsheets: give --map too".into(),
        ));
    }
    validate::language("--language", &args.language).map_err(|e| usage(&e))?;
    Ok(Settings {
        format: args.format,
        csv,
        reviewer: args.reviewer.clone(),
        language: args.language.clone(),
        dry_run: args.dry_run,
        progress: true,
    })
}

/// `claimtrack import FILE…`: each file imported in its own transaction, the report on
/// stderr (and as JSON with `--report`).
async fn import_command(db: &DatabaseConnection, args: ImportArgs) -> Result<(), CliError> {
    let settings = import_settings(&args)?;
    let files = import::expand(&args.files)?;
    let pool = db.get_postgres_connection_pool();
    let mut reports = Vec::new();
    for path in &files {
        let report = import::file(pool, path, &settings, None).await;
        eprint!("{}", report.human());
        reports.push(report);
    }
    let failed = reports.iter().filter(|r| r.error.is_some()).count();
    let total = |f: fn(&import::FileReport) -> u64| reports.iter().map(f).sum::<u64>();
    eprintln!(
        "{} files: {} read, {} created, {} merged, {} unchanged, {} refused{}",
        reports.len(),
        total(|r| r.read),
        total(|r| r.created),
        total(|r| r.merged),
        total(|r| r.unchanged),
        total(|r| r.refused),
        if failed > 0 {
            format!("; {failed} not imported")
        } else {
            String::new()
        }
    );
    if let Some(path) = &args.report {
        let json = serde_json::json!({ "dryRun": settings.dry_run, "files": reports });
        std::fs::write(
            path,
            serde_json::to_vec_pretty(&json).map_err(io::Error::other)?,
        )?;
    }
    if failed > 0 {
        return Err(CliError::Usage(format!(
            "{failed} of {} files not imported (nothing was written from them)",
            reports.len()
        )));
    }
    Ok(())
}

/// `claimtrack export`: JSON Lines or a ClaimReview feed, to a file or standard output.
async fn export_command(db: &DatabaseConnection, args: ExportArgs) -> Result<(), CliError> {
    use std::io::IsTerminal;
    let pool = db.get_postgres_connection_pool();
    let mut out: Box<dyn io::Write + Send> = match &args.output {
        Some(path) => Box::new(io::BufWriter::with_capacity(
            1 << 20,
            std::fs::File::create(path)?,
        )),
        None => Box::new(io::BufWriter::with_capacity(1 << 20, io::stdout())),
    };
    let bar = indicatif::ProgressBar::new_spinner();
    if io::stderr().is_terminal() {
        bar.set_draw_target(indicatif::ProgressDrawTarget::stderr());
        bar.enable_steady_tick(std::time::Duration::from_millis(200));
    } else {
        bar.set_draw_target(indicatif::ProgressDrawTarget::hidden());
    }
    let started = Instant::now();
    let failed = |e: import::FileError| CliError::Usage(format!("export: {e}"));
    match args.format {
        ExportFormat::Jsonl => {
            let selection = exchange::Selection {
                speakers: args.speaker.clone(),
                claims: args.claim.clone(),
                since: args.since,
            };
            let progress = |n: u64| {
                let rate = n as f64 / started.elapsed().as_secs_f64().max(1e-3);
                bar.set_message(format!("{n} records, {rate:.0} records/s"));
            };
            let written = exchange::export(pool, &selection, &mut *out, &progress)
                .await
                .map_err(failed)?;
            bar.finish_and_clear();
            let total: u64 = written.iter().map(|(_, n)| n).sum();
            info!(
                records = total,
                ?written,
                seconds = started.elapsed().as_secs_f64(),
                "exported"
            );
        }
        ExportFormat::Claimreview => {
            if !args.speaker.is_empty() || !args.claim.is_empty() {
                return Err(CliError::Usage(
                    "--speaker and --claim select records of the JSON Lines export; the ClaimReview feed takes --since".into(),
                ));
            }
            let since = args
                .since
                .map(|d| d.and_time(chrono::NaiveTime::MIN).and_utc());
            let n = exchange::export_feed(pool, since, &mut *out)
                .await
                .map_err(failed)?;
            bar.finish_and_clear();
            info!(
                reviews = n,
                seconds = started.elapsed().as_secs_f64(),
                "exported"
            );
        }
    }
    Ok(())
}

/// `claimtrack keys …`: the first admin key comes from here. Output goes to stdout
/// (the key is meant to be captured), progress to the log.
async fn keys_command(db: &DatabaseConnection, command: KeysCommand) -> Result<(), CliError> {
    use std::io::Write;
    let actor = crate::service::Actor::system();
    let mut out = io::stdout().lock();
    match command {
        KeysCommand::Create { name, role } => {
            let created = crate::service::api_key::create(db, &actor, &name, role.into())
                .await
                .map_err(CliError::Data)?;
            info!(prefix = %created.key.prefix, role = ?created.key.role, "API key created; it is shown once");
            writeln!(out, "{}", created.token)?;
        }
        KeysCommand::List => {
            let keys = crate::service::api_key::list(db)
                .await
                .map_err(CliError::Data)?;
            writeln!(
                out,
                "{:<12}  {:<6}  {:<25}  {:<25}  NAME",
                "PREFIX", "ROLE", "LAST USED", "REVOKED"
            )?;
            for key in keys {
                let time = |t: Option<chrono::DateTime<chrono::Utc>>| {
                    t.map_or_else(
                        || "-".to_owned(),
                        |t| t.format("%Y-%m-%d %H:%M:%S UTC").to_string(),
                    )
                };
                writeln!(
                    out,
                    "{:<12}  {:<6}  {:<25}  {:<25}  {}",
                    key.prefix,
                    crate::auth::Role::from(key.role).name(),
                    time(key.last_used_at),
                    time(key.revoked_at),
                    key.name
                )?;
            }
        }
        KeysCommand::Revoke { key } => {
            let found = crate::service::api_key::find(db, &key)
                .await
                .map_err(CliError::Data)?;
            let revoked = crate::service::api_key::revoke(db, &actor, found.id)
                .await
                .map_err(CliError::Data)?;
            info!(prefix = %revoked.prefix, "API key revoked; running services refuse it within {} s", crate::auth::keys::REFRESH.as_secs());
        }
    }
    Ok(())
}

async fn seed(db: &DatabaseConnection) -> Result<usize, CliError> {
    crate::db::migrate(db).await?;
    crate::demo::load(db).await.map_err(CliError::Data)
}

async fn db_command(global: &GlobalArgs, command: DbCommand) -> Result<(), CliError> {
    if global.database_url.is_some() {
        return Err(CliError::Usage(
            "`claimtrack db` manages the embedded cluster; unset DATABASE_URL".into(),
        ));
    }
    let options = cluster_options(global);
    match command {
        DbCommand::Start => {
            let cluster = Cluster::ensure_running(&options).await?;
            info!(url = %redact(cluster.database_url()), "embedded cluster running");
        }
        DbCommand::Stop => {
            if embedded::stop_running(&options).await? {
                info!("embedded cluster stopped");
            } else {
                info!("embedded cluster was not running");
            }
        }
        DbCommand::Status => match embedded::status(&options).await? {
            Some(url) => info!(url = %redact(&url), "embedded cluster running"),
            None => info!("embedded cluster not running"),
        },
    }
    Ok(())
}

/// A database URL without its password, for logs.
fn redact(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("***"));
            u.to_string()
        }
        _ => url.to_owned(),
    }
}

/// How long in-flight requests may run on after SIGTERM or SIGINT; the pool and the
/// embedded cluster then close within the 30 s an orchestrator usually grants.
const SHUTDOWN_GRACE_SECS: u64 = 20;

async fn serve(global: &GlobalArgs, args: ServeArgs) -> Result<(), CliError> {
    let mut opened = open(global).await?;
    crate::metrics::count_sql(&mut opened.db);
    let started = async {
        if !args.no_migrate {
            crate::db::migrate(&opened.db).await?;
        }
        let fresh = opened.cluster.as_ref().is_some_and(Cluster::created);
        if fresh && !args.no_demo {
            crate::demo::load(&opened.db)
                .await
                .map_err(CliError::Data)?;
        }
        Ok::<_, CliError>(())
    }
    .await;
    if let Err(e) = started {
        opened.close().await.ok();
        return Err(e);
    }

    let primary_url = match &opened.cluster {
        Some(cluster) => cluster.database_url().to_owned(),
        None => global.database_url.clone().unwrap_or_default(),
    };
    let connected = Reads::connect(
        opened.db.clone(),
        &primary_url,
        &args.replication,
        &global.db,
    );
    let reads = match connected.await {
        Ok(reads) => reads,
        Err(e) => {
            opened.close().await.ok();
            return Err(e.into());
        }
    };
    let state = AppState::with_reads(
        opened.db.clone(),
        reads.clone(),
        args.limits.clone(),
        args.access.clone(),
        args.live.clone(),
    )
    .with_health(opened.health.clone());
    let app_state = state.clone();
    let mut server = HttpServer::new(move || {
        App::new()
            .wrap(middleware::from_fn(crate::telemetry::request_context))
            .configure(configure(app_state.clone()))
    })
    .shutdown_timeout(SHUTDOWN_GRACE_SECS);
    if let Some(workers) = args.workers {
        server = server.workers(workers);
    }
    let server = match server.bind(args.listen) {
        Ok(s) => s,
        Err(e) => {
            opened.close().await.ok();
            return Err(CliError::Usage(format!(
                "cannot listen on {}: {e}",
                args.listen
            )));
        }
    };
    // From here on the service keeps its database: it watches it, and keeps an embedded
    // cluster running (on a new port, the pool follows).
    let pool = opened.db.get_postgres_connection_pool().clone();
    let watcher = opened.health.watch(reads.listen_pool());
    // ERROR-level spans, like the maintenance timer's, so that what the log filter keeps
    // of their SQL is attributed to them.
    let mut followers =
        tracing::error_span!("maintenance", job = "replicas").in_scope(|| reads.watch());
    followers.push(
        tracing::error_span!("maintenance", job = "keys")
            .in_scope(|| state.keys.follow(reads.listen_pool())),
    );
    let supervisor = opened.cluster.take().map(|cluster| {
        Supervisor::start(cluster, global.pg_bin_dir.clone(), move |port| {
            let options = (*pool.connect_options()).clone().port(port);
            pool.set_connect_options(options);
        })
    });
    let maintenance = {
        let state = state.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(crate::auth::keys::REFRESH);
            loop {
                tick.tick().await;
                // ERROR level, like the request span, so that whatever the log filter
                // keeps of its work is attributed to it.
                state
                    .maintain()
                    .instrument(tracing::error_span!("maintenance"))
                    .await;
            }
        })
    };
    let live = state.start_live();
    info!(listen = %args.listen, "serving GraphQL at http://{}/graphql", args.listen);
    // On SIGINT or SIGTERM actix closes the listeners at once and lets the requests in
    // flight finish (for up to SHUTDOWN_GRACE_SECS); `run` returns when they are done.
    let result = server.run().await;
    if let Err(e) = &result {
        warn!(error = %e, "server stopped with an error");
    }
    // Key use times gathered since the last tick are written before the pool closes,
    // through a connection of this runtime (the workers' went with theirs).
    maintenance.abort();
    for task in live.into_iter().chain(followers) {
        task.abort();
    }
    let last = crate::db::one_connection(&opened.db);
    if let Err(e) = state.keys.flush_last_used_through(&last).await {
        warn!(error = %e, "cannot record API key use times");
    }
    last.close().await.ok();
    watcher.abort();
    if let Some(supervisor) = supervisor {
        opened.cluster = supervisor.stop().await;
    }
    let closing = Instant::now();
    info!("no more requests in flight; closing the database pool");
    opened.close().await?;
    info!(elapsed_ms = closing.elapsed().as_millis() as u64, "stopped");
    Ok(result?)
}
