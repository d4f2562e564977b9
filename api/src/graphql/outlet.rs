//! `Outlet`: object, lookups and list, create/update/delete.

use async_graphql::{Context, ID, InputObject, MaybeUndefined, Object, Result};
use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, QueryFilter};

use crate::error::{ApiError, ApiResult};
use crate::graphql::article::Article;
use crate::graphql::common::{DeleteInput, DeletePayload};
use crate::graphql::loader::ById;
use crate::graphql::pagination::{self, Conn, Ordering, PageArgs, SortValue};
use crate::graphql::scalars::{id, uuid};
use crate::graphql::{actor, db, loaders};
use crate::service::{self, Record};
use entity::{article, outlet};

/// A publisher or a fact-checking organisation.
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
    async fn name(&self) -> &str {
        &self.0.name
    }
    async fn slug(&self) -> &str {
        &self.0.slug
    }
    /// The outlet's home page, normalized.
    async fn homepage(&self) -> Option<&str> {
        self.0.homepage.as_deref()
    }
    /// ISO 3166-1 alpha-2 country code, such as `RU`.
    async fn country(&self) -> Option<&str> {
        self.0.country.as_deref()
    }
    /// Main language, as a language tag such as `en`.
    async fn language(&self) -> Option<&str> {
        self.0.language.as_deref()
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
    /// This outlet's articles, newest first.
    async fn articles(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> Result<Conn<Article>> {
        let select = article::Entity::live().filter(article::Column::OutletId.eq(self.0.id));
        let ordering = Ordering::<article::Entity>::by_id(true);
        let args = PageArgs::new(first, after, last, before);
        Ok(pagination::page(db(ctx), select, &ordering, &args).await?)
    }
}

/// Narrows a list of outlets.
#[derive(InputObject, Default, Debug)]
pub struct OutletFilter {
    /// Case-insensitive part of the name.
    pub name: Option<String>,
}

#[derive(Default)]
pub struct OutletQuery;

#[Object]
impl OutletQuery {
    /// One outlet, by id or by slug.
    async fn outlet(
        &self,
        ctx: &Context<'_>,
        id: Option<ID>,
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

    /// Outlets by name.
    async fn outlets(
        &self,
        ctx: &Context<'_>,
        filter: Option<OutletFilter>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> Result<Conn<Outlet>> {
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
        let args = PageArgs::new(first, after, last, before);
        Ok(pagination::page(db(ctx), select, &ordering, &args).await?)
    }
}

#[derive(InputObject, Debug)]
pub struct CreateOutletInput {
    pub name: String,
    /// Made from the name when not given.
    pub slug: Option<String>,
    pub homepage: Option<String>,
    /// ISO 3166-1 alpha-2 code, in either case.
    pub country: Option<String>,
    pub language: Option<String>,
}

#[derive(InputObject, Debug)]
pub struct UpdateOutletInput {
    pub id: ID,
    /// The version the client read.
    pub version: i32,
    pub name: Option<String>,
    pub slug: Option<String>,
    pub homepage: MaybeUndefined<String>,
    pub country: MaybeUndefined<String>,
    pub language: MaybeUndefined<String>,
}

pub struct CreateOutletPayload(pub outlet::Model);

#[Object]
impl CreateOutletPayload {
    async fn outlet(&self) -> Outlet {
        Outlet(self.0.clone())
    }
}

pub struct UpdateOutletPayload(pub outlet::Model);

#[Object]
impl UpdateOutletPayload {
    async fn outlet(&self) -> Outlet {
        Outlet(self.0.clone())
    }
}

#[derive(Default)]
pub struct OutletMutation;

#[Object]
impl OutletMutation {
    async fn create_outlet(
        &self,
        ctx: &Context<'_>,
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

    async fn update_outlet(
        &self,
        ctx: &Context<'_>,
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

    /// Refused (CONFLICT) while live articles or verdicts refer to the outlet.
    async fn delete_outlet(&self, ctx: &Context<'_>, input: DeleteInput) -> Result<DeletePayload> {
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
