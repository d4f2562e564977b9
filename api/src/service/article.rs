//! Articles: published pieces of an outlet. The `url` is stored normalized and is
//! unique among live articles, so one article is stored once; an article that live
//! appearances or links still refer to cannot be deleted.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, IntoActiveModel, QueryFilter,
    TransactionSession, TransactionTrait,
};
use tracing::instrument;
use uuid::Uuid;

use crate::error::{ApiError, ApiResult};
use crate::service::Record;
use crate::service::audit::{self, Actor};
use crate::service::record;
use crate::service::validate;
use entity::{RevisionAction, appearance, article, link, outlet};

/// Longest title, in characters.
pub const MAX_TITLE: usize = 1_000;
/// Longest byline, in characters.
pub const MAX_BYLINE: usize = 500;

#[derive(Debug, Clone)]
pub struct NewArticle {
    pub outlet_id: Uuid,
    pub url: Option<String>,
    pub title: String,
    pub published_at: Option<DateTime<Utc>>,
    pub language: Option<String>,
    pub byline: Option<String>,
    pub archive_url: Option<String>,
}

/// A partial update: `None` leaves a field as it is; `Some(None)` clears it.
#[derive(Debug, Clone, Default)]
pub struct ArticlePatch {
    pub outlet_id: Option<Uuid>,
    pub url: Option<Option<String>>,
    pub title: Option<String>,
    pub published_at: Option<Option<DateTime<Utc>>>,
    pub language: Option<Option<String>>,
    pub byline: Option<Option<String>>,
    pub archive_url: Option<Option<String>>,
}

/// Refuses a normalized url another live article already has, naming that article so
/// the client can use it instead.
async fn ensure_url_free<C: ConnectionTrait>(
    db: &C,
    url: &str,
    except: Option<Uuid>,
) -> ApiResult<()> {
    let mut query = article::Entity::live().filter(article::Column::Url.eq(url));
    if let Some(id) = except {
        query = query.filter(article::Column::Id.ne(id));
    }
    match query.one(db).await? {
        Some(existing) => Err(ApiError::bad_input(
            "input.url",
            format!(
                "`{url}` is already the address of article {} (\u{201c}{}\u{201d})",
                existing.id, existing.title
            ),
        )),
        None => Ok(()),
    }
}

/// The live article at `url`, normalized first so any spelling of the address finds it.
#[instrument(skip(db))]
pub async fn find_by_url<C: ConnectionTrait>(
    db: &C,
    url: &str,
) -> ApiResult<Option<article::Model>> {
    let url = validate::normalize_url("url", url)?;
    Ok(article::Entity::live()
        .filter(article::Column::Url.eq(url))
        .one(db)
        .await?)
}

#[instrument(skip(db))]
pub async fn create<C: TransactionTrait + ConnectionTrait>(
    db: &C,
    actor: &Actor,
    input: NewArticle,
) -> ApiResult<article::Model> {
    let url = validate::optional_url("input.url", input.url.as_deref())?;
    let title = validate::text("input.title", &input.title, MAX_TITLE)?;
    let language = validate::optional_language("input.language", input.language.as_deref())?;
    let byline = validate::optional_text("input.byline", input.byline.as_deref(), MAX_BYLINE)?;
    let archive_url = validate::optional_url("input.archiveUrl", input.archive_url.as_deref())?;

    let txn = db.begin().await?;
    record::ensure_exists::<outlet::Entity, _>(&txn, input.outlet_id, "input.outletId").await?;
    if let Some(url) = &url {
        ensure_url_free(&txn, url, None).await?;
    }
    let now = Utc::now();
    let model = article::ActiveModel {
        id: Set(Uuid::now_v7()),
        outlet_id: Set(input.outlet_id),
        url: Set(url),
        title: Set(title),
        published_at: Set(input.published_at),
        language: Set(language),
        byline: Set(byline),
        archive_url: Set(archive_url),
        created_at: Set(now),
        updated_at: Set(now),
        version: Set(1),
        deleted_at: Set(None),
    }
    .insert(&txn)
    .await?;
    audit::record::<article::Entity, _>(&txn, actor, RevisionAction::Create, None, Some(&model))
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
    patch: ArticlePatch,
) -> ApiResult<article::Model> {
    let url = patch
        .url
        .map(|u| validate::optional_url("input.url", u.as_deref()))
        .transpose()?;
    let title = patch
        .title
        .as_deref()
        .map(|t| validate::text("input.title", t, MAX_TITLE))
        .transpose()?;
    let language = patch
        .language
        .map(|l| validate::optional_language("input.language", l.as_deref()))
        .transpose()?;
    let byline = patch
        .byline
        .map(|b| validate::optional_text("input.byline", b.as_deref(), MAX_BYLINE))
        .transpose()?;
    let archive_url = patch
        .archive_url
        .map(|u| validate::optional_url("input.archiveUrl", u.as_deref()))
        .transpose()?;

    let txn = db.begin().await?;
    let before = record::lock_for_change::<article::Entity, _>(&txn, id, version).await?;
    if let Some(outlet_id) = patch.outlet_id {
        record::ensure_exists::<outlet::Entity, _>(&txn, outlet_id, "input.outletId").await?;
    }
    if let Some(Some(url)) = &url {
        ensure_url_free(&txn, url, Some(id)).await?;
    }
    let mut active = before.clone().into_active_model();
    record::patch(&mut active.outlet_id, patch.outlet_id);
    record::patch(&mut active.url, url);
    record::patch(&mut active.title, title);
    record::patch(&mut active.published_at, patch.published_at);
    record::patch(&mut active.language, language);
    record::patch(&mut active.byline, byline);
    record::patch(&mut active.archive_url, archive_url);
    let after = record::save_update::<article::Entity, _>(&txn, actor, &before, active).await?;
    txn.commit().await?;
    Ok(after)
}

/// Soft-deletes an article that no live appearance and no live link refers to.
#[instrument(skip(db))]
pub async fn delete<C: TransactionTrait + ConnectionTrait>(
    db: &C,
    actor: &Actor,
    id: Uuid,
    version: i32,
) -> ApiResult<article::Model> {
    let txn = db.begin().await?;
    let deleted = record::soft_delete::<article::Entity, _>(&txn, actor, id, version).await?;
    record::ensure_unreferenced::<appearance::Entity, _>(
        &txn,
        appearance::Column::ArticleId,
        id,
        "appearances",
    )
    .await?;
    record::ensure_unreferenced::<link::Entity, _>(
        &txn,
        link::Column::TargetArticleId,
        id,
        "links",
    )
    .await?;
    txn.commit().await?;
    Ok(deleted)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blank_optional_values_are_absent() {
        assert_eq!(validate::optional_url("u", Some("  ")).ok(), Some(None));
        assert_eq!(validate::optional_language("l", None).ok(), Some(None));
        assert!(validate::optional_url("u", Some("not a url")).is_err());
        assert_eq!(
            validate::optional_url("u", Some("HTTPS://TASS.com/a?utm_source=x#f")).ok(),
            Some(Some("https://tass.com/a".to_owned()))
        );
    }
}
