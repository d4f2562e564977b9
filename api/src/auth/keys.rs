//! Verifying the key of each request without a database round trip: the active keys
//! live in memory (there are few), reloaded by the server's maintenance timer every
//! few seconds so keys revoked by another process stop working soon. An unknown prefix
//! is looked up by itself (a key made a moment ago by the command line), once until
//! the next reload: a prefix found nowhere is remembered as unknown, so the same
//! unknown key presented again costs no lookup; the HTTP layer also charges lookups to
//! the caller's address, so guessing cannot flood the database. Use times are gathered in memory and written by the same timer, in one
//! statement, not once per request.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DatabaseConnection};
use tracing::Instrument;
use uuid::Uuid;

use super::secret::PresentedKey;
use super::{Caller, Role, Viewer};
use crate::error::{ApiError, ApiResult};
use crate::service;
use entity::api_key;

/// How stale the in-memory keys may get: the longest a key revoked by another
/// process keeps working here.
pub const REFRESH: Duration = Duration::from_secs(5);

/// Where key changes are announced (by a trigger on `api_key`).
pub const CHANGES: &str = "claimtrack_keys";

/// Past this age the keys are reloaded on the request path: no timer is running (an
/// in-process schema, a command-line tool), or it has fallen far behind.
const STALE: Duration = Duration::from_secs(15);

#[derive(Debug, Clone)]
struct Entry {
    id: Uuid,
    name: String,
    role: Role,
    hash: Vec<u8>,
}

struct Snapshot {
    by_prefix: HashMap<String, Entry>,
    /// Prefixes looked up since the last reload and found nowhere.
    unknown: HashSet<String>,
    loaded_at: Option<Instant>,
}

/// Most prefixes remembered as unknown between two reloads (a reload forgets them).
const MAX_UNKNOWN: usize = 10_000;

struct Inner {
    db: DatabaseConnection,
    snapshot: RwLock<Snapshot>,
    reloading: tokio::sync::Mutex<()>,
    last_used: Mutex<HashMap<Uuid, DateTime<Utc>>>,
}

/// The verifier shared by every worker; cheap to clone.
#[derive(Clone)]
pub struct KeyStore(Arc<Inner>);

/// Why a presented key was refused. `Malformed` and `Unknown` read the same to the
/// caller; `Unavailable` says the key could not be looked up (the database is lost),
/// not that it is bad.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    Malformed,
    Unknown,
    Unavailable,
}

impl KeyStore {
    pub fn new(db: DatabaseConnection) -> Self {
        Self(Arc::new(Inner {
            db,
            snapshot: RwLock::new(Snapshot {
                by_prefix: HashMap::new(),
                unknown: HashSet::new(),
                loaded_at: None,
            }),
            reloading: tokio::sync::Mutex::new(()),
            last_used: Mutex::new(HashMap::new()),
        }))
    }

    /// The viewer behind an `Authorization` bearer token.
    pub async fn authenticate(&self, token: &str) -> Result<Viewer, Refused> {
        let presented = PresentedKey::parse(token).map_err(|_| Refused::Malformed)?;
        match self.verify_in_memory(&presented).await {
            Some(verdict) => verdict,
            None => self.verify_fetched(&presented).await,
        }
    }

    /// Verifies a key against the keys in memory; None when its prefix is not among
    /// them (only [`Self::verify_fetched`] can tell, at the cost of a lookup).
    pub async fn verify_in_memory(
        &self,
        presented: &PresentedKey,
    ) -> Option<Result<Viewer, Refused>> {
        if self.age().is_none_or(|a| a > STALE) {
            self.reload_if_older(STALE).await;
        }
        let entry = self.lookup(&presented.prefix)?;
        Some(self.admit_presented(presented, entry))
    }

    /// Verifies a key whose prefix is not in memory by looking the prefix up.
    pub async fn verify_fetched(&self, presented: &PresentedKey) -> Result<Viewer, Refused> {
        let entry = self.fetch(&presented.prefix).await?;
        self.admit_presented(presented, entry)
    }

    /// Reloads the keys whenever the database announces a change to them (a key made,
    /// revoked or purged by any instance or command), until the task is aborted; the
    /// maintenance timer's reloads remain the backstop. Listens through `pool`'s server.
    pub fn follow(&self, pool: sea_orm::sqlx::PgPool) -> tokio::task::JoinHandle<()> {
        let keys = self.clone();
        tokio::spawn(
            async move {
                loop {
                    let listening = async {
                        let mut listener =
                            sea_orm::sqlx::postgres::PgListener::connect_with(&pool).await?;
                        listener.listen(CHANGES).await?;
                        Ok::<_, sea_orm::sqlx::Error>(listener)
                    };
                    let mut listener = match listening.await {
                        Ok(listener) => listener,
                        Err(error) => {
                            tracing::debug!(%error, "cannot listen for key changes; retrying");
                            tokio::time::sleep(Duration::from_secs(1)).await;
                            continue;
                        }
                    };
                    // What changed while nobody listened.
                    keys.reload().await;
                    loop {
                        match listener.try_recv().await {
                            Ok(Some(_)) => {
                                while listener.next_buffered().is_some() {}
                                keys.reload().await;
                            }
                            // Reconnected (and listening again): changes may have been missed.
                            Ok(None) => keys.reload().await,
                            Err(error) => {
                                tracing::debug!(%error, "lost the key change notifications");
                                break;
                            }
                        }
                    }
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
            }
            .instrument(tracing::Span::current()),
        )
    }

    /// Reloads the keys (the maintenance timer calls this every [`REFRESH`]).
    pub async fn reload(&self) {
        self.reload_if_older(Duration::ZERO).await;
    }

    fn admit_presented(&self, presented: &PresentedKey, entry: Entry) -> Result<Viewer, Refused> {
        if !presented.matches(&entry.hash) {
            return Err(Refused::Unknown);
        }
        if let Ok(mut used) = self.0.last_used.lock() {
            used.insert(entry.id, Utc::now());
        }
        Ok(Viewer {
            role: entry.role,
            key: Some(Caller {
                key_id: entry.id,
                key_name: entry.name,
                prefix: presented.prefix.clone(),
            }),
        })
    }

    /// Looks one prefix up in the database and keeps the key when it is active, or
    /// remembers the prefix as unknown until the next reload.
    async fn fetch(&self, prefix: &str) -> Result<Entry, Refused> {
        let known_unknown = self
            .0
            .snapshot
            .read()
            .is_ok_and(|s| s.unknown.contains(prefix));
        if known_unknown {
            return Err(Refused::Unknown);
        }
        match service::api_key::active_by_prefix(&self.0.db, prefix).await {
            Ok(Some(key)) => {
                self.admit(&key);
                Ok(entry(&key))
            }
            Ok(None) => {
                if let Ok(mut snapshot) = self.0.snapshot.write()
                    && snapshot.unknown.len() < MAX_UNKNOWN
                {
                    snapshot.unknown.insert(prefix.to_owned());
                }
                Err(Refused::Unknown)
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot look an API key up");
                Err(Refused::Unavailable)
            }
        }
    }

    /// Makes a key usable here at once.
    pub fn admit(&self, key: &api_key::Model) {
        if key.revoked_at.is_some() {
            return self.forget(&key.prefix);
        }
        if let Ok(mut snapshot) = self.0.snapshot.write() {
            snapshot.unknown.remove(&key.prefix);
            snapshot.by_prefix.insert(key.prefix.clone(), entry(key));
        }
    }

    /// Stops accepting a key here at once (after a revocation).
    pub fn forget(&self, prefix: &str) {
        if let Ok(mut snapshot) = self.0.snapshot.write() {
            snapshot.by_prefix.remove(prefix);
        }
    }

    /// Writes the gathered use times. Returns how many keys were touched.
    pub async fn flush_last_used(&self) -> ApiResult<usize> {
        self.flush_last_used_through(&self.0.db).await
    }

    /// Writes the use times gathered so far through `db`. Times that cannot be written
    /// are kept (a later use of the same key wins) for the next flush.
    pub async fn flush_last_used_through<C: ConnectionTrait>(&self, db: &C) -> ApiResult<usize> {
        let used: Vec<(Uuid, DateTime<Utc>)> = match self.0.last_used.lock() {
            Ok(mut used) => used.drain().collect(),
            Err(_) => return Err(ApiError::Internal("key use times poisoned".into())),
        };
        if let Err(e) = service::api_key::touch(db, &used).await {
            if let Ok(mut kept) = self.0.last_used.lock() {
                for (id, at) in used {
                    let latest = kept.entry(id).or_insert(at);
                    *latest = (*latest).max(at);
                }
            }
            return Err(e);
        }
        Ok(used.len())
    }

    fn age(&self) -> Option<Duration> {
        self.0
            .snapshot
            .read()
            .ok()
            .and_then(|s| s.loaded_at)
            .map(|at| at.elapsed())
    }

    fn lookup(&self, prefix: &str) -> Option<Entry> {
        self.0
            .snapshot
            .read()
            .ok()
            .and_then(|s| s.by_prefix.get(prefix).cloned())
    }

    /// Reloads the keys unless someone else did within `max_age`. A failed reload
    /// keeps the keys known so far (a database hiccup must not lock everyone out, nor
    /// let anyone new in).
    async fn reload_if_older(&self, max_age: Duration) {
        let _guard = self.0.reloading.lock().await;
        if !max_age.is_zero() && self.age().is_some_and(|a| a <= max_age) {
            return;
        }
        match service::api_key::active(&self.0.db).await {
            Ok(keys) => {
                if let Ok(mut snapshot) = self.0.snapshot.write() {
                    snapshot.by_prefix =
                        keys.iter().map(|k| (k.prefix.clone(), entry(k))).collect();
                    snapshot.unknown.clear();
                    snapshot.loaded_at = Some(Instant::now());
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot reload API keys; keeping the known ones");
                if let Ok(mut snapshot) = self.0.snapshot.write() {
                    snapshot.loaded_at = Some(Instant::now());
                }
            }
        }
    }
}

fn entry(key: &api_key::Model) -> Entry {
    Entry {
        id: key.id,
        name: key.name.clone(),
        role: key.role.into(),
        hash: key.secret_hash.clone(),
    }
}
