//! `Statement`: placeholder while the module is written.

use async_graphql::{Context, Enum, ID, InputObject, Object};

use crate::error::ApiResult;
use crate::graphql::pagination::{Conn, PageArgs};
use entity::statement;

pub struct Statement(pub statement::Model);

impl From<statement::Model> for Statement {
    fn from(m: statement::Model) -> Self {
        Self(m)
    }
}

#[Object]
impl Statement {
    async fn id(&self) -> ID {
        crate::graphql::scalars::id(self.0.id)
    }
}

#[derive(InputObject, Default, Debug)]
pub struct StatementFilter {
    pub speaker_ids: Option<Vec<ID>>,
    pub claim_ids: Option<Vec<ID>>,
    pub article_ids: Option<Vec<ID>>,
}

#[derive(Enum, Copy, Clone, Debug, Eq, PartialEq, Default)]
pub enum StatementOrder {
    #[default]
    StatedOnAsc,
    StatedOnDesc,
}

pub async fn list(
    _ctx: &Context<'_>,
    _filter: StatementFilter,
    _order: Option<StatementOrder>,
    _args: PageArgs,
) -> ApiResult<Conn<Statement>> {
    Err(crate::error::ApiError::Internal("not yet".into()))
}

pub async fn load(ctx: &Context<'_>, id: uuid::Uuid) -> ApiResult<Option<Statement>> {
    Ok(crate::graphql::loaders(ctx)
        .load_one(crate::graphql::loader::ById::<statement::Entity>::new(id))
        .await?
        .map(Statement))
}

#[derive(Default)]
pub struct StatementQuery;

#[Object]
impl StatementQuery {
    async fn placeholder_statement_query(&self) -> bool {
        false
    }
}

#[derive(Default)]
pub struct StatementMutation;

#[Object]
impl StatementMutation {
    async fn placeholder_statement_mutation(&self) -> bool {
        false
    }
}
