//! Reading `postmaster.pid` and judging whether the server it names is alive.
//!
//! Layout (PostgreSQL >= 10): pid, data dir, start time, port, first socket dir,
//! first listen address, shared memory key, status (`starting`/`ready`/`stopping`/...).

use std::io::ErrorKind;
use std::path::{Path, PathBuf};

use nix::errno::Errno;
use nix::sys::signal::kill;
use nix::unistd::Pid;

use super::EmbeddedError;
use super::error::io_err;

/// The parts of `postmaster.pid` we use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PostmasterPid {
    /// Postmaster process id (line 1).
    pub(crate) pid: i32,
    /// TCP port / socket suffix (line 4).
    pub(crate) port: Option<u16>,
    /// First Unix socket directory (line 5).
    pub(crate) socket_dir: Option<PathBuf>,
    /// Server status (line 8), e.g. `ready`.
    pub(crate) status: Option<String>,
}

impl PostmasterPid {
    /// Whether the server reports it accepts connections (old servers have no status line).
    pub(crate) fn ready(&self) -> bool {
        self.status.as_deref().is_none_or(|s| s == "ready")
    }
}

/// Parses the file's text; `None` if even the pid line is unusable.
pub(crate) fn parse(text: &str) -> Option<PostmasterPid> {
    let lines: Vec<&str> = text.lines().map(str::trim).collect();
    let line = |n: usize| lines.get(n - 1).copied().filter(|l| !l.is_empty());
    let pid = line(1)?.parse::<i32>().ok().filter(|pid| *pid > 0)?;
    Some(PostmasterPid {
        pid,
        port: line(4).and_then(|p| p.parse().ok()),
        socket_dir: line(5).map(PathBuf::from),
        status: line(8).map(str::to_owned),
    })
}

/// Reads `<pgdata>/postmaster.pid`; `Ok(None)` when absent or unparsable.
pub(crate) fn read(pgdata: &Path) -> Result<Option<PostmasterPid>, EmbeddedError> {
    let path = pgdata.join("postmaster.pid");
    match std::fs::read_to_string(&path) {
        Ok(text) => Ok(parse(&text)),
        Err(e) if e.kind() == ErrorKind::NotFound => Ok(None),
        Err(e) => Err(io_err("read", &path)(e)),
    }
}

/// What the pid in `postmaster.pid` refers to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Liveness {
    /// A live process that is (as far as we can tell) this cluster's postmaster.
    Running,
    /// No such process: the file is stale; `postgres` copes with that itself.
    Dead,
    /// The pid is a zombie (exited, never reaped, e.g. when PID 1 does not reap
    /// orphans) or was reused by an unrelated process. `postgres` would refuse to start
    /// ("lock file already exists"), so the stale file must be removed.
    Stale,
}

/// Judges the postmaster pid of the cluster in `pgdata`.
pub(crate) fn liveness(pid: i32, pgdata: &Path) -> Liveness {
    match kill(Pid::from_raw(pid), None) {
        Ok(()) | Err(Errno::EPERM) => {}
        Err(_) => return Liveness::Dead,
    }
    if is_zombie(pid) {
        return Liveness::Stale;
    }
    match std::fs::read(format!("/proc/{pid}/cmdline")) {
        Ok(raw) => {
            let args: Vec<String> = raw
                .split(|b| *b == 0)
                .filter(|a| !a.is_empty())
                .map(|a| String::from_utf8_lossy(a).into_owned())
                .collect();
            if cmdline_matches(&args, pgdata) {
                Liveness::Running
            } else {
                Liveness::Stale
            }
        }
        // No procfs (macOS) or not readable: trust the pid.
        Err(_) => Liveness::Running,
    }
}

/// Whether a process is a zombie (exited, not yet reaped); Linux only, else `false`.
fn is_zombie(pid: i32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| {
        stat.rfind(')')
            .and_then(|end| stat[end + 1..].split_whitespace().next())
            .is_some_and(|state| state == "Z")
    })
}

/// Whether a command line is a postmaster for `pgdata`: the program must be
/// `postgres`/`postmaster`, and an absolute `-D` argument must name `pgdata`.
pub(crate) fn cmdline_matches(args: &[String], pgdata: &Path) -> bool {
    let Some(program) = args.first() else {
        return false;
    };
    let name = Path::new(program)
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    if !(name.starts_with("postgres") || name.starts_with("postmaster")) {
        return false;
    }
    let data_arg = args
        .iter()
        .enumerate()
        .find_map(|(i, arg)| match arg.as_str() {
            "-D" => args.get(i + 1).map(String::as_str),
            other => other.strip_prefix("-D").filter(|rest| !rest.is_empty()),
        });
    match data_arg.map(Path::new) {
        Some(dir) if dir.is_absolute() => {
            dir == pgdata || std::fs::canonicalize(dir).is_ok_and(|real| real == pgdata)
        }
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const READY: &str = "4242\n/tmp/d/postgres\n1732614000\n54321\n/tmp/d/run\n127.0.0.1\n  1234567     98304\nready   \n";

    #[test]
    fn parses_ready_file() {
        let parsed = parse(READY);
        assert_eq!(
            parsed,
            Some(PostmasterPid {
                pid: 4242,
                port: Some(54321),
                socket_dir: Some(PathBuf::from("/tmp/d/run")),
                status: Some("ready".into()),
            })
        );
        assert!(parsed.is_some_and(|p| p.ready()));
    }

    #[test]
    fn parses_partial_and_rejects_garbage() {
        // While starting, the status line says so; old servers have no status line at all.
        let starting = READY.replace("ready   ", "starting");
        assert!(parse(&starting).is_some_and(|p| !p.ready()));
        let old = "77\n/data\n1\n5432\n/tmp\n";
        assert!(parse(old).is_some_and(|p| p.ready() && p.port == Some(5432)));
        // Empty socket line (unix_socket_directories = '') parses as no socket dir.
        let no_socket = "77\n/data\n1\n5432\n\n*\n";
        assert_eq!(parse(no_socket).and_then(|p| p.socket_dir), None);
        assert_eq!(parse(""), None);
        assert_eq!(parse("not-a-pid\n"), None);
        assert_eq!(parse("-5\n"), None);
    }

    #[test]
    fn command_line_matching() {
        let ours = Path::new("/tmp/ct/data/postgres");
        let args = |s: &str| s.split(' ').map(str::to_owned).collect::<Vec<_>>();
        assert!(cmdline_matches(
            &args("/usr/lib/postgresql/15/bin/postgres -D /tmp/ct/data/postgres -p 5"),
            ours
        ));
        assert!(cmdline_matches(
            &args("postgres -D/tmp/ct/data/postgres"),
            ours
        ));
        // The distribution's own server, with another data dir, is not ours.
        assert!(!cmdline_matches(
            &args("/usr/lib/postgresql/15/bin/postgres -D /var/lib/postgresql/15/main"),
            ours
        ));
        // A reused pid of some other program.
        assert!(!cmdline_matches(&args("/usr/bin/claimtrack serve"), ours));
        assert!(!cmdline_matches(&[], ours));
        // Without (or with a relative) -D we cannot tell: trust it.
        assert!(cmdline_matches(&args("postgres"), ours));
        assert!(cmdline_matches(&args("postgres -D data/postgres"), ours));
    }

    #[test]
    fn liveness_of_real_processes() {
        let me = i32::try_from(std::process::id()).unwrap_or(i32::MAX);
        // This test binary is alive but is not a postmaster.
        let expected = if Path::new("/proc/self/cmdline").exists() {
            Liveness::Stale
        } else {
            Liveness::Running
        };
        assert_eq!(liveness(me, Path::new("/nowhere")), expected);
        assert_eq!(
            liveness(i32::MAX - 1, Path::new("/nowhere")),
            Liveness::Dead
        );
    }
}
