//! Outlets: publishers and fact-checking organisations. Slugs are unique among live
//! outlets; an outlet that live articles or verdicts still refer to cannot be deleted.

use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ConnectionTrait, IntoActiveModel, TransactionSession,
    TransactionTrait,
};
use tracing::instrument;
use uuid::Uuid;

use crate::error::ApiResult;
use crate::service::audit::{self, Actor};
use crate::service::record::{self, ensure_unique};
use crate::service::validate::{self, MAX_NAME};
use crate::service::validate::{optional_language, optional_url};
use entity::{RevisionAction, article, outlet, verdict};

#[derive(Debug, Clone)]
pub struct NewOutlet {
    pub name: String,
    /// Made from the name when not given.
    pub slug: Option<String>,
    pub homepage: Option<String>,
    pub country: Option<String>,
    pub language: Option<String>,
}

/// A partial update: `None` leaves a field as it is; `Some(None)` clears it.
#[derive(Debug, Clone, Default)]
pub struct OutletPatch {
    pub name: Option<String>,
    pub slug: Option<String>,
    pub homepage: Option<Option<String>>,
    pub country: Option<Option<String>>,
    pub language: Option<Option<String>>,
}

/// An ISO 3166-1 alpha-2 code, upper-cased; blank means absent.
fn country(value: Option<&str>) -> ApiResult<Option<String>> {
    value
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(|v| validate::country("input.country", v))
        .transpose()
}

#[instrument(skip(db))]
pub async fn create<C: TransactionTrait + ConnectionTrait>(
    db: &C,
    actor: &Actor,
    input: NewOutlet,
) -> ApiResult<outlet::Model> {
    let name = validate::text("input.name", &input.name, MAX_NAME)?;
    let slug = validate::slug_or_from("input.slug", input.slug.as_deref(), &name)?;
    let homepage = optional_url("input.homepage", input.homepage.as_deref())?;
    let country = country(input.country.as_deref())?;
    let language = optional_language("input.language", input.language.as_deref())?;

    let txn = db.begin().await?;
    ensure_unique::<outlet::Entity, _>(&txn, outlet::Column::Slug, &slug, None, "input.slug")
        .await?;
    let now = Utc::now();
    let model = outlet::ActiveModel {
        id: Set(Uuid::now_v7()),
        name: Set(name),
        slug: Set(slug),
        homepage: Set(homepage),
        country: Set(country),
        language: Set(language),
        created_at: Set(now),
        updated_at: Set(now),
        version: Set(1),
        deleted_at: Set(None),
    }
    .insert(&txn)
    .await?;
    audit::record::<outlet::Entity, _>(&txn, actor, RevisionAction::Create, None, Some(&model))
        .await?;
    txn.commit().await?;
    Ok(model)
}

#[instrument(skip(db))]
pub async fn update<C: TransactionTrait + ConnectionTrait>(
    db: &C,
    actor: &Actor,
    id: Uuid,
    version: i32,
    patch: OutletPatch,
) -> ApiResult<outlet::Model> {
    let name = patch
        .name
        .as_deref()
        .map(|n| validate::text("input.name", n, MAX_NAME))
        .transpose()?;
    let slug = patch
        .slug
        .as_deref()
        .map(|s| validate::slug("input.slug", s))
        .transpose()?;
    let homepage = patch
        .homepage
        .map(|h| optional_url("input.homepage", h.as_deref()))
        .transpose()?;
    let country = patch.country.map(|c| country(c.as_deref())).transpose()?;
    let language = patch
        .language
        .map(|l| optional_language("input.language", l.as_deref()))
        .transpose()?;

    let txn = db.begin().await?;
    let before = record::lock_for_change::<outlet::Entity, _>(&txn, id, version).await?;
    if let Some(slug) = &slug {
        ensure_unique::<outlet::Entity, _>(
            &txn,
            outlet::Column::Slug,
            slug,
            Some(id),
            "input.slug",
        )
        .await?;
    }
    let mut active = before.clone().into_active_model();
    record::patch(&mut active.name, name);
    record::patch(&mut active.slug, slug);
    record::patch(&mut active.homepage, homepage);
    record::patch(&mut active.country, country);
    record::patch(&mut active.language, language);
    let after = record::save_update::<outlet::Entity, _>(&txn, actor, &before, active).await?;
    txn.commit().await?;
    Ok(after)
}

/// Soft-deletes an outlet that no live article and no live verdict (as reviewer)
/// refers to.
#[instrument(skip(db))]
pub async fn delete<C: TransactionTrait + ConnectionTrait>(
    db: &C,
    actor: &Actor,
    id: Uuid,
    version: i32,
) -> ApiResult<outlet::Model> {
    let txn = db.begin().await?;
    let deleted = record::soft_delete::<outlet::Entity, _>(&txn, actor, id, version).await?;
    record::ensure_unreferenced::<article::Entity, _>(
        &txn,
        article::Column::OutletId,
        id,
        "articles",
    )
    .await?;
    record::ensure_unreferenced::<verdict::Entity, _>(
        &txn,
        verdict::Column::ReviewerId,
        id,
        "verdicts",
    )
    .await?;
    txn.commit().await?;
    Ok(deleted)
}

/// Matches an outlet whose name contains `part`, ignoring case.
pub fn name_matches(part: &str) -> sea_orm::sea_query::Expr {
    let pattern = format!("%{}%", validate::escape_like(part));
    sea_orm::sea_query::Expr::cust_with_values("outlet.name ILIKE $1", [pattern])
}
