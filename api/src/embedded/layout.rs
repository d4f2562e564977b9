//! Where the cluster's files live, and the decisions behind it.
//!
//! * `<data_dir>/postgres`: the cluster (`PGDATA`), or a symlink to it when it had to be
//!   relocated because the server account cannot reach the data dir (root running
//!   below e.g. `/root`, mode 700). The relocated cluster lives in
//!   `/var/lib/claimtrack/<hash>/postgres` (fallback, not reboot-proof:
//!   `<temp dir>/claimtrack-<hash>-cluster/postgres`),
//!   `<hash>` being a short stable hash of the canonical data dir.
//! * `<parent of the cluster>/run`: the Unix socket directory, unless the socket path
//!   would not fit in [`MAX_SOCKET_PATH`] bytes; then `/tmp/claimtrack-<hash>`.
//! * `<data_dir>/postgres.password` (0600) and `<data_dir>/postgres.lock`: see `files`.

use std::io::ErrorKind;
use std::os::unix::fs::{DirBuilderExt, MetadataExt};
use std::path::{Path, PathBuf};

use super::EmbeddedError;
use super::error::io_err;
use super::user::ClusterUser;

/// Name of the cluster directory (or symlink to it) inside the data dir.
pub(crate) const CLUSTER_LINK: &str = "postgres";
/// Name of the superuser password file inside the data dir.
pub(crate) const PASSWORD_FILE: &str = "postgres.password";
/// Name of the start/stop lock file inside the data dir.
pub(crate) const LOCK_FILE: &str = "postgres.lock";
/// Longest Unix socket path we accept (the kernel limit is 107 bytes).
pub(crate) const MAX_SOCKET_PATH: usize = 100;
/// Socket file name for the longest possible port.
const WORST_SOCKET_NAME: &str = "/.s.PGSQL.65535";
/// Persistent home of relocated clusters.
const RELOCATION_ROOT: &str = "/var/lib/claimtrack";

/// Resolved, existing paths of one cluster.
#[derive(Debug, Clone)]
pub(crate) struct Layout {
    /// Canonical data dir given by the caller.
    pub(crate) data_dir: PathBuf,
    /// Real cluster directory (no symlinks in the path).
    pub(crate) pgdata: PathBuf,
    /// Unix socket directory.
    pub(crate) socket_dir: PathBuf,
}

impl Layout {
    /// The server log written by `pg_ctl -l`.
    pub(crate) fn log_file(&self) -> PathBuf {
        self.pgdata.join("log").join("postgres.log")
    }
}

/// Canonical form of the data dir; creates it first when `create` is set.
/// `Ok(None)` when it does not exist and `create` is not set.
pub(crate) fn canonical_data_dir(
    data_dir: &Path,
    create: bool,
) -> Result<Option<PathBuf>, EmbeddedError> {
    if create {
        std::fs::create_dir_all(data_dir).map_err(io_err("create data directory", data_dir))?;
    }
    match std::fs::canonicalize(data_dir) {
        Ok(path) => Ok(Some(path)),
        Err(e) if e.kind() == ErrorKind::NotFound && !create => Ok(None),
        Err(e) => Err(io_err("resolve data directory", data_dir)(e)),
    }
}

/// The existing cluster directory of a (canonical) data dir, following the symlink.
pub(crate) fn existing_pgdata(data_dir: &Path) -> Result<Option<PathBuf>, EmbeddedError> {
    let link = data_dir.join(CLUSTER_LINK);
    match std::fs::symlink_metadata(&link) {
        Err(e) if e.kind() == ErrorKind::NotFound => Ok(None),
        Err(e) => Err(io_err("inspect", &link)(e)),
        Ok(meta) if meta.is_dir() => Ok(Some(link)),
        Ok(meta) if meta.file_type().is_symlink() => match std::fs::canonicalize(&link) {
            Ok(target) => Ok(Some(target)),
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io_err("follow the cluster link", &link)(e)),
        },
        Ok(_) => Err(EmbeddedError::UnusablePath {
            path: link,
            reason: "it is a file; expected the cluster directory or a symlink to it".into(),
        }),
    }
}

/// Decides and creates the cluster and socket directories for a canonical data dir.
pub(crate) fn prepare(data_dir: &Path, user: &ClusterUser) -> Result<Layout, EmbeddedError> {
    let link = data_dir.join(CLUSTER_LINK);
    let hash = short_hash(data_dir);
    let pgdata = match std::fs::symlink_metadata(&link) {
        Ok(meta) if meta.file_type().is_symlink() => {
            let target = data_dir.join(std::fs::read_link(&link).map_err(io_err("read", &link))?);
            if !target.exists() {
                tracing::warn!(
                    link = %link.display(),
                    target = %target.display(),
                    "the relocated cluster is gone; creating a new, empty one there"
                );
                if let Some(parent) = target.parent() {
                    std::fs::create_dir_all(parent).map_err(io_err("create", parent))?;
                    ensure_private_dir(parent, user, false)?;
                }
                ensure_private_dir(&target, user, false)?;
            }
            std::fs::canonicalize(&target).map_err(io_err("resolve", &target))?
        }
        Ok(_) => {
            // An existing cluster directory (a plain file is rejected here); its
            // ownership is left alone: the account was chosen to match it.
            existing_pgdata(data_dir)?;
            link
        }
        Err(e) if e.kind() == ErrorKind::NotFound => {
            let blocked = if user.switch {
                blocked_ancestor(data_dir, user.uid, user.gid)
            } else {
                None
            };
            match blocked {
                None => {
                    ensure_private_dir(&link, user, false)?;
                    link
                }
                Some(blocked) => {
                    let pgdata = relocate(&hash, user)?;
                    std::os::unix::fs::symlink(&pgdata, &link)
                        .map_err(io_err("create the cluster link", &link))?;
                    tracing::info!(
                        blocked = %blocked.display(),
                        user = %user.name,
                        cluster = %pgdata.display(),
                        link = %link.display(),
                        "the server account cannot enter the data dir; cluster relocated"
                    );
                    pgdata
                }
            }
        }
        Err(e) => return Err(io_err("inspect", &link)(e)),
    };
    check_shell_safe(&pgdata)?;
    let preferred = pgdata.parent().unwrap_or(data_dir).join("run");
    let socket_dir = choose_socket_dir(&preferred, &hash);
    if socket_dir == preferred {
        ensure_private_dir(&socket_dir, user, false)?;
    } else {
        tracing::info!(
            preferred = %preferred.display(),
            fallback = %socket_dir.display(),
            "socket path would exceed {MAX_SOCKET_PATH} bytes; using the short fallback dir"
        );
        ensure_private_dir(&socket_dir, user, true)?;
    }
    Ok(Layout {
        data_dir: data_dir.to_path_buf(),
        pgdata,
        socket_dir,
    })
}

/// Creates a relocated cluster dir the account can reach and returns it (canonical).
fn relocate(hash: &str, user: &ClusterUser) -> Result<PathBuf, EmbeddedError> {
    let candidates = [
        Path::new(RELOCATION_ROOT).join(hash),
        std::env::temp_dir().join(format!("claimtrack-{hash}-cluster")),
    ];
    let mut last_problem = String::new();
    for (index, home) in candidates.iter().enumerate() {
        let Some(base) = home.parent() else { continue };
        if let Err(e) = std::fs::create_dir_all(base) {
            last_problem = format!("{}: {e}", base.display());
            continue;
        }
        if let Some(blocked) = blocked_ancestor(base, user.uid, user.gid) {
            last_problem = format!("{} is not searchable by {}", blocked.display(), user.name);
            continue;
        }
        let pgdata = home.join(CLUSTER_LINK);
        let created = ensure_private_dir(home, user, true).and_then(|()| {
            ensure_private_dir(&pgdata, user, true)?;
            std::fs::canonicalize(&pgdata).map_err(io_err("resolve", &pgdata))
        });
        match created {
            Ok(pgdata) if index == 0 => return Ok(pgdata),
            Ok(pgdata) => {
                tracing::warn!(cluster = %pgdata.display(), "relocated cluster is in the temp dir and may not survive a reboot");
                return Ok(pgdata);
            }
            Err(e) => last_problem = e.to_string(),
        }
    }
    Err(EmbeddedError::UnusablePath {
        path: PathBuf::from(RELOCATION_ROOT),
        reason: format!(
            "the server account `{}` cannot reach the data dir, and no relocation dir could be \
             prepared ({last_problem}); use a data dir outside private home directories",
            user.name
        ),
    })
}

/// Creates `path` as a 0700 directory owned by `user`, or checks an existing one.
/// `strict`: an existing directory owned by someone else is an error (shared `/tmp`),
/// otherwise it is taken over.
fn ensure_private_dir(path: &Path, user: &ClusterUser, strict: bool) -> Result<(), EmbeddedError> {
    match std::fs::DirBuilder::new().mode(0o700).create(path) {
        Ok(()) => return user.chown(path),
        Err(e) if e.kind() == ErrorKind::AlreadyExists => {}
        Err(e) => return Err(io_err("create directory", path)(e)),
    }
    let meta = std::fs::symlink_metadata(path).map_err(io_err("inspect", path))?;
    if !meta.is_dir() {
        return Err(EmbeddedError::UnusablePath {
            path: path.to_path_buf(),
            reason: "it exists but is not a directory (or is a symlink); remove it".into(),
        });
    }
    if meta.uid() != user.uid {
        if strict {
            return Err(EmbeddedError::UnusablePath {
                path: path.to_path_buf(),
                reason: format!(
                    "it is owned by uid {} instead of {} ({}); remove it",
                    meta.uid(),
                    user.uid,
                    user.name
                ),
            });
        }
        user.chown(path)?;
    }
    Ok(())
}

/// Socket dir to use: `preferred` if its socket path fits and needs no quoting,
/// else `/tmp/claimtrack-<hash>`.
pub(crate) fn choose_socket_dir(preferred: &Path, hash: &str) -> PathBuf {
    let text = preferred.as_os_str().to_string_lossy();
    let fits = text.len() + WORST_SOCKET_NAME.len() <= MAX_SOCKET_PATH;
    let plain = !text
        .chars()
        .any(|c| c == ',' || c == '"' || c == '\\' || c.is_whitespace());
    if fits && plain {
        preferred.to_path_buf()
    } else {
        PathBuf::from(format!("/tmp/claimtrack-{hash}"))
    }
}

/// `pg_ctl` hands the data dir to `/bin/sh` inside double quotes; refuse what breaks that.
fn check_shell_safe(path: &Path) -> Result<(), EmbeddedError> {
    let text = path.as_os_str().to_string_lossy();
    if text.chars().any(|c| matches!(c, '"' | '$' | '`' | '\\')) {
        return Err(EmbeddedError::UnusablePath {
            path: path.to_path_buf(),
            reason: "it contains one of \" $ ` \\ which pg_ctl cannot pass to the shell; \
                     choose a data dir without them"
                .into(),
        });
    }
    Ok(())
}

/// The first directory on the way to (and including) `path` that `uid`/`gid`
/// (without supplementary groups) may not search. ACLs are not considered.
pub(crate) fn blocked_ancestor(path: &Path, uid: u32, gid: u32) -> Option<PathBuf> {
    let mut chain: Vec<&Path> = path.ancestors().collect();
    chain.reverse();
    chain.into_iter().find_map(|dir| {
        let searchable =
            std::fs::metadata(dir).is_ok_and(|m| can_search(m.mode(), m.uid(), m.gid(), uid, gid));
        (!searchable).then(|| dir.to_path_buf())
    })
}

/// Whether `uid`/`gid` may search (execute) a directory with this mode and owner.
pub(crate) fn can_search(mode: u32, owner: u32, group: u32, uid: u32, gid: u32) -> bool {
    if uid == 0 {
        true
    } else if owner == uid {
        mode & 0o100 != 0
    } else if group == gid {
        mode & 0o010 != 0
    } else {
        mode & 0o001 != 0
    }
}

/// Short, stable (FNV-1a 64) hex hash of a path.
pub(crate) fn short_hash(path: &Path) -> String {
    let hash = path
        .as_os_str()
        .as_encoded_bytes()
        .iter()
        .fold(0xcbf2_9ce4_8422_2325_u64, |hash, byte| {
            (hash ^ u64::from(*byte)).wrapping_mul(0x0000_0100_0000_01b3)
        });
    format!("{hash:016x}")[..12].to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn socket_dir_fallback_decision() {
        let hash = short_hash(Path::new("/some/data"));
        let short = Path::new("/srv/claimtrack/data/run");
        assert_eq!(choose_socket_dir(short, &hash), short);
        // Exactly at the limit still fits, one byte more does not.
        let limit = MAX_SOCKET_PATH - WORST_SOCKET_NAME.len();
        let at_limit = PathBuf::from(format!("/{}", "a".repeat(limit - 1)));
        assert_eq!(choose_socket_dir(&at_limit, &hash), at_limit);
        let over = PathBuf::from(format!("/{}", "a".repeat(limit)));
        let fallback = choose_socket_dir(&over, &hash);
        assert_eq!(fallback, PathBuf::from(format!("/tmp/claimtrack-{hash}")));
        assert!(fallback.as_os_str().len() + WORST_SOCKET_NAME.len() <= MAX_SOCKET_PATH);
        // Characters that would need quoting in unix_socket_directories fall back too.
        let spaced = Path::new("/home/me/my data/run");
        assert_ne!(choose_socket_dir(spaced, &hash), spaced);
    }

    #[test]
    fn hash_is_short_stable_and_distinct() {
        let a = short_hash(Path::new("/root/project/data"));
        assert_eq!(a, short_hash(Path::new("/root/project/data")));
        assert_eq!(a.len(), 12);
        assert!(a.chars().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(a, short_hash(Path::new("/root/project/data2")));
    }

    #[test]
    fn search_permission_rules() {
        // owner bits apply to the owner, even when "other" would allow it
        assert!(can_search(0o700, 101, 104, 101, 104));
        assert!(!can_search(0o077, 101, 104, 101, 104));
        // group bits for group members
        assert!(can_search(0o710, 0, 104, 101, 104));
        assert!(!can_search(0o701, 0, 104, 101, 104));
        // other bits for everyone else
        assert!(can_search(0o701, 0, 0, 101, 104));
        assert!(!can_search(0o770, 0, 0, 101, 104));
        // root may search anything
        assert!(can_search(0o000, 5, 5, 0, 0));
    }

    #[test]
    fn blocked_ancestor_finds_private_dir() -> std::io::Result<()> {
        let root = std::env::temp_dir().join(format!("ct-layout-test-{}", uuid::Uuid::now_v7()));
        let inner = root.join("a").join("b");
        std::fs::create_dir_all(&inner)?;
        let meta = std::fs::metadata(&root)?;
        // Somebody who is neither owner nor group member.
        let (stranger_uid, stranger_gid) = (meta.uid() + 4242, meta.gid() + 4242);
        std::fs::set_permissions(&root, std::fs::Permissions::from_mode(0o700))?;
        let blocked = blocked_ancestor(&inner, stranger_uid, stranger_gid);
        std::fs::set_permissions(&root, std::fs::Permissions::from_mode(0o711))?;
        let open = blocked_ancestor(&inner, stranger_uid, stranger_gid);
        // The owner itself is never blocked by its own 0700 dir.
        std::fs::set_permissions(&root, std::fs::Permissions::from_mode(0o700))?;
        let owner = blocked_ancestor(&inner, meta.uid(), meta.gid());
        std::fs::remove_dir_all(&root)?;
        assert_eq!(blocked, Some(root.clone()));
        assert_eq!(open, None);
        if meta.uid() != 0 {
            assert_eq!(owner, None);
        }
        Ok(())
    }
}
