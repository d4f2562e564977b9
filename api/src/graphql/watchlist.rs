//! Watchlists (a key's own) and webhooks (ADMIN's) over GraphQL.

use std::sync::Arc;

use async_graphql::connection::{Connection, Edge};
use async_graphql::{Context, Enum, ID, InputObject, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};

use crate::config::Live;
use crate::error::ApiError;
use crate::graphql::claim::Claim;
use crate::graphql::event::{Event, EventType};
use crate::graphql::loader::in_order;
use crate::graphql::pagination::{self, Conn, TotalCount};
use crate::graphql::scalars::{uuid, uuids};
use crate::graphql::speaker::Speaker;
use crate::graphql::topic::Topic;
use crate::graphql::{db, viewer};
use crate::service::{event, watchlist, webhook as hooks};
use entity::{watchlist as watchlist_row, webhook, webhook_delivery};

pub struct Watchlist(pub watchlist_row::Model);

/// A key's saved list of speakers, claims and topics: `watchlistEvent` and webhooks
/// naming it deliver the events concerning any of them. Only the key that made it sees
/// it.
#[Object]
impl Watchlist {
    /// Stable identifier (UUID v7); pass it to `watchlistEvent` and `addToWatchlist`.
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// Its name, unique among the key's watchlists.
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// The speakers followed (deleted ones left out).
    async fn speakers(&self, ctx: &Context<'_>) -> Result<Vec<Speaker>> {
        Ok(
            in_order::<entity::speaker::Entity>(ctx, &self.0.speaker_ids)
                .await?
                .into_iter()
                .map(Speaker)
                .collect(),
        )
    }
    /// The claims followed (deleted ones left out).
    async fn claims(&self, ctx: &Context<'_>) -> Result<Vec<Claim>> {
        Ok(in_order::<entity::claim::Entity>(ctx, &self.0.claim_ids)
            .await?
            .into_iter()
            .map(Claim)
            .collect())
    }
    /// The topics followed (deleted ones left out).
    async fn topics(&self, ctx: &Context<'_>) -> Result<Vec<Topic>> {
        Ok(in_order::<entity::topic::Entity>(ctx, &self.0.topic_ids)
            .await?
            .into_iter()
            .map(Topic)
            .collect())
    }
    /// When the watchlist was made.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    /// When its lists last changed.
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
}

/// A new watchlist: a name, and what it follows (each list at most 1,000 ids of live
/// records; an unknown id is NOT_FOUND, naming it).
#[derive(InputObject, Debug)]
pub struct CreateWatchlistInput {
    /// 1 to 200 characters, unique among the key's watchlists (CONFLICT otherwise).
    pub name: String,
    /// Speakers to follow; none when absent.
    #[graphql(default)]
    pub speaker_ids: Vec<ID>,
    /// Claims to follow; none when absent.
    #[graphql(default)]
    pub claim_ids: Vec<ID>,
    /// Topics to follow; none when absent.
    #[graphql(default)]
    pub topic_ids: Vec<ID>,
}

/// Ids to add to or take off one of the key's watchlists.
#[derive(InputObject, Debug)]
pub struct WatchlistItemsInput {
    /// The watchlist (one of the caller key's; another's is NOT_FOUND).
    pub watchlist_id: ID,
    /// Speakers to add or take off; none when absent.
    #[graphql(default)]
    pub speaker_ids: Vec<ID>,
    /// Claims to add or take off; none when absent.
    #[graphql(default)]
    pub claim_ids: Vec<ID>,
    /// Topics to add or take off; none when absent.
    #[graphql(default)]
    pub topic_ids: Vec<ID>,
}

impl WatchlistItemsInput {
    /// The watchlist named and the ids, parsed (the field at fault naming an error).
    fn read(&self) -> crate::error::ApiResult<(uuid::Uuid, watchlist::Items)> {
        Ok((
            uuid("input.watchlistId", &self.watchlist_id)?,
            items(&self.speaker_ids, &self.claim_ids, &self.topic_ids)?,
        ))
    }
}

fn items(
    speaker_ids: &[ID],
    claim_ids: &[ID],
    topic_ids: &[ID],
) -> crate::error::ApiResult<watchlist::Items> {
    Ok(watchlist::Items {
        speaker_ids: uuids("input.speakerIds", speaker_ids)?,
        claim_ids: uuids("input.claimIds", claim_ids)?,
        topic_ids: uuids("input.topicIds", topic_ids)?,
    })
}

/// A watchlist, as a mutation left it.
#[derive(SimpleObject)]
pub struct WatchlistPayload {
    /// The watchlist with the change made.
    pub watchlist: Watchlist,
}

/// The id of what was deleted.
#[derive(SimpleObject)]
pub struct DeletedPayload {
    /// The id of the record deleted, as given.
    pub id: ID,
}

/// Where a webhook delivery stands.
#[derive(Enum, Copy, Clone, Debug, Eq, PartialEq)]
#[graphql(remote = "entity::DeliveryStatus")]
pub enum DeliveryStatus {
    /// Not delivered yet: another attempt is due at `nextAttemptAt`.
    Pending,
    /// The receiver answered 2xx.
    Delivered,
    /// Given up after 24 hours without a 2xx answer; `redeliver` tries again.
    Failed,
}

pub struct Webhook(pub webhook::Model);

/// A URL that receives events as signed POSTs (the Standard Webhooks scheme), retried
/// until it answers 2xx, for 24 hours.
#[Object]
impl Webhook {
    /// Stable identifier (UUID v7); pass it to `deliveries` and `deleteWebhook`.
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// Where events are POSTed.
    async fn url(&self) -> &str {
        &self.0.url
    }
    /// The types of event delivered.
    async fn event_types(&self) -> Vec<EventType> {
        self.0
            .event_types
            .iter()
            .filter_map(|t| event::EventType::parse(t))
            .map(EventType::from)
            .collect()
    }
    /// The watchlist whose records' events alone are delivered; null: all events of the
    /// types.
    async fn watchlist_id(&self) -> Option<ID> {
        self.0.watchlist_id.map(|id| ID(id.to_string()))
    }
    /// Whether events are delivered to it.
    async fn active(&self) -> bool {
        self.0.active
    }
    /// When it was registered.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}

pub struct WebhookDelivery(pub webhook_delivery::Model);

/// One event sent (or to be sent) to one webhook, with how its attempts went.
#[Object]
impl WebhookDelivery {
    /// Stable identifier (UUID v7); pass it to `redeliver`.
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// The webhook it goes to.
    async fn webhook_id(&self) -> ID {
        ID(self.0.webhook_id.to_string())
    }
    /// The event delivered (null once the log no longer keeps it).
    async fn event(&self, ctx: &Context<'_>) -> Result<Option<Event>> {
        let found = event::by_ids(db(ctx), &[self.0.event_id]).await?;
        Ok(found.into_iter().next().map(|e| Event(Arc::new(e))))
    }
    /// PENDING, DELIVERED or FAILED.
    async fn status(&self) -> DeliveryStatus {
        self.0.status.into()
    }
    /// Attempts made so far.
    async fn attempts(&self) -> i32 {
        self.0.attempts
    }
    /// When the next attempt is due (PENDING).
    async fn next_attempt_at(&self) -> DateTime<Utc> {
        self.0.next_attempt_at
    }
    /// The HTTP status the last attempt got, if any came back.
    async fn last_status(&self) -> Option<i32> {
        self.0.last_status
    }
    /// Why the last attempt failed.
    async fn last_error(&self) -> Option<&str> {
        self.0.last_error.as_deref()
    }
    /// When the event was queued for this webhook.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    /// When the receiver answered 2xx; null until then.
    async fn delivered_at(&self) -> Option<DateTime<Utc>> {
        self.0.delivered_at
    }
}

/// A webhook to register: where, which events, whose.
#[derive(InputObject, Debug)]
pub struct CreateWebhookInput {
    /// An `http` or `https` URL, at most 2,000 characters, without credentials; not a
    /// loopback, private or link-local address unless the server allows them
    /// (`--webhook-allow-private`).
    pub url: String,
    /// The types of event to deliver (at least one).
    pub event_types: Vec<EventType>,
    /// Deliver only events concerning this watchlist's records (one of the caller
    /// key's).
    pub watchlist_id: Option<ID>,
}

/// A webhook made, with its signing secret: shown this once, keep it.
#[derive(SimpleObject)]
pub struct CreateWebhookPayload {
    /// The webhook registered.
    pub webhook: Webhook,
    /// `whsec_…`: the key of the `webhook-signature` HMAC, base64 after the prefix.
    pub secret: String,
}

/// A delivery due again.
#[derive(SimpleObject)]
pub struct RedeliverPayload {
    /// The delivery, due now.
    pub delivery: WebhookDelivery,
}

#[derive(Default)]
pub struct WatchlistQuery;

#[Object]
impl WatchlistQuery {
    /// The caller key's watchlists, by name (at most 100). Needs a key (READER and up).
    async fn watchlists(&self, ctx: &Context<'_>) -> Result<Vec<Watchlist>> {
        Ok(watchlist::list(db(ctx), viewer(ctx))
            .await?
            .into_iter()
            .map(Watchlist)
            .collect())
    }
    /// One of the caller key's watchlists; null when the key has none with this id.
    async fn watchlist(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The watchlist's id (one of the caller key's).")] id: ID,
    ) -> Result<Option<Watchlist>> {
        match watchlist::find(db(ctx), viewer(ctx), uuid("id", &id)?).await {
            Ok(list) => Ok(Some(Watchlist(list))),
            Err(ApiError::NotFound { .. }) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }
    /// Every webhook, newest first (at most 1,000). Needs ADMIN.
    async fn webhooks(&self, ctx: &Context<'_>) -> Result<Vec<Webhook>> {
        Ok(hooks::list(db(ctx))
            .await?
            .into_iter()
            .map(Webhook)
            .collect())
    }
    /// A webhook's deliveries, newest first. Needs ADMIN.
    async fn deliveries(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The webhook whose deliveries to list.")] webhook_id: ID,
        #[graphql(desc = "Only deliveries in this status.")] status: Option<DeliveryStatus>,
        #[graphql(desc = "Page size: 0 to 100, default 20.")] first: Option<i32>,
        #[graphql(desc = "Cursor to continue after (`pageInfo.endCursor`).")] after: Option<String>,
    ) -> Result<Conn<WebhookDelivery>> {
        let limit = pagination::forward_limit(first)?;
        let webhook_id = uuid("webhookId", &webhook_id)?;
        let after_id = after
            .as_deref()
            .map(|c| {
                c.parse()
                    .map_err(|_| ApiError::bad_input("after", "is not a cursor of this list"))
            })
            .transpose()?;
        let mut rows = hooks::deliveries(
            db(ctx),
            webhook_id,
            status.map(Into::into),
            after_id,
            limit as u64 + 1,
        )
        .await?;
        let more = rows.len() > limit;
        rows.truncate(limit);
        let total =
            TotalCount::from_statement(hooks::count_deliveries(webhook_id, status.map(Into::into)));
        let mut connection = Connection::with_additional_fields(after_id.is_some(), more, total);
        connection.edges.extend(
            rows.into_iter()
                .map(|d| Edge::new(d.id.to_string(), WebhookDelivery(d))),
        );
        Ok(connection)
    }
}

#[derive(Default)]
pub struct WatchlistMutation;

#[Object]
impl WatchlistMutation {
    /// Makes a watchlist for the caller's key (at most 100 a key). Needs a key (READER
    /// and up).
    async fn create_watchlist(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The watchlist's name and what it follows.")] input: CreateWatchlistInput,
    ) -> Result<WatchlistPayload> {
        let items = items(&input.speaker_ids, &input.claim_ids, &input.topic_ids)?;
        let list = watchlist::create(db(ctx), viewer(ctx), &input.name, items).await?;
        Ok(WatchlistPayload {
            watchlist: Watchlist(list),
        })
    }
    /// Adds speakers, claims or topics to one of the caller key's watchlists.
    async fn add_to_watchlist(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The watchlist and the ids to add.")] input: WatchlistItemsInput,
    ) -> Result<WatchlistPayload> {
        let (id, items) = input.read()?;
        let list = watchlist::add(db(ctx), viewer(ctx), id, items).await?;
        Ok(WatchlistPayload {
            watchlist: Watchlist(list),
        })
    }
    /// Takes speakers, claims or topics off one of the caller key's watchlists.
    async fn remove_from_watchlist(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The watchlist and the ids to take off.")] input: WatchlistItemsInput,
    ) -> Result<WatchlistPayload> {
        let (id, items) = input.read()?;
        let list = watchlist::remove(db(ctx), viewer(ctx), id, items).await?;
        Ok(WatchlistPayload {
            watchlist: Watchlist(list),
        })
    }
    /// Deletes one of the caller key's watchlists (CONFLICT while a webhook uses it).
    async fn delete_watchlist(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The watchlist's id (one of the caller key's).")] id: ID,
    ) -> Result<DeletedPayload> {
        watchlist::delete(db(ctx), viewer(ctx), uuid("id", &id)?).await?;
        Ok(DeletedPayload { id })
    }
    /// Registers a webhook. Needs ADMIN.
    async fn create_webhook(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The URL, the event types and, optionally, a watchlist.")]
        input: CreateWebhookInput,
    ) -> Result<CreateWebhookPayload> {
        let targets = ctx
            .data_opt::<Live>()
            .map(Live::webhook_targets)
            .unwrap_or_default();
        let new = hooks::NewWebhook {
            url: input.url,
            event_types: input.event_types.into_iter().map(Into::into).collect(),
            watchlist_id: input
                .watchlist_id
                .map(|id| uuid("input.watchlistId", &id))
                .transpose()?,
        };
        let (webhook, secret) = hooks::create(db(ctx), viewer(ctx), new, &targets).await?;
        Ok(CreateWebhookPayload {
            webhook: Webhook(webhook),
            secret,
        })
    }
    /// Deletes a webhook and its deliveries. Needs ADMIN.
    async fn delete_webhook(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The webhook's id.")] id: ID,
    ) -> Result<DeletedPayload> {
        hooks::delete(db(ctx), uuid("id", &id)?).await?;
        Ok(DeletedPayload { id })
    }
    /// Sends a delivery again, now, and retries it for another 24 hours (a receiver
    /// that is back; a FAILED delivery). Needs ADMIN.
    async fn redeliver(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The delivery's id (from `deliveries`).")] delivery_id: ID,
    ) -> Result<RedeliverPayload> {
        let delivery = hooks::redeliver(db(ctx), uuid("deliveryId", &delivery_id)?).await?;
        Ok(RedeliverPayload {
            delivery: WebhookDelivery(delivery),
        })
    }
}
