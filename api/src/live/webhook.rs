//! The webhook workers every instance runs.
//!
//! **Dispatch** turns events into deliveries: one instance at a time (a transaction
//! holding an advisory lock) reads the log after the `webhooks` cursor, writes a
//! `webhook_delivery` row for each webhook the event matches (its types, its
//! watchlist) and moves the cursor, in one transaction: each event gets its deliveries
//! exactly once, whichever instance gets there.
//!
//! **Send** claims due deliveries (`FOR UPDATE SKIP LOCKED`, so instances never take
//! the same one) and moves each one's `next_attempt_at` past a lease before sending:
//! a sender that dies mid-delivery leaves the row due again when the lease runs out,
//! for any instance. A 2xx answer marks it DELIVERED; anything else (a status, a
//! timeout, a refused connection) schedules the next attempt with exponential backoff
//! and jitter, until its retry window (24 hours) runs out: then it is FAILED, until
//! `redeliver`.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DbBackend, EntityTrait, FromQueryResult,
    QueryFilter, Statement, TransactionTrait,
};
use tokio::sync::broadcast::error::TryRecvError;
use uuid::Uuid;

use crate::error::{ApiError, ApiResult};
use crate::live::Hub;
use crate::service::event::{self, EventFilter, EventType, Following, Position};
use crate::service::webhook::{self as hooks, is_internal};
use entity::{watchlist, webhook};

/// How the workers run.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Where deliveries may go.
    pub targets: hooks::Targets,
    /// How long a receiver has to answer.
    pub timeout: Duration,
    /// The first retry's delay; each next one is four times longer, up to two hours.
    pub first_retry: Duration,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            targets: hooks::Targets::default(),
            timeout: Duration::from_secs(10),
            first_retry: Duration::from_secs(2),
        }
    }
}

impl Settings {
    /// How long a claimed delivery is left to its sender before it is due again.
    fn lease(&self) -> Duration {
        self.timeout * 2 + Duration::from_secs(5)
    }

    /// The delay before attempt `attempts + 1`, with ±25 % jitter so receivers coming
    /// back are not hit by every retry at once.
    fn backoff(&self, attempts: i32) -> Duration {
        let exponent = u32::try_from(attempts.saturating_sub(1))
            .unwrap_or(0)
            .min(10);
        let base = self
            .first_retry
            .saturating_mul(4u32.saturating_pow(exponent))
            .min(Duration::from_secs(2 * 3600));
        let mut byte = [0u8; 1];
        let jitter = match getrandom::fill(&mut byte) {
            Ok(()) => f64::from(byte[0]) / 255.0 * 0.5 - 0.25,
            Err(_) => 0.0,
        };
        base.mul_f64(1.0 + jitter)
    }
}

/// The advisory lock only one dispatcher holds at a time.
const DISPATCH_LOCK: &str = "claimtrack.webhooks.dispatch";

/// Events dispatched per transaction.
const DISPATCH_PAGE: u64 = 1000;

/// Deliveries one sender claims at a time.
const SEND_BATCH: i64 = 16;

/// Runs dispatch and send until the process ends, woken by the hub's events and a
/// timer.
pub async fn run(db: DatabaseConnection, hub: Hub, settings: Settings) {
    let client = match client(&settings) {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(error = %e, "cannot make the webhook HTTP client; no webhooks will be sent");
            return;
        }
    };
    let mut woken = hub.wake_on_events();
    loop {
        if let Err(e) = dispatch(&db).await {
            tracing::warn!(error = %e, "cannot dispatch webhook deliveries");
        }
        match send_due(&db, &client, &settings).await {
            Ok(n) if n > 0 => continue,
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "cannot send webhook deliveries"),
        }
        // Woken by the next event (or the timer, for retries falling due); the events
        // that came with it are one round's work.
        let _ = tokio::time::timeout(Duration::from_millis(500), woken.recv()).await;
        while !matches!(
            woken.try_recv(),
            Err(TryRecvError::Empty | TryRecvError::Closed)
        ) {}
    }
}

fn client(settings: &Settings) -> reqwest::Result<reqwest::Client> {
    reqwest::Client::builder()
        .timeout(settings.timeout)
        .connect_timeout(settings.timeout)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("ClaimTrack-Webhooks/", env!("CARGO_PKG_VERSION")))
        .dns_resolver(Arc::new(Guarded {
            allow_private: settings.targets.allow_private,
        }))
        .build()
}

/// Resolves names for deliveries, keeping only the addresses a webhook may reach: a
/// name that resolved to a public address when the webhook was made cannot be turned
/// to an internal one later.
struct Guarded {
    allow_private: bool,
}

impl Resolve for Guarded {
    fn resolve(&self, name: Name) -> Resolving {
        let allow_private = self.allow_private;
        Box::pin(async move {
            let found: Vec<SocketAddr> = tokio::net::lookup_host((name.as_str(), 0))
                .await?
                .filter(|a| allow_private || !is_internal(a.ip()))
                .collect();
            if found.is_empty() {
                return Err("the name resolves to no address a webhook may reach".into());
            }
            let addrs: Addrs = Box::new(found.into_iter());
            Ok(addrs)
        })
    }
}

#[derive(Debug, FromQueryResult)]
struct CursorRow {
    pos: i64,
}

/// One dispatch round: the events after the cursor, as deliveries. Returns how many
/// deliveries it wrote; 0 also when another instance holds the lock.
pub async fn dispatch(db: &DatabaseConnection) -> ApiResult<usize> {
    let txn = db.begin().await?;
    if !crate::service::jobs::try_lock(&txn, DISPATCH_LOCK).await? {
        return Ok(0);
    }
    let cursor = CursorRow::find_by_statement(Statement::from_string(
        DbBackend::Postgres,
        "SELECT pos FROM event_cursor WHERE name = 'webhooks' FOR UPDATE",
    ))
    .one(&txn)
    .await?
    .map_or(Position::default(), |c| Position(c.pos));
    let hooks = webhook::Entity::find()
        .filter(webhook::Column::Active.eq(true))
        .all(&txn)
        .await?;
    let (new_cursor, written) = if hooks.is_empty() {
        // Nobody to deliver to: the cursor moves to the end of the log unread.
        (event::head(&txn).await?, 0)
    } else {
        // Only the watchlists the webhooks name.
        let named: Vec<Uuid> = hooks.iter().filter_map(|h| h.watchlist_id).collect();
        let lists = watchlist::Entity::find()
            .filter(watchlist::Column::Id.is_in(named))
            .all(&txn)
            .await?;
        let targets: Vec<(Uuid, EventFilter)> =
            hooks.iter().map(|h| (h.id, filter_of(h, &lists))).collect();
        let events = event::page(&txn, cursor, DISPATCH_PAGE, &EventFilter::default()).await?;
        let Some(last) = events.last().map(|e| e.position) else {
            return Ok(0);
        };
        let mut ids = Vec::new();
        let mut webhooks = Vec::new();
        let mut events_of = Vec::new();
        let mut retry_until = Vec::new();
        for event in &events {
            for (hook, filter) in &targets {
                if filter.matches(event) {
                    ids.push(Uuid::now_v7());
                    webhooks.push(*hook);
                    events_of.push(event.id);
                    retry_until.push(event.at.max(Utc::now()) + hooks::RETRY_WINDOW);
                }
            }
        }
        let written = ids.len();
        if written > 0 {
            txn.execute_raw(Statement::from_sql_and_values(
                DbBackend::Postgres,
                "INSERT INTO webhook_delivery (id, webhook_id, event_id, retry_until) \
                 SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::timestamptz[]) \
                 ON CONFLICT (webhook_id, event_id) DO NOTHING",
                [
                    ids.into(),
                    webhooks.into(),
                    events_of.into(),
                    retry_until.into(),
                ],
            ))
            .await?;
        }
        (last, written)
    };
    if new_cursor > cursor {
        txn.execute_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "UPDATE event_cursor SET pos = $1 WHERE name = 'webhooks'",
            [new_cursor.0.into()],
        ))
        .await?;
    }
    txn.commit().await?;
    Ok(written)
}

/// The events a webhook takes: its types, and its watchlist's records when it names
/// one (a watchlist gone matches nothing).
fn filter_of(hook: &webhook::Model, lists: &[watchlist::Model]) -> EventFilter {
    let following = hook.watchlist_id.map(|id| {
        lists
            .iter()
            .find(|l| l.id == id)
            .map(crate::service::watchlist::following)
            .unwrap_or_else(Following::default)
    });
    EventFilter {
        types: Some(
            hook.event_types
                .iter()
                .filter_map(|t| EventType::parse(t))
                .collect(),
        ),
        following,
        ..EventFilter::default()
    }
}

#[derive(Debug, FromQueryResult)]
struct Due {
    id: Uuid,
    attempts: i32,
    retry_until: chrono::DateTime<Utc>,
    url: String,
    secret: String,
    event_id: Uuid,
}

/// Claims and sends the deliveries due now; returns how many it sent.
pub async fn send_due(
    db: &DatabaseConnection,
    client: &reqwest::Client,
    settings: &Settings,
) -> ApiResult<usize> {
    let lease = i64::try_from(settings.lease().as_millis()).unwrap_or(i64::MAX);
    let due = Due::find_by_statement(Statement::from_sql_and_values(
        DbBackend::Postgres,
        "WITH due AS ( \
             SELECT d.id FROM webhook_delivery d \
             WHERE d.status = 'PENDING' AND d.next_attempt_at <= now() \
             ORDER BY d.next_attempt_at LIMIT $1 FOR UPDATE SKIP LOCKED) \
         UPDATE webhook_delivery d SET next_attempt_at = now() + $2 * interval '1 millisecond', \
             attempts = d.attempts + 1 \
         FROM due, webhook h WHERE d.id = due.id AND h.id = d.webhook_id \
         RETURNING d.id, d.attempts, d.retry_until, h.url, h.secret, d.event_id",
        [SEND_BATCH.into(), lease.into()],
    ))
    .all(db)
    .await?;
    let sent = due.len();
    let events = event_rows(db, due.iter().map(|d| d.event_id).collect()).await?;
    futures::future::join_all(due.into_iter().map(|delivery| {
        let event = events.iter().find(|e| e.id == delivery.event_id);
        send_one(db, client, settings, delivery, event)
    }))
    .await;
    Ok(sent)
}

async fn event_rows(db: &DatabaseConnection, ids: Vec<Uuid>) -> ApiResult<Vec<event::Event>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    event::by_ids(db, &ids).await
}

/// Sends one delivery and records how it went.
async fn send_one(
    db: &DatabaseConnection,
    client: &reqwest::Client,
    settings: &Settings,
    delivery: Due,
    event: Option<&event::Event>,
) {
    let outcome = match event {
        Some(event) => post(client, settings, &delivery, event).await,
        None => Err((None, "the event is no longer in the log".to_owned())),
    };
    let next = Utc::now()
        + chrono::Duration::from_std(settings.backoff(delivery.attempts))
            .unwrap_or(chrono::Duration::MAX);
    let (status, result) = match &outcome {
        Ok(code) => (Some(*code), "delivered"),
        Err((code, _)) if event.is_none() || next > delivery.retry_until => (*code, "failed"),
        Err((code, _)) => (*code, "retry"),
    };
    crate::metrics::metrics().webhook_delivery(result);
    let error = outcome.err().map(|(_, e)| e);
    let mut values: Vec<sea_orm::Value> = vec![
        delivery.id.into(),
        status.map(i32::from).into(),
        error.into(),
    ];
    let sql = match result {
        "delivered" => {
            "UPDATE webhook_delivery SET status = 'DELIVERED', delivered_at = now(), \
             last_status = $2, last_error = $3 WHERE id = $1"
        }
        "failed" => {
            "UPDATE webhook_delivery SET status = 'FAILED', last_status = $2, last_error = $3 \
             WHERE id = $1"
        }
        _ => {
            values.push(next.into());
            "UPDATE webhook_delivery SET next_attempt_at = $4, last_status = $2, last_error = $3 \
             WHERE id = $1"
        }
    };
    if let Err(e) = db
        .execute_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            sql,
            values,
        ))
        .await
    {
        // The lease runs out and the delivery is sent again: at least once.
        tracing::warn!(error = %e, delivery = %delivery.id, "cannot record a webhook delivery");
    }
}

/// POSTs the event, signed; `Ok(status)` on 2xx, else the status (if any) and why.
async fn post(
    client: &reqwest::Client,
    settings: &Settings,
    delivery: &Due,
    event: &event::Event,
) -> Result<u16, (Option<u16>, String)> {
    let url = hooks::check_url("url", &delivery.url, &settings.targets)
        .await
        .map_err(|e| (None, e.to_string()))?;
    let body = hooks::body(event);
    let id = event.id.to_string();
    let timestamp = Utc::now().timestamp();
    let signature = hooks::signature(&delivery.secret, &id, timestamp, &body)
        .map_err(|e: ApiError| (None, e.to_string()))?;
    let response = client
        .post(url)
        .header("content-type", "application/json")
        .header("webhook-id", &id)
        .header("webhook-timestamp", timestamp.to_string())
        .header("webhook-signature", signature)
        .body(body)
        .send()
        .await
        .map_err(|e| (None, describe(&e)))?;
    let status = response.status().as_u16();
    if response.status().is_success() {
        Ok(status)
    } else {
        Err((Some(status), format!("the receiver answered {status}")))
    }
}

/// A send error in a line, with its causes (reqwest's own message omits them).
fn describe(error: &reqwest::Error) -> String {
    let mut text = if error.is_timeout() {
        "no answer in time".to_owned()
    } else if error.is_connect() {
        "cannot connect".to_owned()
    } else {
        "cannot send".to_owned()
    };
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
