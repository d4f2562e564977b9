//! GraphQL over WebSocket at `/graphql/ws`: the graphql-transport-ws protocol (and the
//! older graphql-ws one, for clients that still speak it).
//!
//! The API key goes in `connection_init`'s payload, as `{"authorization": "Bearer
//! <key>"}` (or `{"apiKey": "<key>"}`); it is checked as a bearer token is, against
//! the same rate limits, and a bad key closes the connection (4403). Without one, the
//! connection is ANONYMOUS. Every operation on the socket then goes through the same
//! policy as over HTTP (size, depth, complexity, roles), and one connection holds at
//! most `--max-subscriptions-per-connection` subscriptions at once.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use actix_web::{HttpRequest, HttpResponse, web};
use async_graphql::{Data, ServerError};
use async_graphql_actix_web::GraphQLSubscription;

use super::{AppState, viewer_of};

/// A connection that sends nothing (not even a ping) for this long is closed.
const KEEPALIVE: Duration = Duration::from_secs(60);

/// How many subscriptions one connection holds, against its cap.
#[derive(Clone)]
pub struct Held {
    count: Arc<AtomicUsize>,
    cap: usize,
}

impl Held {
    /// One more subscription, if the cap allows; it counts until the guard drops.
    pub fn take(&self) -> Option<HeldGuard> {
        let before = self.count.fetch_add(1, Ordering::AcqRel);
        if before >= self.cap {
            self.count.fetch_sub(1, Ordering::AcqRel);
            return None;
        }
        Some(HeldGuard(self.count.clone()))
    }

    pub fn cap(&self) -> usize {
        self.cap
    }
}

/// A subscription counted against its connection's cap.
pub struct HeldGuard(Arc<AtomicUsize>);

impl Drop for HeldGuard {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

/// The key a `connection_init` payload presents, if any.
fn token(payload: &serde_json::Value) -> Result<Option<String>, String> {
    let Some(fields) = payload.as_object() else {
        return Ok(None);
    };
    let field = |name: &str| {
        fields
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    };
    if let Some(value) = field("authorization") {
        let bearer = value
            .as_str()
            .and_then(|v| v.split_once(' '))
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
            .map(|(_, token)| token.trim().to_owned());
        return match bearer {
            Some(token) => Ok(Some(token)),
            None => Err("use \"authorization\": \"Bearer <API key>\"".to_owned()),
        };
    }
    match field("apiKey") {
        Some(serde_json::Value::String(key)) => Ok(Some(key.trim().to_owned())),
        Some(_) => Err("\"apiKey\" must be a string".to_owned()),
        None => Ok(None),
    }
}

pub async fn graphql_ws(
    state: web::Data<AppState>,
    req: HttpRequest,
    payload: web::Payload,
) -> actix_web::Result<HttpResponse> {
    let ip = super::client_ip(&req);
    let cap = state.live.max_subscriptions_per_connection;
    let on_init = {
        let state = state.clone();
        move |payload: serde_json::Value| async move {
            let token = token(&payload).map_err(async_graphql::Error::new)?;
            let viewer = viewer_of(&state, token, ip).await.map_err(|refusal| {
                async_graphql::ErrorExtensions::extend_with(
                    async_graphql::Error::new(refusal.message),
                    |_, e| e.set("code", refusal.code),
                )
            })?;
            let mut data = Data::default();
            data.insert(viewer);
            data.insert(Held {
                count: Arc::default(),
                cap,
            });
            Ok(data)
        }
    };
    GraphQLSubscription::new(state.schema.clone())
        .on_connection_init(on_init)
        .keepalive_timeout(KEEPALIVE)
        .start(&req, payload)
}

/// The error a subscription gets when its connection holds as many as it may.
pub fn too_many(cap: usize) -> ServerError {
    crate::auth::policy::refusal(
        "BAD_USER_INPUT",
        format!("a connection holds at most {cap} subscriptions at once; stop one first"),
    )
}
