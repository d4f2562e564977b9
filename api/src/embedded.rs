//! Embedded PostgreSQL: the private cluster ClaimTrack runs on when `DATABASE_URL` is unset.
//!
//! The cluster is built from the PostgreSQL server programs installed on the machine
//! (see the `binaries` submodule) and lives in `<data_dir>/postgres` (see `layout` for
//! the relocation rule when running as root). It listens on `127.0.0.1` and a Unix socket,
//! on a free port picked at every start, and authenticates the superuser `claimtrack`
//! with a random scram-sha-256 password kept in `<data_dir>/postgres.password` (0600).
//!
//! Several processes share one cluster: [`Cluster::ensure_running`] attaches to a
//! server that is already running for the data dir (returning a handle that does not
//! own it) or starts one (an owning handle). Starting and stopping are serialised by a
//! lock file in the data dir. [`stop_running`] and [`status`] serve `claimtrack db`
//! commands. Dropping an owning handle without [`Cluster::stop`] leaves the server
//! running; the next `ensure_running` simply attaches to it.

mod binaries;
mod error;
mod files;
mod layout;
mod pidfile;
mod server;
mod supervisor;
mod user;

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

pub use error::EmbeddedError;
pub use server::sized_shared_buffers_mb;
pub use supervisor::Supervisor;

use binaries::Binaries;
use layout::{LOCK_FILE, Layout, PASSWORD_FILE};
use pidfile::{Liveness, PostmasterPid};
use user::ClusterUser;

/// How long to wait for a server another process is starting to become ready.
const READY_TIMEOUT: Duration = Duration::from_secs(60);

/// Where and how to run the embedded cluster.
#[derive(Debug, Clone)]
pub struct ClusterOptions {
    /// The application's data dir (the caller's default is `./data`); created if missing.
    /// The cluster is `<data_dir>/postgres`.
    pub data_dir: PathBuf,
    /// Directory holding `initdb`, `pg_ctl` and `postgres`. Default: the first `PATH`
    /// entry holding all three, else the highest `/usr/lib/postgresql/<version>/bin`.
    pub bin_dir: Option<PathBuf>,
    /// Account the server runs as when this process is root (PostgreSQL refuses root).
    /// Default: the owner of an existing cluster, else `postgres`, else `nobody`.
    /// Ignored (with a warning) when not running as root.
    pub os_user: Option<String>,
}

impl ClusterOptions {
    /// Options for `data_dir` with every other setting at its default.
    pub fn new(data_dir: impl Into<PathBuf>) -> Self {
        Self {
            data_dir: data_dir.into(),
            bin_dir: None,
            os_user: None,
        }
    }
}

/// A handle on a running embedded cluster.
pub struct Cluster {
    password: String,
    url: String,
    port: u16,
    owned: bool,
    created: bool,
    pid: i32,
    data_dir: PathBuf,
    pgdata: PathBuf,
    socket_dir: PathBuf,
    /// Programs and account to stop the server with; only for owning handles.
    control: Option<(Binaries, ClusterUser)>,
}

impl Cluster {
    /// Returns a handle on the cluster of `opts.data_dir`, initialising and starting it
    /// if needed. If another process already runs it, the handle does not own it.
    pub async fn ensure_running(opts: &ClusterOptions) -> Result<Self, EmbeddedError> {
        let began = Instant::now();
        let wanted = opts.data_dir.clone();
        let data_dir = blocking(move || layout::canonical_data_dir(&wanted, true))
            .await?
            .ok_or_else(|| EmbeddedError::UnusablePath {
                path: opts.data_dir.clone(),
                reason: "it could not be created".into(),
            })?;
        let _lock = files::lock(&data_dir.join(LOCK_FILE), files::LOCK_TIMEOUT).await?;
        let os_user = opts.os_user.clone();
        let dir = data_dir.clone();
        let (layout, user) = blocking(move || {
            let user = ClusterUser::select(os_user.as_deref(), existing_owner(&dir)?)?;
            Ok((layout::prepare(&dir, &user)?, user))
        })
        .await?;

        if let Some(running) = wait_until_ready(&layout.pgdata).await? {
            let cluster = Self::attach(&layout, &running)?;
            tracing::info!(pid = cluster.pid, port = cluster.port, cluster = %cluster.pgdata.display(),
                "embedded PostgreSQL already running; using it (not owned by this process)");
            return Ok(cluster);
        }

        let bins = binaries::discover(opts.bin_dir.as_deref())?;
        let password_file = data_dir.join(PASSWORD_FILE);
        let password = if layout.pgdata.join("PG_VERSION").exists() {
            files::read_password(&password_file)?.ok_or_else(|| EmbeddedError::MissingPassword {
                pgdata: layout.pgdata.clone(),
                password_file: password_file.clone(),
            })?
        } else {
            server::init_cluster(&bins, &user, &layout, &password_file).await?
        };
        let log_dir = layout.pgdata.join("log");
        if !log_dir.is_dir() {
            std::fs::create_dir_all(&log_dir).map_err(error::io_err("create", &log_dir))?;
            user.chown(&log_dir)?;
        }
        let port = server::start(&bins, &user, &layout, None).await?;
        let pid = pidfile::read(&layout.pgdata)?.map_or(0, |p| p.pid);
        let mut cluster = Self {
            url: url_for(&password, port, server::SUPERUSER),
            password,
            port,
            owned: true,
            created: false,
            pid,
            data_dir,
            pgdata: layout.pgdata.clone(),
            socket_dir: layout.socket_dir.clone(),
            control: Some((bins.clone(), user.clone())),
        };
        match server::ensure_database(&cluster.admin_url("postgres")).await {
            Ok(created) => cluster.created = created,
            Err(e) => {
                if let Err(stop_error) =
                    server::stop(&bins, &user, &layout.pgdata, pid, "fast").await
                {
                    tracing::warn!(error = %stop_error, "could not stop the cluster after a failure");
                }
                return Err(e);
            }
        }
        tracing::info!(pid, port, cluster = %cluster.pgdata.display(), socket_dir = %cluster.socket_dir.display(),
            created = cluster.created, elapsed_ms = began.elapsed().as_millis(), "embedded PostgreSQL started");
        Ok(cluster)
    }

    /// Connection URL of the `claimtrack` database (TCP on 127.0.0.1, with password).
    pub fn database_url(&self) -> &str {
        &self.url
    }

    /// Same credentials and server, database `db` (a plain name, e.g. `postgres` or a
    /// test database).
    pub fn admin_url(&self, db: &str) -> String {
        url_for(&self.password, self.port, db)
    }

    /// Whether this call created the `claimtrack` database, i.e. the cluster is fresh
    /// (callers load demo data then). Always `false` for non-owning handles.
    pub fn created(&self) -> bool {
        self.created
    }

    /// Whether this handle started the server (and [`Cluster::stop`] will stop it).
    pub fn owned(&self) -> bool {
        self.owned
    }

    /// TCP port on 127.0.0.1.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The real cluster directory (`PGDATA`), after following a relocation symlink.
    pub fn cluster_dir(&self) -> &Path {
        &self.pgdata
    }

    /// The directory holding the server's Unix socket.
    pub fn socket_dir(&self) -> &Path {
        &self.socket_dir
    }

    /// Stops the server (`pg_ctl stop -m fast`) if this handle owns it; otherwise does
    /// nothing. Leaves it alone if another process has restarted it meanwhile.
    pub async fn stop(mut self) -> Result<(), EmbeddedError> {
        let Some((bins, user)) = self.control.take() else {
            tracing::debug!(cluster = %self.pgdata.display(), "not stopping a cluster this handle does not own");
            return Ok(());
        };
        let _lock = files::lock(&self.data_dir.join(LOCK_FILE), files::LOCK_TIMEOUT).await?;
        match pidfile::read(&self.pgdata)? {
            Some(current) if pidfile::liveness(current.pid, &self.pgdata) == Liveness::Running => {
                if current.pid != self.pid {
                    tracing::warn!(
                        pid = current.pid,
                        "the cluster was restarted by another process; leaving it running"
                    );
                    return Ok(());
                }
                server::stop(&bins, &user, &self.pgdata, current.pid, "fast").await?;
                tracing::info!(cluster = %self.pgdata.display(), "embedded PostgreSQL stopped");
            }
            _ => {
                tracing::debug!(cluster = %self.pgdata.display(), "embedded PostgreSQL already stopped")
            }
        }
        Ok(())
    }

    /// Whether the server this handle names is running.
    pub fn is_running(&self) -> bool {
        pidfile::liveness(self.pid, &self.pgdata) == Liveness::Running
    }

    /// Starts the server again after it stopped (it crashed, was killed, or was
    /// stopped), on the port it had when that port is free, and returns the port it
    /// listens on now. When another process started it meanwhile, the handle attaches
    /// to that server instead (and no longer owns it).
    pub async fn revive(&mut self, bin_dir: Option<&Path>) -> Result<u16, EmbeddedError> {
        let _lock = files::lock(&self.data_dir.join(LOCK_FILE), files::LOCK_TIMEOUT).await?;
        let layout = Layout {
            data_dir: self.data_dir.clone(),
            pgdata: self.pgdata.clone(),
            socket_dir: self.socket_dir.clone(),
        };
        if let Some(found) = pidfile::read(&self.pgdata)? {
            match pidfile::liveness(found.pid, &self.pgdata) {
                Liveness::Running => {
                    if let Some(running) = wait_until_ready(&self.pgdata).await? {
                        tracing::info!(
                            pid = running.pid,
                            "the embedded PostgreSQL was started by another process; using it"
                        );
                        self.pid = running.pid;
                        self.port = running.port.unwrap_or(self.port);
                        self.url = url_for(&self.password, self.port, server::SUPERUSER);
                        self.owned = false;
                        self.control = None;
                        return Ok(self.port);
                    }
                }
                // A zombie or a reused pid: the server would refuse the stale files
                // (its data dir's and its socket's), which name a live process.
                Liveness::Stale => {
                    files::remove_quietly(self.pgdata.join("postmaster.pid"));
                    if let Some(port) = found.port {
                        let socket_lock = self.socket_dir.join(format!(".s.PGSQL.{port}.lock"));
                        files::remove_quietly(socket_lock);
                    }
                }
                Liveness::Dead => {}
            }
        }
        let (bins, user) = match self.control.take() {
            Some(control) => control,
            None => {
                let dir = self.data_dir.clone();
                let user =
                    blocking(move || ClusterUser::select(None, existing_owner(&dir)?)).await?;
                (binaries::discover(bin_dir)?, user)
            }
        };
        let started = server::start(&bins, &user, &layout, Some(self.port)).await;
        self.control = Some((bins, user));
        let port = started?;
        self.pid = pidfile::read(&self.pgdata)?.map_or(0, |p| p.pid);
        self.port = port;
        self.url = url_for(&self.password, port, server::SUPERUSER);
        self.owned = true;
        tracing::info!(pid = self.pid, port, "embedded PostgreSQL started again");
        Ok(port)
    }

    /// A non-owning handle on a server found running.
    fn attach(layout: &Layout, running: &PostmasterPid) -> Result<Self, EmbeddedError> {
        let password = password_of(&layout.data_dir, &layout.pgdata)?;
        let port = running.port.unwrap_or_default();
        Ok(Self {
            url: url_for(&password, port, server::SUPERUSER),
            password,
            port,
            owned: false,
            created: false,
            pid: running.pid,
            data_dir: layout.data_dir.clone(),
            pgdata: layout.pgdata.clone(),
            socket_dir: running
                .socket_dir
                .clone()
                .unwrap_or_else(|| layout.socket_dir.clone()),
            control: None,
        })
    }
}

impl std::fmt::Debug for Cluster {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cluster")
            .field("port", &self.port)
            .field("owned", &self.owned)
            .field("created", &self.created)
            .field("pid", &self.pid)
            .field("cluster_dir", &self.pgdata)
            .field("socket_dir", &self.socket_dir)
            .finish_non_exhaustive()
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        if self.control.is_some() {
            tracing::debug!(cluster = %self.pgdata.display(),
                "owning cluster handle dropped without stop(); the server keeps running");
        }
    }
}

/// Stops the server of `opts.data_dir` whoever started it (for `claimtrack db stop`).
/// `Ok(false)` if it was not running.
pub async fn stop_running(opts: &ClusterOptions) -> Result<bool, EmbeddedError> {
    let Some(data_dir) = layout::canonical_data_dir(&opts.data_dir, false)? else {
        return Ok(false);
    };
    let _lock = files::lock(&data_dir.join(LOCK_FILE), files::LOCK_TIMEOUT).await?;
    let Some(pgdata) = layout::existing_pgdata(&data_dir)? else {
        return Ok(false);
    };
    let Some(running) = pidfile::read(&pgdata)? else {
        return Ok(false);
    };
    if pidfile::liveness(running.pid, &pgdata) != Liveness::Running {
        return Ok(false);
    }
    // pg_ctl must run as the server's account, i.e. the cluster owner.
    let user = ClusterUser::select(None, existing_owner(&data_dir)?)?;
    let bins = binaries::discover(opts.bin_dir.as_deref())?;
    server::stop(&bins, &user, &pgdata, running.pid, "fast").await?;
    tracing::info!(pid = running.pid, cluster = %pgdata.display(), "embedded PostgreSQL stopped");
    Ok(true)
}

/// The `claimtrack` database URL if the cluster of `opts.data_dir` is running and
/// accepting connections, else `None`. Creates nothing.
pub async fn status(opts: &ClusterOptions) -> Result<Option<String>, EmbeddedError> {
    let Some(data_dir) = layout::canonical_data_dir(&opts.data_dir, false)? else {
        return Ok(None);
    };
    let Some(pgdata) = layout::existing_pgdata(&data_dir)? else {
        return Ok(None);
    };
    let Some(running) = pidfile::read(&pgdata)? else {
        return Ok(None);
    };
    let Some(port) = running.port else {
        return Ok(None);
    };
    if pidfile::liveness(running.pid, &pgdata) != Liveness::Running
        || !running.ready()
        || !server::port_accepts(port).await
    {
        return Ok(None);
    }
    let password = password_of(&data_dir, &pgdata)?;
    Ok(Some(url_for(&password, port, server::SUPERUSER)))
}

/// Connection URL for the superuser to database `db` over loopback TCP.
fn url_for(password: &str, port: u16, db: &str) -> String {
    format!(
        "postgres://{user}:{password}@127.0.0.1:{port}/{db}",
        user = server::SUPERUSER
    )
}

/// Waits for a server found in `postmaster.pid` to accept connections.
/// `Ok(None)` if no server is running (a stale file from a reused pid is removed).
async fn wait_until_ready(pgdata: &Path) -> Result<Option<PostmasterPid>, EmbeddedError> {
    let deadline = Instant::now() + READY_TIMEOUT;
    loop {
        let Some(found) = pidfile::read(pgdata)? else {
            return Ok(None);
        };
        match pidfile::liveness(found.pid, pgdata) {
            Liveness::Dead => {
                tracing::info!(
                    pid = found.pid,
                    "stale postmaster.pid (server not running); starting anew"
                );
                return Ok(None);
            }
            Liveness::Stale => {
                tracing::warn!(
                    pid = found.pid,
                    "postmaster.pid names a zombie or unrelated process; removing the stale file"
                );
                files::remove_quietly(pgdata.join("postmaster.pid"));
                return Ok(None);
            }
            Liveness::Running => {
                if let Some(port) = found.port.filter(|_| found.ready())
                    && server::port_accepts(port).await
                {
                    return Ok(Some(found));
                }
                if Instant::now() >= deadline {
                    return Err(EmbeddedError::NotReady {
                        pgdata: pgdata.to_path_buf(),
                        pid: found.pid,
                        port: found.port.unwrap_or_default(),
                    });
                }
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
    }
}

/// Owner uid of the existing cluster dir of a canonical data dir.
fn existing_owner(data_dir: &Path) -> Result<Option<u32>, EmbeddedError> {
    let Some(pgdata) = layout::existing_pgdata(data_dir)? else {
        return Ok(None);
    };
    let meta = std::fs::metadata(&pgdata).map_err(error::io_err("inspect", &pgdata))?;
    Ok(Some(meta.uid()))
}

/// The superuser password of an existing cluster.
fn password_of(data_dir: &Path, pgdata: &Path) -> Result<String, EmbeddedError> {
    let password_file = data_dir.join(PASSWORD_FILE);
    files::read_password(&password_file)?.ok_or_else(|| EmbeddedError::MissingPassword {
        pgdata: pgdata.to_path_buf(),
        password_file,
    })
}

/// Runs blocking filesystem work off the async runtime.
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, EmbeddedError> + Send + 'static,
) -> Result<T, EmbeddedError> {
    tokio::task::spawn_blocking(work).await?
}
