//! Positions over time. A *position* is a statement's stance on one claim at its
//! date; a speaker's positions on a claim, in position order, form their *position
//! history*; two consecutive positions with different stances are a *position change*.
//!
//! Position order is the statement's date, then its time of day when known (an
//! untimed statement sorts at the start of its day, as an imprecise date sorts at the
//! start of its period), then creation (uuid v7 ids are time-ordered).

use chrono::{NaiveDate, NaiveDateTime};
use sea_orm::{ConnectionTrait, DbBackend, DbErr, FromQueryResult, QueryResult, Statement};
use serde::{Deserialize, Serialize};
use tracing::instrument;
use uuid::Uuid;

use crate::error::ApiResult;
use crate::service::sql::Params;
use entity::{DatePrecision, StanceKind, statement};

/// SQL sort key of position order over a statement aliased `s`. Untimed statements
/// take `-infinity`, so the key has no NULLs and serves keyset pagination.
pub const POSITION_KEY: &str =
    "s.stated_on, coalesce(s.stated_at_utc, '-infinity'::timestamp), s.id";

/// One position: a statement's stance on a claim.
#[derive(Debug, Clone, PartialEq, Eq, FromQueryResult)]
pub struct PositionRow {
    pub statement_id: Uuid,
    pub speaker_id: Uuid,
    pub claim_id: Uuid,
    pub stance: StanceKind,
    pub stated_on: NaiveDate,
    pub stated_on_precision: DatePrecision,
    pub stated_at_utc: Option<NaiveDateTime>,
    pub reported: bool,
}

/// A position change: `to` follows `from` in one speaker's history on one claim.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangeRow {
    pub from: PositionRow,
    pub to: PositionRow,
}

impl ChangeRow {
    /// Days between the two positions.
    pub fn days(&self) -> i64 {
        (self.to.stated_on - self.from.stated_on).num_days()
    }
}

/// Where a change sits in the list of changes (the `to` position's order, then claim).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangeKey {
    pub stated_on: NaiveDate,
    pub at: Option<NaiveDateTime>,
    pub statement_id: Uuid,
    pub claim_id: Uuid,
}

impl ChangeRow {
    pub fn key(&self) -> ChangeKey {
        ChangeKey {
            stated_on: self.to.stated_on,
            at: self.to.stated_at_utc,
            statement_id: self.to.statement_id,
            claim_id: self.to.claim_id,
        }
    }
}

const POSITION_COLUMNS: &str = "s.id AS statement_id, s.speaker_id, st.claim_id, st.stance, s.stated_on, \
     s.stated_on_precision, s.stated_at_utc, s.reported_by_id IS NOT NULL AS reported";

/// A position with its statement's row, read together.
#[derive(Debug, Clone)]
pub struct StatedPosition {
    pub position: PositionRow,
    pub statement: statement::Model,
}

impl FromQueryResult for StatedPosition {
    fn from_query_result(res: &QueryResult, pre: &str) -> Result<Self, DbErr> {
        let statement = statement::Model::from_query_result(res, pre)?;
        let position = PositionRow {
            statement_id: statement.id,
            speaker_id: statement.speaker_id,
            claim_id: res.try_get(pre, "claim_id")?,
            stance: res.try_get(pre, "stance")?,
            stated_on: statement.stated_on,
            stated_on_precision: statement.stated_on_precision,
            stated_at_utc: statement.stated_at_utc,
            reported: statement.reported_by_id.is_some(),
        };
        Ok(Self {
            position,
            statement,
        })
    }
}

/// A speaker's position history on a claim, oldest first.
pub async fn history<C: ConnectionTrait>(
    db: &C,
    speaker_id: Uuid,
    claim_id: Uuid,
) -> ApiResult<Vec<PositionRow>> {
    Ok(history_with_statements(db, speaker_id, claim_id)
        .await?
        .into_iter()
        .map(|p| p.position)
        .collect())
}

/// A speaker's position history on a claim, oldest first, each position with its
/// statement (one query serves the history and its statements).
#[instrument(skip(db))]
pub async fn history_with_statements<C: ConnectionTrait>(
    db: &C,
    speaker_id: Uuid,
    claim_id: Uuid,
) -> ApiResult<Vec<StatedPosition>> {
    let sql = format!(
        "SELECT s.*, st.claim_id, st.stance FROM stance st JOIN statement s ON s.id = st.statement_id \
         WHERE s.deleted_at IS NULL AND s.speaker_id = $1 AND st.claim_id = $2 ORDER BY {POSITION_KEY}"
    );
    let stmt = Statement::from_sql_and_values(
        DbBackend::Postgres,
        sql,
        [speaker_id.into(), claim_id.into()],
    );
    Ok(StatedPosition::find_by_statement(stmt).all(db).await?)
}

/// Every position on a claim, grouped by speaker (speakers in id order), each
/// speaker's oldest first.
#[instrument(skip(db))]
pub async fn on_claim<C: ConnectionTrait>(db: &C, claim_id: Uuid) -> ApiResult<Vec<PositionRow>> {
    let sql = format!(
        "SELECT {POSITION_COLUMNS} FROM stance st JOIN statement s ON s.id = st.statement_id \
         WHERE s.deleted_at IS NULL AND st.claim_id = $1 ORDER BY s.speaker_id, {POSITION_KEY}"
    );
    let stmt = Statement::from_sql_and_values(DbBackend::Postgres, sql, [claim_id.into()]);
    Ok(PositionRow::find_by_statement(stmt).all(db).await?)
}

/// The changes in one history (positions in position order): each pair of
/// consecutive positions whose stances differ.
pub fn changes_in(history: &[PositionRow]) -> Vec<ChangeRow> {
    history
        .windows(2)
        .filter(|pair| pair[0].stance != pair[1].stance)
        .map(|pair| ChangeRow {
            from: pair[0].clone(),
            to: pair[1].clone(),
        })
        .collect()
}

/// Which changes to list.
#[derive(Debug, Clone, Default)]
pub struct ChangeFilter {
    pub speaker_id: Option<Uuid>,
    pub claim_id: Option<Uuid>,
    /// Changes on claims filed under this topic, or whose later statement is.
    pub topic_id: Option<Uuid>,
    /// Bounds on the date of the later position (inclusive).
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
}

#[derive(Debug, FromQueryResult)]
struct ChangeSqlRow {
    statement_id: Uuid,
    speaker_id: Uuid,
    claim_id: Uuid,
    stance: StanceKind,
    stated_on: NaiveDate,
    stated_on_precision: DatePrecision,
    stated_at_utc: Option<NaiveDateTime>,
    reported: bool,
    prev_statement_id: Uuid,
    prev_stance: StanceKind,
    prev_stated_on: NaiveDate,
    prev_precision: DatePrecision,
    prev_at: Option<NaiveDateTime>,
    prev_reported: bool,
}

impl From<ChangeSqlRow> for ChangeRow {
    fn from(r: ChangeSqlRow) -> Self {
        ChangeRow {
            from: PositionRow {
                statement_id: r.prev_statement_id,
                speaker_id: r.speaker_id,
                claim_id: r.claim_id,
                stance: r.prev_stance,
                stated_on: r.prev_stated_on,
                stated_on_precision: r.prev_precision,
                stated_at_utc: r.prev_at,
                reported: r.prev_reported,
            },
            to: PositionRow {
                statement_id: r.statement_id,
                speaker_id: r.speaker_id,
                claim_id: r.claim_id,
                stance: r.stance,
                stated_on: r.stated_on,
                stated_on_precision: r.stated_on_precision,
                stated_at_utc: r.stated_at_utc,
                reported: r.reported,
            },
        }
    }
}

/// The SQL of the changes matching `filter`, after `after`, in list order: positions
/// of the matching (speaker, claim) histories with the position before each
/// (`lag` over the history), kept where the stance differs.
fn changes_sql(
    filter: &ChangeFilter,
    after: Option<&ChangeKey>,
    limit: Option<u64>,
    params: &mut Params,
) -> String {
    let mut scope = vec!["s.deleted_at IS NULL".to_owned()];
    if let Some(id) = filter.speaker_id {
        scope.push(format!("s.speaker_id = {}", params.bind(id)));
    }
    if let Some(id) = filter.claim_id {
        scope.push(format!("st.claim_id = {}", params.bind(id)));
    }
    let mut outer = vec![
        "prev_stance IS NOT NULL".to_owned(),
        "prev_stance <> stance".to_owned(),
    ];
    if let Some(topic) = filter.topic_id {
        let p = params.bind(topic);
        outer.push(format!(
            "(EXISTS (SELECT 1 FROM claim_topic ct WHERE ct.claim_id = p.claim_id AND ct.topic_id = {p}) \
              OR EXISTS (SELECT 1 FROM statement_topic t WHERE t.statement_id = p.statement_id AND t.topic_id = {p}))"
        ));
    }
    if let Some(from) = filter.from {
        outer.push(format!("stated_on >= {}", params.bind(from)));
    }
    if let Some(to) = filter.to {
        outer.push(format!("stated_on <= {}", params.bind(to)));
    }
    if let Some(key) = after {
        outer.push(format!(
            "(stated_on, coalesce(stated_at_utc, '-infinity'::timestamp), statement_id, claim_id) > ({}, \
             coalesce({}::timestamp, '-infinity'::timestamp), {}, {})",
            params.bind(key.stated_on),
            params.bind(key.at),
            params.bind(key.statement_id),
            params.bind(key.claim_id),
        ));
    }
    let limit = limit.map(|n| format!("LIMIT {n}")).unwrap_or_default();
    format!(
        "WITH p AS (SELECT {POSITION_COLUMNS}, \
           lag(s.id) OVER w AS prev_statement_id, lag(st.stance) OVER w AS prev_stance, \
           lag(s.stated_on) OVER w AS prev_stated_on, lag(s.stated_on_precision) OVER w AS prev_precision, \
           lag(s.stated_at_utc) OVER w AS prev_at, lag(s.reported_by_id IS NOT NULL) OVER w AS prev_reported \
         FROM stance st JOIN statement s ON s.id = st.statement_id \
         WHERE {scope} \
         WINDOW w AS (PARTITION BY s.speaker_id, st.claim_id ORDER BY {POSITION_KEY})) \
         SELECT * FROM p WHERE {outer} \
         ORDER BY stated_on, coalesce(stated_at_utc, '-infinity'::timestamp), statement_id, claim_id {limit}",
        scope = scope.join(" AND "),
        outer = outer.join(" AND "),
    )
}

/// One page of position changes after `after`, in the order of their later position.
#[instrument(skip(db))]
pub async fn changes<C: ConnectionTrait>(
    db: &C,
    filter: &ChangeFilter,
    after: Option<&ChangeKey>,
    limit: u64,
) -> ApiResult<Vec<ChangeRow>> {
    let mut params = Params::new();
    let sql = changes_sql(filter, after, Some(limit), &mut params);
    Ok(ChangeSqlRow::find_by_statement(params.statement(sql))
        .all(db)
        .await?
        .into_iter()
        .map(ChangeRow::from)
        .collect())
}

/// The statement counting every change matching `filter`.
pub fn count_changes(filter: &ChangeFilter) -> Statement {
    let mut params = Params::new();
    let sql = changes_sql(filter, None, None, &mut params);
    params.statement(format!("SELECT COUNT(*) FROM ({sql}) AS changes"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pos(stance: StanceKind, day: u32) -> PositionRow {
        PositionRow {
            statement_id: Uuid::now_v7(),
            speaker_id: Uuid::nil(),
            claim_id: Uuid::nil(),
            stance,
            stated_on: NaiveDate::from_ymd_opt(2017, 7, day).unwrap_or_default(),
            stated_on_precision: DatePrecision::Day,
            stated_at_utc: None,
            reported: false,
        }
    }

    #[test]
    fn a_change_is_two_consecutive_positions_with_different_stances() {
        use StanceKind::*;
        let history = [
            pos(Supports, 7),
            pos(Supports, 9),
            pos(Opposes, 9),
            pos(Neutral, 10),
            pos(Neutral, 11),
        ];
        let changes = changes_in(&history);
        assert_eq!(changes.len(), 2);
        assert_eq!(
            (changes[0].from.stance, changes[0].to.stance),
            (Supports, Opposes)
        );
        assert_eq!(changes[0].days(), 0);
        assert_eq!(
            (changes[1].from.stance, changes[1].to.stance),
            (Opposes, Neutral)
        );
        assert_eq!(changes[1].days(), 1);
        assert!(changes_in(&history[..1]).is_empty());
    }
}
