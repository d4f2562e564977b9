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

/// An office or position a speaker held over a period, such as Minister of Foreign Affairs
/// of Russia. `Statement.speakerRole` shows the one held on the day a statement was made.
/// Every caller sees live roles.
#[Object]
impl SpeakerRole {
    /// Stable identifier (UUID v7, time-ordered). Use it in `speakerRole(id:)` and in
    /// mutations.
    async fn id(&self) -> ID {
        id(self.0.id)
    }
    /// The id of the speaker who held the role (see `speaker`).
    async fn speaker_id(&self) -> ID {
        id(self.0.speaker_id)
    }
    /// The office or position, such as `Minister of Foreign Affairs` (at most 300
    /// characters).
    async fn title(&self) -> &str {
        &self.0.title
    }
    /// The body the role belongs to, such as `Government of Russia` (at most 300
    /// characters); null when not recorded.
    async fn organization(&self) -> Option<&str> {
        self.0.organization.as_deref()
    }
    /// First day in the role; null when unknown (the role then covers every day up to
    /// `endedOn`).
    async fn started_on(&self) -> Option<Date> {
        self.0.started_on.map(Date)
    }
    /// Last day in the role, inclusive; null while it lasts or when unknown.
    async fn ended_on(&self) -> Option<Date> {
        self.0.ended_on.map(Date)
    }
    /// When the record was entered into ClaimTrack (UTC).
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    /// When the record last changed (UTC); equal to `createdAt` until the first change.
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
    /// Optimistic-concurrency version: 1 at creation, one more on every change. Pass it
    /// back as `version` in update and delete inputs; a stale one is a CONFLICT.
    async fn version(&self) -> i32 {
        self.0.version
    }
    /// The speaker who held the role.
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
    /// One live speaker role, by id; null when none matches. Open to every caller.
    async fn speaker_role(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The role's id (a UUID; anything else is BAD_USER_INPUT).")] id: ID,
    ) -> Result<Option<SpeakerRole>> {
        let id = uuid("id", &id)?;
        let role = speaker_role::Entity::live()
            .filter(speaker_role::Column::Id.eq(id))
            .one(db(ctx))
            .await
            .map_err(ApiError::from)?;
        Ok(role.map(SpeakerRole))
    }
}

/// A new role of a speaker. Roles of one speaker may overlap; the one started last wins
/// where they do.
#[derive(InputObject, Debug)]
pub struct CreateSpeakerRoleInput {
    /// The live speaker who held the role; an unknown one is NOT_FOUND.
    pub speaker_id: ID,
    /// The office or position: non-empty after trimming, at most 300 characters.
    pub title: String,
    /// The body the role belongs to, at most 300 characters; absent or blank stores none.
    pub organization: Option<String>,
    /// First day in the role; absent when unknown.
    pub started_on: Option<Date>,
    /// Last day in the role, inclusive, on or after `startedOn`; absent while it lasts or
    /// when unknown.
    pub ended_on: Option<Date>,
}

/// Changes to a role read at `version`. An absent field is left as it is; `null` clears a
/// clearable one. A role cannot move to another speaker.
#[derive(InputObject, Debug)]
pub struct UpdateSpeakerRoleInput {
    /// The role to change.
    pub id: ID,
    /// The `version` the client last read; a CONFLICT when the record has changed since.
    pub version: i32,
    /// A new title (non-empty, at most 300 characters); absent keeps the current one.
    pub title: Option<String>,
    /// A new organization (at most 300 characters); `null` or blank clears it, absent keeps
    /// it.
    pub organization: MaybeUndefined<String>,
    /// A new first day; `null` makes the start unknown, absent keeps it.
    pub started_on: MaybeUndefined<Date>,
    /// A new last day, on or after the start; `null` makes the role open-ended, absent
    /// keeps it.
    pub ended_on: MaybeUndefined<Date>,
}

pub struct CreateSpeakerRolePayload(pub speaker_role::Model);

/// The result of `createSpeakerRole`.
#[Object]
impl CreateSpeakerRolePayload {
    /// The role as stored, at version 1.
    async fn speaker_role(&self) -> SpeakerRole {
        SpeakerRole(self.0.clone())
    }
}

pub struct UpdateSpeakerRolePayload(pub speaker_role::Model);

/// The result of `updateSpeakerRole`.
#[Object]
impl UpdateSpeakerRolePayload {
    /// The role after the change, at its new version.
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
    /// Records a role a speaker held. Needs an EDITOR or ADMIN key.
    async fn create_speaker_role(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The new role: its speaker, title, organization and dates.")]
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

    /// Changes a role read at `version`; a stale version is a CONFLICT. Needs an EDITOR or
    /// ADMIN key.
    async fn update_speaker_role(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The role, the version read, and the fields to change.")]
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

    /// Soft-deletes a role read at `version`; statements made in it then show no role for
    /// those days. Needs an EDITOR or ADMIN key.
    async fn delete_speaker_role(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The role and the version read.")] input: DeleteInput,
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
