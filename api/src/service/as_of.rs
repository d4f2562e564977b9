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
use sea_orm::{ConnectionTrait, DbBackend, FromQueryResult, JsonValue, Statement};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use tracing::instrument;
use uuid::Uuid;

use crate::error::{ApiError, ApiResult};
use crate::service::position::PositionRow;
use crate::service::sql::Params;
use crate::service::statement::SnapshotStance;
use crate::service::statement::filter::{Filter, Rows};
use entity::statement;

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

#[derive(Debug, FromQueryResult)]
struct StatementPage {
    total: i64,
    page: JsonValue,
}

/// The statements matching `filter` as they stood at `at`, in (statedOn, id) order:
/// those after `after`, `limit` of them at most (all without one), and how many match
/// in all. Paged in SQL: only the page's states are read here. The conditions
/// [`Filter::outside_as_of`] names are refused.
#[instrument(skip(db))]
pub async fn statements<C: ConnectionTrait>(
    db: &C,
    filter: &Filter,
    at: DateTime<Utc>,
    after: Option<(NaiveDate, Uuid)>,
    limit: Option<u64>,
) -> ApiResult<(Vec<StatementState>, i64)> {
    if let Some(field) = filter.outside_as_of() {
        return Err(ApiError::bad_input(field, "is not available with asOf"));
    }
    let mut params = Params::new();
    let at = params.bind(at);
    // Candidates come through an index when a speaker or claim is named.
    let candidates = match (&filter.speaker_ids, &filter.claim_ids) {
        (Some(ids), _) => format!(
            "SELECT entity_id FROM revision WHERE entity_type = 'statement' \
             AND after->>'speaker_id' = ANY({}) AND created_at <= {at}",
            params.bind(texts(ids))
        ),
        (None, Some(ids)) => format!(
            "SELECT entity_id FROM revision WHERE entity_type = 'statement' AND created_at <= {at} \
             AND after->'stances' @> ANY (SELECT jsonb_build_array(jsonb_build_object('claim_id', c)) \
                                          FROM unnest({}::text[]) AS c)",
            params.bind(texts(ids))
        ),
        (None, None) => {
            format!(
                "SELECT entity_id FROM revision WHERE entity_type = 'statement' AND created_at <= {at}"
            )
        }
    };
    let condition = params.condition(filter.condition(Rows::Snapshot("s")));
    let bound = match after {
        Some((day, id)) => format!(
            " AND (s.stated_on, s.id) > ({}::date, {}::uuid)",
            params.bind(day),
            params.bind(id)
        ),
        None => String::new(),
    };
    let limit = match limit {
        Some(n) => format!(
            " LIMIT {}",
            params.bind(i64::try_from(n).unwrap_or(i64::MAX))
        ),
        None => String::new(),
    };
    let sql = format!(
        "WITH state AS ( \
           SELECT DISTINCT ON (r.entity_id) r.after FROM revision r \
           WHERE r.entity_id IN ({candidates}) AND r.created_at <= {at} \
           ORDER BY r.entity_id, r.created_at DESC, r.version DESC), \
         s AS MATERIALIZED ( \
           SELECT (after->>'id')::uuid AS id, (after->>'speaker_id')::uuid AS speaker_id, \
                  (after->>'stated_on')::date AS stated_on, after->>'language' AS language, after \
           FROM state WHERE after->>'deleted_at' IS NULL), \
         m AS MATERIALIZED (SELECT * FROM s WHERE {condition}) \
         SELECT (SELECT count(*) FROM m) AS total, \
                (SELECT coalesce(jsonb_agg(p.after ORDER BY p.stated_on, p.id), '[]'::jsonb) \
                 FROM (SELECT * FROM m s WHERE true{bound} ORDER BY s.stated_on, s.id{limit}) p) AS page"
    );
    let found = StatementPage::find_by_statement(params.statement(sql))
        .one(db)
        .await?
        .ok_or_else(|| ApiError::Internal("an as-of page without its row".into()))?;
    let page: Vec<StatementState> = decode(found.page)?;
    Ok((page, found.total))
}

/// Ids as the text revisions hold them.
fn texts(ids: &[Uuid]) -> Vec<String> {
    ids.iter().map(Uuid::to_string).collect()
}

/// A speaker's position history on a claim as it stood at `at`.
pub async fn position_history<C: ConnectionTrait>(
    db: &C,
    speaker_id: Uuid,
    claim_id: Uuid,
    at: DateTime<Utc>,
) -> ApiResult<Vec<PositionRow>> {
    let filter = Filter {
        speaker_ids: Some(vec![speaker_id]),
        claim_ids: Some(vec![claim_id]),
        ..Filter::default()
    };
    let mut rows: Vec<PositionRow> = statements(db, &filter, at, None, None)
        .await?
        .0
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
