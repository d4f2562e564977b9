//! Small files in the data dir: the start/stop lock and the superuser password.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{ErrorKind, Read, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use super::EmbeddedError;
use super::error::io_err;
use super::user::ClusterUser;

/// How long to wait for another process starting or stopping the same cluster.
/// Longer than `pg_ctl`'s own 60 s start/stop timeout plus `initdb`.
pub(crate) const LOCK_TIMEOUT: Duration = Duration::from_secs(180);

/// An exclusive lock on `<data_dir>/postgres.lock`, released on drop.
#[derive(Debug)]
pub(crate) struct DirLock {
    _file: File,
}

/// Takes the exclusive lock, polling so a blocked caller does not tie up a runtime thread.
pub(crate) async fn lock(path: &Path, timeout: Duration) -> Result<DirLock, EmbeddedError> {
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(path)
        .map_err(io_err("open lock file", path))?;
    let started = Instant::now();
    let mut announced = false;
    loop {
        match file.try_lock() {
            Ok(()) => return Ok(DirLock { _file: file }),
            Err(TryLockError::WouldBlock) => {
                if !announced {
                    tracing::info!(lock = %path.display(), "another process is starting or stopping the embedded cluster; waiting");
                    announced = true;
                }
                if started.elapsed() >= timeout {
                    return Err(EmbeddedError::LockTimeout {
                        path: path.to_path_buf(),
                        secs: timeout.as_secs(),
                    });
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(TryLockError::Error(e)) => return Err(io_err("lock", path)(e)),
        }
    }
}

/// A random password: 24 bytes from `/dev/urandom`, hex encoded (URL-safe as is).
pub(crate) fn generate_password() -> Result<String, EmbeddedError> {
    let source = Path::new("/dev/urandom");
    let mut bytes = [0_u8; 24];
    File::open(source)
        .and_then(|mut f| f.read_exact(&mut bytes))
        .map_err(io_err("read random bytes from", source))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// Writes `secret` to a fresh mode-0600 file, owned by `owner` when given (root only).
pub(crate) fn write_secret(
    path: &Path,
    secret: &str,
    owner: Option<&ClusterUser>,
) -> Result<(), EmbeddedError> {
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != ErrorKind::NotFound => return Err(io_err("replace", path)(e)),
        _ => {}
    }
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(io_err("create", path))?;
    if let Some(owner) = owner {
        owner.chown(path)?;
    }
    file.write_all(format!("{secret}\n").as_bytes())
        .and_then(|()| file.sync_all())
        .map_err(io_err("write", path))
}

/// Reads the password file; `Ok(None)` if it does not exist.
pub(crate) fn read_password(path: &Path) -> Result<Option<String>, EmbeddedError> {
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(Some(text.trim().to_owned()).filter(|p| !p.is_empty())),
        Err(e) if e.kind() == ErrorKind::NotFound => Ok(None),
        Err(e) => Err(io_err("read password file", path)(e)),
    }
}

/// Removes a file, ignoring that it is already gone (best effort, logs other errors).
pub(crate) fn remove_quietly(path: PathBuf) {
    if let Err(e) = std::fs::remove_file(&path)
        && e.kind() != ErrorKind::NotFound
    {
        tracing::warn!(path = %path.display(), error = %e, "could not remove file");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn password_is_random_hex_and_private() -> Result<(), EmbeddedError> {
        let a = generate_password()?;
        let b = generate_password()?;
        assert_eq!(a.len(), 48);
        assert!(a.chars().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(a, b);
        let path = std::env::temp_dir().join(format!("ct-pw-test-{}", uuid::Uuid::now_v7()));
        write_secret(&path, &a, None)?;
        write_secret(&path, &b, None)?;
        let mode = std::fs::metadata(&path).map(|m| m.permissions().mode() & 0o777);
        let read = read_password(&path);
        remove_quietly(path.clone());
        assert_eq!(mode.ok(), Some(0o600));
        assert_eq!(read?, Some(b));
        assert_eq!(read_password(&path)?, None);
        Ok(())
    }

    #[tokio::test]
    async fn lock_is_exclusive_and_times_out() -> Result<(), EmbeddedError> {
        let path = std::env::temp_dir().join(format!("ct-lock-test-{}", uuid::Uuid::now_v7()));
        let held = lock(&path, Duration::from_secs(1)).await?;
        let second = lock(&path, Duration::from_millis(300)).await;
        assert!(matches!(second, Err(EmbeddedError::LockTimeout { .. })));
        drop(held);
        let third = lock(&path, Duration::from_millis(300)).await;
        assert!(third.is_ok());
        remove_quietly(path);
        Ok(())
    }
}
