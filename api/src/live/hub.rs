//! One instance's reader of the event log, shared by all its subscriptions.
//!
//! The hub listens on `claimtrack_events` (a connection of its own) and, woken by a
//! notification or by its timer, reads the log after its cursor and broadcasts each
//! event in order. A notification only says "look": a lost one (a dropped connection,
//! a restart of the database) delays events until the next timer tick, never loses
//! them, since the log is the truth.
//!
//! A subscription ([`Hub::follow`]) subscribes to the broadcast first, then reads from
//! the table whatever lies between its starting place and the broadcast, and skips
//! what it has already passed: no gap, no duplicate, the log's order. One that falls
//! too far behind the broadcast (a slow client) catches up from the table the same way.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::Stream;
use sea_orm::DatabaseConnection;
use sqlx::postgres::PgListener;
use tokio::sync::broadcast;
use tokio::sync::broadcast::error::RecvError;

use crate::error::ApiResult;
use crate::service::event::{self, Event, EventFilter, Position};

/// The channel the log's trigger notifies.
pub const CHANNEL: &str = "claimtrack_events";

/// Events read from the table at a time.
const PAGE: u64 = 500;

/// How often the log is read with no notification.
const IDLE_POLL: Duration = Duration::from_secs(1);

/// How soon listening is tried again after the connection failed.
const RETRY: Duration = Duration::from_millis(200);

/// Events held for subscriptions that have not taken them yet; one that falls further
/// behind reads from the table.
const BACKLOG: usize = 4096;

#[derive(Clone)]
pub struct Hub {
    inner: Arc<Inner>,
}

struct Inner {
    db: DatabaseConnection,
    /// Where the hub LISTENs (the pool's own server unless told otherwise).
    listen: sqlx::PgPool,
    /// The broadcast and the place of its last event, changed together so that a new
    /// subscription knows exactly where its broadcast begins.
    state: Mutex<State>,
}

struct State {
    sender: broadcast::Sender<Arc<Event>>,
    cursor: Option<Position>,
}

impl std::fmt::Debug for Hub {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hub")
            .field("cursor", &self.cursor())
            .finish()
    }
}

impl Hub {
    pub fn new(db: DatabaseConnection) -> Self {
        let listen = db.get_postgres_connection_pool().clone();
        Self::listening_on(db, listen)
    }

    /// A hub reading the log through `db` and listening for its wake-ups through
    /// `listen` (a direct connection, past a pooler).
    pub fn listening_on(db: DatabaseConnection, listen: sqlx::PgPool) -> Self {
        let (sender, _) = broadcast::channel(BACKLOG);
        Self {
            inner: Arc::new(Inner {
                db,
                listen,
                state: Mutex::new(State {
                    sender,
                    cursor: None,
                }),
            }),
        }
    }

    /// Follows the log until the process ends: listens, reads, broadcasts. Spawned
    /// once per instance.
    pub async fn run(self) {
        let mut listener = None;
        loop {
            if listener.is_none() {
                listener = self.listen().await;
            }
            if self.cursor().is_none() {
                match event::head(&self.inner.db).await {
                    Ok(head) => self.lock().cursor = Some(head),
                    Err(e) => {
                        tracing::warn!(error = %e, "cannot read the end of the event log");
                        tokio::time::sleep(IDLE_POLL).await;
                        continue;
                    }
                }
            }
            if let Err(e) = self.read().await {
                tracing::warn!(error = %e, "cannot read the event log");
            }
            match listener.as_mut() {
                Some(l) => match tokio::time::timeout(IDLE_POLL, l.try_recv()).await {
                    // The event is committed and numbered when its notification comes:
                    // it is read at once, with any that came with it.
                    Ok(Ok(Some(_))) => while l.next_buffered().is_some() {},
                    // The connection was lost and is being made again: what was
                    // notified meanwhile is read from the log now.
                    Ok(Ok(None)) => {}
                    Ok(Err(e)) => {
                        tracing::warn!(error = %e, "lost the event log's notifications");
                        listener = None;
                        tokio::time::sleep(RETRY).await;
                    }
                    Err(_) => {}
                },
                None => tokio::time::sleep(IDLE_POLL).await,
            }
        }
    }

    async fn listen(&self) -> Option<PgListener> {
        let mut listener = match PgListener::connect_with(&self.inner.listen).await {
            Ok(l) => l,
            Err(e) => {
                tracing::warn!(error = %e, "cannot listen for events; reading the log on a timer");
                return None;
            }
        };
        match listener.listen(CHANNEL).await {
            Ok(()) => Some(listener),
            Err(e) => {
                tracing::warn!(error = %e, "cannot listen for events; reading the log on a timer");
                None
            }
        }
    }

    /// Reads and broadcasts everything after the cursor.
    async fn read(&self) -> ApiResult<()> {
        loop {
            let Some(cursor) = self.cursor() else {
                return Ok(());
            };
            let events = event::page(&self.inner.db, cursor, PAGE, &EventFilter::default()).await?;
            let full = events.len() as u64 == PAGE;
            crate::metrics::metrics().events_read(events.len());
            for event in events {
                let mut state = self.lock();
                state.cursor = Some(event.position);
                // No receiver is not an error: nobody is subscribed.
                let _ = state.sender.send(Arc::new(event));
            }
            if !full {
                return Ok(());
            }
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.inner
            .state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn cursor(&self) -> Option<Position> {
        self.lock().cursor
    }

    /// Where the broadcast stands: every event up to here has been handed out.
    pub fn position(&self) -> Option<Position> {
        self.cursor()
    }

    /// A receiver woken by every event the hub reads (lagging is fine: it only wakes).
    pub fn wake_on_events(&self) -> broadcast::Receiver<Arc<Event>> {
        self.lock().sender.subscribe()
    }

    /// The events matching `filter` after `after` (from now when `None`), read from
    /// the table up to the broadcast and then live, in log order, each once.
    pub fn follow(
        &self,
        after: Option<Position>,
        filter: EventFilter,
    ) -> impl Stream<Item = ApiResult<Arc<Event>>> + Send + 'static {
        let hub = self.clone();
        async_stream::stream! {
            let _held = crate::metrics::metrics().subscription();
            let (mut receiver, broadcast_from) = {
                let state = hub.lock();
                (state.sender.subscribe(), state.cursor)
            };
            let mut last = match (after, broadcast_from) {
                (Some(after), _) => after,
                (None, Some(from)) => from,
                (None, None) => match event::head(&hub.inner.db).await {
                    Ok(head) => head,
                    Err(e) => {
                        yield Err(e);
                        return;
                    }
                },
            };
            let mut catch_up = after.is_some() || broadcast_from.is_none();
            loop {
                if catch_up {
                    // Up to where the broadcast took over: the rest comes from it.
                    loop {
                        let events = match event::page(&hub.inner.db, last, PAGE, &EventFilter::default()).await {
                            Ok(events) => events,
                            Err(e) => {
                                yield Err(e);
                                return;
                            }
                        };
                        let full = events.len() as u64 == PAGE;
                        for event in events {
                            last = event.position;
                            if filter.matches(&event) {
                                yield Ok(Arc::new(event));
                            }
                        }
                        if !full {
                            break;
                        }
                    }
                    catch_up = false;
                }
                match receiver.recv().await {
                    Ok(event) => {
                        if event.position > last {
                            last = event.position;
                            if filter.matches(&event) {
                                yield Ok(event);
                            }
                        }
                    }
                    Err(RecvError::Lagged(_)) => catch_up = true,
                    Err(RecvError::Closed) => return,
                }
            }
        }
    }
}
