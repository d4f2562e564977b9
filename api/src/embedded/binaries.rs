//! Discovery of the PostgreSQL server programs (`initdb`, `pg_ctl`, `postgres`).
//!
//! Order: the explicitly configured bin dir, then the directories on `PATH`,
//! then the highest version under `/usr/lib/postgresql/*/bin` (Debian/Ubuntu layout).

use std::ffi::OsStr;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use super::EmbeddedError;

/// Programs that must all live in one directory (`pg_ctl` finds `postgres` next to itself).
const REQUIRED: [&str; 3] = ["initdb", "pg_ctl", "postgres"];

/// Where versioned server installs live on Debian/Ubuntu.
const VERSIONED_ROOT: &str = "/usr/lib/postgresql";

/// A directory holding all PostgreSQL server programs we need.
#[derive(Debug, Clone)]
pub(crate) struct Binaries {
    dir: PathBuf,
}

impl Binaries {
    /// Path of `initdb`.
    pub(crate) fn initdb(&self) -> PathBuf {
        self.dir.join("initdb")
    }

    /// Path of `pg_ctl`.
    pub(crate) fn pg_ctl(&self) -> PathBuf {
        self.dir.join("pg_ctl")
    }

    /// The directory itself.
    pub(crate) fn dir(&self) -> &Path {
        &self.dir
    }
}

/// Finds the server programs on this machine.
pub(crate) fn discover(bin_dir: Option<&Path>) -> Result<Binaries, EmbeddedError> {
    let path_var = std::env::var_os("PATH");
    let found = discover_in(bin_dir, path_var.as_deref(), Path::new(VERSIONED_ROOT))?;
    tracing::debug!(dir = %found.dir.display(), "using PostgreSQL server binaries");
    Ok(found)
}

/// [`discover`] with every input explicit, for tests.
fn discover_in(
    bin_dir: Option<&Path>,
    path_var: Option<&OsStr>,
    versioned_root: &Path,
) -> Result<Binaries, EmbeddedError> {
    if let Some(dir) = bin_dir {
        return match missing_in(dir) {
            None => Ok(Binaries {
                dir: dir.to_path_buf(),
            }),
            Some(missing) => Err(EmbeddedError::IncompleteBinDir {
                dir: dir.to_path_buf(),
                missing,
            }),
        };
    }
    if let Some(path_var) = path_var {
        for dir in std::env::split_paths(path_var) {
            if dir.is_absolute() && missing_in(&dir).is_none() {
                return Ok(Binaries { dir });
            }
        }
    }
    if let Some(dir) = highest_versioned(versioned_root) {
        return Ok(Binaries { dir });
    }
    Err(EmbeddedError::BinariesNotFound {
        searched: format!("PATH and {}/*/bin", versioned_root.display()),
    })
}

/// The `bin` dir of the highest numeric version below `root` that has all programs.
fn highest_versioned(root: &Path) -> Option<PathBuf> {
    let entries = std::fs::read_dir(root).ok()?;
    entries
        .filter_map(Result::ok)
        .filter_map(|entry| {
            let version = version_key(entry.file_name().to_str()?)?;
            let bin = entry.path().join("bin");
            missing_in(&bin).is_none().then_some((version, bin))
        })
        .max_by(|a, b| a.0.cmp(&b.0))
        .map(|(_, bin)| bin)
}

/// Parses a version directory name such as `15` or `9.6` into a sortable key.
fn version_key(name: &str) -> Option<Vec<u32>> {
    name.split('.').map(|part| part.parse().ok()).collect()
}

/// The first required program not present (as an executable file) in `dir`.
fn missing_in(dir: &Path) -> Option<&'static str> {
    REQUIRED
        .into_iter()
        .find(|program| !is_executable(&dir.join(program)))
}

fn is_executable(path: &Path) -> bool {
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io;

    fn scratch() -> io::Result<PathBuf> {
        let dir = std::env::temp_dir().join(format!("ct-bin-test-{}", uuid::Uuid::now_v7()));
        std::fs::create_dir_all(&dir)?;
        Ok(dir)
    }

    fn fake_bin(dir: &Path, programs: &[&str]) -> io::Result<()> {
        std::fs::create_dir_all(dir)?;
        for program in programs {
            let path = dir.join(program);
            std::fs::write(&path, "#!/bin/sh\n")?;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755))?;
        }
        Ok(())
    }

    #[test]
    fn discovery_order_and_versions() -> Result<(), Box<dyn std::error::Error>> {
        let root = scratch()?;
        let explicit = root.join("explicit");
        let on_path = root.join("on-path");
        let partial = root.join("partial");
        let versioned = root.join("lib");
        fake_bin(&explicit, &REQUIRED)?;
        fake_bin(&on_path, &REQUIRED)?;
        fake_bin(&partial, &["pg_ctl", "postgres"])?;
        fake_bin(&versioned.join("9.6/bin"), &REQUIRED)?;
        fake_bin(&versioned.join("15/bin"), &REQUIRED)?;
        fake_bin(&versioned.join("16/bin"), &["initdb"])?; // incomplete: skipped
        std::fs::create_dir_all(versioned.join("common"))?;
        let path_var = std::env::join_paths([&partial, &on_path])?;

        // 1. explicit dir wins, and an incomplete explicit dir is an error naming the program.
        let found = discover_in(Some(&explicit), Some(&path_var), &versioned)?;
        assert_eq!(found.dir(), explicit);
        let err = discover_in(Some(&partial), Some(&path_var), &versioned).err();
        assert!(matches!(
            err,
            Some(EmbeddedError::IncompleteBinDir {
                missing: "initdb",
                ..
            })
        ));
        // 2. then the first complete PATH entry (the partial one is skipped).
        let found = discover_in(None, Some(&path_var), &versioned)?;
        assert_eq!(found.dir(), on_path);
        // 3. then the highest complete version, compared numerically (15 > 9.6).
        let only_partial = std::env::join_paths([&partial])?;
        let found = discover_in(None, Some(&only_partial), &versioned)?;
        assert_eq!(found.dir(), versioned.join("15/bin"));
        assert_eq!(found.pg_ctl(), versioned.join("15/bin/pg_ctl"));
        // 4. nothing: the error tells the user what to install.
        let err = discover_in(None, None, &root.join("missing")).err();
        let message = err.map(|e| e.to_string()).unwrap_or_default();
        assert!(message.contains("apt-get install postgresql"), "{message}");
        assert!(message.contains("DATABASE_URL"), "{message}");

        std::fs::remove_dir_all(&root)?;
        Ok(())
    }

    #[test]
    fn version_keys() {
        assert_eq!(version_key("15"), Some(vec![15]));
        assert_eq!(version_key("9.6"), Some(vec![9, 6]));
        assert_eq!(version_key("common"), None);
        assert!(version_key("10") > version_key("9.6"));
    }
}
