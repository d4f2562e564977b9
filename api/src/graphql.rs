//! The GraphQL schema: per-resource query and mutation parts merged into the roots,
//! the shared scalars and enums, and [`AppSchema`], which runs requests through the
//! policy, gives every error its code and counts them.

pub mod api_key;
pub mod article;
pub mod claim;
pub mod common;
pub(crate) mod compiled;
pub mod enums;
pub mod errors;
pub mod event;
pub mod import;
pub mod link;
pub mod loader;
pub mod outlet;
pub mod pagination;
pub mod position;
pub mod purge;
pub mod revision;
pub mod scalars;
pub mod search;
pub mod shape;
pub mod speaker;
pub mod speaker_role;
pub mod statement;
pub mod timeline;
pub mod topic;
pub mod types;
pub mod verdict;
pub mod watchlist;

use std::any::TypeId;
use std::sync::Arc;
use std::time::Instant;

use async_graphql::parser::types::{
    DocumentOperations, ExecutableDocument, OperationDefinition, OperationType,
};
use async_graphql::{
    BatchRequest, BatchResponse, Context, MergedObject, Positioned, Request, Response, Schema,
    SchemaBuilder,
};
use sea_orm::DatabaseConnection;

use crate::auth::policy::{self, PolicyConfig};
use crate::auth::{KeyStore, Viewer};
use crate::config::Limits;
use crate::db::reads::{Lsn, PrimaryLost, ReadAfter, Reads};
use crate::graphql::compiled::{Compiler, Learning, Route};
use crate::service::Actor;

/// Reads. Every field is open to any caller, ANONYMOUS included (READER and up when the
/// server turns anonymous reading off; `viewer` stays open), except `contradictionCandidates`
/// and `revisions` (EDITOR or ADMIN) and `apiKeys` (ADMIN). Unpublished records (draft,
/// in-review and retracted verdicts, suggested and dismissed links) show to EDITOR and ADMIN
/// only: to others they read as absent. Lists are Relay connections of at most 100 items a
/// page, 20 by default.
#[derive(MergedObject, Default)]
#[graphql(name = "Query")]
pub struct QueryRoot(
    speaker::SpeakerQuery,
    speaker_role::SpeakerRoleQuery,
    outlet::OutletQuery,
    article::ArticleQuery,
    claim::ClaimQuery,
    topic::TopicQuery,
    statement::StatementQuery,
    verdict::VerdictQuery,
    link::LinkQuery,
    position::PositionQuery,
    timeline::TimelineQuery,
    api_key::ApiKeyQuery,
    revision::RevisionQuery,
    search::SearchQuery,
    event::EventQuery,
    watchlist::WatchlistQuery,
);

/// Writes. Every mutation needs an EDITOR or ADMIN key, except `createApiKey`,
/// `revokeApiKey` and `purgeRecord`, which need ADMIN. Each runs in one transaction and
/// writes its revisions with it: bad input (BAD_USER_INPUT) writes nothing. Updates and
/// deletes take the `version` the client read; a stale one is a CONFLICT, never a silent
/// overwrite.
#[derive(MergedObject, Default)]
#[graphql(name = "Mutation")]
pub struct MutationRoot(
    speaker::SpeakerMutation,
    speaker_role::SpeakerRoleMutation,
    outlet::OutletMutation,
    article::ArticleMutation,
    claim::ClaimMutation,
    topic::TopicMutation,
    statement::StatementMutation,
    verdict::VerdictMutation,
    link::LinkMutation,
    api_key::ApiKeyMutation,
    purge::PurgeMutation,
    import::ImportMutation,
    watchlist::WatchlistMutation,
);

/// Subscriptions: see [`event::SubscriptionRoot`].
pub type SubscriptionRoot = event::SubscriptionRoot;

/// The schema, and what every request goes through around it: the policy (document
/// limits and roles, before validation), loaders of its own (the schema has none: every
/// request brings them), error codes and metrics.
///
/// These act once per request, so they wrap `execute` rather than being async-graphql
/// extensions: a schema with extensions routes every field and list item through
/// them (boxed futures and a type lookup each), which cost a fifth of the CPU time of
/// a 20-item nested page.
#[derive(Clone)]
pub struct AppSchema {
    schema: Schema<QueryRoot, MutationRoot, SubscriptionRoot>,
    policy: Arc<PolicyConfig>,
    db: DatabaseConnection,
    /// Where queries read (replicas, when the service has them).
    reads: Reads,
    compiler: Arc<Compiler>,
    /// The instance's reader of the event log (subscriptions start from its place).
    hub: Option<crate::live::Hub>,
}

/// The answer to one request: resolved, or the body of a compiled query as the
/// database wrote it.
pub enum Answer {
    Resolved(Response),
    Compiled(String),
}

impl AppSchema {
    /// Runs one request as the [`Viewer`] in its data (anonymous when it has none),
    /// through the resolvers.
    pub async fn execute(&self, request: impl Into<Request>) -> Response {
        match self.run(request.into(), false).await {
            Answer::Resolved(response) => response,
            Answer::Compiled(_) => unreachable!("nothing is compiled unless asked"),
        }
    }

    /// Runs one request as [`AppSchema::execute`] does, as one compiled statement where
    /// its document allows (see the `compiled` module).
    pub async fn answer(&self, request: impl Into<Request>) -> Answer {
        self.run(request.into(), true).await
    }

    async fn run(&self, mut request: Request, compile: bool) -> Answer {
        let started = Instant::now();
        let viewer = request
            .data
            .get(&TypeId::of::<Viewer>())
            .and_then(|v| v.downcast_ref::<Viewer>())
            .cloned()
            .unwrap_or_default();
        let sent = request
            .data
            .get(&TypeId::of::<ReadAfter>())
            .and_then(|v| v.downcast_ref::<ReadAfter>())
            .map(|r| r.0);
        let ((operation, mut answer, wrote), sql) = crate::metrics::counting_sql(async {
            // The position to read after: the `ClaimTrack-LSN` header's, or the request's
            // `extensions.lsn` (the way over WebSocket), the later of the two.
            let extension = request.extensions.get("lsn").map(|lsn| match lsn {
                async_graphql::Value::String(text) => text.parse::<Lsn>().ok(),
                _ => None,
            });
            let after = match extension {
                None => sent,
                Some(Some(lsn)) => sent.max(Some(lsn)),
                Some(None) => {
                    let refused = policy::refusal(
                        "BAD_USER_INPUT",
                        format!("extensions.lsn: {}", crate::db::reads::BadLsn),
                    );
                    return (None, Response::from_errors(vec![refused]).into(), false);
                }
            };
            let route = if compile {
                self.compiler.route(&request)
            } else {
                Route::Resolvers(None)
            };
            if let Route::Resolvers(Some(reason)) = &route {
                crate::metrics::metrics().outside(reason);
            }
            let mut chosen = None;
            if let Route::Plan(key, plan) = &route {
                // The policy's checks, on the document parsed when it was learnt.
                if let Err(refused) =
                    policy::admit_parsed(&self.policy, &request, plan.document(), &viewer)
                {
                    return (None, Response::from_errors(vec![refused]).into(), false);
                }
                let (variables, viewer) = (&request.variables, &viewer);
                let (result, choice) = self
                    .reads
                    .read(after, crate::error::unavailable, |choice| async move {
                        plan.run(&choice, variables, viewer).await
                    })
                    .await;
                crate::metrics::metrics().compiled(matches!(result, Ok(Some(_))));
                match result {
                    Ok(Some(body)) => {
                        let operation = Some(plan.operation().to_owned());
                        return (operation, Answer::Compiled(body), false);
                    }
                    Ok(None) => {}
                    Err(error) if crate::error::unavailable(&error) => {}
                    Err(error) => {
                        tracing::warn!(%error, "compiled query failed; the resolvers answer");
                        self.compiler.demote(*key, &error);
                    }
                }
                chosen = Some(choice);
            }
            if let Err(refused) = policy::admit(&self.policy, &mut request, &viewer) {
                return (None, Response::from_errors(vec![refused]).into(), false);
            }
            let kind = operation_type(&mut request);
            if kind == Some(OperationType::Subscription) {
                let refused = policy::refusal(
                    "BAD_USER_INPUT",
                    "subscriptions run over WebSocket at /graphql/ws (graphql-transport-ws), \
                     not over HTTP"
                        .to_owned(),
                );
                return (None, Response::from_errors(vec![refused]).into(), false);
            }
            let writes = kind == Some(OperationType::Mutation);
            if writes && request.data.get(&TypeId::of::<PrimaryLost>()).is_some() {
                let refused = policy::refusal(
                    "UNAVAILABLE",
                    "the primary database is unavailable: writes wait until it is back \
                     (reads go on from replicas)"
                        .to_owned(),
                );
                return (None, Response::from_errors(vec![refused]).into(), false);
            }
            let operation = operation_name(&mut request);
            let learning = match route {
                Route::Learn(key) => Learning::new(key, &mut request),
                _ => None,
            };
            let choice = match chosen {
                _ if writes => self.reads.for_writes(),
                Some(choice) => choice,
                None => self.reads.choose(after),
            };
            let again = choice
                .on_replica()
                .then(|| Again::of(&request, &viewer, after));
            let mut response = self.execute_on(request, &choice.db).await;
            if let Some(again) = again
                && errors::lost_database(&response)
            {
                let primary = self.reads.failed(&choice);
                response = self.execute_on(again.request(), &primary.db).await;
            }
            if let Some(learning) = learning
                && response.errors.is_empty()
            {
                self.compiler.learn(learning);
            }
            let wrote = writes && ran(&response);
            (operation.filter(|_| ran(&response)), response.into(), wrote)
        })
        .await;
        let outcome = match &mut answer {
            Answer::Resolved(response) => {
                errors::annotate_all(response);
                if wrote && let Some(lsn) = self.reads.commit_position().await {
                    response.extensions.insert(
                        "lsn".to_owned(),
                        async_graphql::Value::String(lsn.to_string()),
                    );
                }
                crate::metrics::outcome(response)
            }
            Answer::Compiled(_) => "ok".to_owned(),
        };
        crate::metrics::record_request(operation.as_deref(), &outcome, started, sql);
        answer
    }

    /// Runs a request through the resolvers, every read of it on `db`.
    async fn execute_on(&self, request: Request, db: &DatabaseConnection) -> Response {
        let request = request
            .data(crate::metrics::request_loaders(db.clone()))
            .data(db.clone());
        self.schema.execute(request).await
    }

    /// The router of this schema's reads.
    pub fn reads(&self) -> &Reads {
        &self.reads
    }

    /// Runs the requests of a batch concurrently, answering in their order.
    pub async fn execute_batch(&self, batch: BatchRequest) -> BatchResponse {
        match batch {
            BatchRequest::Single(request) => BatchResponse::Single(self.execute(request).await),
            BatchRequest::Batch(requests) => BatchResponse::Batch(
                futures::future::join_all(requests.into_iter().map(|r| self.execute(r))).await,
            ),
        }
    }

    /// The schema in SDL, as introspection describes it (with `@specifiedBy` on the
    /// scalars that name their format).
    pub fn sdl(&self) -> String {
        self.schema
            .sdl_with_options(async_graphql::SDLExportOptions::new().include_specified_by())
    }
}

impl async_graphql::Executor for AppSchema {
    fn execute(&self, request: Request) -> impl std::future::Future<Output = Response> + Send {
        AppSchema::execute(self, request)
    }

    /// Every operation sent over WebSocket: queries and mutations run as over HTTP,
    /// as the connection's viewer; subscriptions pass the same policy, count against
    /// the connection's cap, and tag each message with its event's id.
    fn execute_stream(
        &self,
        request: Request,
        session: Option<Arc<async_graphql::Data>>,
    ) -> futures::stream::BoxStream<'static, Response> {
        let found = |type_id: TypeId| {
            session
                .as_ref()
                .and_then(|data| data.get(&type_id))
                .map(|v| v.as_ref())
        };
        let viewer = found(TypeId::of::<Viewer>())
            .and_then(|v| v.downcast_ref::<Viewer>())
            .cloned()
            .unwrap_or_default();
        let held = found(TypeId::of::<crate::http::ws::Held>())
            .and_then(|v| v.downcast_ref::<crate::http::ws::Held>())
            .cloned();
        // Checked as the message arrives (not when its stream is first polled), so
        // the cap refuses the latest subscription, whatever order streams run in.
        let mut request = request.data(viewer.clone());
        if let Err(refused) = policy::admit(&self.policy, &mut request, &viewer) {
            return Box::pin(futures::stream::once(async move {
                Response::from_errors(vec![refused])
            }));
        }
        if !is_subscription(&mut request) {
            let this = self.clone();
            return Box::pin(futures::stream::once(async move {
                AppSchema::execute(&this, request).await
            }));
        }
        let slot = match held.as_ref().map(|h| (h.take(), h.cap())) {
            Some((None, cap)) => {
                return Box::pin(futures::stream::once(async move {
                    Response::from_errors(vec![crate::http::ws::too_many(cap)])
                }));
            }
            Some((Some(slot), _)) => Some(slot),
            None => None,
        };
        let delivered = event::Delivered::default();
        let mut request = request
            .data(crate::metrics::request_loaders(self.db.clone()))
            .data(delivered.clone());
        // Live from the moment the subscription arrived, not from when its stream
        // first runs: what commits in between is read from the log.
        if let Some(at) = self.hub.as_ref().and_then(crate::live::Hub::position) {
            request = request.data(event::SubscribedAt(at));
        }
        let responses = self
            .schema
            .execute_stream_with_session_data(request, session.unwrap_or_default());
        Box::pin(futures::StreamExt::map(responses, move |mut response| {
            // Held for as long as the stream lives.
            let _ = &slot;
            errors::annotate_all(&mut response);
            if let Some(id) = delivered.take() {
                response.extensions.insert(
                    "eventId".to_owned(),
                    async_graphql::Value::String(id.to_string()),
                );
            }
            response
        }))
    }
}

impl From<Response> for Answer {
    fn from(response: Response) -> Self {
        Answer::Resolved(response)
    }
}

/// Whether the operation a request will run is a subscription.
fn is_subscription(request: &mut Request) -> bool {
    operation_type(request) == Some(OperationType::Subscription)
}

/// The type of the operation a request will run; `None` when none can be chosen.
fn operation_type(request: &mut Request) -> Option<OperationType> {
    let wanted = request.operation_name.clone();
    let document = request.parsed_query().ok()?;
    chosen_operation(document, wanted.as_deref()).map(|(_, op)| op.node.ty)
}

/// What a read needs to run again on the primary when its replica fails it.
struct Again {
    query: String,
    operation_name: Option<String>,
    variables: async_graphql::Variables,
    extensions: async_graphql::Extensions,
    viewer: Viewer,
    after: Option<Lsn>,
}

impl Again {
    fn of(request: &Request, viewer: &Viewer, after: Option<Lsn>) -> Self {
        Self {
            query: request.query.clone(),
            operation_name: request.operation_name.clone(),
            variables: request.variables.clone(),
            extensions: request.extensions.clone(),
            viewer: viewer.clone(),
            after,
        }
    }

    fn request(self) -> Request {
        let mut request = Request::new(self.query)
            .variables(self.variables)
            .data(self.viewer);
        request.operation_name = self.operation_name;
        request.extensions = self.extensions;
        if let Some(after) = self.after {
            request = request.data(ReadAfter(after));
        }
        request
    }
}

/// The name of the operation a parsed request will run, as metrics label it
/// (`anonymous` for an unnamed one); `None` when none can be chosen.
fn operation_name(request: &mut Request) -> Option<String> {
    let wanted = request.operation_name.clone();
    let document = request.parsed_query().ok()?;
    chosen_operation(document, wanted.as_deref()).map(|(label, _)| label)
}

/// The operation of `document` that runs when `wanted` is asked for, with its name as
/// metrics label it (`anonymous` for an unnamed one); `None` when none can be chosen.
pub(crate) fn chosen_operation<'d>(
    document: &'d ExecutableDocument,
    wanted: Option<&str>,
) -> Option<(String, &'d Positioned<OperationDefinition>)> {
    match (&document.operations, wanted) {
        (DocumentOperations::Single(op), None) => Some(("anonymous".into(), op)),
        (DocumentOperations::Multiple(ops), Some(name)) => {
            ops.get(name).map(|op| (name.to_owned(), op))
        }
        (DocumentOperations::Multiple(ops), None) if ops.len() == 1 => {
            ops.iter().next().map(|(name, op)| (name.to_string(), op))
        }
        _ => None,
    }
}

/// Whether a request got as far as running: one refused by validation has no data
/// and only errors without a path.
pub(crate) fn ran(response: &Response) -> bool {
    response.data != async_graphql::Value::Null
        || response.errors.iter().any(|e| !e.path.is_empty())
}

/// How a schema is built: the limits, and what production mode turns off.
#[derive(Debug, Clone)]
pub struct SchemaOptions {
    pub limits: Limits,
    /// Introspection and field suggestions ("did you mean …") on error.
    pub introspection: bool,
    /// Anonymous callers may read published data.
    pub anonymous_read: bool,
    /// The event log's settings (webhook targets).
    pub live: crate::config::Live,
    /// The instance's reader of the event log, for subscriptions; none: subscriptions
    /// are refused.
    pub hub: Option<crate::live::Hub>,
    /// Where queries read; none: all on the schema's pool.
    pub reads: Option<Reads>,
}

impl SchemaOptions {
    /// Development defaults: introspection on, anonymous reading on.
    pub fn new(limits: Limits) -> Self {
        Self {
            limits,
            introspection: true,
            anonymous_read: true,
            live: crate::config::Live::default(),
            hub: None,
            reads: None,
        }
    }
}

/// Builds the schema over a connection pool, with its own key verifier. Tests build
/// the very same one.
pub fn build_schema(db: DatabaseConnection, limits: &Limits) -> AppSchema {
    let keys = KeyStore::new(db.clone());
    build_schema_with(db, keys, &SchemaOptions::new(limits.clone()))
}

/// Builds the schema sharing the HTTP layer's key verifier.
pub fn build_schema_with(
    db: DatabaseConnection,
    keys: KeyStore,
    options: &SchemaOptions,
) -> AppSchema {
    let limits = &options.limits;
    let mut builder = Schema::build(
        QueryRoot::default(),
        MutationRoot::default(),
        SubscriptionRoot::default(),
    )
    .data(db.clone())
    .data(crate::service::search::SecondReads::for_pool(&db))
    .data(keys)
    .data(options.live.clone())
    // The policy limits depth first, introspection by its own rules (see
    // `shape::depth`); this is the backstop for anything that reaches execution.
    .limit_depth(limits.max_depth.max(shape::depth::INTROSPECTION_MAX_DEPTH))
    .limit_directives(limits.max_directives);
    if let Some(hub) = &options.hub {
        builder = builder.data(hub.clone());
    }
    builder = describe_library_types(builder);
    if !options.introspection {
        builder = builder.disable_introspection().disable_suggestions();
    }
    let types = types::Types::of_schema();
    AppSchema {
        schema: builder.finish(),
        policy: Arc::new(PolicyConfig {
            anonymous_read: options.anonymous_read,
            max_document_bytes: limits.max_document_bytes,
            max_nesting: shape::max_nesting(limits.max_depth),
            max_depth: limits.max_depth,
            max_aliases: limits.max_aliases,
            max_complexity: limits.max_complexity,
            roots: types.root_fields(),
            types: Arc::new(types),
        }),
        reads: options
            .reads
            .clone()
            .unwrap_or_else(|| Reads::primary_only(db.clone())),
        db,
        compiler: Arc::default(),
        hub: options.hub.clone(),
    }
}

/// Describes, for a dashboard developer, the types async-graphql generates (pages,
/// their edges, `PageInfo`) and the scalars it brings, whose own descriptions are
/// missing or speak of Rust.
fn describe_library_types(
    builder: SchemaBuilder<QueryRoot, MutationRoot, SubscriptionRoot>,
) -> SchemaBuilder<QueryRoot, MutationRoot, SubscriptionRoot> {
    use async_graphql::connection::{Edge, EmptyFields, PageInfo};
    use pagination::Conn;

    macro_rules! pages {
        ($builder:expr, $($node:ty => $items:literal),* $(,)?) => {
            $builder
            $(
                .override_output_type_description::<Conn<$node>>(concat!(
                    "A page of ", $items, ": `edges` (each with its `cursor`) or just \
                     `nodes`, in the list's order; `pageInfo` says whether more pages \
                     follow or precede and gives the cursors to ask for them with \
                     `after`/`before`; `totalCount` counts every match, ignoring paging."
                ))
                .override_output_type_description::<Edge<String, $node, EmptyFields>>(concat!(
                    "One of ", $items, " on a page, with the cursor that marks its place: \
                     pass it as `after` (or `before`) to continue from here."
                ))
            )*
        };
    }
    pages!(builder,
        api_key::ApiKey => "API keys",
        article::Article => "articles",
        claim::Claim => "claims",
        link::Link => "links",
        outlet::Outlet => "outlets",
        position::PositionChange => "position changes",
        revision::Revision => "revisions",
        speaker::Speaker => "speakers",
        statement::Statement => "statements",
        timeline::TimelineEvent => "timeline events",
        topic::Topic => "topics",
        verdict::Verdict => "verdicts",
        event::Event => "events",
        watchlist::WebhookDelivery => "webhook deliveries",
    )
    .override_output_type_description::<search::SearchConnection>(
        "A page of search hits, best match first: `edges` or `nodes`, `pageInfo` for the \
         next page, and (asked for separately, as they cost more) `totalCount` and \
         `facets`, exact up to 1,000 hits and estimated beyond (`totalCountExact`).",
    )
    .override_output_type_description::<Edge<String, search::SearchHit, EmptyFields>>(
        "One search hit on a page, with the cursor to continue after it.",
    )
    .override_output_type_description::<PageInfo>(
        "Where a page sits in its list: whether pages follow (`hasNextPage`) or precede \
         (`hasPreviousPage`) it, and the cursors of its first and last items, to pass as \
         `before` or `after`.",
    )
    .override_output_type_description::<chrono::DateTime<chrono::Utc>>(
        "An instant, as an RFC 3339 string with its offset, e.g. \
         `2024-05-01T14:30:00+00:00`. Answers are always in UTC (`+00:00`, fractional \
         seconds when there are any); inputs may carry any offset (or `Z`) and are \
         converted.",
    )
    .override_input_type_description::<serde_json::Value>(
        "Any JSON value (object, array, string, number, boolean or null), sent as JSON \
         itself rather than as a string holding JSON.",
    )
}

/// The SDL of the schema, as committed in `api/schema.graphql`.
pub fn sdl() -> String {
    build_schema(DatabaseConnection::default(), &Limits::default()).sdl()
}

/// The pool, from any resolver.
pub fn db<'a>(ctx: &Context<'a>) -> &'a DatabaseConnection {
    ctx.data_unchecked::<DatabaseConnection>()
}

/// The batch loaders, from any resolver.
pub fn loaders<'a>(ctx: &Context<'a>) -> &'a loader::Loaders {
    ctx.data_unchecked::<loader::Loaders>()
}

/// Who is calling; anonymous when the request carries no key.
pub fn viewer<'a>(ctx: &Context<'a>) -> &'a Viewer {
    ctx.data_opt::<Viewer>().unwrap_or(&ANONYMOUS)
}

static ANONYMOUS: Viewer = Viewer {
    role: crate::auth::Role::Anonymous,
    key: None,
};

/// The author of a change, for its revision: the key behind the request.
pub fn actor(ctx: &Context<'_>) -> Actor {
    Actor {
        key_id: viewer(ctx).key.as_ref().map(|k| k.key_id),
    }
}
