//! The OS account the PostgreSQL server runs as.
//!
//! `initdb` and `postgres` refuse to run as root, so a root process runs them as an
//! unprivileged account: the configured one, else the owner of an existing cluster,
//! else `postgres`, else `nobody`. A non-root process runs them as itself.
//! `std`'s `CommandExt::uid` also clears the supplementary groups (`setgroups(0)`) when
//! the parent is root, so the child holds only the account's primary group.

use std::path::Path;

use nix::unistd::{Gid, Uid, User};

use super::EmbeddedError;
use super::error::io_err;

/// The account PostgreSQL programs are run as.
#[derive(Debug, Clone)]
pub(crate) struct ClusterUser {
    /// Account name (for messages).
    pub(crate) name: String,
    /// Numeric user id.
    pub(crate) uid: u32,
    /// Primary group id (the only group the server process gets).
    pub(crate) gid: u32,
    /// Whether we are root and must switch to this account for every program we run.
    pub(crate) switch: bool,
}

impl ClusterUser {
    /// Chooses the account. `existing_owner` is the owner uid of an existing cluster dir.
    pub(crate) fn select(
        os_user: Option<&str>,
        existing_owner: Option<u32>,
    ) -> Result<Self, EmbeddedError> {
        let euid = Uid::effective();
        if !euid.is_root() {
            let name = lookup_uid(euid.as_raw())?.map_or_else(|| euid.to_string(), |u| u.name);
            if let Some(wanted) = os_user.filter(|wanted| *wanted != name) {
                tracing::warn!(
                    wanted,
                    running_as = %name,
                    "ignoring the embedded PostgreSQL OS user option: only root can switch users"
                );
            }
            return Ok(Self {
                name,
                uid: euid.as_raw(),
                gid: Gid::effective().as_raw(),
                switch: false,
            });
        }
        let (user, why) = if let Some(name) = os_user {
            let user = lookup_name(name)?.ok_or_else(|| EmbeddedError::User {
                name: name.to_owned(),
                reason: "no such account; create it (e.g. `useradd --system postgres`) \
                         or configure another OS user"
                    .into(),
            })?;
            (user, "configured")
        } else if let Some(user) = existing_owner
            .filter(|uid| *uid != 0)
            .map(lookup_uid)
            .transpose()?
            .flatten()
        {
            (user, "owner of the existing cluster")
        } else if let Some(user) = lookup_name("postgres")? {
            (user, "default")
        } else if let Some(user) = lookup_name("nobody")? {
            (user, "fallback, no `postgres` account")
        } else {
            return Err(EmbeddedError::User {
                name: "postgres".into(),
                reason: "running as root, but neither a `postgres` nor a `nobody` account \
                         exists; create one or configure an unprivileged OS user"
                    .into(),
            });
        };
        if user.uid.is_root() {
            return Err(EmbeddedError::User {
                name: user.name,
                reason: "PostgreSQL refuses to run as root; configure an unprivileged account"
                    .into(),
            });
        }
        tracing::info!(
            user = %user.name,
            uid = user.uid.as_raw(),
            reason = why,
            "running as root: the embedded PostgreSQL server runs as an unprivileged account"
        );
        Ok(Self {
            name: user.name,
            uid: user.uid.as_raw(),
            gid: user.gid.as_raw(),
            switch: true,
        })
    }

    /// A command for `program` that runs as this account, from `/` (the account may
    /// not be able to enter our working directory), with stdin closed.
    pub(crate) fn command(&self, program: &Path) -> tokio::process::Command {
        let mut command = tokio::process::Command::new(program);
        command
            .current_dir("/")
            .stdin(std::process::Stdio::null())
            .kill_on_drop(true);
        if self.switch {
            command.uid(self.uid).gid(self.gid);
        }
        command
    }

    /// Gives `path` (not recursively) to this account when we run as root.
    pub(crate) fn chown(&self, path: &Path) -> Result<(), EmbeddedError> {
        if !self.switch {
            return Ok(());
        }
        nix::unistd::chown(
            path,
            Some(Uid::from_raw(self.uid)),
            Some(Gid::from_raw(self.gid)),
        )
        .map_err(|errno| io_err("change the owner of", path)(errno.into()))
    }
}

fn lookup_name(name: &str) -> Result<Option<User>, EmbeddedError> {
    User::from_name(name).map_err(|errno| EmbeddedError::User {
        name: name.to_owned(),
        reason: format!("account lookup failed: {errno}"),
    })
}

fn lookup_uid(uid: u32) -> Result<Option<User>, EmbeddedError> {
    User::from_uid(Uid::from_raw(uid)).map_err(|errno| EmbeddedError::User {
        name: uid.to_string(),
        reason: format!("account lookup failed: {errno}"),
    })
}
