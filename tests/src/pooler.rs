//! PgBouncer (Debian's `pgbouncer`) in front of a private cluster, run as the account
//! that owns the cluster (PgBouncer refuses to run as root), stopped when dropped.

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::process::free_port;

/// Where Debian installs it (`apt-get install pgbouncer`).
pub const PGBOUNCER: &str = "/usr/sbin/pgbouncer";

pub struct Pooler {
    child: Child,
    dir: PathBuf,
    pub port: u16,
    /// What clients connect to: the `claimtrack` database through the pooler.
    pub url: String,
}

impl Pooler {
    /// PgBouncer in `mode` (`session` or `transaction`) before the server of `direct_url`
    /// (a cluster in `pgdata`, whose owner runs it), at most `server_connections` to it.
    pub fn start(direct_url: &str, pgdata: &Path, mode: &str, server_connections: u32) -> Self {
        assert!(
            Path::new(PGBOUNCER).exists(),
            "{PGBOUNCER} is missing: the pooler tests need Debian's pgbouncer \
             (apt-get install pgbouncer)"
        );
        let direct = url::Url::parse(direct_url).expect("a database URL");
        let meta = std::fs::metadata(pgdata).expect("pgdata");
        let dir = std::env::temp_dir().join(format!(
            "claimtrack-pgbouncer-{}",
            uuid::Uuid::now_v7().simple()
        ));
        std::fs::create_dir_all(&dir).expect("pooler dir");
        let port = free_port();
        let user = direct.username();
        let config = format!(
            "[databases]\n\
             claimtrack = host=127.0.0.1 port={server_port} dbname=claimtrack user={user} password={password}\n\
             [pgbouncer]\n\
             listen_addr = 127.0.0.1\n\
             listen_port = {port}\n\
             unix_socket_dir =\n\
             auth_type = trust\n\
             auth_file = {dir}/users.txt\n\
             admin_users = {user}\n\
             pool_mode = {mode}\n\
             default_pool_size = {server_connections}\n\
             max_client_conn = 500\n\
             ignore_startup_parameters = extra_float_digits\n\
             logfile = {dir}/pgbouncer.log\n",
            server_port = direct.port().unwrap_or(5432),
            password = direct.password().unwrap_or_default(),
            dir = dir.display(),
        );
        std::fs::write(dir.join("pgbouncer.ini"), config).expect("pooler config");
        std::fs::write(dir.join("users.txt"), format!("\"{user}\" \"\"\n")).expect("users");
        for path in [
            dir.clone(),
            dir.join("pgbouncer.ini"),
            dir.join("users.txt"),
        ] {
            std::os::unix::fs::chown(&path, Some(meta.uid()), Some(meta.gid())).expect("chown");
        }
        let mut command = Command::new(PGBOUNCER);
        command
            .arg(dir.join("pgbouncer.ini"))
            .current_dir(&dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        if nix::unistd::geteuid().is_root() {
            std::os::unix::process::CommandExt::uid(&mut command, meta.uid());
            std::os::unix::process::CommandExt::gid(&mut command, meta.gid());
        }
        let child = command.spawn().expect("start pgbouncer");
        let began = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                began.elapsed() < Duration::from_secs(10),
                "pgbouncer did not listen; its log:\n{}",
                std::fs::read_to_string(dir.join("pgbouncer.log")).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        let mut url = direct.clone();
        url.set_port(Some(port)).expect("a port");
        url.set_password(None).expect("no password");
        Self {
            child,
            dir,
            port,
            url: url.to_string(),
        }
    }

    /// One `SHOW` of PgBouncer's admin console, as psql prints it unaligned: a header
    /// row, then rows, fields split by `|`.
    pub fn show(&self, what: &str) -> Vec<Vec<String>> {
        let output = Command::new("psql")
            .args(["-h", "127.0.0.1", "-p", &self.port.to_string(), "-U"])
            .arg(url::Url::parse(&self.url).expect("URL").username())
            .args(["-d", "pgbouncer", "-A", "-c", &format!("SHOW {what}")])
            .output()
            .expect("run psql (apt-get install postgresql-client)");
        assert!(
            output.status.success(),
            "SHOW {what}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout)
            .lines()
            .filter(|l| l.contains('|'))
            .map(|l| l.split('|').map(str::to_owned).collect())
            .collect()
    }

    /// A column of `SHOW what` for the `claimtrack` database.
    pub fn stat(&self, what: &str, column: &str) -> i64 {
        let rows = self.show(what);
        let header = &rows[0];
        let at = header.iter().position(|c| c == column).expect("the column");
        let database = header
            .iter()
            .position(|c| c == "database")
            .expect("database");
        rows[1..]
            .iter()
            .filter(|r| r[database] == "claimtrack")
            .map(|r| r[at].parse::<i64>().unwrap_or(0))
            .sum()
    }
}

impl Drop for Pooler {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
