//! Speakers: who makes statements. Slugs and Wikidata ids are unique among live
//! speakers; a speaker with live statements cannot be deleted.

use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ConnectionTrait, IntoActiveModel, TransactionSession,
    TransactionTrait,
};
use tracing::instrument;
use uuid::Uuid;

use crate::error::{ApiError, ApiResult};
use crate::service::audit::{self, Actor};
use crate::service::record::{self, ensure_unique};
use crate::service::validate::{self, MAX_LONG_TEXT, MAX_NAME};
use entity::{RevisionAction, SpeakerKind, speaker, statement};

/// Most aliases one speaker may carry.
pub const MAX_ALIASES: usize = 50;

#[derive(Debug, Clone)]
pub struct NewSpeaker {
    pub name: String,
    pub slug: Option<String>,
    pub kind: SpeakerKind,
    pub description: Option<String>,
    pub wikidata_id: Option<String>,
    pub aliases: Vec<String>,
}

/// A partial update: `None` leaves a field as it is; `Some(None)` clears it.
#[derive(Debug, Clone, Default)]
pub struct SpeakerPatch {
    pub name: Option<String>,
    pub slug: Option<String>,
    pub kind: Option<SpeakerKind>,
    pub description: Option<Option<String>>,
    pub wikidata_id: Option<Option<String>>,
    pub aliases: Option<Vec<String>>,
}

fn aliases(values: &[String]) -> ApiResult<Vec<String>> {
    if values.len() > MAX_ALIASES {
        return Err(ApiError::bad_input(
            "input.aliases",
            format!("at most {MAX_ALIASES} aliases"),
        ));
    }
    let mut out: Vec<String> = Vec::with_capacity(values.len());
    for (i, alias) in values.iter().enumerate() {
        let alias = validate::text(&format!("input.aliases[{i}]"), alias, MAX_NAME)?;
        if !out.contains(&alias) {
            out.push(alias);
        }
    }
    Ok(out)
}

fn wikidata(value: Option<&str>) -> ApiResult<Option<String>> {
    value
        .map(|v| validate::wikidata_id("input.wikidataId", v.trim()))
        .transpose()
}

#[instrument(skip(db))]
pub async fn create<C: TransactionTrait + ConnectionTrait>(
    db: &C,
    actor: &Actor,
    input: NewSpeaker,
) -> ApiResult<speaker::Model> {
    let name = validate::text("input.name", &input.name, MAX_NAME)?;
    let slug = validate::slug_or_from("input.slug", input.slug.as_deref(), &name)?;
    let description = validate::optional_text(
        "input.description",
        input.description.as_deref(),
        MAX_LONG_TEXT,
    )?;
    let wikidata_id = wikidata(input.wikidata_id.as_deref())?;
    let aliases = aliases(&input.aliases)?;

    let txn = db.begin().await?;
    ensure_unique::<speaker::Entity, _>(&txn, speaker::Column::Slug, &slug, None, "input.slug")
        .await?;
    if let Some(q) = &wikidata_id {
        ensure_unique::<speaker::Entity, _>(
            &txn,
            speaker::Column::WikidataId,
            q,
            None,
            "input.wikidataId",
        )
        .await?;
    }
    let now = Utc::now();
    let model = speaker::ActiveModel {
        id: Set(Uuid::now_v7()),
        name: Set(name),
        slug: Set(slug),
        kind: Set(input.kind),
        description: Set(description),
        wikidata_id: Set(wikidata_id),
        aliases: Set(aliases),
        created_at: Set(now),
        updated_at: Set(now),
        version: Set(1),
        deleted_at: Set(None),
    }
    .insert(&txn)
    .await?;
    audit::record::<speaker::Entity, _>(&txn, actor, RevisionAction::Create, None, Some(&model))
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
    patch: SpeakerPatch,
) -> ApiResult<speaker::Model> {
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
    let description = patch
        .description
        .map(|d| validate::optional_text("input.description", d.as_deref(), MAX_LONG_TEXT))
        .transpose()?;
    let wikidata_id = patch
        .wikidata_id
        .map(|q| wikidata(q.as_deref()))
        .transpose()?;
    let aliases = patch.aliases.as_deref().map(aliases).transpose()?;

    let txn = db.begin().await?;
    let before = record::lock_for_change::<speaker::Entity, _>(&txn, id, version).await?;
    if let Some(slug) = &slug {
        ensure_unique::<speaker::Entity, _>(
            &txn,
            speaker::Column::Slug,
            slug,
            Some(id),
            "input.slug",
        )
        .await?;
    }
    if let Some(Some(q)) = &wikidata_id {
        ensure_unique::<speaker::Entity, _>(
            &txn,
            speaker::Column::WikidataId,
            q,
            Some(id),
            "input.wikidataId",
        )
        .await?;
    }
    let mut active = before.clone().into_active_model();
    record::patch(&mut active.name, name);
    record::patch(&mut active.slug, slug);
    record::patch(&mut active.kind, patch.kind);
    record::patch(&mut active.description, description);
    record::patch(&mut active.wikidata_id, wikidata_id);
    record::patch(&mut active.aliases, aliases);
    let after = record::save_update::<speaker::Entity, _>(&txn, actor, &before, active).await?;
    txn.commit().await?;
    Ok(after)
}

/// Soft-deletes a speaker who has no live statements (as speaker or as reporter).
#[instrument(skip(db))]
pub async fn delete<C: TransactionTrait + ConnectionTrait>(
    db: &C,
    actor: &Actor,
    id: Uuid,
    version: i32,
) -> ApiResult<speaker::Model> {
    let txn = db.begin().await?;
    let deleted = record::soft_delete::<speaker::Entity, _>(&txn, actor, id, version).await?;
    record::ensure_unreferenced::<statement::Entity, _>(
        &txn,
        statement::Column::SpeakerId,
        id,
        "statements",
    )
    .await?;
    record::ensure_unreferenced::<statement::Entity, _>(
        &txn,
        statement::Column::ReportedById,
        id,
        "reported statements",
    )
    .await?;
    txn.commit().await?;
    Ok(deleted)
}

/// Matches a speaker whose name or an alias contains `part`, ignoring case.
pub fn name_matches(part: &str) -> sea_orm::sea_query::Expr {
    let pattern = format!("%{}%", validate::escape_like(part));
    sea_orm::sea_query::Expr::cust_with_values(
        "(speaker.name ILIKE $1 OR EXISTS (SELECT 1 FROM unnest(speaker.aliases) AS a WHERE a ILIKE $1))",
        [pattern],
    )
}
