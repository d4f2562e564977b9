//! Running the PostgreSQL programs: `initdb` (with a fresh password file),
//! `pg_ctl start`/`stop`, and creating the application database once the server is up.

use std::io::{Read, Seek, SeekFrom};
use std::path::Path;
use std::process::Output;
use std::time::{Duration, Instant};

use sea_orm::{ConnectOptions, ConnectionTrait, Database, DbBackend, Statement};

use super::binaries::Binaries;
use super::error::io_err;
use super::layout::Layout;
use super::user::ClusterUser;
use super::{EmbeddedError, files, pidfile};

/// Superuser and application database name.
pub(crate) const SUPERUSER: &str = "claimtrack";
/// `pg_ctl -t`: seconds to wait for start and stop.
const PG_CTL_TIMEOUT: &str = "60";
/// Attempts to find a port that is still free when the server binds it.
const PORT_ATTEMPTS: u32 = 5;

/// Writes a new password file and runs `initdb` on the (empty) cluster dir.
pub(crate) async fn init_cluster(
    bins: &Binaries,
    user: &ClusterUser,
    layout: &Layout,
    password_file: &Path,
) -> Result<String, EmbeddedError> {
    let not_empty = std::fs::read_dir(&layout.pgdata)
        .map_err(io_err("list", &layout.pgdata))?
        .next()
        .is_some();
    if not_empty {
        return Err(EmbeddedError::UnusablePath {
            path: layout.pgdata.clone(),
            reason: "it is not empty but holds no PostgreSQL cluster (no PG_VERSION); \
                     move its contents away or delete it"
                .into(),
        });
    }
    let password = files::generate_password()?;
    files::write_secret(password_file, &password, None)?;
    tracing::info!(cluster = %layout.pgdata.display(), bin_dir = %bins.dir().display(), user = %user.name,
        "initialising a new embedded PostgreSQL cluster");
    initdb(bins, user, layout, &password).await?;
    size_memory(layout)?;
    Ok(password)
}

/// `shared_buffers` of a new cluster, in megabytes: a quarter of the machine's memory
/// (or of the control group's limit, when lower), as PostgreSQL's documentation
/// suggests for a server of its own, within [`MIN_SHARED_BUFFERS_MB`] and
/// [`MAX_SHARED_BUFFERS_MB`]. With PostgreSQL's default of 128 MB, a table of a million
/// statements (some 640 MB) is read from the operating system's cache a page at a
/// time: a search ranking 40,000 statements took 85 ms with it, 35 ms with a quarter
/// of 24 GB.
pub fn sized_shared_buffers_mb() -> u64 {
    shared_buffers_mb_for(memory_bytes())
}

/// Fewest megabytes [`sized_shared_buffers_mb`] gives (PostgreSQL's default).
const MIN_SHARED_BUFFERS_MB: u64 = 128;
/// Most megabytes [`sized_shared_buffers_mb`] gives.
const MAX_SHARED_BUFFERS_MB: u64 = 8 * 1024;

fn shared_buffers_mb_for(memory: Option<u64>) -> u64 {
    memory.map_or(MIN_SHARED_BUFFERS_MB, |bytes| {
        (bytes / 4 / (1024 * 1024)).clamp(MIN_SHARED_BUFFERS_MB, MAX_SHARED_BUFFERS_MB)
    })
}

/// The memory this process may use: the machine's, or the lowest limit of its control
/// group and the groups above it, when lower.
fn memory_bytes() -> Option<u64> {
    let physical = physical_memory()?;
    Some(cgroup_limit().map_or(physical, |limit| limit.min(physical)))
}

/// The lowest memory limit of this process's control group and of the groups above
/// it: `memory.max` under cgroup v2, `memory.limit_in_bytes` under v1. None without one.
fn cgroup_limit() -> Option<u64> {
    let groups = std::fs::read_to_string("/proc/self/cgroup").ok()?;
    let read = |path: std::path::PathBuf| -> Option<u64> {
        std::fs::read_to_string(path)
            .ok()?
            .trim()
            .parse::<u64>()
            .ok()
    };
    let mut limits = Vec::new();
    for line in groups.lines() {
        let mut fields = line.splitn(3, ':');
        let (Some(_), Some(controllers), Some(path)) =
            (fields.next(), fields.next(), fields.next())
        else {
            continue;
        };
        let (root, file) = match controllers {
            "" => ("/sys/fs/cgroup", "memory.max"),
            c if c.split(',').any(|c| c == "memory") => {
                ("/sys/fs/cgroup/memory", "memory.limit_in_bytes")
            }
            _ => continue,
        };
        // The group and each group above it; a namespaced process sees its own as "/".
        let mut group = std::path::Path::new(path.trim_start_matches('/'));
        loop {
            limits.extend(read(std::path::Path::new(root).join(group).join(file)));
            match group.parent() {
                Some(parent) => group = parent,
                None => break,
            }
        }
    }
    limits.into_iter().min()
}

#[cfg(any(target_os = "linux", target_os = "android"))]
fn physical_memory() -> Option<u64> {
    use nix::unistd::{SysconfVar, sysconf};
    let pages = sysconf(SysconfVar::_PHYS_PAGES).ok()??;
    let page = sysconf(SysconfVar::PAGE_SIZE).ok()??;
    u64::try_from(pages)
        .ok()?
        .checked_mul(u64::try_from(page).ok()?)
}

#[cfg(not(any(target_os = "linux", target_os = "android")))]
fn physical_memory() -> Option<u64> {
    None
}

/// Sizes a new cluster's memory in its `postgresql.conf`, where an operator may change
/// it (or override it with `ALTER SYSTEM`).
fn size_memory(layout: &Layout) -> Result<(), EmbeddedError> {
    use std::io::Write;
    let conf = layout.pgdata.join("postgresql.conf");
    let sized = sized_shared_buffers_mb();
    tracing::info!(
        shared_buffers_mb = sized,
        "sizing the new cluster's shared buffers"
    );
    let mut file = std::fs::OpenOptions::new()
        .append(true)
        .open(&conf)
        .map_err(io_err("open", &conf))?;
    writeln!(
        file,
        "\n# Sized by ClaimTrack when the cluster was created: a quarter of the memory.\n\
         shared_buffers = {sized}MB"
    )
    .map_err(io_err("write", &conf))
}

/// Runs `initdb` for an empty `layout.pgdata` with the superuser `claimtrack` and `password`.
async fn initdb(
    bins: &Binaries,
    user: &ClusterUser,
    layout: &Layout,
    password: &str,
) -> Result<(), EmbeddedError> {
    // initdb runs as the server account, which may not read the data dir's password
    // file; hand it a private copy in the socket dir (owned by that account) instead.
    let pwfile = layout
        .socket_dir
        .join(format!(".initdb-pw-{}", uuid::Uuid::now_v7()));
    files::write_secret(&pwfile, password, Some(user))?;
    // Collation C keeps indexes independent of libc upgrades; ctype C.UTF-8 gives
    // Unicode upper()/lower(). Systems without C.UTF-8 get plain C.
    let mut result = Ok(());
    for locale in [
        ["--locale=C.UTF-8", "--lc-collate=C"],
        ["--locale=C", "--lc-collate=C"],
    ] {
        let mut command = user.command(&bins.initdb());
        command
            .arg("-D")
            .arg(&layout.pgdata)
            .args(["-U", SUPERUSER, "-E", "UTF8", "-A", "scram-sha-256"])
            .args(locale)
            .arg(format!("--pwfile={}", pwfile.display()));
        result = run(command, "initdb").await.map(drop);
        match &result {
            Err(EmbeddedError::Tool { output, .. }) if output.contains("locale") => {
                tracing::warn!(locale = locale[0], "initdb rejected the locale; retrying");
            }
            _ => break,
        }
    }
    files::remove_quietly(pwfile);
    result
}

/// Starts the server on `preferred` when given and free, else on a fresh free loopback
/// port; returns the port.
pub(crate) async fn start(
    bins: &Binaries,
    user: &ClusterUser,
    layout: &Layout,
    preferred: Option<u16>,
) -> Result<u16, EmbeddedError> {
    let log = layout.log_file();
    let mut last_failure = String::new();
    for attempt in 1..=PORT_ATTEMPTS {
        let port = match preferred.filter(|p| attempt == 1 && port_free(*p)) {
            Some(port) => port,
            None => free_port()?,
        };
        let log_offset = std::fs::metadata(&log).map_or(0, |m| m.len());
        let options = [
            format!("-p {port}"),
            "-c listen_addresses=127.0.0.1".into(),
            format!(
                "-c {}",
                shell_quote(&format!(
                    "unix_socket_directories={}",
                    layout.socket_dir.display()
                ))
            ),
            "-c max_connections=200".into(),
            "-c fsync=on".into(),
        ]
        .join(" ");
        let mut command = user.command(&bins.pg_ctl());
        command
            .args(["start", "-w", "-t", PG_CTL_TIMEOUT, "-D"])
            .arg(&layout.pgdata)
            .arg("-l")
            .arg(&log)
            .arg("-o")
            .arg(&options);
        let failure = match run(command, "pg_ctl start").await {
            Ok(_) => return Ok(port),
            Err(EmbeddedError::Tool { output, .. }) => output,
            Err(other) => return Err(other),
        };
        let new_log = read_from(&log, log_offset);
        last_failure = tail(&format!("{new_log}\n{failure}"), 20);
        let port_race = ["could not bind", "Address already in use"]
            .iter()
            .any(|needle| new_log.contains(needle));
        if !port_race {
            break;
        }
        tracing::warn!(
            port,
            attempt,
            "port was taken before the server bound it; retrying"
        );
    }
    // It may have half-started (e.g. timed out): do not leave a process behind.
    if let Some(pid) = pidfile::read(&layout.pgdata)?
        && pidfile::liveness(pid.pid, &layout.pgdata) == pidfile::Liveness::Running
    {
        let _ignored = stop(bins, user, &layout.pgdata, pid.pid, "immediate").await;
    }
    Err(EmbeddedError::StartFailed {
        log,
        tail: last_failure,
    })
}

/// Stops the server of `pgdata` with `pg_ctl stop -m <mode>` and waits until `pid` is gone.
pub(crate) async fn stop(
    bins: &Binaries,
    user: &ClusterUser,
    pgdata: &Path,
    pid: i32,
    mode: &str,
) -> Result<(), EmbeddedError> {
    let mut command = user.command(&bins.pg_ctl());
    command
        .args(["stop", "-w", "-t", PG_CTL_TIMEOUT, "-m", mode, "-D"])
        .arg(pgdata);
    let result = run(command, "pg_ctl stop").await;
    // pg_ctl waits for postmaster.pid to vanish; the process exits right after.
    let deadline = Instant::now() + Duration::from_secs(10);
    while pidfile::liveness(pid, pgdata) == pidfile::Liveness::Running {
        if Instant::now() >= deadline {
            result?;
            return Err(EmbeddedError::StillRunning {
                pgdata: pgdata.to_path_buf(),
                pid,
            });
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    if let Err(e) = result {
        tracing::debug!(error = %e, "pg_ctl stop complained, but the server is gone");
    }
    Ok(())
}

/// Creates the `claimtrack` database if missing (via `postgres_url`); `true` if created.
pub(crate) async fn ensure_database(postgres_url: &str) -> Result<bool, EmbeddedError> {
    let mut options = ConnectOptions::new(postgres_url);
    options
        .max_connections(1)
        .min_connections(0)
        .connect_timeout(Duration::from_secs(30))
        .sqlx_logging(false);
    let db = Database::connect(options).await?;
    let exists = db
        .query_one_raw(Statement::from_string(
            DbBackend::Postgres,
            format!("SELECT 1 FROM pg_database WHERE datname = '{SUPERUSER}'"),
        ))
        .await?
        .is_some();
    if !exists {
        db.execute_unprepared(&format!("CREATE DATABASE {SUPERUSER}"))
            .await?;
    }
    db.close().await?;
    Ok(!exists)
}

/// A loopback port nobody listens on right now (the kernel's choice).
pub(crate) fn free_port() -> Result<u16, EmbeddedError> {
    std::net::TcpListener::bind(("127.0.0.1", 0))
        .and_then(|listener| listener.local_addr())
        .map(|addr| addr.port())
        .map_err(io_err("bind a free port on", Path::new("127.0.0.1")))
}

/// Whether a loopback port can be bound now.
fn port_free(port: u16) -> bool {
    std::net::TcpListener::bind(("127.0.0.1", port)).is_ok()
}

/// Whether something accepts TCP connections on the loopback port.
pub(crate) async fn port_accepts(port: u16) -> bool {
    let connect = tokio::net::TcpStream::connect(("127.0.0.1", port));
    matches!(
        tokio::time::timeout(Duration::from_secs(2), connect).await,
        Ok(Ok(_))
    )
}

/// Runs a command to completion; a non-zero exit becomes [`EmbeddedError::Tool`].
async fn run(mut command: tokio::process::Command, what: &str) -> Result<Output, EmbeddedError> {
    let program = command.as_std().get_program().to_os_string();
    let output = command
        .output()
        .await
        .map_err(io_err("run", Path::new(&program)))?;
    if output.status.success() {
        tracing::debug!(command = what, "succeeded");
        return Ok(output);
    }
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    Err(EmbeddedError::Tool {
        program: what.to_owned(),
        status: output.status.to_string(),
        output: tail(&text, 20),
    })
}

/// The log text written after `offset` (empty if unreadable).
fn read_from(path: &Path, offset: u64) -> String {
    let mut text = String::new();
    if let Ok(mut file) = std::fs::File::open(path)
        && file.seek(SeekFrom::Start(offset)).is_ok()
    {
        let mut raw = Vec::new();
        if file.read_to_end(&mut raw).is_ok() {
            text = String::from_utf8_lossy(&raw).into_owned();
        }
    }
    text
}

/// The last `lines` non-empty lines of `text`.
fn tail(text: &str, lines: usize) -> String {
    let kept: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    kept[kept.len().saturating_sub(lines)..].join("\n")
}

/// Quotes a word for `/bin/sh`, which `pg_ctl` uses to launch the server with `-o`.
fn shell_quote(word: &str) -> String {
    format!("'{}'", word.replace('\'', r"'\''"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting_and_tail() {
        assert_eq!(shell_quote("a b"), "'a b'");
        assert_eq!(shell_quote("it's"), r"'it'\''s'");
        assert_eq!(tail("a\n\nb\nc\n", 2), "b\nc");
        assert_eq!(tail("", 3), "");
    }

    #[test]
    fn free_port_is_bindable() -> Result<(), Box<dyn std::error::Error>> {
        let port = free_port()?;
        assert_ne!(port, 0);
        drop(std::net::TcpListener::bind(("127.0.0.1", port))?);
        Ok(())
    }

    #[test]
    fn shared_buffers_are_a_quarter_of_memory_within_bounds() {
        const GIB: u64 = 1024 * 1024 * 1024;
        assert_eq!(shared_buffers_mb_for(Some(24 * GIB)), 6 * 1024);
        assert_eq!(shared_buffers_mb_for(Some(GIB)), 256);
        assert_eq!(shared_buffers_mb_for(Some(GIB / 4)), MIN_SHARED_BUFFERS_MB);
        assert_eq!(
            shared_buffers_mb_for(Some(256 * GIB)),
            MAX_SHARED_BUFFERS_MB
        );
        assert_eq!(shared_buffers_mb_for(None), MIN_SHARED_BUFFERS_MB);
        let sized = sized_shared_buffers_mb();
        assert!((MIN_SHARED_BUFFERS_MB..=MAX_SHARED_BUFFERS_MB).contains(&sized));
    }
}
