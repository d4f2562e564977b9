//! `SpeakerRole`: object, lookups and mutations.

use async_graphql::{Context, ID, Object};

use crate::error::ApiResult;
use crate::graphql::loader::ById;
use crate::graphql::loaders;
use crate::graphql::scalars::id;
use entity::speaker_role;

pub struct SpeakerRole(pub speaker_role::Model);

impl From<speaker_role::Model> for SpeakerRole {
    fn from(m: speaker_role::Model) -> Self {
        Self(m)
    }
}

#[Object]
impl SpeakerRole {
    async fn id(&self) -> ID {
        id(self.0.id)
    }
}

/// Loads one record through the batch loader.
pub async fn load(ctx: &Context<'_>, id: uuid::Uuid) -> ApiResult<Option<SpeakerRole>> {
    Ok(loaders(ctx).load_one(ById::<speaker_role::Entity>::new(id)).await?.map(SpeakerRole))
}

#[derive(Default)]
pub struct SpeakerRoleQuery;

#[Object]
impl SpeakerRoleQuery {
    async fn placeholder_speaker_role_query(&self) -> bool {
        false
    }
}

#[derive(Default)]
pub struct SpeakerRoleMutation;

#[Object]
impl SpeakerRoleMutation {
    async fn placeholder_speaker_role_mutation(&self) -> bool {
        false
    }
}
