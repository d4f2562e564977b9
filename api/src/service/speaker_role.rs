//! Speaker roles: offices and positions a speaker held between two (open) dates, and
//! which of them a speaker held on a given day (what a statement shows next to its
//! speaker).

use std::collections::HashMap;

use chrono::{NaiveDate, Utc};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ConnectionTrait, DbBackend, FromQueryResult,
    IntoActiveModel, Statement, TransactionSession, TransactionTrait,
};
use tracing::instrument;
use uuid::Uuid;

use crate::error::{ApiError, ApiResult};
use crate::service::audit::{self, Actor};
use crate::service::record;
use crate::service::validate::{self, MAX_NAME};
use entity::{RevisionAction, speaker, speaker_role};

#[derive(Debug, Clone)]
pub struct NewSpeakerRole {
    pub speaker_id: Uuid,
    pub title: String,
    pub organization: Option<String>,
    pub started_on: Option<NaiveDate>,
    pub ended_on: Option<NaiveDate>,
}

/// A partial update: `None` leaves a field as it is; `Some(None)` clears it.
#[derive(Debug, Clone, Default)]
pub struct SpeakerRolePatch {
    pub title: Option<String>,
    pub organization: Option<Option<String>>,
    pub started_on: Option<Option<NaiveDate>>,
    pub ended_on: Option<Option<NaiveDate>>,
}

/// A role cannot end before it starts; an open end on either side is fine.
fn dates_in_order(started_on: Option<NaiveDate>, ended_on: Option<NaiveDate>) -> ApiResult<()> {
    match (started_on, ended_on) {
        (Some(start), Some(end)) if end < start => Err(ApiError::bad_input(
            "input.endedOn",
            format!("{end} is before the start of the role ({start})"),
        )),
        _ => Ok(()),
    }
}

#[instrument(skip(db))]
pub async fn create<C: TransactionTrait + ConnectionTrait>(
    db: &C,
    actor: &Actor,
    input: NewSpeakerRole,
) -> ApiResult<speaker_role::Model> {
    let title = validate::text("input.title", &input.title, MAX_NAME)?;
    let organization = validate::optional_text(
        "input.organization",
        input.organization.as_deref(),
        MAX_NAME,
    )?;
    dates_in_order(input.started_on, input.ended_on)?;

    let txn = db.begin().await?;
    record::ensure_exists::<speaker::Entity, _>(&txn, input.speaker_id, "input.speakerId").await?;
    let now = Utc::now();
    let model = speaker_role::ActiveModel {
        id: Set(Uuid::now_v7()),
        speaker_id: Set(input.speaker_id),
        title: Set(title),
        organization: Set(organization),
        started_on: Set(input.started_on),
        ended_on: Set(input.ended_on),
        created_at: Set(now),
        updated_at: Set(now),
        version: Set(1),
        deleted_at: Set(None),
    }
    .insert(&txn)
    .await?;
    audit::record::<speaker_role::Entity, _>(
        &txn,
        actor,
        RevisionAction::Create,
        None,
        Some(&model),
    )
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
    patch: SpeakerRolePatch,
) -> ApiResult<speaker_role::Model> {
    let title = patch
        .title
        .as_deref()
        .map(|t| validate::text("input.title", t, MAX_NAME))
        .transpose()?;
    let organization = patch
        .organization
        .map(|o| validate::optional_text("input.organization", o.as_deref(), MAX_NAME))
        .transpose()?;
    // Both dates given: check them before touching the database.
    if let (Some(start), Some(end)) = (patch.started_on, patch.ended_on) {
        dates_in_order(start, end)?;
    }

    let txn = db.begin().await?;
    let before = record::lock_for_change::<speaker_role::Entity, _>(&txn, id, version).await?;
    // One date given: it must fit the other, as stored.
    dates_in_order(
        patch.started_on.unwrap_or(before.started_on),
        patch.ended_on.unwrap_or(before.ended_on),
    )?;
    let mut active = before.clone().into_active_model();
    record::patch(&mut active.title, title);
    record::patch(&mut active.organization, organization);
    record::patch(&mut active.started_on, patch.started_on);
    record::patch(&mut active.ended_on, patch.ended_on);
    let after =
        record::save_update::<speaker_role::Entity, _>(&txn, actor, &before, active).await?;
    txn.commit().await?;
    Ok(after)
}

/// Soft-deletes a role; nothing refers to roles.
#[instrument(skip(db))]
pub async fn delete<C: TransactionTrait + ConnectionTrait>(
    db: &C,
    actor: &Actor,
    id: Uuid,
    version: i32,
) -> ApiResult<speaker_role::Model> {
    let txn = db.begin().await?;
    let deleted = record::soft_delete::<speaker_role::Entity, _>(&txn, actor, id, version).await?;
    txn.commit().await?;
    Ok(deleted)
}

/// The role `speaker_id` held on `on`: started on or before that day (or open-started)
/// and ended on or after it (or open-ended). When several overlap, the one started
/// last wins, then the newest.
#[instrument(skip(db))]
pub async fn role_on<C: ConnectionTrait>(
    db: &C,
    speaker_id: Uuid,
    on: NaiveDate,
) -> ApiResult<Option<speaker_role::Model>> {
    Ok(roles_on(db, &[(speaker_id, on)])
        .await?
        .remove(&(speaker_id, on)))
}

/// [`role_on`] for many (speaker, day) pairs in one query, for a DataLoader. Pairs
/// with no role are absent from the map.
#[instrument(skip(db, pairs), fields(pairs = pairs.len()))]
pub async fn roles_on<C: ConnectionTrait>(
    db: &C,
    pairs: &[(Uuid, NaiveDate)],
) -> ApiResult<HashMap<(Uuid, NaiveDate), speaker_role::Model>> {
    if pairs.is_empty() {
        return Ok(HashMap::new());
    }
    let speakers: Vec<Uuid> = pairs.iter().map(|(s, _)| *s).collect();
    let days: Vec<NaiveDate> = pairs.iter().map(|(_, d)| *d).collect();
    // DISTINCT ON keeps the first row per pair in the ORDER BY: the latest start
    // (an open start counts as the earliest), then the newest id.
    let sql = r#"
        SELECT DISTINCT ON (p.speaker_id, p.day) p.day AS role_on_day, r.*
        FROM unnest($1::uuid[], $2::date[]) AS p (speaker_id, day)
        JOIN speaker_role r
          ON r.speaker_id = p.speaker_id
         AND r.deleted_at IS NULL
         AND (r.started_on IS NULL OR r.started_on <= p.day)
         AND (r.ended_on IS NULL OR r.ended_on >= p.day)
        ORDER BY p.speaker_id, p.day, r.started_on DESC NULLS LAST, r.id DESC
    "#;
    let statement =
        Statement::from_sql_and_values(DbBackend::Postgres, sql, [speakers.into(), days.into()]);
    let rows = db.query_all_raw(statement).await?;
    let mut out = HashMap::with_capacity(rows.len());
    for row in rows {
        let day: NaiveDate = row.try_get("", "role_on_day")?;
        let role = speaker_role::Model::from_query_result(&row, "")?;
        out.insert((role.speaker_id, day), role);
    }
    Ok(out)
}
