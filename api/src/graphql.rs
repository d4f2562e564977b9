//! The GraphQL schema: per-resource query and mutation parts merged into the roots,
//! the shared scalars and enums, and the extension that gives every error its code.

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
pub mod scalars;
pub mod speaker;
pub mod speaker_role;
pub mod statement;
pub mod timeline;
pub mod topic;
pub mod verdict;

use async_graphql::{Context, EmptySubscription, MergedObject, Schema};
use sea_orm::DatabaseConnection;

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
);

pub type AppSchema = Schema<QueryRoot, MutationRoot, EmptySubscription>;

/// Builds the schema over a connection pool. Tests build the very same one.
pub fn build_schema(db: DatabaseConnection, limits: &Limits) -> AppSchema {
    Schema::build(
        QueryRoot::default(),
        MutationRoot::default(),
        EmptySubscription,
    )
    .data(loader::loaders(db.clone()))
    .data(db)
    .limit_depth(limits.max_depth)
    .limit_complexity(limits.max_complexity)
    // Outermost, so it counts the error codes the client gets.
    .extension(crate::metrics::RequestMetrics)
    .extension(errors::ErrorCodes)
    .finish()
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
pub fn actor(ctx: &Context<'_>) -> Actor {
    ctx.data_opt::<Actor>().cloned().unwrap_or_default()
}
