//! Webhooks: URLs that receive the event log's events, signed by the Standard
//! Webhooks scheme (<https://www.standardwebhooks.com>): headers `webhook-id` (the
//! event's id, the same on every retry, for the receiver to drop duplicates),
//! `webhook-timestamp` (Unix seconds) and `webhook-signature` (`v1,` and the base64
//! HMAC-SHA256 of `id.timestamp.body` under the secret's key). The secret is
//! `whsec_` and the base64 of 32 random bytes, shown once.
//!
//! Targets: `http` and `https` only, and by default no loopback, private, link-local
//! or other internal address (checked when the webhook is made and again, on the
//! addresses the name resolves to, at every delivery); `--webhook-allow-private`
//! lifts that for on-premise receivers.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, Duration, Utc};
use hmac::{Hmac, Mac};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter,
    QueryOrder,
};
use sha2::Sha256;
use uuid::Uuid;

use crate::auth::Viewer;
use crate::error::{ApiError, ApiResult};
use crate::service::event::{Event, EventType};
use entity::{DeliveryStatus, webhook, webhook_delivery};

/// How long a delivery is retried before it is marked FAILED.
pub const RETRY_WINDOW: Duration = Duration::hours(24);

/// Most webhooks a server holds.
pub const MAX_WEBHOOKS: u64 = 1000;

/// Whether an address is one a webhook may not reach unless private targets are
/// allowed: loopback, private ranges, link-local, carrier-grade NAT, unspecified,
/// broadcast, multicast, documentation, and IPv6's equivalents (IPv4-mapped ones
/// judged as IPv4).
pub fn is_internal(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => internal_v4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => internal_v4(v4),
            None => internal_v6(v6),
        },
    }
}

fn internal_v4(ip: Ipv4Addr) -> bool {
    let [a, b, ..] = ip.octets();
    ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_unspecified()
        || ip.is_broadcast()
        || ip.is_multicast()
        || ip.is_documentation()
        || a == 0
        || (a == 100 && (64..128).contains(&b))
        || (a == 198 && (b == 18 || b == 19))
        || a >= 240
}

fn internal_v6(ip: Ipv6Addr) -> bool {
    let first = ip.segments()[0];
    ip.is_loopback()
        || ip.is_unspecified()
        || ip.is_multicast()
        || (first & 0xfe00) == 0xfc00
        || (first & 0xffc0) == 0xfe80
        || first == 0x2001 && ip.segments()[1] == 0x0db8
}

/// Where webhooks may deliver.
#[derive(Debug, Clone, Default)]
pub struct Targets {
    /// Loopback, private and link-local addresses too.
    pub allow_private: bool,
    /// When not empty, the only hosts a webhook may name (checked before any name is
    /// resolved).
    pub hosts: Vec<String>,
}

/// Checks a webhook URL: absolute `http(s)` with a host, no credentials, one of the
/// allowed hosts when some are set, and (unless private targets are allowed) a host
/// that is not an internal address and does not resolve to one.
pub async fn check_url(field: &str, raw: &str, targets: &Targets) -> ApiResult<url::Url> {
    let bad = |message: &str| ApiError::bad_input(field, message);
    if raw.len() > 2000 {
        return Err(bad("at most 2000 characters"));
    }
    let url = url::Url::parse(raw).map_err(|e| bad(&format!("is not a URL ({e})")))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(bad("must be an http or https URL"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(bad("must not carry a user name or password"));
    }
    let Some(host) = url.host() else {
        return Err(bad("must name a host"));
    };
    if !targets.hosts.is_empty()
        && !targets
            .hosts
            .iter()
            .any(|allowed| allowed.eq_ignore_ascii_case(&host.to_string()))
    {
        return Err(bad(&format!(
            "must name one of the hosts this server delivers to ({})",
            targets.hosts.join(", ")
        )));
    }
    if targets.allow_private {
        return Ok(url);
    }
    let internal = "is an internal address (loopback, private or link-local); the server \
                    allows those only with --webhook-allow-private";
    match host {
        url::Host::Ipv4(ip) if is_internal(IpAddr::V4(ip)) => return Err(bad(internal)),
        url::Host::Ipv6(ip) if is_internal(IpAddr::V6(ip)) => return Err(bad(internal)),
        url::Host::Domain(name) => {
            let port = url.port_or_known_default().unwrap_or(443);
            // A name that does not resolve now may later: only what it resolves to is
            // judged, here and again at each delivery.
            if let Ok(addrs) = tokio::net::lookup_host((name, port)).await {
                for addr in addrs {
                    if is_internal(addr.ip()) {
                        return Err(bad(internal));
                    }
                }
            }
        }
        _ => {}
    }
    Ok(url)
}

/// A new signing secret: `whsec_` and the base64 of 32 random bytes.
pub fn new_secret() -> ApiResult<String> {
    let mut key = [0u8; 32];
    getrandom::fill(&mut key)
        .map_err(|e| ApiError::Internal(format!("no randomness for a webhook secret: {e}")))?;
    Ok(format!("whsec_{}", STANDARD.encode(key)))
}

/// The `webhook-signature` header of a message: `v1,` and the base64 HMAC-SHA256 of
/// `{id}.{timestamp}.{body}` keyed with the secret's bytes.
pub fn signature(secret: &str, id: &str, timestamp: i64, body: &[u8]) -> ApiResult<String> {
    let key = secret.strip_prefix("whsec_").unwrap_or(secret);
    let key = STANDARD
        .decode(key)
        .map_err(|_| ApiError::Internal("a webhook secret is not base64".into()))?;
    let mut mac = Hmac::<Sha256>::new_from_slice(&key)
        .map_err(|_| ApiError::Internal("a webhook secret has no key".into()))?;
    mac.update(id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    Ok(format!(
        "v1,{}",
        STANDARD.encode(mac.finalize().into_bytes())
    ))
}

/// The body a webhook receives for an event.
pub fn body(event: &Event) -> Vec<u8> {
    let id = |v: Option<Uuid>| v.map(|v| v.to_string());
    serde_json::to_vec(&serde_json::json!({
        "type": event.kind.as_str(),
        "timestamp": event.at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
        "data": {
            "eventId": event.id.to_string(),
            "speakerId": id(event.speaker_id),
            "claimIds": event.claim_ids,
            "topicIds": event.topic_ids,
            "statementId": id(event.statement_id),
            "verdictId": id(event.verdict_id),
            "linkId": id(event.link_id),
            "change": event.data,
        }
    }))
    .unwrap_or_default()
}

/// A new webhook.
#[derive(Debug, Clone)]
pub struct NewWebhook {
    pub url: String,
    pub event_types: Vec<EventType>,
    pub watchlist_id: Option<Uuid>,
}

/// Registers a webhook; returns it with its secret (shown this once).
pub async fn create<C: ConnectionTrait + sea_orm::TransactionTrait>(
    db: &C,
    viewer: &Viewer,
    input: NewWebhook,
    targets: &Targets,
) -> ApiResult<(webhook::Model, String)> {
    let url = check_url("input.url", &input.url, targets).await?;
    if input.event_types.is_empty() {
        return Err(ApiError::bad_input(
            "input.eventTypes",
            "name at least one event type",
        ));
    }
    if let Some(list) = input.watchlist_id {
        // The admin's own watchlist: another key's interests are not theirs to use.
        crate::service::watchlist::find(db, viewer, list)
            .await
            .map_err(|_| ApiError::unknown_reference("watchlist", "input.watchlistId"))?;
    }
    let txn = db.begin().await?;
    // One creation at a time, so that concurrent ones cannot all pass the cap.
    crate::service::jobs::lock(&txn, "claimtrack.webhooks").await?;
    let count = sea_orm::PaginatorTrait::count(webhook::Entity::find(), &txn).await?;
    if count >= MAX_WEBHOOKS {
        return Err(ApiError::bad_input(
            "input",
            format!("the server holds at most {MAX_WEBHOOKS} webhooks"),
        ));
    }
    let mut types: Vec<String> = input
        .event_types
        .iter()
        .map(|t| t.as_str().to_owned())
        .collect();
    types.sort();
    types.dedup();
    let secret = new_secret()?;
    let model = webhook::ActiveModel {
        id: Set(Uuid::now_v7()),
        url: Set(url.to_string()),
        event_types: Set(types),
        watchlist_id: Set(input.watchlist_id),
        secret: Set(secret.clone()),
        created_by: Set(viewer.key.as_ref().map(|k| k.key_id)),
        active: Set(true),
        created_at: Set(Utc::now()),
    }
    .insert(&txn)
    .await?;
    sea_orm::TransactionSession::commit(txn).await?;
    Ok((model, secret))
}

/// Every webhook, newest first.
pub async fn list<C: ConnectionTrait>(db: &C) -> ApiResult<Vec<webhook::Model>> {
    Ok(webhook::Entity::find()
        .order_by_desc(webhook::Column::Id)
        .all(db)
        .await?)
}

/// Deletes a webhook with its deliveries.
pub async fn delete<C: ConnectionTrait>(db: &C, id: Uuid) -> ApiResult<()> {
    let done = webhook::Entity::delete_by_id(id).exec(db).await?;
    if done.rows_affected == 0 {
        return Err(ApiError::unknown_reference("webhook", "id"));
    }
    Ok(())
}

/// A webhook's deliveries, newest first, optionally of one status, `limit` after the
/// delivery `after`.
pub async fn deliveries<C: ConnectionTrait>(
    db: &C,
    webhook_id: Uuid,
    status: Option<DeliveryStatus>,
    after: Option<Uuid>,
    limit: u64,
) -> ApiResult<Vec<webhook_delivery::Model>> {
    use sea_orm::QuerySelect;
    let mut select = webhook_delivery::Entity::find()
        .filter(webhook_delivery::Column::WebhookId.eq(webhook_id))
        .order_by_desc(webhook_delivery::Column::Id)
        .limit(limit);
    if let Some(status) = status {
        select = select.filter(webhook_delivery::Column::Status.eq(status));
    }
    if let Some(after) = after {
        select = select.filter(webhook_delivery::Column::Id.lt(after));
    }
    Ok(select.all(db).await?)
}

/// The statement counting a webhook's deliveries (of one status, when given).
pub fn count_deliveries(webhook_id: Uuid, status: Option<DeliveryStatus>) -> sea_orm::Statement {
    use sea_orm::QueryTrait;
    let mut select =
        webhook_delivery::Entity::find().filter(webhook_delivery::Column::WebhookId.eq(webhook_id));
    if let Some(status) = status {
        select = select.filter(webhook_delivery::Column::Status.eq(status));
    }
    let query = sea_orm::sea_query::Query::select()
        .expr(Expr::cust("COUNT(*)"))
        .from_subquery(select.into_query(), sea_orm::sea_query::Alias::new("d"))
        .to_owned();
    sea_orm::DbBackend::Postgres.build(&query)
}

/// Sends a delivery again (a receiver that is back, a FAILED one to retry): due now,
/// retried for another 24 hours.
pub async fn redeliver<C: ConnectionTrait>(db: &C, id: Uuid) -> ApiResult<webhook_delivery::Model> {
    let now: DateTime<Utc> = Utc::now();
    let updated = webhook_delivery::Entity::update_many()
        .col_expr(
            webhook_delivery::Column::Status,
            sea_orm::ActiveEnum::as_enum(&DeliveryStatus::Pending),
        )
        .col_expr(webhook_delivery::Column::NextAttemptAt, Expr::val(now))
        .col_expr(
            webhook_delivery::Column::RetryUntil,
            Expr::val(now + RETRY_WINDOW),
        )
        .filter(webhook_delivery::Column::Id.eq(id))
        .exec_with_returning(db)
        .await?;
    updated
        .into_iter()
        .next()
        .ok_or_else(|| ApiError::unknown_reference("webhook delivery", "id"))
}
