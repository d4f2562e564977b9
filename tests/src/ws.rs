//! A graphql-transport-ws client over a real WebSocket (tokio-tungstenite), for the
//! subscription tests and the live bench.

use std::time::Duration;

use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

/// One connection, initialised (`connection_ack` received).
pub struct Client {
    socket: WebSocketStream<MaybeTlsStream<TcpStream>>,
    next_id: u64,
    /// Messages read while waiting for another operation's, in arrival order.
    held: std::collections::VecDeque<Value>,
}

/// What `connection_init` got instead of an ack.
#[derive(Debug)]
pub enum Refused {
    /// The server closed the socket, with this code and reason.
    Closed(u16, String),
    /// Something else came.
    Other(String),
}

impl Client {
    /// Connects to `url` (`ws://…/graphql/ws`) and sends `connection_init` with
    /// `payload`; waits for the ack.
    pub async fn connect(url: &str, payload: Value) -> Result<Self, Refused> {
        let mut request = url.into_client_request().expect("a WebSocket URL");
        request.headers_mut().insert(
            "sec-websocket-protocol",
            HeaderValue::from_static("graphql-transport-ws"),
        );
        let (socket, _) = tokio_tungstenite::connect_async(request)
            .await
            .map_err(|e| Refused::Other(e.to_string()))?;
        let mut client = Self {
            socket,
            next_id: 0,
            held: Default::default(),
        };
        client
            .send(json!({ "type": "connection_init", "payload": payload }))
            .await;
        match client.receive(Duration::from_secs(20)).await {
            Some(Ok(m)) if m["type"] == "connection_ack" => Ok(client),
            Some(Ok(m)) => Err(Refused::Other(m.to_string())),
            Some(Err(closed)) => Err(closed),
            None => Err(Refused::Other("no answer to connection_init".into())),
        }
    }

    /// Connects with an API key (`authorization: Bearer …`), or anonymously.
    pub async fn connect_as(url: &str, key: Option<&str>) -> Self {
        let payload = match key {
            Some(key) => json!({ "authorization": format!("Bearer {key}") }),
            None => json!({}),
        };
        Self::connect(url, payload)
            .await
            .expect("the connection is acknowledged")
    }

    async fn send(&mut self, message: Value) {
        self.socket
            .send(Message::text(message.to_string()))
            .await
            .expect("send on the WebSocket");
    }

    /// Starts an operation; returns its id.
    pub async fn subscribe(&mut self, query: &str, variables: Value) -> String {
        self.next_id += 1;
        let id = self.next_id.to_string();
        self.send(json!({
            "id": id,
            "type": "subscribe",
            "payload": { "query": query, "variables": variables },
        }))
        .await;
        id
    }

    /// Stops an operation.
    pub async fn complete(&mut self, id: &str) {
        self.send(json!({ "id": id, "type": "complete" })).await;
    }

    /// The next protocol message (pings answered on the way), or the close; `None`
    /// when nothing comes within `wait`.
    pub async fn receive(&mut self, wait: Duration) -> Option<Result<Value, Refused>> {
        if let Some(message) = self.held.pop_front() {
            return Some(Ok(message));
        }
        self.read(wait).await
    }

    /// The next message from the socket itself.
    async fn read(&mut self, wait: Duration) -> Option<Result<Value, Refused>> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let message = tokio::time::timeout_at(deadline, self.socket.next())
                .await
                .ok()?;
            match message {
                Some(Ok(Message::Text(text))) => {
                    let value: Value = serde_json::from_str(&text).expect("JSON message");
                    if value["type"] == "ping" {
                        self.send(json!({ "type": "pong" })).await;
                        continue;
                    }
                    return Some(Ok(value));
                }
                Some(Ok(Message::Close(frame))) => {
                    let (code, reason) = frame
                        .map(|f| (u16::from(f.code), f.reason.to_string()))
                        .unwrap_or((1005, String::new()));
                    return Some(Err(Refused::Closed(code, reason)));
                }
                Some(Ok(_)) => continue,
                Some(Err(e)) => return Some(Err(Refused::Other(e.to_string()))),
                None => return Some(Err(Refused::Closed(1006, "gone".into()))),
            }
        }
    }

    /// The next `next` message's payload for operation `id` (other operations'
    /// messages are kept for later); panics on another message for `id`, a close, or
    /// nothing within `wait`.
    pub async fn next_payload(&mut self, id: &str, wait: Duration) -> Value {
        let message = self.next_for(id, wait).await;
        assert_eq!(message["type"], "next", "unexpected message {message}");
        message["payload"].clone()
    }

    /// The next message for operation `id` (other operations' are kept for later);
    /// panics on a close or nothing within `wait`.
    pub async fn next_for(&mut self, id: &str, wait: Duration) -> Value {
        if let Some(at) = self.held.iter().position(|m| m["id"] == id) {
            return self.held.remove(at).expect("held");
        }
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            let message = self
                .read(left)
                .await
                .unwrap_or_else(|| panic!("nothing for operation {id} within {wait:?}"))
                .unwrap_or_else(|e| panic!("the connection ended: {e:?}"));
            if message["id"] == id {
                return message;
            }
            self.held.push_back(message);
        }
    }

    /// Every message that comes within `wait` (after which none more came).
    pub async fn drain(&mut self, wait: Duration) -> Vec<Value> {
        let mut out = Vec::new();
        while let Some(Ok(m)) = self.receive(wait).await {
            out.push(m);
        }
        out
    }

    pub async fn close(mut self) {
        self.socket.close(None).await.ok();
    }
}
