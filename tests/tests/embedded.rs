//! Integration tests of the embedded PostgreSQL cluster (`claimtrack::embedded`):
//! first start, attaching from a second caller, stop/restart, concurrent starters,
//! the short socket-dir fallback for long data dirs, and relocation when running as
//! root below a private (0700) directory. Needs the PostgreSQL server binaries.

use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::Instant;

use claimtrack::embedded::{Cluster, ClusterOptions, status, stop_running};
use sea_orm::{ConnectionTrait, Database, DbBackend, Statement};

type TestResult = Result<(), Box<dyn std::error::Error>>;

/// A unique scratch directory under the temp dir. On drop (also when a test panics)
/// it stops the cluster of its data dir and removes itself and any `extra` dirs.
struct Scratch {
    root: PathBuf,
    data_dir: PathBuf,
    extra: Vec<PathBuf>,
}

impl Scratch {
    fn new(data_dir_below_root: &str) -> std::io::Result<Self> {
        let root = std::env::temp_dir().join(format!("ct-embedded-{}", uuid::Uuid::now_v7()));
        std::fs::create_dir_all(&root)?;
        let data_dir = root.join(data_dir_below_root);
        Ok(Self {
            root,
            data_dir,
            extra: Vec::new(),
        })
    }

    fn options(&self) -> ClusterOptions {
        ClusterOptions::new(&self.data_dir)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let opts = self.options();
        // We may be inside a runtime (even a panicking one): stop from a fresh thread.
        let stopped = std::thread::spawn(move || {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| e.to_string())
                .and_then(|rt| rt.block_on(stop_running(&opts)).map_err(|e| e.to_string()))
        })
        .join();
        if let Ok(Err(e)) = stopped {
            eprintln!("cleanup: could not stop cluster: {e}");
        }
        for dir in self.extra.iter().chain([&self.root]) {
            if let Err(e) = std::fs::remove_dir_all(dir) {
                eprintln!("cleanup: could not remove {}: {e}", dir.display());
            }
        }
    }
}

/// The one integer `sql` selects, on a connection of its own to `url`.
async fn one_value(url: &str, sql: &str) -> Result<i64, Box<dyn std::error::Error>> {
    let db = Database::connect(url).await?;
    let row = db
        .query_one_raw(Statement::from_string(DbBackend::Postgres, sql))
        .await?
        .ok_or("no row")?;
    let value = row.try_get_by_index::<i64>(0)?;
    db.close().await?;
    Ok(value)
}

/// Connects with sea-orm and checks `SELECT 1`.
async fn select_one(url: &str) -> TestResult {
    assert_eq!(one_value(url, "SELECT 1::int8").await?, 1);
    Ok(())
}

/// The server's `shared_buffers`, in megabytes.
async fn shared_buffers_mb(url: &str) -> Result<i64, Box<dyn std::error::Error>> {
    one_value(
        url,
        "SELECT pg_size_bytes(current_setting('shared_buffers')) / 1048576",
    )
    .await
}

/// Pids whose command line mentions `cluster_dir` (i.e. its postmaster).
fn server_processes(cluster_dir: &Path) -> Vec<u32> {
    let needle = cluster_dir.to_string_lossy().into_owned();
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(Result::ok)
        .filter_map(|entry| entry.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            std::fs::read(format!("/proc/{pid}/cmdline")).is_ok_and(|raw| {
                String::from_utf8_lossy(&raw)
                    .replace('\0', " ")
                    .contains(&needle)
            })
        })
        .collect()
}

/// Whether this process runs as root (owner of a file it creates).
fn running_as_root(scratch: &Scratch) -> std::io::Result<bool> {
    let probe = scratch.root.join("uid-probe");
    std::fs::write(&probe, b"")?;
    Ok(std::fs::metadata(&probe)?.uid() == 0)
}

#[tokio::test(flavor = "multi_thread")]
async fn start_attach_stop_restart() -> TestResult {
    let scratch = Scratch::new("data")?;
    let opts = scratch.options();

    let began = Instant::now();
    let cluster = Cluster::ensure_running(&opts).await?;
    eprintln!(
        "first start (initdb + start + create database): {:?}",
        began.elapsed()
    );
    assert!(cluster.created() && cluster.owned());
    let cluster_dir = cluster.cluster_dir().to_path_buf();
    assert_eq!(
        cluster_dir,
        std::fs::canonicalize(&scratch.data_dir)?.join("postgres")
    );
    assert!(scratch.data_dir.join("run").is_dir());
    let password_mode = std::fs::metadata(scratch.data_dir.join("postgres.password"))?.mode();
    assert_eq!(password_mode & 0o777, 0o600);
    select_one(cluster.database_url()).await?;
    // A new cluster's memory is sized to the machine, in its configuration file.
    let sized = shared_buffers_mb(cluster.database_url()).await?;
    assert_eq!(
        u64::try_from(sized)?,
        claimtrack::embedded::sized_shared_buffers_mb()
    );
    let url = cluster.database_url().to_owned();
    assert!(url.starts_with("postgres://claimtrack:") && url.contains("@127.0.0.1:"));
    assert_eq!(status(&opts).await?.as_deref(), Some(url.as_str()));
    // (also counts a backend caught between fork and retitling)
    assert!(!server_processes(&cluster_dir).is_empty());

    // A second caller attaches to the running server without owning it.
    let second = Cluster::ensure_running(&opts).await?;
    assert!(!second.owned() && !second.created());
    assert_eq!(second.database_url(), url);
    second.stop().await?; // no-op: not owned
    select_one(&url).await?;
    // admin_url reaches other databases with the same credentials.
    select_one(&cluster.admin_url("postgres")).await?;

    cluster.stop().await?;
    assert_eq!(server_processes(&cluster_dir), Vec::<u32>::new());
    assert_eq!(status(&opts).await?, None);
    assert!(!stop_running(&opts).await?);

    let began = Instant::now();
    let again = Cluster::ensure_running(&opts).await?;
    eprintln!("warm start: {:?}", began.elapsed());
    assert!(again.owned() && !again.created());
    assert_eq!(again.cluster_dir(), cluster_dir);
    select_one(again.database_url()).await?;
    assert_eq!(shared_buffers_mb(again.database_url()).await?, sized);

    // An operator's own setting outlives a restart: nothing on the command line pins it.
    let db = Database::connect(again.database_url()).await?;
    db.execute_unprepared("ALTER SYSTEM SET shared_buffers = '136MB'")
        .await?;
    db.close().await?;
    again.stop().await?;
    let again = Cluster::ensure_running(&opts).await?;
    assert_eq!(shared_buffers_mb(again.database_url()).await?, 136);

    // `claimtrack db stop`: stops the server whoever started it.
    assert!(stop_running(&opts).await?);
    assert_eq!(server_processes(&cluster_dir), Vec::<u32>::new());
    again.stop().await?; // already stopped: fine
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn concurrent_starters_share_one_server() -> TestResult {
    let scratch = Scratch::new("data")?;
    let opts = scratch.options();
    let (a, b) = tokio::join!(
        Cluster::ensure_running(&opts),
        Cluster::ensure_running(&opts)
    );
    let (a, b) = (a?, b?);
    assert!(
        a.owned() != b.owned(),
        "exactly one caller starts the server"
    );
    assert!(
        a.created() != b.created(),
        "exactly one caller creates the database"
    );
    assert_eq!(a.database_url(), b.database_url());
    select_one(a.database_url()).await?;
    let cluster_dir = a.cluster_dir().to_path_buf();
    a.stop().await?;
    b.stop().await?;
    assert_eq!(server_processes(&cluster_dir), Vec::<u32>::new());
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn long_data_dir_uses_short_socket_dir() -> TestResult {
    let long = format!("{}/{}/data", "d".repeat(60), "e".repeat(60));
    let mut scratch = Scratch::new(&long)?;
    let opts = scratch.options();
    assert!(scratch.data_dir.as_os_str().len() > 110);

    let cluster = Cluster::ensure_running(&opts).await?;
    let socket_dir = cluster.socket_dir().to_path_buf();
    if !socket_dir.starts_with(&scratch.root) {
        scratch.extra.push(socket_dir.clone());
    }
    let shown = socket_dir.to_string_lossy();
    assert!(shown.starts_with("/tmp/claimtrack-"), "{shown}");
    let socket = socket_dir.join(format!(".s.PGSQL.{}", cluster.port()));
    assert!(socket.as_os_str().len() <= 100);
    assert!(std::fs::symlink_metadata(&socket)?.file_type().is_socket());
    select_one(cluster.database_url()).await?;
    let cluster_dir = cluster.cluster_dir().to_path_buf();
    cluster.stop().await?;
    assert_eq!(server_processes(&cluster_dir), Vec::<u32>::new());
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn data_dir_below_private_directory() -> TestResult {
    let mut scratch = Scratch::new("private/data")?;
    let private = scratch.root.join("private");
    std::fs::create_dir_all(&private)?;
    std::fs::set_permissions(&private, std::fs::Permissions::from_mode(0o700))?;
    let opts = scratch.options();
    let as_root = running_as_root(&scratch)?;

    let cluster = Cluster::ensure_running(&opts).await?;
    let cluster_dir = cluster.cluster_dir().to_path_buf();
    let link = scratch.data_dir.join("postgres");
    if as_root {
        // The server account cannot enter `private`: the cluster lives elsewhere, with a
        // symlink in the data dir, and belongs to that unprivileged account.
        if let Some(home) = cluster_dir.parent() {
            scratch.extra.push(home.to_path_buf());
        }
        assert!(
            !cluster_dir.starts_with(&private),
            "{}",
            cluster_dir.display()
        );
        assert!(std::fs::symlink_metadata(&link)?.file_type().is_symlink());
        assert_eq!(std::fs::canonicalize(&link)?, cluster_dir);
        assert_ne!(std::fs::metadata(&cluster_dir)?.uid(), 0);
    } else {
        // Our own 0700 directory is no obstacle for our own server.
        assert_eq!(cluster_dir, std::fs::canonicalize(&link)?);
        assert!(cluster_dir.starts_with(std::fs::canonicalize(&private)?));
    }
    assert!(cluster.created());
    select_one(cluster.database_url()).await?;
    cluster.stop().await?;
    assert_eq!(server_processes(&cluster_dir), Vec::<u32>::new());

    // The same data dir finds the same cluster again.
    let again = Cluster::ensure_running(&opts).await?;
    assert!(!again.created());
    assert_eq!(again.cluster_dir(), cluster_dir);
    select_one(again.database_url()).await?;
    again.stop().await?;
    Ok(())
}
