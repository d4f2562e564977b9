//! `Outlet`: object, lookups and list, create/update/delete.

use async_graphql::{Context, ID, InputObject, MaybeUndefined, Object, Result};
use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, QueryFilter};

use crate::error::{ApiError, ApiResult};
use crate::graphql::article::Article;
use crate::graphql::common::{DeleteInput, DeletePayload};
use crate::graphql::loader::ById;
use crate::graphql::pagination::{self, Conn, ListQuery, Ordering, PageArgs, SortValue};
use crate::graphql::scalars::{id, uuid};
use crate::graphql::{actor, db, loaders, viewer};
use crate::service::{self, Record};
use entity::{article, outlet};

/// A publisher or a fact-checking organisation.
pub struct Outlet(pub outlet::Model);

impl From<outlet::Model> for Outlet {
    fn from(m: outlet::Model) -> Self {
        Self(m)
    }
}

/// A publisher (TASS) or a fact-checking organisation: the outlet of articles and the
/// reviewer of verdicts. Every caller sees live outlets.
#[Object]
impl Outlet {
    /// Stable identifier (UUID v7, time-ordered). Use it in `outlet(id:)`, `outletIds` and
    /// `reviewerIds` filters and in mutations.
    async fn id(&self) -> ID {
        id(self.0.id)
    }
    /// The outlet's name, such as `TASS` (at most 300 characters).
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// Unique handle, such as `tass`: lower-case letters and digits in dash-separated runs,
    /// at most 100 characters. Use it in `outlet(slug:)`.
    async fn slug(&self) -> &str {
        &self.0.slug
    }
    /// The outlet's home page as an http(s) address in normal form (lower-case scheme and
    /// host, no fragment, no tracking parameters); null when not recorded.
    async fn homepage(&self) -> Option<&str> {
        self.0.homepage.as_deref()
    }
    /// ISO 3166-1 alpha-2 country code, upper case, such as `RU`; null when not recorded.
    async fn country(&self) -> Option<&str> {
        self.0.country.as_deref()
    }
    /// Main language, as a language tag such as `en`, `ru` or `pt-BR`; null when not
    /// recorded.
    async fn language(&self) -> Option<&str> {
        self.0.language.as_deref()
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
    /// This outlet's live articles, most recently entered first (the order they were added
    /// to ClaimTrack, not their publication dates), as a Relay connection.
    async fn articles(
        &self,
        ctx: &Context<'_>,
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
    ) -> Result<Conn<Article>> {
        let select = article::Entity::live().filter(article::Column::OutletId.eq(self.0.id));
        let ordering = Ordering::<article::Entity>::by_id(true);
        let args = PageArgs::new(first, after, last, before);
        Ok(pagination::page(db(ctx), select, &ordering, &args).await?)
    }
}

/// Narrows `outlets`; an absent condition does not narrow.
#[derive(InputObject, Default, Debug)]
pub struct OutletFilter {
    /// A case-insensitive part of the name; blank does not narrow.
    pub name: Option<String>,
}

#[derive(Default)]
pub struct OutletQuery;

#[Object]
impl OutletQuery {
    /// One live outlet, by `id` or by `slug` (exactly one); null when none matches. Open to
    /// every caller.
    async fn outlet(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The outlet's id. Give exactly one of `id` and `slug`.")] id: Option<ID>,
        #[graphql(
            desc = "The outlet's slug, such as `tass`. Give exactly one of `id` and `slug`."
        )]
        slug: Option<String>,
    ) -> Result<Option<Outlet>> {
        let query = match (id, slug) {
            (Some(id), None) => {
                outlet::Entity::live().filter(outlet::Column::Id.eq(uuid("id", &id)?))
            }
            (None, Some(slug)) => outlet::Entity::live().filter(outlet::Column::Slug.eq(slug)),
            _ => {
                return Err(
                    ApiError::bad_input("id", "give exactly one of `id` and `slug`").into(),
                );
            }
        };
        Ok(query
            .one(db(ctx))
            .await
            .map_err(ApiError::from)?
            .map(Outlet))
    }

    /// Live outlets, alphabetically by name (then by id), as a Relay connection. Open to
    /// every caller.
    async fn outlets(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "A condition on the name; absent lists every outlet.")] filter: Option<
            OutletFilter,
        >,
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
    ) -> Result<Conn<Outlet>> {
        let (select, ordering) = list_query(filter, viewer(ctx))?;
        let args = PageArgs::new(first, after, last, before);
        Ok(pagination::page(db(ctx), select, &ordering, &args).await?)
    }
}

/// The `outlets` list: its rows and order, for the resolvers and the compiled reads.
pub fn list_query(
    filter: Option<OutletFilter>,
    _viewer: &crate::auth::Viewer,
) -> ListQuery<outlet::Entity> {
    let filter = filter.unwrap_or_default();
    let mut select = outlet::Entity::live();
    if let Some(name) = filter
        .name
        .as_deref()
        .map(str::trim)
        .filter(|n| !n.is_empty())
    {
        select = select.filter(service::outlet::name_matches(name));
    }
    let ordering = Ordering::<outlet::Entity> {
        column: Some(outlet::Column::Name),
        key_of: |m| Some(SortValue::Text(m.name.clone())),
        descending: false,
    };
    Ok((select, ordering))
}

/// A new outlet. A slug another live outlet has is BAD_USER_INPUT.
#[derive(InputObject, Debug)]
pub struct CreateOutletInput {
    /// The outlet's name: non-empty after trimming, at most 300 characters.
    pub name: String,
    /// Unique handle: lower-case letters and digits in dash-separated runs, at most 100
    /// characters. When absent, made from the name.
    pub slug: Option<String>,
    /// The home page, an http(s) address; stored in normal form. Absent or blank stores
    /// none.
    pub homepage: Option<String>,
    /// ISO 3166-1 alpha-2 code in either case (`ru` is stored as `RU`); absent or blank
    /// stores none.
    pub country: Option<String>,
    /// Main language as a language tag such as `en`, `ru` or `pt-BR`; absent or blank
    /// stores none.
    pub language: Option<String>,
}

/// Changes to an outlet read at `version`. An absent field is left as it is; `null` clears
/// a clearable one.
#[derive(InputObject, Debug)]
pub struct UpdateOutletInput {
    /// The outlet to change.
    pub id: ID,
    /// The `version` the client last read; a CONFLICT when the record has changed since.
    pub version: i32,
    /// A new name (non-empty, at most 300 characters); absent keeps the current one.
    pub name: Option<String>,
    /// A new slug (lower-case letters and digits in dash-separated runs, at most 100,
    /// unique); absent keeps the current one.
    pub slug: Option<String>,
    /// A new home page (http or https); `null` or blank clears it, absent keeps it.
    pub homepage: MaybeUndefined<String>,
    /// A new ISO 3166-1 alpha-2 country code; `null` or blank clears it, absent keeps it.
    pub country: MaybeUndefined<String>,
    /// A new language tag; `null` or blank clears it, absent keeps it.
    pub language: MaybeUndefined<String>,
}

pub struct CreateOutletPayload(pub outlet::Model);

/// The result of `createOutlet`.
#[Object]
impl CreateOutletPayload {
    /// The outlet as stored, at version 1, with the slug it was given or made.
    async fn outlet(&self) -> Outlet {
        Outlet(self.0.clone())
    }
}

pub struct UpdateOutletPayload(pub outlet::Model);

/// The result of `updateOutlet`.
#[Object]
impl UpdateOutletPayload {
    /// The outlet after the change, at its new version.
    async fn outlet(&self) -> Outlet {
        Outlet(self.0.clone())
    }
}

#[derive(Default)]
pub struct OutletMutation;

#[Object]
impl OutletMutation {
    /// Creates an outlet (a publisher or a fact-checker). Needs an EDITOR or ADMIN key.
    async fn create_outlet(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "The new outlet: name, and optionally slug, homepage, country and language."
        )]
        input: CreateOutletInput,
    ) -> Result<CreateOutletPayload> {
        let new = service::outlet::NewOutlet {
            name: input.name,
            slug: input.slug,
            homepage: input.homepage,
            country: input.country,
            language: input.language,
        };
        let model = service::outlet::create(db(ctx), &actor(ctx), new).await?;
        Ok(CreateOutletPayload(model))
    }

    /// Changes an outlet read at `version`; a stale version is a CONFLICT. Needs an EDITOR
    /// or ADMIN key.
    async fn update_outlet(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The outlet, the version read, and the fields to change.")]
        input: UpdateOutletInput,
    ) -> Result<UpdateOutletPayload> {
        let patch = service::outlet::OutletPatch {
            name: input.name,
            slug: input.slug,
            homepage: input.homepage.into(),
            country: input.country.into(),
            language: input.language.into(),
        };
        let id = uuid("input.id", &input.id)?;
        let model = service::outlet::update(db(ctx), &actor(ctx), id, input.version, patch).await?;
        Ok(UpdateOutletPayload(model))
    }

    /// Soft-deletes an outlet read at `version`. Refused (CONFLICT) while live articles or
    /// verdicts refer to it. Needs an EDITOR or ADMIN key.
    async fn delete_outlet(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The outlet and the version read.")] input: DeleteInput,
    ) -> Result<DeletePayload> {
        let id = uuid("input.id", &input.id)?;
        let model = service::outlet::delete(db(ctx), &actor(ctx), id, input.version).await?;
        Ok(DeletePayload {
            deleted_id: input.id,
            version: model.version,
        })
    }
}

/// Loads one outlet through the batch loader.
pub async fn load(ctx: &Context<'_>, id: uuid::Uuid) -> ApiResult<Option<Outlet>> {
    Ok(loaders(ctx)
        .load_one(ById::<outlet::Entity>::new(id))
        .await?
        .map(Outlet))
}
