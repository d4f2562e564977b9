//! `Speaker`: object, lookups and list, create/update/delete.

use async_graphql::{Context, ID, InputObject, MaybeUndefined, Object, Result};
use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, QueryFilter};

use crate::error::{ApiError, ApiResult};
use crate::graphql::common::{DeleteInput, DeletePayload};
use crate::graphql::enums::SpeakerKind;
use crate::graphql::loader::{ById, Children, RolesOfSpeaker};
use crate::graphql::pagination::{self, Conn, Ordering, PageArgs, SortValue};
use crate::graphql::scalars::{id, uuid};
use crate::graphql::speaker_role::SpeakerRole;
use crate::graphql::statement::{Statement, StatementFilter, StatementOrder};
use crate::graphql::{actor, db, loaders};
use crate::service::{self, Record};
use entity::speaker;

/// A person, organisation or group that makes statements.
pub struct Speaker(pub speaker::Model);

impl From<speaker::Model> for Speaker {
    fn from(m: speaker::Model) -> Self {
        Self(m)
    }
}

#[Object]
impl Speaker {
    async fn id(&self) -> ID {
        id(self.0.id)
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    async fn slug(&self) -> &str {
        &self.0.slug
    }
    async fn kind(&self) -> SpeakerKind {
        self.0.kind.into()
    }
    async fn description(&self) -> Option<&str> {
        self.0.description.as_deref()
    }
    /// Wikidata item id, such as `Q1234`.
    async fn wikidata_id(&self) -> Option<&str> {
        self.0.wikidata_id.as_deref()
    }
    async fn aliases(&self) -> &[String] {
        &self.0.aliases
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
    /// Offices and positions held, earliest first.
    async fn roles(&self, ctx: &Context<'_>) -> Result<Vec<SpeakerRole>> {
        let roles = loaders(ctx)
            .load_one(Children::<RolesOfSpeaker>::new(self.0.id))
            .await?;
        Ok(roles
            .unwrap_or_default()
            .into_iter()
            .map(SpeakerRole::from)
            .collect())
    }
    /// This speaker's positions on a claim (by `claimId` or `claimSlug`), oldest first.
    async fn position_history(
        &self,
        ctx: &Context<'_>,
        claim_id: Option<ID>,
        #[graphql(desc = "The claim by slug, instead of `claimId`.")] claim_slug: Option<String>,
        #[graphql(desc = "Answer as the database stood at this instant.")] as_of: Option<
            DateTime<Utc>,
        >,
    ) -> Result<Vec<crate::graphql::position::Position>> {
        let claim = crate::graphql::common::lookup::<entity::claim::Entity>(
            ctx,
            claim_id,
            claim_slug,
            entity::claim::Column::Slug,
            None,
        )
        .await?
        .ok_or_else(|| ApiError::unknown_reference("claim", "claimId"))?;
        Ok(crate::graphql::position::history(ctx, self.0.id, claim.id, as_of).await?)
    }
    /// This speaker's statements (not those they only reported).
    #[expect(clippy::too_many_arguments, reason = "Relay arguments")]
    async fn statements(
        &self,
        ctx: &Context<'_>,
        filter: Option<StatementFilter>,
        order_by: Option<StatementOrder>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> Result<Conn<Statement>> {
        let mut filter = filter.unwrap_or_default();
        filter.speaker_ids = Some(vec![id(self.0.id)]);
        Ok(crate::graphql::statement::list(
            ctx,
            filter,
            order_by,
            PageArgs::new(first, after, last, before),
        )
        .await?)
    }
}

/// Narrows a list of speakers.
#[derive(InputObject, Default, Debug)]
pub struct SpeakerFilter {
    pub kind: Option<SpeakerKind>,
    /// Case-insensitive part of the name or of an alias.
    pub name: Option<String>,
}

#[derive(Default)]
pub struct SpeakerQuery;

#[Object]
impl SpeakerQuery {
    /// One speaker, by id or by slug.
    async fn speaker(
        &self,
        ctx: &Context<'_>,
        id: Option<ID>,
        slug: Option<String>,
        #[graphql(desc = "Answer as the database stood at this instant.")] as_of: Option<
            DateTime<Utc>,
        >,
    ) -> Result<Option<Speaker>> {
        let found = crate::graphql::common::lookup::<speaker::Entity>(
            ctx,
            id,
            slug,
            speaker::Column::Slug,
            as_of,
        )
        .await?;
        Ok(found.map(Speaker))
    }

    /// Speakers by name.
    async fn speakers(
        &self,
        ctx: &Context<'_>,
        filter: Option<SpeakerFilter>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> Result<Conn<Speaker>> {
        let filter = filter.unwrap_or_default();
        let mut select = speaker::Entity::live();
        if let Some(kind) = filter.kind {
            select = select.filter(speaker::Column::Kind.eq(entity::SpeakerKind::from(kind)));
        }
        if let Some(name) = filter
            .name
            .as_deref()
            .map(str::trim)
            .filter(|n| !n.is_empty())
        {
            select = select.filter(service::speaker::name_matches(name));
        }
        let ordering = Ordering::<speaker::Entity> {
            column: Some(speaker::Column::Name),
            key_of: |m| Some(SortValue::Text(m.name.clone())),
            descending: false,
        };
        Ok(pagination::page(
            db(ctx),
            select,
            &ordering,
            &PageArgs::new(first, after, last, before),
        )
        .await?)
    }
}

#[derive(InputObject, Debug)]
pub struct CreateSpeakerInput {
    pub name: String,
    /// Made from the name when not given.
    pub slug: Option<String>,
    pub kind: SpeakerKind,
    pub description: Option<String>,
    pub wikidata_id: Option<String>,
    #[graphql(default)]
    pub aliases: Vec<String>,
}

#[derive(InputObject, Debug)]
pub struct UpdateSpeakerInput {
    pub id: ID,
    /// The version the client read.
    pub version: i32,
    pub name: Option<String>,
    pub slug: Option<String>,
    pub kind: Option<SpeakerKind>,
    pub description: MaybeUndefined<String>,
    pub wikidata_id: MaybeUndefined<String>,
    pub aliases: Option<Vec<String>>,
}

pub struct CreateSpeakerPayload(pub speaker::Model);

#[Object]
impl CreateSpeakerPayload {
    async fn speaker(&self) -> Speaker {
        Speaker(self.0.clone())
    }
}

pub struct UpdateSpeakerPayload(pub speaker::Model);

#[Object]
impl UpdateSpeakerPayload {
    async fn speaker(&self) -> Speaker {
        Speaker(self.0.clone())
    }
}

#[derive(Default)]
pub struct SpeakerMutation;

#[Object]
impl SpeakerMutation {
    async fn create_speaker(
        &self,
        ctx: &Context<'_>,
        input: CreateSpeakerInput,
    ) -> Result<CreateSpeakerPayload> {
        let new = service::speaker::NewSpeaker {
            name: input.name,
            slug: input.slug,
            kind: input.kind.into(),
            description: input.description,
            wikidata_id: input.wikidata_id,
            aliases: input.aliases,
        };
        let model = service::speaker::create(db(ctx), &actor(ctx), new).await?;
        Ok(CreateSpeakerPayload(model))
    }

    async fn update_speaker(
        &self,
        ctx: &Context<'_>,
        input: UpdateSpeakerInput,
    ) -> Result<UpdateSpeakerPayload> {
        let patch = service::speaker::SpeakerPatch {
            name: input.name,
            slug: input.slug,
            kind: input.kind.map(Into::into),
            description: input.description.into(),
            wikidata_id: input.wikidata_id.into(),
            aliases: input.aliases,
        };
        let id = uuid("input.id", &input.id)?;
        let model =
            service::speaker::update(db(ctx), &actor(ctx), id, input.version, patch).await?;
        Ok(UpdateSpeakerPayload(model))
    }

    async fn delete_speaker(&self, ctx: &Context<'_>, input: DeleteInput) -> Result<DeletePayload> {
        let id = uuid("input.id", &input.id)?;
        let model = service::speaker::delete(db(ctx), &actor(ctx), id, input.version).await?;
        Ok(DeletePayload {
            deleted_id: input.id,
            version: model.version,
        })
    }
}

/// Loads one speaker through the batch loader.
pub async fn load(ctx: &Context<'_>, id: uuid::Uuid) -> ApiResult<Option<Speaker>> {
    Ok(loaders(ctx)
        .load_one(ById::<speaker::Entity>::new(id))
        .await?
        .map(Speaker))
}
