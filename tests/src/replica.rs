//! A primary with a streaming replica, made the way an operator makes one: a private
//! embedded cluster, `pg_basebackup -R` of it into a second data dir, and a second
//! server started there on a port of its own. The replica can be stopped, killed and
//! started again; dropping the pair stops both and removes their files.

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::process::{PrivateCluster, free_port};

pub struct Replicated {
    pub primary: PrivateCluster,
    /// The primary's `claimtrack` database.
    pub primary_url: String,
    /// The same database on the replica.
    pub replica_url: String,
    /// The scratch dir holding the replica's data dir and socket dir.
    root: PathBuf,
    /// The primary's data dir, socket dir and port, to stop and start it.
    primary_at: (PathBuf, PathBuf, u16),
    port: u16,
    bin_dir: PathBuf,
    owner: (u32, u32),
}

impl Replicated {
    /// Starts a private primary and a streaming replica of it, and waits until the
    /// replica accepts connections.
    pub async fn start(label: &str) -> Self {
        let primary = PrivateCluster::new(label);
        let cluster = claimtrack::embedded::Cluster::ensure_running(&primary.options)
            .await
            .expect("start the primary");
        let primary_url = cluster.database_url().to_owned();
        let pgdata = cluster.cluster_dir().to_path_buf();
        let opts = std::fs::read_to_string(pgdata.join("postmaster.opts")).expect("opts");
        let postgres = opts.split_whitespace().next().expect("a program");
        let bin_dir = Path::new(postgres.trim_matches('"'))
            .parent()
            .expect("a bin dir")
            .to_path_buf();
        let meta = std::fs::metadata(&pgdata).expect("pgdata");
        let owner = (meta.uid(), meta.gid());
        let root = std::env::temp_dir().join(format!(
            "claimtrack-{label}-replica-{}",
            uuid::Uuid::now_v7().simple()
        ));
        for dir in [root.clone(), root.join("data"), root.join("socket")] {
            std::fs::create_dir_all(&dir).expect("replica dir");
            std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700)).expect("mode");
            std::os::unix::fs::chown(&dir, Some(owner.0), Some(owner.1)).expect("chown");
        }
        let parsed = url::Url::parse(&primary_url).expect("primary URL");
        let password = parsed.password().unwrap_or_default().to_owned();
        let status = as_owner(owner, Command::new(bin_dir.join("pg_basebackup")))
            .args(["-h", "127.0.0.1", "-p", &cluster.port().to_string()])
            .args([
                "-U",
                parsed.username(),
                "-w",
                "-R",
                "-X",
                "stream",
                "-c",
                "fast",
            ])
            .arg("--no-sync")
            .arg("-D")
            .arg(root.join("data"))
            .env("PGPASSWORD", &password)
            .status()
            .expect("run pg_basebackup");
        assert!(status.success(), "pg_basebackup failed");
        let port = free_port();
        let mut replica_url = parsed.clone();
        replica_url.set_port(Some(port)).expect("a port");
        let primary_at = (
            pgdata.clone(),
            cluster.socket_dir().to_path_buf(),
            cluster.port(),
        );
        let replica = Self {
            primary_at,
            primary,
            primary_url,
            replica_url: replica_url.to_string(),
            root,
            port,
            bin_dir,
            owner,
        };
        replica.start_replica();
        replica
    }

    fn pgdata(&self) -> PathBuf {
        self.root.join("data")
    }

    fn pg_ctl(&self) -> Command {
        let mut command = as_owner(self.owner, Command::new(self.bin_dir.join("pg_ctl")));
        command.arg("-D").arg(self.pgdata()).stdout(Stdio::null());
        command
    }

    /// Starts the replica (again) on its port and waits until it accepts connections.
    pub fn start_replica(&self) {
        let status = self
            .pg_ctl()
            .args(["start", "-w", "-t", "60", "-l"])
            .arg(self.root.join("replica.log"))
            .arg("-o")
            .arg(format!(
                "-p {} -c listen_addresses=127.0.0.1 -c max_connections=200 -c unix_socket_directories={}",
                self.port,
                self.root.join("socket").display()
            ))
            .status()
            .expect("run pg_ctl start");
        assert!(
            status.success(),
            "the replica did not start; its log:\n{}",
            std::fs::read_to_string(self.root.join("replica.log")).unwrap_or_default()
        );
    }

    /// Stops the replica: `fast` ends its sessions, `immediate` drops everything at once.
    pub fn stop_replica(&self, mode: &str) {
        let status = self
            .pg_ctl()
            .args(["stop", "-w", "-t", "60", "-m", mode])
            .status()
            .expect("run pg_ctl stop");
        assert!(status.success(), "the replica did not stop");
    }

    /// Stops the primary: `immediate` is a crash, as far as its clients can tell.
    pub fn stop_primary(&self, mode: &str) {
        crate::process::stop_cluster(&self.primary_at.0, mode);
    }

    /// Starts the stopped primary again, on the port it had.
    pub fn start_primary(&self) {
        let (pgdata, socket_dir, port) = &self.primary_at;
        crate::process::restart_cluster(pgdata, socket_dir, *port);
    }

    /// The replica's postmaster pid, while it runs.
    pub fn replica_pid(&self) -> Option<i32> {
        crate::process::postmaster_pid_in(&self.pgdata())
    }

    /// Waits until the replica has replayed everything the primary has flushed.
    pub async fn caught_up(&self, limit: Duration) {
        let primary = sea_orm::Database::connect(&self.primary_url)
            .await
            .expect("connect to the primary");
        let replica = sea_orm::Database::connect(&self.replica_url)
            .await
            .expect("connect to the replica");
        let target: String =
            crate::scalar(&primary, "SELECT pg_current_wal_flush_lsn()::text").await;
        let began = Instant::now();
        loop {
            let sql = format!("SELECT pg_last_wal_replay_lsn() >= '{target}'::pg_lsn");
            if crate::scalar::<bool>(&replica, &sql).await {
                break;
            }
            assert!(began.elapsed() < limit, "the replica did not catch up");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        primary.close().await.ok();
        replica.close().await.ok();
    }
}

impl Drop for Replicated {
    fn drop(&mut self) {
        if self.replica_pid().is_some() {
            let _ = self
                .pg_ctl()
                .args(["stop", "-w", "-t", "30", "-m", "immediate"])
                .stderr(Stdio::null())
                .status();
        }
        let _ = std::fs::remove_dir_all(&self.root);
    }
}

/// `command`, to run as the account that owns the clusters.
fn as_owner(owner: (u32, u32), mut command: Command) -> Command {
    command.current_dir("/");
    if nix::unistd::geteuid().is_root() && owner.0 != 0 {
        std::os::unix::process::CommandExt::uid(&mut command, owner.0);
        std::os::unix::process::CommandExt::gid(&mut command, owner.1);
    }
    command
}
