//! `Outlet`: object, lookups and mutations.

use async_graphql::{Context, ID, Object};

use crate::error::ApiResult;
use crate::graphql::loader::ById;
use crate::graphql::loaders;
use crate::graphql::scalars::id;
use entity::outlet;

pub struct Outlet(pub outlet::Model);

impl From<outlet::Model> for Outlet {
    fn from(m: outlet::Model) -> Self {
        Self(m)
    }
}

#[Object]
impl Outlet {
    async fn id(&self) -> ID {
        id(self.0.id)
    }
}

/// Loads one record through the batch loader.
pub async fn load(ctx: &Context<'_>, id: uuid::Uuid) -> ApiResult<Option<Outlet>> {
    Ok(loaders(ctx).load_one(ById::<outlet::Entity>::new(id)).await?.map(Outlet))
}

#[derive(Default)]
pub struct OutletQuery;

#[Object]
impl OutletQuery {
    async fn placeholder_outlet_query(&self) -> bool {
        false
    }
}

#[derive(Default)]
pub struct OutletMutation;

#[Object]
impl OutletMutation {
    async fn placeholder_outlet_mutation(&self) -> bool {
        false
    }
}
