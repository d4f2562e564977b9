//! "As of": answers rebuilt from the revisions, as the database stood at an instant
//! (record time). A record's state at `t` is the `after` of its last revision at or
//! before `t`; a record whose state then carries `deleted_at` was deleted by then,
//! and one with no revision by then did not exist yet.
//!
//! Cost: one record is one index probe (`revision_entity_time_idx`). Statements are
//! found through the speaker (`revision_statement_speaker_idx`) or the claims their
//! stances name (`revision_statement_stances_idx`) before their states are rebuilt;
//! a list with neither filter reads every statement revision up to `t`.

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::{ConnectionTrait, DbBackend, FromQueryResult, JsonValue, Statement, Value};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use tracing::instrument;
use uuid::Uuid;

use crate::error::{ApiError, ApiResult};
use crate::service::position::PositionRow;
use crate::service::statement::SnapshotStance;
use entity::{StanceKind, statement};

#[derive(Debug, FromQueryResult)]
struct State {
    after: Option<JsonValue>,
}

fn decode<T: DeserializeOwned>(json: JsonValue) -> ApiResult<T> {
    serde_json::from_value(json).map_err(|e| ApiError::Internal(format!("revision snapshot: {e}")))
}

fn live(json: &JsonValue) -> bool {
    json.get("deleted_at").is_none_or(JsonValue::is_null)
}

/// The state of one record at `at`, or None when it did not exist or was deleted.
#[instrument(skip(db))]
pub async fn record<T: DeserializeOwned, C: ConnectionTrait>(
    db: &C,
    id: Uuid,
    at: DateTime<Utc>,
) -> ApiResult<Option<T>> {
    let state = State::find_by_statement(Statement::from_sql_and_values(
        DbBackend::Postgres,
        "SELECT after FROM revision WHERE entity_id = $1 AND created_at <= $2 \
         ORDER BY created_at DESC, version DESC LIMIT 1",
        [id.into(), at.into()],
    ))
    .one(db)
    .await?;
    match state.and_then(|s| s.after) {
        Some(json) if live(&json) => decode(json).map(Some),
        _ => Ok(None),
    }
}

/// The record of type `entity_type` that had `slug` at `at`.
#[instrument(skip(db))]
pub async fn by_slug<T: DeserializeOwned, C: ConnectionTrait>(
    db: &C,
    entity_type: &str,
    slug: &str,
    at: DateTime<Utc>,
) -> ApiResult<Option<T>> {
    let states = State::find_by_statement(Statement::from_sql_and_values(
        DbBackend::Postgres,
        "SELECT DISTINCT ON (r.entity_id) r.after FROM revision r \
         WHERE r.entity_id IN (SELECT entity_id FROM revision WHERE entity_type = $1 AND after ? 'slug' \
                               AND after->>'slug' = $2) \
           AND r.created_at <= $3 \
         ORDER BY r.entity_id, r.created_at DESC, r.version DESC",
        [entity_type.into(), slug.into(), at.into()],
    ))
    .all(db)
    .await?;
    let found = states
        .into_iter()
        .filter_map(|s| s.after)
        .find(|json| live(json) && json.get("slug").and_then(JsonValue::as_str) == Some(slug));
    found.map(decode).transpose()
}

/// A statement as its revision recorded it: the row with its stances.
#[derive(Debug, Clone, Deserialize)]
pub struct StatementState {
    #[serde(flatten)]
    pub statement: statement::Model,
    #[serde(default)]
    pub stances: Vec<SnapshotStance>,
    #[serde(default)]
    pub topic_ids: Vec<Uuid>,
}

/// Which statements to rebuild.
#[derive(Debug, Clone, Default)]
pub struct StatementsAt {
    pub speaker_ids: Option<Vec<Uuid>>,
    pub claim_ids: Option<Vec<Uuid>>,
    pub stance: Option<StanceKind>,
    pub topic_ids: Option<Vec<Uuid>>,
    pub stated_from: Option<NaiveDate>,
    pub stated_to: Option<NaiveDate>,
    pub language: Option<String>,
}

/// Every statement matching `filter` as it stood at `at`, in (statedOn, id) order.
#[instrument(skip(db))]
pub async fn statements<C: ConnectionTrait>(
    db: &C,
    filter: &StatementsAt,
    at: DateTime<Utc>,
) -> ApiResult<Vec<StatementState>> {
    let text_ids = |ids: &Option<Vec<Uuid>>| -> Value {
        match ids {
            Some(ids) => ids
                .iter()
                .map(Uuid::to_string)
                .collect::<Vec<String>>()
                .into(),
            None => Value::Array(sea_orm::sea_query::ArrayType::String, None),
        }
    };
    // Candidates come through an index when a speaker or claim is named.
    let candidates = match (&filter.speaker_ids, &filter.claim_ids) {
        (Some(_), _) => {
            "SELECT entity_id FROM revision WHERE entity_type = 'statement' \
                         AND after->>'speaker_id' = ANY($2) AND created_at <= $1"
        }
        (None, Some(_)) => {
            "SELECT entity_id FROM revision WHERE entity_type = 'statement' AND created_at <= $1 \
                            AND after->'stances' @> ANY (SELECT jsonb_build_array(jsonb_build_object('claim_id', c)) \
                                                         FROM unnest($3::text[]) AS c)"
        }
        (None, None) => {
            "SELECT entity_id FROM revision WHERE entity_type = 'statement' AND created_at <= $1"
        }
    };
    let sql = format!(
        "SELECT DISTINCT ON (r.entity_id) r.after FROM revision r \
         WHERE r.entity_id IN ({candidates}) AND r.created_at <= $1 \
         ORDER BY r.entity_id, r.created_at DESC, r.version DESC"
    );
    let states = State::find_by_statement(Statement::from_sql_and_values(
        DbBackend::Postgres,
        sql,
        [
            at.into(),
            text_ids(&filter.speaker_ids),
            text_ids(&filter.claim_ids),
        ],
    ))
    .all(db)
    .await?;
    let mut out: Vec<StatementState> = Vec::new();
    for json in states.into_iter().filter_map(|s| s.after).filter(live) {
        let state: StatementState = decode(json)?;
        if matches(&state, filter) {
            out.push(state);
        }
    }
    out.sort_by_key(|s| (s.statement.stated_on, s.statement.id));
    Ok(out)
}

/// Whether a rebuilt statement matches the filter (its state then, not now).
fn matches(state: &StatementState, filter: &StatementsAt) -> bool {
    let s = &state.statement;
    let stance_ok = |claim_ok: &dyn Fn(Uuid) -> bool| {
        state
            .stances
            .iter()
            .any(|st| claim_ok(st.claim_id) && filter.stance.is_none_or(|k| k == st.stance))
    };
    filter
        .speaker_ids
        .as_ref()
        .is_none_or(|ids| ids.contains(&s.speaker_id))
        && match &filter.claim_ids {
            Some(ids) => stance_ok(&|c| ids.contains(&c)),
            None => filter.stance.is_none() || stance_ok(&|_| true),
        }
        && filter
            .topic_ids
            .as_ref()
            .is_none_or(|ids| state.topic_ids.iter().any(|t| ids.contains(t)))
        && filter.stated_from.is_none_or(|d| s.stated_on >= d)
        && filter.stated_to.is_none_or(|d| s.stated_on <= d)
        && filter.language.as_ref().is_none_or(|l| &s.language == l)
}

/// A speaker's position history on a claim as it stood at `at`.
pub async fn position_history<C: ConnectionTrait>(
    db: &C,
    speaker_id: Uuid,
    claim_id: Uuid,
    at: DateTime<Utc>,
) -> ApiResult<Vec<PositionRow>> {
    let filter = StatementsAt {
        speaker_ids: Some(vec![speaker_id]),
        claim_ids: Some(vec![claim_id]),
        ..Default::default()
    };
    let mut rows: Vec<PositionRow> = statements(db, &filter, at)
        .await?
        .into_iter()
        .filter_map(|state| {
            let stance = state
                .stances
                .iter()
                .find(|st| st.claim_id == claim_id)?
                .stance;
            let s = state.statement;
            Some(PositionRow {
                statement_id: s.id,
                speaker_id: s.speaker_id,
                claim_id,
                stance,
                stated_on: s.stated_on,
                stated_on_precision: s.stated_on_precision,
                stated_at_utc: s.stated_at_utc,
                reported: s.reported_by_id.is_some(),
            })
        })
        .collect();
    rows.sort_by_key(|p| {
        (
            p.stated_on,
            p.stated_at_utc.unwrap_or(chrono::NaiveDateTime::MIN),
            p.statement_id,
        )
    });
    Ok(rows)
}

/// The states at `at` of the records of `entity_type` whose `field` (in their
/// revisions) named one of `ids`; deleted ones left out.
pub async fn states_by<T: DeserializeOwned, C: ConnectionTrait>(
    db: &C,
    entity_type: &str,
    field: &str,
    ids: &[Uuid],
    at: DateTime<Utc>,
) -> ApiResult<Vec<T>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<String> = ids.iter().map(Uuid::to_string).collect();
    let states = State::find_by_statement(Statement::from_sql_and_values(
        DbBackend::Postgres,
        "SELECT DISTINCT ON (r.entity_id) r.after FROM revision r \
         WHERE r.entity_id IN (SELECT entity_id FROM revision WHERE entity_type = $1 AND created_at <= $2 \
                               AND after->>$3 = ANY($4)) \
           AND r.created_at <= $2 \
         ORDER BY r.entity_id, r.created_at DESC, r.version DESC",
        [entity_type.into(), at.into(), field.into(), ids.into()],
    ))
    .all(db)
    .await?;
    states
        .into_iter()
        .filter_map(|s| s.after)
        .filter(live)
        .map(decode)
        .collect()
}
