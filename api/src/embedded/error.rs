//! The error type of the embedded PostgreSQL cluster: [`EmbeddedError`].
//!
//! Every message says what went wrong *and* what the user can do about it.

use std::path::{Path, PathBuf};

/// Everything that can go wrong while finding, initialising, starting,
/// inspecting or stopping the embedded PostgreSQL cluster.
#[derive(Debug, thiserror::Error)]
pub enum EmbeddedError {
    /// No directory holding `initdb`, `pg_ctl` and `postgres` was found.
    #[error(
        "PostgreSQL server binaries (initdb, pg_ctl, postgres) not found (searched {searched}); \
         install the PostgreSQL server (Debian/Ubuntu: apt-get install postgresql; \
         Fedora: dnf install postgresql-server; macOS: brew install postgresql@16) \
         or set DATABASE_URL to use an existing server"
    )]
    BinariesNotFound {
        /// Human-readable list of the places that were searched.
        searched: String,
    },

    /// The explicitly configured bin dir lacks one of the required programs.
    #[error(
        "{} has no executable `{missing}`; point the PostgreSQL bin dir option at the directory \
         holding initdb, pg_ctl and postgres (e.g. /usr/lib/postgresql/16/bin)",
        dir.display()
    )]
    IncompleteBinDir {
        /// The configured directory.
        dir: PathBuf,
        /// The program that is missing there.
        missing: &'static str,
    },

    /// A filesystem operation failed.
    #[error("could not {action} {}: {source}", path.display())]
    Io {
        /// What was being done, e.g. "create directory".
        action: &'static str,
        /// The path it was done to.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },

    /// A path cannot be used for the cluster (unsafe owner, unquotable characters, ...).
    #[error("cannot use {} for the embedded PostgreSQL cluster: {reason}", path.display())]
    UnusablePath {
        /// The offending path.
        path: PathBuf,
        /// Why, and what to do about it.
        reason: String,
    },

    /// The OS account the server should run as is unusable.
    #[error("cannot run the embedded PostgreSQL cluster as OS user `{name}`: {reason}")]
    User {
        /// The account name.
        name: String,
        /// Why, and what to do about it.
        reason: String,
    },

    /// `initdb` or `pg_ctl` exited unsuccessfully.
    #[error("`{program}` failed ({status}): {output}")]
    Tool {
        /// The command line (without secrets).
        program: String,
        /// Its exit status.
        status: String,
        /// What it printed.
        output: String,
    },

    /// The server did not come up.
    #[error("the embedded PostgreSQL server did not start; see {}:\n{tail}", log.display())]
    StartFailed {
        /// The server log file.
        log: PathBuf,
        /// The relevant end of the log and of `pg_ctl`'s output.
        tail: String,
    },

    /// A server process is running but never became ready to accept connections.
    #[error(
        "a PostgreSQL server (pid {pid}) is running for {} but is not accepting connections \
         on port {port}; check its log or stop it with `claimtrack db stop`",
        pgdata.display()
    )]
    NotReady {
        /// The cluster directory.
        pgdata: PathBuf,
        /// Postmaster pid from `postmaster.pid`.
        pid: i32,
        /// Port from `postmaster.pid`.
        port: u16,
    },

    /// The server survived `pg_ctl stop`.
    #[error(
        "the PostgreSQL server (pid {pid}) for {} is still running after `pg_ctl stop`; \
         stop it manually with `kill -INT {pid}`",
        pgdata.display()
    )]
    StillRunning {
        /// The cluster directory.
        pgdata: PathBuf,
        /// The surviving postmaster.
        pid: i32,
    },

    /// The cluster exists but its password file does not.
    #[error(
        "the cluster at {} exists but its password file {} is missing; restore the file, \
         or delete the cluster directory to re-create an empty cluster (this deletes its data)",
        pgdata.display(),
        password_file.display()
    )]
    MissingPassword {
        /// The cluster directory.
        pgdata: PathBuf,
        /// Where the password file should be.
        password_file: PathBuf,
    },

    /// Another process held the data dir lock for too long.
    #[error(
        "timed out after {secs}s waiting for the lock {}: another claimtrack process is \
         starting or stopping this cluster; retry later or stop that process",
        path.display()
    )]
    LockTimeout {
        /// The lock file.
        path: PathBuf,
        /// How long we waited.
        secs: u64,
    },

    /// Creating or checking the `claimtrack` database failed.
    #[error("could not prepare the `claimtrack` database in the embedded cluster: {0}")]
    Database(#[from] sea_orm::DbErr),

    /// A blocking helper task panicked or was cancelled.
    #[error("internal task of the embedded PostgreSQL cluster failed: {0}")]
    Task(#[from] tokio::task::JoinError),
}

/// Builds a closure mapping an [`std::io::Error`] to [`EmbeddedError::Io`].
pub(crate) fn io_err(
    action: &'static str,
    path: &Path,
) -> impl FnOnce(std::io::Error) -> EmbeddedError {
    let path = path.to_path_buf();
    move |source| EmbeddedError::Io {
        action,
        path,
        source,
    }
}
