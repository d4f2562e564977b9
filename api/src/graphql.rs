//! The GraphQL schema: per-resource query and mutation parts merged into the roots,
//! the shared scalars and enums, and the extension that gives every error its code.

pub mod api_key;
pub mod article;
pub mod claim;
pub mod common;
pub mod enums;
pub mod errors;
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
pub mod verdict;

use async_graphql::{Context, EmptySubscription, MergedObject, Schema};
use sea_orm::DatabaseConnection;

use crate::auth::policy::{Policy, PolicyConfig};
use crate::auth::{KeyStore, Viewer};
use crate::config::Limits;
use crate::service::Actor;

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
);

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
);

pub type AppSchema = Schema<QueryRoot, MutationRoot, EmptySubscription>;

/// How a schema is built: the limits, and what production mode turns off.
#[derive(Debug, Clone)]
pub struct SchemaOptions {
    pub limits: Limits,
    /// Introspection and field suggestions ("did you mean …") on error.
    pub introspection: bool,
    /// Anonymous callers may read published data.
    pub anonymous_read: bool,
}

impl SchemaOptions {
    /// Development defaults: introspection on, anonymous reading on.
    pub fn new(limits: Limits) -> Self {
        Self {
            limits,
            introspection: true,
            anonymous_read: true,
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
        EmptySubscription,
    )
    .data(loader::loaders(db.clone()))
    .data(db)
    .data(keys)
    .limit_depth(limits.max_depth)
    .limit_directives(limits.max_directives)
    .extension(Policy(PolicyConfig {
        anonymous_read: options.anonymous_read,
        max_document_bytes: limits.max_document_bytes,
        max_aliases: limits.max_aliases,
        max_complexity: limits.max_complexity,
    }))
    // Outermost, so it counts the error codes the client gets.
    .extension(crate::metrics::RequestMetrics)
    .extension(errors::ErrorCodes);
    if !options.introspection {
        builder = builder.disable_introspection().disable_suggestions();
    }
    builder.finish()
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
