//! GraphQL over WebSocket at `/graphql/ws`: the graphql-transport-ws protocol (and the
//! older graphql-ws one, for clients that still speak it). Client messages are handed
//! to the protocol in the order they came (a `complete` never overtakes its
//! `subscribe`).
//!
//! The API key goes in `connection_init`'s payload, as `{"authorization": "Bearer
//! <key>"}` (or `{"apiKey": "<key>"}`); it is checked as a bearer token is, against
//! the same rate limits, and a bad key closes the connection. Without one, the
//! connection is ANONYMOUS. Every operation on the socket then goes through the same
//! policy as over HTTP (size, depth, complexity, roles), and one connection holds at
//! most `--max-subscriptions-per-connection` subscriptions at once.

use std::cell::Cell;
use std::rc::Rc;
use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use actix_ws::{AggregatedMessage, CloseCode, CloseReason};
use async_graphql::http::{WebSocket, WebSocketProtocols as Protocols, WsMessage};
use async_graphql::{Data, ServerError};
use futures::StreamExt;

use super::{AppState, viewer_of};

/// How often the server pings a connection; one silent for twice this is closed.
const PING_EVERY: Duration = Duration::from_secs(10);

/// How long a connection may take to send `connection_init`.
const INIT_WITHIN: Duration = Duration::from_secs(10);

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
    body: web::Payload,
) -> actix_web::Result<HttpResponse> {
    let protocol = req
        .headers()
        .get(header::SEC_WEBSOCKET_PROTOCOL)
        .and_then(|v| v.to_str().ok())
        .and_then(|offered| {
            offered
                .split(',')
                .find_map(|p| Protocols::from_str(p.trim()).ok())
        })
        .ok_or_else(|| {
            actix_web::error::ErrorBadRequest(
                "ask for the graphql-transport-ws subprotocol (Sec-WebSocket-Protocol)",
            )
        })?;
    let (mut response, session, messages) = actix_ws::handle(&req, body)?;
    response.headers_mut().insert(
        header::SEC_WEBSOCKET_PROTOCOL,
        header::HeaderValue::from_static(protocol.sec_websocket_protocol()),
    );
    let limit = state.limits.max_body_bytes;
    let messages = messages
        .max_frame_size(limit)
        .aggregate_continuations()
        .max_continuation_size(limit);
    let ip = super::client_ip(&req);
    actix_web::rt::spawn(serve(state.into_inner(), ip, protocol, session, messages));
    Ok(response)
}

/// One connection: client messages in, in the order they came, to the protocol; its
/// messages out. The server pings every [`PING_EVERY`] and closes a connection whose
/// peer has not answered for twice that, or that is not initialised within
/// [`INIT_WITHIN`].
async fn serve(
    state: Arc<AppState>,
    ip: std::net::IpAddr,
    protocol: Protocols,
    mut session: actix_ws::Session,
    mut messages: actix_ws::AggregatedMessageStream,
) {
    let heard = Rc::new(Cell::new(Instant::now()));
    let inbound = {
        let (heard, mut pong) = (heard.clone(), session.clone());
        async_stream::stream! {
            while let Some(message) = messages.recv().await {
                heard.set(Instant::now());
                match message {
                    Ok(AggregatedMessage::Text(text)) => yield text.as_bytes().to_vec(),
                    Ok(AggregatedMessage::Binary(bytes)) => yield bytes.to_vec(),
                    Ok(AggregatedMessage::Ping(bytes)) => {
                        if pong.pong(&bytes).await.is_err() {
                            return;
                        }
                    }
                    Ok(AggregatedMessage::Pong(_)) => {}
                    Ok(AggregatedMessage::Close(_)) | Err(_) => return,
                }
            }
        }
    };
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
    let mut protocol_stream = Box::pin(
        WebSocket::new(state.schema.clone(), Box::pin(inbound), protocol)
            .on_connection_init(on_init),
    );
    let opened = Instant::now();
    let mut acknowledged = false;
    let mut ticks = tokio::time::interval(PING_EVERY);
    ticks.tick().await;
    let close = loop {
        tokio::select! {
            out = protocol_stream.next() => match out {
                Some(WsMessage::Text(text)) => {
                    acknowledged |= text.contains("\"connection_ack\"");
                    if session.text(text).await.is_err() {
                        return;
                    }
                }
                Some(WsMessage::Close(code, reason)) => {
                    break Some(CloseReason { code: code.into(), description: Some(reason) });
                }
                None => break None,
            },
            _ = ticks.tick() => {
                if !acknowledged && opened.elapsed() >= INIT_WITHIN {
                    break Some(CloseReason {
                        code: CloseCode::Other(4408),
                        description: Some("Connection initialisation timeout".into()),
                    });
                }
                if heard.get().elapsed() >= PING_EVERY * 2 {
                    break Some(CloseReason {
                        code: CloseCode::Away,
                        description: Some("no answer to pings".into()),
                    });
                }
                if session.ping(b"").await.is_err() {
                    return;
                }
            }
        }
    };
    let _ = session.close(close).await;
}

/// The error a subscription gets when its connection holds as many as it may.
pub fn too_many(cap: usize) -> ServerError {
    crate::auth::policy::refusal(
        "BAD_USER_INPUT",
        format!("a connection holds at most {cap} subscriptions at once; stop one first"),
    )
}
