//! The HTTP surface: GraphQL over POST (JSON only) and GET (queries only), GraphiQL,
//! the SDL, health and readiness. `configure` is shared by the server and the tests.
//!
//! GraphQL is served as the GraphQL-over-HTTP specification says: the response's media
//! type is negotiated from `Accept` and decides its status (see [`media`]), and the
//! request's parameters are checked for their types (see [`params`]).
//!
//! Every GraphQL request is authenticated (an `Authorization: Bearer` key, or none),
//! rate limited, and checked for its transport rules before the schema sees it. The
//! rules close what a browser on another site could otherwise do: a form or
//! `text/plain` POST (415), a GET that mutates (405), a batch (off by default), and
//! reading responses (no CORS unless origins are configured).

use std::sync::Arc;
use std::time::Duration;

use actix_cors::Cors;
use actix_web::http::StatusCode;
use actix_web::http::header;
use actix_web::middleware::Condition;
use actix_web::{HttpRequest, HttpResponse, web};
use async_graphql::BatchRequest;
use async_graphql::parser::types::OperationType;
use sea_orm::{ConnectionTrait, DatabaseConnection};

use crate::admission::{Admission, TURNS_PER_CONNECTION};
use crate::auth::keys::Refused;
use crate::auth::secret::PresentedKey;
use crate::auth::{KeyStore, Viewer};
use crate::config::{Access, Limits};
use crate::db::Health;
use crate::db::reads::{self, Lsn, PrimaryLost, ReadAfter, Reads};
use crate::graphql::{Answer, AppSchema, SchemaOptions, build_schema_with, shape};
use crate::rate_limit::{Bucket, RateLimits, retry_after_seconds};

mod body;
mod graphiql;
pub mod media;
mod params;
pub mod ws;

pub use media::Media;

/// What every request handler shares.
#[derive(Clone)]
pub struct AppState {
    pub schema: AppSchema,
    pub db: DatabaseConnection,
    pub limits: Limits,
    pub access: Access,
    pub keys: KeyStore,
    pub rate_limits: Arc<RateLimits>,
    pub admission: Admission,
    /// Whether the database answers (see [`crate::db::health`]).
    pub health: Health,
    /// The event log's settings.
    pub live: crate::config::Live,
    /// This instance's reader of the event log (started by [`AppState::start_live`]).
    pub hub: crate::live::Hub,
}

impl AppState {
    /// The schema and the shared verifier and limiters over one pool.
    pub fn new(db: DatabaseConnection, limits: Limits, access: Access) -> Self {
        Self::with_live_settings(db, limits, access, crate::config::Live::default())
    }

    /// [`AppState::new`], with the event log's settings.
    pub fn with_live_settings(
        db: DatabaseConnection,
        limits: Limits,
        access: Access,
        live: crate::config::Live,
    ) -> Self {
        let reads = Reads::primary_only(db.clone());
        Self::with_reads(db, reads, limits, access, live)
    }

    /// [`AppState::with_live_settings`], with queries read where `reads` sends them.
    pub fn with_reads(
        db: DatabaseConnection,
        reads: Reads,
        limits: Limits,
        access: Access,
        live: crate::config::Live,
    ) -> Self {
        let keys = KeyStore::new(db.clone());
        let hub = crate::live::Hub::listening_on(db.clone(), reads.listen_pool());
        let options = SchemaOptions {
            limits: limits.clone(),
            introspection: !access.production,
            anonymous_read: !access.no_anonymous_read,
            live: live.clone(),
            hub: Some(hub.clone()),
            reads: Some(reads),
        };
        let concurrent = match limits.max_concurrent_requests {
            0 => {
                TURNS_PER_CONNECTION
                    * db.get_postgres_connection_pool()
                        .options()
                        .get_max_connections() as usize
            }
            n => n,
        };
        Self {
            schema: build_schema_with(db.clone(), keys.clone(), &options),
            rate_limits: Arc::new(RateLimits::new(&access)),
            admission: Admission::new(concurrent, Duration::from_millis(limits.queue_timeout_ms)),
            db,
            limits,
            access,
            keys,
            health: Health::default(),
            live,
            hub,
        }
    }

    /// Starts following the event log: the hub that feeds this instance's
    /// subscriptions, and the webhook workers. Returns their tasks, to abort on
    /// shutdown.
    pub fn start_live(&self) -> Vec<tokio::task::JoinHandle<()>> {
        use tracing::Instrument;
        // ERROR level, like the request span and the maintenance timer's, so that
        // whatever the log filter keeps of their work is attributed to them.
        vec![
            tokio::spawn(
                self.hub
                    .clone()
                    .run()
                    .instrument(tracing::error_span!("live", job = "events")),
            ),
            tokio::spawn(
                crate::live::webhook::run(self.db.clone(), self.hub.clone(), self.live.webhooks())
                    .instrument(tracing::error_span!("live", job = "webhooks")),
            ),
        ]
    }

    /// The same state, answering from what `health` knows of the database.
    pub fn with_health(self, health: Health) -> Self {
        Self { health, ..self }
    }

    /// What the service can answer now: everything while the primary answers; only
    /// reads while it is lost and a replica serves; nothing otherwise.
    pub(crate) fn reach(&self) -> Reach {
        match (self.health.is_up(), self.schema.reads().serving()) {
            (true, _) => Reach::All,
            (false, true) => Reach::ReadsOnly,
            (false, false) => Reach::Nothing,
        }
    }

    /// Housekeeping on a timer: reloads the keys, writes key use times, drops idle
    /// rate-limit buckets, analyzes tables whose planner statistics are missing or
    /// stale (see `service::statistics`).
    pub async fn maintain(&self) {
        self.keys.reload().await;
        if let Err(e) = self.keys.flush_last_used().await {
            tracing::warn!(error = %e, "cannot record API key use times");
        }
        self.rate_limits.forget_idle();
        if let Err(e) = crate::service::statistics::refresh(&self.db).await {
            tracing::warn!(error = %e, "cannot bring planner statistics up to date");
        }
        let keep = chrono::Duration::days(i64::from(self.live.event_retention_days));
        if let Err(e) = crate::service::event::expire(&self.db, keep).await {
            tracing::warn!(error = %e, "cannot expire old events");
        }
    }
}

/// See [`AppState::reach`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Reach {
    All,
    ReadsOnly,
    Nothing,
}

/// Mounts the routes on an actix app.
pub fn configure(state: AppState) -> impl FnOnce(&mut web::ServiceConfig) {
    move |cfg| {
        let cors = cors(&state.access.cors_origins);
        let production = state.access.production;
        // `/graphql` first: actix tries the routes in order, and the pages' patterns
        // are matched by regular expression, which every API request would pay for.
        cfg.app_data(web::Data::new(state)).service(
            web::resource("/graphql")
                .wrap(Condition::new(cors.is_some(), cors.unwrap_or_default()))
                .route(web::post().to(graphql_post))
                .route(web::get().to(graphql_get))
                .default_service(web::to(graphql_other_method)),
        );
        cfg.route("/graphql/ws", web::get().to(ws::graphql_ws))
            .route("/healthz", web::get().to(healthz))
            .route("/readyz", web::get().to(readyz))
            .route("/metrics", web::get().to(metrics))
            .route("/claimreview.json", web::get().to(claim_review_feed))
            .route("/speakers/{slug}", web::get().to(crate::pages::speaker))
            .route("/claims/{slug}", web::get().to(crate::pages::claim));
        // Production mode shows no schema to strangers: no GraphiQL, no SDL.
        if !production {
            cfg.configure(graphiql::configure)
                .route("/schema.graphql", web::get().to(sdl));
        }
    }
}

/// CORS for the configured origins only; none configured, no CORS headers at all.
fn cors(origins: &[String]) -> Option<Cors> {
    if origins.is_empty() {
        return None;
    }
    let cors = origins
        .iter()
        .fold(Cors::default(), |cors, origin| cors.allowed_origin(origin))
        .allowed_methods(["GET", "POST"])
        .allowed_headers([
            header::CONTENT_TYPE,
            header::AUTHORIZATION,
            header::HeaderName::from_static(reads::HEADER),
        ])
        .expose_headers([header::HeaderName::from_static(reads::HEADER)])
        .max_age(3600);
    Some(cors)
}

/// The bearer token of a request, if it carries an `Authorization` header; any other
/// scheme is refused.
fn bearer_token(req: &HttpRequest) -> Result<Option<String>, Refusal> {
    let token = match req.headers().get(header::AUTHORIZATION) {
        None => None,
        Some(value) => {
            let token = value
                .to_str()
                .ok()
                .and_then(|v| v.split_once(' '))
                .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
                .map(|(_, token)| token.trim().to_owned());
            match token {
                Some(token) => Some(token),
                None => return Err(unauthenticated("use `Authorization: Bearer <API key>`")),
            }
        }
    };
    Ok(token)
}

fn max_nesting(state: &AppState) -> usize {
    shape::max_nesting(state.limits.max_depth)
}

pub(crate) fn client_ip(req: &HttpRequest) -> std::net::IpAddr {
    req.peer_addr()
        .map_or(std::net::IpAddr::from([0, 0, 0, 0]), |a| a.ip())
}

/// The viewer of a GraphQL request, after its key and its rate limit are checked; a
/// refusal is the response to send.
async fn authenticate(state: &AppState, req: &HttpRequest) -> Result<Viewer, Refusal> {
    let token = bearer_token(req)?;
    viewer_of(state, token, client_ip(req)).await
}

/// The viewer presenting `token` (none: anonymous) from `ip`, after the key and the
/// rate limits are checked: an HTTP request's or a WebSocket connection's.
pub(crate) async fn viewer_of(
    state: &AppState,
    token: Option<String>,
    ip: std::net::IpAddr,
) -> Result<Viewer, Refusal> {
    let ip = Bucket::Ip(ip);
    let Some(token) = token else {
        limit(state, ip)?;
        return Ok(Viewer::anonymous());
    };
    let refused = || unauthenticated("the API key is not valid (unknown or revoked)");
    let Ok(presented) = PresentedKey::parse(&token) else {
        limit(state, ip)?;
        return Err(refused());
    };
    // A key not in memory costs a lookup: it draws on the address's bucket first, so
    // guessing keys is slow and cannot flood the database.
    let (verdict, charged) = match state.keys.verify_in_memory(&presented).await {
        Some(verdict) => (verdict, false),
        None => {
            limit(state, ip)?;
            (state.keys.verify_fetched(&presented).await, true)
        }
    };
    match verdict {
        Ok(viewer) => {
            if let Some(key) = &viewer.key {
                limit(state, Bucket::Key(key.key_id))?;
            }
            Ok(viewer)
        }
        // The key could not be looked up: say so, rather than call it bad.
        Err(Refused::Unavailable) => Err(unavailable_refusal()),
        Err(_) => {
            if !charged {
                limit(state, ip)?;
            }
            Err(refused())
        }
    }
}

/// Draws on the bucket of the request's address (for the routes besides `/graphql`).
pub(crate) fn limit_address(state: &AppState, req: &HttpRequest) -> Result<(), Refusal> {
    limit(state, Bucket::Ip(client_ip(req)))
}

fn limit(state: &AppState, bucket: Bucket) -> Result<(), Refusal> {
    state.rate_limits.check(bucket).map_err(|wait| Refusal {
        retry_after: Some(retry_after_seconds(wait)),
        ..Refusal::new(
            StatusCode::TOO_MANY_REQUESTS,
            "RATE_LIMITED",
            "too many requests; retry later",
        )
    })
}

fn unauthenticated(message: &str) -> Refusal {
    Refusal::new(StatusCode::UNAUTHORIZED, "UNAUTHENTICATED", message)
}

async fn graphql_post(
    state: web::Data<AppState>,
    req: HttpRequest,
    payload: web::Payload,
) -> HttpResponse {
    let media = match Media::negotiate(&req) {
        Ok(media) => media,
        Err(refusal) => return refusal.response(Media::Json),
    };
    let viewer = match authenticate(&state, &req).await {
        Ok(viewer) => viewer,
        Err(refusal) => return refusal.response(media),
    };
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok());
    let decoded = match body::read(&req, payload, state.limits.max_body_bytes).await {
        Ok(body) => decode_post(content_type, &body, state.limits.max_batch),
        Err(refusal) => Err(refusal),
    };
    let after = match read_after(&req) {
        Ok(after) => after,
        Err(refusal) => return refusal.response(media),
    };
    match decoded {
        Ok(BatchRequest::Single(request)) => execute(&state, request, viewer, after, media).await,
        Ok(BatchRequest::Batch(requests)) => {
            execute_batch(&state, requests, viewer, after, media).await
        }
        Err(refusal) => refusal.response(media),
    }
}

/// The WAL position the client's reads must see (its `ClaimTrack-LSN` header, from the
/// answer to its last write), if it sent one.
pub(crate) fn read_after(req: &HttpRequest) -> Result<Option<Lsn>, Refusal> {
    let Some(value) = req.headers().get(reads::HEADER) else {
        return Ok(None);
    };
    value
        .to_str()
        .ok()
        .and_then(|v| v.parse::<Lsn>().ok())
        .map(Some)
        .ok_or_else(|| {
            Refusal::bad(
                StatusCode::BAD_REQUEST,
                format!(
                    "ClaimTrack-LSN header: {}; send back the one a write answered with",
                    reads::BadLsn
                ),
            )
        })
}

/// The `ClaimTrack-LSN` header of an answer: the latest WAL position its writes
/// answered with, for the client to send back on its reads.
fn with_position(mut response: HttpResponse, answers: &[&async_graphql::Response]) -> HttpResponse {
    let latest = answers
        .iter()
        .filter_map(|r| match r.extensions.get("lsn") {
            Some(async_graphql::Value::String(lsn)) => lsn.parse::<Lsn>().ok(),
            _ => None,
        })
        .max();
    if let Some(lsn) = latest
        && let Ok(value) = header::HeaderValue::from_str(&lsn.to_string())
    {
        response
            .headers_mut()
            .insert(header::HeaderName::from_static(reads::HEADER), value);
    }
    response
}

async fn graphql_get(state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    let media = match Media::negotiate(&req) {
        Ok(media) => media,
        Err(refusal) => return refusal.response(Media::Json),
    };
    let viewer = match authenticate(&state, &req).await {
        Ok(viewer) => viewer,
        Err(refusal) => return refusal.response(media),
    };
    let after = match read_after(&req) {
        Ok(after) => after,
        Err(refusal) => return refusal.response(media),
    };
    match decode_get(req.query_string(), max_nesting(&state)) {
        Ok(request) => execute(&state, request, viewer, after, media).await,
        Err(refusal) => refusal.response(media),
    }
}

/// Any method but GET and POST: 405, naming the two.
async fn graphql_other_method(req: HttpRequest) -> HttpResponse {
    let media = Media::negotiate(&req).unwrap_or(Media::Json);
    let refusal = Refusal::bad(
        StatusCode::METHOD_NOT_ALLOWED,
        "/graphql answers GET (queries) and POST",
    );
    let mut response = refusal.response(media);
    response
        .headers_mut()
        .insert(header::ALLOW, header::HeaderValue::from_static("GET, POST"));
    response
}

/// A request refused before the schema sees it: by its transport rules, its key, its
/// rate limit, or for want of a turn to execute.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    /// Seconds to wait, for 429 and 503.
    pub retry_after: Option<u64>,
}

impl Refusal {
    fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            retry_after: None,
        }
    }

    /// A refusal of the request's shape: the client's mistake.
    fn bad(status: StatusCode, message: impl Into<String>) -> Self {
        Self::new(status, "BAD_USER_INPUT", message)
    }

    /// The refusal as a GraphQL request error in `media`, with its status (a request
    /// error has one in either type).
    fn response(&self, media: Media) -> HttpResponse {
        let mut response = media.build(self.status);
        if self.status == StatusCode::METHOD_NOT_ALLOWED {
            response.insert_header((header::ALLOW, "POST"));
        }
        if self.status == StatusCode::UNAUTHORIZED {
            response.insert_header((header::WWW_AUTHENTICATE, "Bearer"));
        }
        if let Some(seconds) = self.retry_after {
            response.insert_header((header::RETRY_AFTER, seconds.to_string()));
        }
        response.json(error_body(self.code, &self.message))
    }
}

/// Decodes a POST body: JSON in UTF-8 only (415 otherwise), one operation (a JSON
/// object, see [`params`]), or a batch (an array of them) when batching is on and the
/// batch is within `max_batch`.
pub fn decode_post(
    content_type: Option<&str>,
    body: &[u8],
    max_batch: usize,
) -> Result<BatchRequest, Refusal> {
    if !media::is_json_body(content_type) {
        return Err(Refusal::bad(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "POST /graphql accepts application/json bodies only",
        ));
    }
    let body: serde_json::Value = serde_json::from_slice(body).map_err(|e| {
        Refusal::bad(
            StatusCode::BAD_REQUEST,
            format!("the body is not a GraphQL request: {e}"),
        )
    })?;
    let requests = match body {
        serde_json::Value::Object(single) => {
            return params::from_json(single).map(BatchRequest::Single);
        }
        serde_json::Value::Array(requests) => requests,
        _ => {
            return Err(Refusal::bad(
                StatusCode::BAD_REQUEST,
                "the body is not a GraphQL request: a JSON object with a `query` is expected",
            ));
        }
    };
    if requests.is_empty() {
        return Err(Refusal::bad(
            StatusCode::BAD_REQUEST,
            "the body is an empty batch; send one operation",
        ));
    }
    let requests = requests
        .into_iter()
        .map(|request| match request {
            serde_json::Value::Object(request) => params::from_json(request),
            _ => Err(Refusal::bad(
                StatusCode::BAD_REQUEST,
                "each operation of a batch is a JSON object with a `query`",
            )),
        })
        .collect::<Result<Vec<_>, _>>()?;
    if max_batch == 0 {
        return Err(Refusal::bad(
            StatusCode::BAD_REQUEST,
            "batched requests are turned off; send one operation per request",
        ));
    }
    if requests.len() > max_batch {
        return Err(Refusal::bad(
            StatusCode::BAD_REQUEST,
            format!("a batch may hold at most {max_batch} operations"),
        ));
    }
    Ok(BatchRequest::Batch(requests))
}

/// Decodes a GET query string (see [`params`]); mutations change state, so never over
/// GET, where a link or an image could trigger one (405). A document nesting deeper
/// than `max_nesting` is not parsed here: the policy refuses it.
pub fn decode_get(
    query_string: &str,
    max_nesting: usize,
) -> Result<async_graphql::Request, Refusal> {
    let request = params::from_query_string(query_string)?;
    if shape::text::scan(&request.query, max_nesting).is_ok()
        && let Ok(doc) = async_graphql::parser::parse_query(&request.query)
    {
        let mutates = doc.operations.iter().any(|(name, op)| {
            op.node.ty != OperationType::Query
                && (request.operation_name.is_none()
                    || name.map(|n| n.as_str()) == request.operation_name.as_deref())
        });
        if mutates {
            return Err(Refusal::bad(
                StatusCode::METHOD_NOT_ALLOWED,
                "mutations are not allowed over GET (use POST), nor subscriptions (they run \
                 over WebSocket at /graphql/ws)",
            ));
        }
    }
    Ok(request)
}

/// Several operations in one body (checked by [`decode_post`]): run together, on a turn
/// each.
async fn execute_batch(
    state: &AppState,
    requests: Vec<async_graphql::Request>,
    viewer: Viewer,
    after: Option<Lsn>,
    media: Media,
) -> HttpResponse {
    let reach = state.reach();
    if reach == Reach::Nothing {
        return unavailable(media);
    }
    let Ok(_turn) = state.admission.enter(requests.len()).await else {
        return busy(media);
    };
    let batch = BatchRequest::Batch(
        requests
            .into_iter()
            .map(|r| {
                let mut r = r.data(viewer.clone());
                if reach == Reach::ReadsOnly {
                    r = r.data(PrimaryLost);
                }
                match after {
                    Some(after) => r.data(ReadAfter(after)),
                    None => r,
                }
            })
            .collect(),
    );
    let timeout = Duration::from_millis(state.limits.request_timeout_ms);
    match tokio::time::timeout(timeout, state.schema.execute_batch(batch)).await {
        Ok(response) => {
            // A batch is answered 200 in either type (its parts differ), or 503 when
            // every part lost the database.
            let (lost, parts): (bool, Vec<_>) = match &response {
                async_graphql::BatchResponse::Single(r) => (media::only_unavailable(r), vec![r]),
                async_graphql::BatchResponse::Batch(rs) => {
                    (rs.iter().all(media::only_unavailable), rs.iter().collect())
                }
            };
            let answer = media::answered(media, lost).json(&response);
            with_position(answer, &parts)
        }
        Err(_) => timed_out(media),
    }
}

async fn execute(
    state: &AppState,
    request: async_graphql::Request,
    viewer: Viewer,
    after: Option<Lsn>,
    media: Media,
) -> HttpResponse {
    let reach = state.reach();
    if reach == Reach::Nothing {
        return unavailable(media);
    }
    let Ok(_turn) = state.admission.enter(1).await else {
        return busy(media);
    };
    let timeout = Duration::from_millis(state.limits.request_timeout_ms);
    let mut request = request.data(viewer);
    if reach == Reach::ReadsOnly {
        request = request.data(PrimaryLost);
    }
    if let Some(after) = after {
        request = request.data(ReadAfter(after));
    }
    match tokio::time::timeout(timeout, state.schema.answer(request)).await {
        Ok(Answer::Resolved(response)) => with_position(
            media.respond(&response, crate::graphql::ran(&response)),
            &[&response],
        ),
        // A compiled answer has no errors: a request that would meet one is left to
        // the resolvers.
        Ok(Answer::Compiled(body)) => media.build(StatusCode::OK).body(body),
        Err(_) => timed_out(media),
    }
}

/// The database is known to be lost (see [`crate::db::health`]): said at once, not
/// after waiting for a connection.
fn unavailable(media: Media) -> HttpResponse {
    unavailable_refusal().response(media)
}

fn unavailable_refusal() -> Refusal {
    Refusal {
        retry_after: Some(1),
        ..Refusal::new(
            StatusCode::SERVICE_UNAVAILABLE,
            media::UNAVAILABLE,
            "the database is unavailable; retry shortly",
        )
    }
}

/// No turn to execute came within the queue timeout: the service is at capacity.
fn busy(media: Media) -> HttpResponse {
    let refusal = Refusal {
        retry_after: Some(1),
        ..Refusal::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "RATE_LIMITED",
            "the service is at capacity; retry later",
        )
    };
    refusal.response(media)
}

fn timed_out(media: Media) -> HttpResponse {
    error_response(
        media,
        StatusCode::SERVICE_UNAVAILABLE,
        "INTERNAL",
        "the request took longer than the configured limit",
    )
}

fn error_body(code: &str, message: &str) -> serde_json::Value {
    serde_json::json!({ "errors": [{ "message": message, "extensions": { "code": code } }] })
}

fn error_response(
    media: Media,
    status: actix_web::http::StatusCode,
    code: &str,
    message: &str,
) -> HttpResponse {
    media.build(status).json(error_body(code, message))
}

async fn sdl(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/plain; charset=utf-8")
        .body(state.schema.sdl())
}

/// The process is up.
async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(serde_json::json!({ "status": "ok" }))
}

/// Prometheus metrics (see [`crate::metrics`]).
async fn metrics(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type(prometheus::TEXT_FORMAT)
        .body(crate::metrics::metrics().render(&state.db))
}

/// The service can answer queries: its database answers, as the watcher last saw (at
/// once), or, where nothing watches it, to a ping within a second.
/// `?since=` and `?page=` of the ClaimReview feed.
#[derive(serde::Deserialize)]
struct FeedQuery {
    since: Option<String>,
    page: Option<String>,
}

/// Most pages the feed serves: deeper pages are reached with `since`.
const MAX_FEED_PAGE: i64 = 10_000;

/// `GET /claimreview.json`: published verdicts with a review address as a schema.org
/// `DataFeed` of `ClaimReview` items, oldest first, a page of
/// [`exchange::FEED_PAGE`](crate::ingest::exchange::FEED_PAGE) at a time
/// (`?page=`, from 1), optionally from an instant or day on (`?since=`). The next
/// page is named in a `Link: <…>; rel="next"` header.
async fn claim_review_feed(
    state: web::Data<AppState>,
    req: HttpRequest,
    query: web::Query<FeedQuery>,
) -> HttpResponse {
    use crate::ingest::exchange;
    if let Err(refusal) = limit(&state, Bucket::Ip(client_ip(&req))) {
        return refusal.response(Media::Json);
    }
    let since = match query.since.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(raw) => match crate::ingest::when(raw) {
            Some(when)
                if crate::service::validate::year("since", chrono::Datelike::year(&when.day()))
                    .is_ok() =>
            {
                Some(crate::ingest::import::instant(when))
            }
            _ => {
                return Refusal::bad(
                    StatusCode::BAD_REQUEST,
                    "since: give a day (2024-01-31) or an instant (2024-01-31T12:00:00Z)",
                )
                .response(Media::Json);
            }
        },
    };
    let page = match query.page.as_deref().map(str::parse::<i64>) {
        None => 1,
        Some(Ok(page)) if (1..=MAX_FEED_PAGE).contains(&page) => page,
        Some(_) => {
            return Refusal::bad(
                StatusCode::BAD_REQUEST,
                format!("page: a whole number from 1 to {MAX_FEED_PAGE}"),
            )
            .response(Media::Json);
        }
    };
    if state.health.is_watched() && state.reach() == Reach::Nothing {
        return unavailable_refusal().response(Media::Json);
    }
    // A read like any other: a replica serves it when one can, the primary if it fails.
    let after = read_after(&req).ok().flatten();
    let (read, _) = state
        .schema
        .reads()
        .read(after, crate::error::sqlx_unavailable, |choice| async move {
            exchange::feed_page(choice.db.get_postgres_connection_pool(), since, page).await
        })
        .await;
    match read {
        Ok((body, more)) => {
            let mut response = HttpResponse::Ok();
            response.content_type("application/ld+json");
            if more {
                let mut next = format!("/claimreview.json?page={}", page + 1);
                if let Some(since) = &query.since {
                    next.push_str("&since=");
                    next.push_str(
                        &url::form_urlencoded::byte_serialize(since.as_bytes()).collect::<String>(),
                    );
                }
                response.insert_header((header::LINK, format!("<{next}>; rel=\"next\"")));
            }
            response.body(body)
        }
        Err(e) => {
            tracing::warn!(error = %e, "claim review feed");
            unavailable_refusal().response(Media::Json)
        }
    }
}

async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    let up = if state.health.is_watched() {
        state.health.is_up()
    } else {
        let ping = tokio::time::timeout(
            Duration::from_secs(1),
            state.db.execute_unprepared("SELECT 1"),
        )
        .await;
        matches!(ping, Ok(Ok(_)))
    };
    let replicas = state.schema.reads().report();
    let body = |status: &str| match replicas.is_empty() {
        true => serde_json::json!({ "status": status }),
        false => serde_json::json!({ "status": status, "replicas": replicas }),
    };
    // Replicas do not decide readiness while the primary answers (it takes their reads);
    // while it does not, a serving replica keeps the service up for reads.
    match up {
        true => HttpResponse::Ok().json(body("ready")),
        false if state.schema.reads().serving() => HttpResponse::Ok().json(body("reads only")),
        false => HttpResponse::ServiceUnavailable()
            .insert_header((header::RETRY_AFTER, "5"))
            .json(body("database unavailable")),
    }
}
