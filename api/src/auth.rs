//! Who is calling and what they may do. A request carries at most one API key
//! (`Authorization: Bearer ct_…`); the key's role decides which operations run and
//! which unpublished records (draft verdicts, suggested links) the caller sees.
//! [`policy`] holds the one table of rules, [`keys`] verifies keys.

pub mod keys;
pub mod policy;
pub mod secret;

use uuid::Uuid;

pub use keys::KeyStore;

/// A caller's standing, lowest first: each role may do everything the ones below it may.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub enum Role {
    /// No key: reads published data (when anonymous reading is on).
    #[default]
    Anonymous,
    /// Reads what anonymous callers read, under the key's own rate limit.
    Reader,
    /// Writes, and sees drafts and machine suggestions.
    Editor,
    /// Also manages keys and removes records for good.
    Admin,
}

impl Role {
    pub fn name(self) -> &'static str {
        match self {
            Self::Anonymous => "ANONYMOUS",
            Self::Reader => "READER",
            Self::Editor => "EDITOR",
            Self::Admin => "ADMIN",
        }
    }
}

impl From<entity::ApiRole> for Role {
    fn from(role: entity::ApiRole) -> Self {
        match role {
            entity::ApiRole::Reader => Self::Reader,
            entity::ApiRole::Editor => Self::Editor,
            entity::ApiRole::Admin => Self::Admin,
        }
    }
}

/// The key a request was made with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub key_id: Uuid,
    pub key_name: String,
    pub prefix: String,
}

/// The caller of one request, placed in the GraphQL request data.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Viewer {
    pub role: Role,
    pub key: Option<Caller>,
}

impl Viewer {
    pub fn anonymous() -> Self {
        Self::default()
    }

    /// A caller trusted with everything: in-process use (tests, command line tools).
    pub fn trusted() -> Self {
        Self {
            role: Role::Admin,
            key: None,
        }
    }

    /// Whether the caller sees records that are not published: draft and in-review
    /// verdicts, suggested and dismissed links, revisions.
    pub fn sees_unpublished(&self) -> bool {
        self.role >= Role::Editor
    }
}
