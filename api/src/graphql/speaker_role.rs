//! `SpeakerRole`: object, lookup, create/update/delete, and the batch loader of the
//! role a speaker held on a given day.

use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::dataloader::Loader;
use async_graphql::{Context, ID, InputObject, MaybeUndefined, Object, Result};
use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::{ColumnTrait, QueryFilter};
use uuid::Uuid;

use crate::error::{ApiError, ApiResult};
use crate::graphql::common::{DeleteInput, DeletePayload};
use crate::graphql::loader::{ById, Db, LoadError};
use crate::graphql::scalars::{Date, id, uuid};
use crate::graphql::speaker::Speaker;
use crate::graphql::{actor, db, loaders};
use crate::service::{self, Record};
use entity::speaker_role;

/// An office or position a speaker held, such as Minister of Foreign Affairs of Russia.
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
    async fn speaker_id(&self) -> ID {
        id(self.0.speaker_id)
    }
    async fn title(&self) -> &str {
        &self.0.title
    }
    async fn organization(&self) -> Option<&str> {
        self.0.organization.as_deref()
    }
    /// First day in the role; null when unknown.
    async fn started_on(&self) -> Option<Date> {
        self.0.started_on.map(Date)
    }
    /// Last day in the role; null while it lasts or when unknown.
    async fn ended_on(&self) -> Option<Date> {
        self.0.ended_on.map(Date)
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
    /// Pass this back with an update or delete.
    async fn version(&self) -> i32 {
        self.0.version
    }
    async fn speaker(&self, ctx: &Context<'_>) -> Result<Speaker> {
        let speaker = crate::graphql::speaker::load(ctx, self.0.speaker_id).await?;
        Ok(speaker.ok_or(ApiError::not_found("speaker"))?)
    }
}

/// The role a speaker held on a day, for [`Loader`]: `RoleOn(speaker_id, day)`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct RoleOn(pub Uuid, pub NaiveDate);

impl Loader<RoleOn> for Db {
    type Value = speaker_role::Model;
    type Error = LoadError;

    async fn load(&self, keys: &[RoleOn]) -> Result<HashMap<RoleOn, Self::Value>, LoadError> {
        let pairs: Vec<(Uuid, NaiveDate)> = keys.iter().map(|k| (k.0, k.1)).collect();
        let roles = service::speaker_role::roles_on(&self.0, &pairs)
            .await
            .map_err(Arc::new)?;
        Ok(roles
            .into_iter()
            .map(|((speaker, day), role)| (RoleOn(speaker, day), role))
            .collect())
    }
}

#[derive(Default)]
pub struct SpeakerRoleQuery;

#[Object]
impl SpeakerRoleQuery {
    /// One role, by id.
    async fn speaker_role(&self, ctx: &Context<'_>, id: ID) -> Result<Option<SpeakerRole>> {
        let id = uuid("id", &id)?;
        let role = speaker_role::Entity::live()
            .filter(speaker_role::Column::Id.eq(id))
            .one(db(ctx))
            .await
            .map_err(ApiError::from)?;
        Ok(role.map(SpeakerRole))
    }
}

#[derive(InputObject, Debug)]
pub struct CreateSpeakerRoleInput {
    pub speaker_id: ID,
    pub title: String,
    pub organization: Option<String>,
    pub started_on: Option<Date>,
    /// On or after `startedOn`.
    pub ended_on: Option<Date>,
}

#[derive(InputObject, Debug)]
pub struct UpdateSpeakerRoleInput {
    pub id: ID,
    /// The version the client read.
    pub version: i32,
    pub title: Option<String>,
    pub organization: MaybeUndefined<String>,
    pub started_on: MaybeUndefined<Date>,
    pub ended_on: MaybeUndefined<Date>,
}

pub struct CreateSpeakerRolePayload(pub speaker_role::Model);

#[Object]
impl CreateSpeakerRolePayload {
    async fn speaker_role(&self) -> SpeakerRole {
        SpeakerRole(self.0.clone())
    }
}

pub struct UpdateSpeakerRolePayload(pub speaker_role::Model);

#[Object]
impl UpdateSpeakerRolePayload {
    async fn speaker_role(&self) -> SpeakerRole {
        SpeakerRole(self.0.clone())
    }
}

fn date(value: MaybeUndefined<Date>) -> Option<Option<NaiveDate>> {
    Option::<Option<Date>>::from(value).map(|d| d.map(|d| d.0))
}

#[derive(Default)]
pub struct SpeakerRoleMutation;

#[Object]
impl SpeakerRoleMutation {
    async fn create_speaker_role(
        &self,
        ctx: &Context<'_>,
        input: CreateSpeakerRoleInput,
    ) -> Result<CreateSpeakerRolePayload> {
        let new = service::speaker_role::NewSpeakerRole {
            speaker_id: uuid("input.speakerId", &input.speaker_id)?,
            title: input.title,
            organization: input.organization,
            started_on: input.started_on.map(|d| d.0),
            ended_on: input.ended_on.map(|d| d.0),
        };
        let model = service::speaker_role::create(db(ctx), &actor(ctx), new).await?;
        Ok(CreateSpeakerRolePayload(model))
    }

    async fn update_speaker_role(
        &self,
        ctx: &Context<'_>,
        input: UpdateSpeakerRoleInput,
    ) -> Result<UpdateSpeakerRolePayload> {
        let patch = service::speaker_role::SpeakerRolePatch {
            title: input.title,
            organization: input.organization.into(),
            started_on: date(input.started_on),
            ended_on: date(input.ended_on),
        };
        let id = uuid("input.id", &input.id)?;
        let model =
            service::speaker_role::update(db(ctx), &actor(ctx), id, input.version, patch).await?;
        Ok(UpdateSpeakerRolePayload(model))
    }

    async fn delete_speaker_role(
        &self,
        ctx: &Context<'_>,
        input: DeleteInput,
    ) -> Result<DeletePayload> {
        let id = uuid("input.id", &input.id)?;
        let model = service::speaker_role::delete(db(ctx), &actor(ctx), id, input.version).await?;
        Ok(DeletePayload {
            deleted_id: input.id,
            version: model.version,
        })
    }
}

/// Loads one role through the batch loader.
pub async fn load(ctx: &Context<'_>, id: Uuid) -> ApiResult<Option<SpeakerRole>> {
    Ok(loaders(ctx)
        .load_one(ById::<speaker_role::Entity>::new(id))
        .await?
        .map(SpeakerRole))
}
