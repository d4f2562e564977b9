//! `Speaker`: object, lookups and list, create/update/delete.

use async_graphql::{Context, ID, InputObject, MaybeUndefined, Object, Result};
use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, QueryFilter};

use crate::auth::Viewer;
use crate::error::{ApiError, ApiResult};
use crate::graphql::common::{DeleteInput, DeletePayload};
use crate::graphql::enums::SpeakerKind;
use crate::graphql::loader::{ById, Children, RolesOfSpeaker};
use crate::graphql::pagination::{self, Conn, ListQuery, Ordering, PageArgs, SortValue};
use crate::graphql::scalars::{id, uuid};
use crate::graphql::speaker_role::SpeakerRole;
use crate::graphql::statement::{Statement, StatementFilter, StatementOrder};
use crate::graphql::{actor, db, loaders, viewer};
use crate::service::{self, Record};
use entity::speaker;

/// A person, organisation or group that makes statements.
pub struct Speaker(pub speaker::Model);

impl From<speaker::Model> for Speaker {
    fn from(m: speaker::Model) -> Self {
        Self(m)
    }
}

/// A person, organisation or group that makes statements: Sergei Lavrov, a ministry, "some
/// members of U.S. Congress". Every caller sees live (not deleted) speakers.
#[Object]
impl Speaker {
    /// Stable identifier (UUID v7, time-ordered). Use it in `speaker(id:)`, in `speakerIds`
    /// filters and in mutations.
    async fn id(&self) -> ID {
        id(self.0.id)
    }
    /// The name the speaker is usually known by (at most 300 characters), such as
    /// `Sergei Lavrov`.
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// Unique handle for URLs and lookups, such as `sergei-lavrov`: lower-case letters and
    /// digits in dash-separated runs, at most 100 characters. Use it in `speaker(slug:)`
    /// and `speakerSlugs` filters.
    async fn slug(&self) -> &str {
        &self.0.slug
    }
    /// Whether the speaker is a PERSON, an ORGANIZATION or a GROUP.
    async fn kind(&self) -> SpeakerKind {
        self.0.kind.into()
    }
    /// A free-text note on who the speaker is (at most 5,000 characters); null when none
    /// was written.
    async fn description(&self) -> Option<&str> {
        self.0.description.as_deref()
    }
    /// Wikidata item id, such as `Q1234`, unique among live speakers; null when the speaker
    /// is not linked to Wikidata.
    async fn wikidata_id(&self) -> Option<&str> {
        self.0.wikidata_id.as_deref()
    }
    /// Other names the speaker goes by (spellings, transliterations, former names), at most
    /// 50; `speakers(filter: {name})` and imports match them too. Empty when there are
    /// none.
    async fn aliases(&self) -> &[String] {
        &self.0.aliases
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
    /// Offices and positions the speaker held, by `startedOn`, earliest first; roles
    /// without a known start come last. Empty when none are recorded.
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
    /// This speaker's positions on one claim, oldest first, as `positionHistory` orders
    /// them (reported statements included and flagged). Name the claim by `claimId` or
    /// `claimSlug`, exactly one; an unknown claim is NOT_FOUND. Empty when the speaker
    /// never took a stance on it.
    async fn position_history(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The claim, by id. Give exactly one of `claimId` and `claimSlug`.")]
        claim_id: Option<ID>,
        #[graphql(
            desc = "The claim, by slug (such as `russia-us-cyber-security-working-group`), instead of `claimId`."
        )]
        claim_slug: Option<String>,
        #[graphql(
            desc = "The history as the database stood at this instant (RFC 3339), rebuilt from the revisions; absent means now. The claim itself is looked up as it is now."
        )]
        as_of: Option<DateTime<Utc>>,
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
    /// This speaker's own statements (not those they only reported), oldest first unless
    /// `orderBy` says otherwise, as a Relay connection.
    #[expect(clippy::too_many_arguments, reason = "Relay arguments")]
    async fn statements(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "Further conditions, as in `statements(filter:)`; its `speakerIds` is replaced by this speaker."
        )]
        filter: Option<StatementFilter>,
        #[graphql(desc = "Order of the list; STATED_ON_ASC (oldest statement first) when absent.")]
        order_by: Option<StatementOrder>,
        #[graphql(
            desc = "Page size counted from the start of the list: 0 to 100; 20 when neither `first` nor `last` is given."
        )]
        first: Option<i32>,
        #[graphql(
            desc = "Cursor to continue after (an `edges.cursor` or `pageInfo.endCursor` of this list); opaque, and refused for another list or ordering."
        )]
        after: Option<String>,
        #[graphql(
            desc = "Page size counted from the end of the list, paging backward: 0 to 100. Give `first` or `last`, not both."
        )]
        last: Option<i32>,
        #[graphql(
            desc = "Cursor to stop before (an `edges.cursor` or `pageInfo.startCursor` of this list); alone or with `last` it pages backward. Give `after` or `before`, not both."
        )]
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

/// Narrows `speakers`; all given conditions must hold, and an absent one does not narrow.
#[derive(InputObject, Default, Debug)]
pub struct SpeakerFilter {
    /// Only speakers of this kind.
    pub kind: Option<SpeakerKind>,
    /// A case-insensitive part of the name or of an alias (`lavr` finds Sergei Lavrov);
    /// blank does not narrow.
    pub name: Option<String>,
}

/// The `speakers` list: its rows and order, for the resolvers and the compiled reads.
pub fn list_query(filter: Option<SpeakerFilter>, _viewer: &Viewer) -> ListQuery<speaker::Entity> {
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
    Ok((select, ordering))
}

#[derive(Default)]
pub struct SpeakerQuery;

#[Object]
impl SpeakerQuery {
    /// One live speaker, by `id` or by `slug` (exactly one); null when none matches. With
    /// `asOf`, the speaker as it stood then: null when it did not exist yet or was deleted
    /// by then. Open to every caller.
    async fn speaker(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The speaker's id. Give exactly one of `id` and `slug`.")] id: Option<ID>,
        #[graphql(
            desc = "The speaker's slug, such as `sergei-lavrov`. Give exactly one of `id` and `slug`."
        )]
        slug: Option<String>,
        #[graphql(
            desc = "Answer as the database stood at this instant (RFC 3339), rebuilt from the revisions; absent means now."
        )]
        as_of: Option<DateTime<Utc>>,
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

    /// Live speakers, alphabetically by name (then by id), as a Relay connection. Open to
    /// every caller.
    async fn speakers(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Conditions on kind and name; absent lists every speaker.")]
        filter: Option<SpeakerFilter>,
        #[graphql(
            desc = "Page size counted from the start of the list: 0 to 100; 20 when neither `first` nor `last` is given."
        )]
        first: Option<i32>,
        #[graphql(
            desc = "Cursor to continue after (an `edges.cursor` or `pageInfo.endCursor` of this list); opaque, and refused for another list or ordering."
        )]
        after: Option<String>,
        #[graphql(
            desc = "Page size counted from the end of the list, paging backward: 0 to 100. Give `first` or `last`, not both."
        )]
        last: Option<i32>,
        #[graphql(
            desc = "Cursor to stop before (an `edges.cursor` or `pageInfo.startCursor` of this list); alone or with `last` it pages backward. Give `after` or `before`, not both."
        )]
        before: Option<String>,
    ) -> Result<Conn<Speaker>> {
        let (select, ordering) = list_query(filter, viewer(ctx))?;
        Ok(pagination::page(
            db(ctx),
            select,
            &ordering,
            &PageArgs::new(first, after, last, before),
        )
        .await?)
    }
}

/// A new speaker. A slug or Wikidata id another live speaker has is BAD_USER_INPUT naming
/// the field.
#[derive(InputObject, Debug)]
pub struct CreateSpeakerInput {
    /// The name the speaker is usually known by: non-empty after trimming, at most 300
    /// characters.
    pub name: String,
    /// Unique handle: lower-case letters and digits in dash-separated runs, at most 100
    /// characters. When absent, made from the name (transliterated: `Сергей Лавров` gives
    /// `sergei-lavrov`).
    pub slug: Option<String>,
    /// Whether the speaker is a PERSON, an ORGANIZATION or a GROUP.
    pub kind: SpeakerKind,
    /// A note on who the speaker is, at most 5,000 characters; absent or blank stores none.
    pub description: Option<String>,
    /// Wikidata item id such as `Q1234`, unique among live speakers; absent when unknown.
    pub wikidata_id: Option<String>,
    #[graphql(default)]
    /// Other names the speaker goes by, at most 50 of at most 300 characters each; repeats
    /// are dropped. Empty by default.
    pub aliases: Vec<String>,
}

/// Changes to a speaker read at `version`. An absent field is left as it is; `null` clears
/// a clearable field (`description`, `wikidataId`).
#[derive(InputObject, Debug)]
pub struct UpdateSpeakerInput {
    /// The speaker to change.
    pub id: ID,
    /// The `version` the client last read; a CONFLICT when the record has changed since.
    pub version: i32,
    /// A new name (non-empty, at most 300 characters); absent keeps the current one.
    pub name: Option<String>,
    /// A new slug (lower-case letters and digits in dash-separated runs, at most 100,
    /// unique); absent keeps the current one.
    pub slug: Option<String>,
    /// A new kind; absent keeps the current one.
    pub kind: Option<SpeakerKind>,
    /// A new note (at most 5,000 characters); `null` or blank clears it, absent keeps it.
    pub description: MaybeUndefined<String>,
    /// A new Wikidata item id such as `Q1234`; `null` clears it, absent keeps it.
    pub wikidata_id: MaybeUndefined<String>,
    /// Replaces all aliases (at most 50); an empty list removes them, absent keeps them.
    pub aliases: Option<Vec<String>>,
}

pub struct CreateSpeakerPayload(pub speaker::Model);

/// The result of `createSpeaker`.
#[Object]
impl CreateSpeakerPayload {
    /// The speaker as stored, at version 1, with the slug it was given or made.
    async fn speaker(&self) -> Speaker {
        Speaker(self.0.clone())
    }
}

pub struct UpdateSpeakerPayload(pub speaker::Model);

/// The result of `updateSpeaker`.
#[Object]
impl UpdateSpeakerPayload {
    /// The speaker after the change, at its new version.
    async fn speaker(&self) -> Speaker {
        Speaker(self.0.clone())
    }
}

#[derive(Default)]
pub struct SpeakerMutation;

#[Object]
impl SpeakerMutation {
    /// Creates a speaker. Needs an EDITOR or ADMIN key.
    async fn create_speaker(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "The new speaker: name, kind, and optionally slug, description, Wikidata id and aliases."
        )]
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

    /// Changes a speaker read at `version`; a stale version is a CONFLICT. Needs an EDITOR
    /// or ADMIN key.
    async fn update_speaker(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The speaker, the version read, and the fields to change.")]
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

    /// Soft-deletes a speaker read at `version`. Refused (CONFLICT) while live statements
    /// are theirs or were reported by them. Needs an EDITOR or ADMIN key.
    async fn delete_speaker(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The speaker and the version read.")] input: DeleteInput,
    ) -> Result<DeletePayload> {
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
