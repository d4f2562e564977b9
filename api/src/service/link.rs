//! Links: typed edges from a statement to a later statement or to an article (a
//! follow-up report, a reversal, a correction). Exactly one target, never the source
//! itself, never back in time, and at most one live link per source, target and
//! relation.

use chrono::{Datelike, NaiveDate, Utc};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel,
    QueryFilter, TransactionSession, TransactionTrait,
};
use tracing::instrument;
use uuid::Uuid;

use crate::error::{ApiError, ApiResult};
use crate::service::Record;
use crate::service::audit::{self, Actor};
use crate::service::validate::{self, MAX_LONG_TEXT};
use crate::service::{record, suggestion};
use entity::{DatePrecision, LinkRelation, LinkStatus, RevisionAction, article, link, statement};

#[derive(Debug, Clone)]
pub struct NewLink {
    pub source_statement_id: Uuid,
    pub target_statement_id: Option<Uuid>,
    pub target_article_id: Option<Uuid>,
    pub relation: LinkRelation,
    pub note: Option<String>,
    pub status: LinkStatus,
}

/// The target of a link, once checked to be exactly one.
#[derive(Debug, Clone, Copy)]
enum Target {
    Statement(Uuid),
    Article(Uuid),
}

fn target(input: &NewLink) -> ApiResult<Target> {
    match (input.target_statement_id, input.target_article_id) {
        (Some(id), None) if id == input.source_statement_id => Err(ApiError::bad_input(
            "input.targetStatementId",
            "a statement cannot link to itself",
        )),
        (Some(id), None) => Ok(Target::Statement(id)),
        (None, Some(id)) => Ok(Target::Article(id)),
        _ => Err(ApiError::bad_input(
            "input.targetStatementId",
            "give exactly one of `targetStatementId` and `targetArticleId`",
        )),
    }
}

async fn live_statement<C: ConnectionTrait>(
    db: &C,
    id: Uuid,
    field: &str,
) -> ApiResult<statement::Model> {
    statement::Entity::live()
        .filter(statement::Column::Id.eq(id))
        .one(db)
        .await?
        .ok_or_else(|| ApiError::unknown_reference(statement::Entity::NAME, field))
}

/// The last day a statement's date may stand for: a MONTH or YEAR date is the start
/// of its period, and the statement may have been made on any day of it.
fn last_day(s: &statement::Model) -> NaiveDate {
    let next = match s.stated_on_precision {
        DatePrecision::Day => return s.stated_on,
        DatePrecision::Month if s.stated_on.month() == 12 => {
            NaiveDate::from_ymd_opt(s.stated_on.year() + 1, 1, 1)
        }
        DatePrecision::Month => {
            NaiveDate::from_ymd_opt(s.stated_on.year(), s.stated_on.month() + 1, 1)
        }
        DatePrecision::Year => NaiveDate::from_ymd_opt(s.stated_on.year() + 1, 1, 1),
    };
    next.and_then(|d| d.pred_opt()).unwrap_or(s.stated_on)
}

/// Whether `target` was certainly made before `source`: its whole period ends before
/// the source's starts, or, on one day with both times known, at an earlier moment.
pub fn stated_before(target: &statement::Model, source: &statement::Model) -> bool {
    if last_day(target) < source.stated_on {
        return true;
    }
    match (target.stated_at_utc, source.stated_at_utc) {
        (Some(t), Some(s)) => t < s,
        _ => false,
    }
}

#[instrument(skip(db))]
pub async fn create<C: TransactionTrait + ConnectionTrait>(
    db: &C,
    actor: &Actor,
    input: NewLink,
) -> ApiResult<link::Model> {
    let target = target(&input)?;
    let note = validate::optional_text("input.note", input.note.as_deref(), MAX_LONG_TEXT)?;
    if input.status == LinkStatus::Dismissed {
        return Err(ApiError::bad_input(
            "input.status",
            "only a suggestion can be dismissed: use dismissLink",
        ));
    }

    let txn = db.begin().await?;
    // The source speaker's suggestions may be refreshed meanwhile: one at a time.
    let speaker = suggestion::speaker_of(&txn, input.source_statement_id).await?;
    suggestion::lock_speakers(&txn, speaker).await?;
    let source = live_statement(&txn, input.source_statement_id, "input.sourceStatementId").await?;
    let (target_field, target_col, target_id) = match target {
        Target::Statement(id) => {
            let target = live_statement(&txn, id, "input.targetStatementId").await?;
            if stated_before(&target, &source) {
                return Err(ApiError::bad_input(
                    "input.targetStatementId",
                    format!(
                        "was stated on {}, before the source ({}); links point forward in time",
                        target.stated_on, source.stated_on
                    ),
                ));
            }
            (
                "input.targetStatementId",
                link::Column::TargetStatementId,
                id,
            )
        }
        Target::Article(id) => {
            record::ensure_exists::<article::Entity, _>(&txn, id, "input.targetArticleId").await?;
            ("input.targetArticleId", link::Column::TargetArticleId, id)
        }
    };
    let duplicate = link::Entity::live()
        .filter(link::Column::SourceStatementId.eq(source.id))
        .filter(target_col.eq(target_id))
        .filter(link::Column::Relation.eq(input.relation))
        .one(&txn)
        .await?;
    if duplicate.is_some() {
        return Err(ApiError::bad_input(
            target_field,
            "the same link (source, target and relation) already exists",
        ));
    }
    let now = Utc::now();
    let model = link::ActiveModel {
        id: Set(Uuid::now_v7()),
        source_statement_id: Set(source.id),
        target_statement_id: Set(input.target_statement_id),
        target_article_id: Set(input.target_article_id),
        relation: Set(input.relation),
        note: Set(note),
        status: Set(input.status),
        created_at: Set(now),
        updated_at: Set(now),
        version: Set(1),
        deleted_at: Set(None),
    }
    .insert(&txn)
    .await?;
    audit::record::<link::Entity, _>(&txn, actor, RevisionAction::Create, None, Some(&model))
        .await?;
    txn.commit().await?;
    Ok(model)
}

/// Takes the advisory lock of the speaker of a link's source statement (see
/// [`suggestion::lock_speakers`]), before the link's row is locked.
async fn lock_source_speaker<C: ConnectionTrait>(txn: &C, link_id: Uuid) -> ApiResult<()> {
    let Some(link) = link::Entity::find_by_id(link_id).one(txn).await? else {
        return Ok(());
    };
    let speaker = suggestion::speaker_of(txn, link.source_statement_id).await?;
    suggestion::lock_speakers(txn, speaker).await?;
    Ok(())
}

/// Soft-deletes a link read at `version`.
#[instrument(skip(db))]
pub async fn delete<C: TransactionTrait + ConnectionTrait>(
    db: &C,
    actor: &Actor,
    id: Uuid,
    version: i32,
) -> ApiResult<link::Model> {
    let txn = db.begin().await?;
    lock_source_speaker(&txn, id).await?;
    let deleted = record::soft_delete::<link::Entity, _>(&txn, actor, id, version).await?;
    txn.commit().await?;
    Ok(deleted)
}

/// Settles a SUGGESTED link read at `version`: CONFIRMED makes it a link like any
/// other; DISMISSED hides it and keeps its pair from being proposed again. A given
/// note replaces the machine's.
#[instrument(skip(db))]
pub async fn settle<C: TransactionTrait + ConnectionTrait>(
    db: &C,
    actor: &Actor,
    id: Uuid,
    version: i32,
    status: LinkStatus,
    note: Option<String>,
) -> ApiResult<link::Model> {
    let note = validate::optional_text("input.note", note.as_deref(), MAX_LONG_TEXT)?;
    let txn = db.begin().await?;
    lock_source_speaker(&txn, id).await?;
    let before = record::lock_for_change::<link::Entity, _>(&txn, id, version).await?;
    if before.status != LinkStatus::Suggested {
        return Err(ApiError::bad_input(
            "input.id",
            format!(
                "the link is {:?}; only a suggestion can be confirmed or dismissed",
                before.status
            ),
        ));
    }
    let mut active = before.clone().into_active_model();
    active.status = Set(status);
    if let Some(note) = note {
        active.note = Set(Some(note));
    }
    let after = record::save_update::<link::Entity, _>(&txn, actor, &before, active).await?;
    txn.commit().await?;
    Ok(after)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveTime;

    fn statement(
        on: &str,
        precision: DatePrecision,
        time: Option<(&str, i16)>,
    ) -> statement::Model {
        let now = Utc::now();
        let stated_on: NaiveDate = on.parse().unwrap();
        let stated_time = time.map(|(t, _)| NaiveTime::parse_from_str(t, "%H:%M").unwrap());
        let offset = time.map(|(_, o)| o);
        statement::Model {
            id: Uuid::now_v7(),
            speaker_id: Uuid::now_v7(),
            text: "t".into(),
            kind: entity::StatementKind::Quote,
            stated_on,
            stated_on_precision: precision,
            stated_time,
            stated_utc_offset_minutes: offset,
            // As the database's generated column computes it.
            stated_at_utc: stated_time
                .zip(offset)
                .map(|(t, o)| stated_on.and_time(t) - chrono::Duration::minutes(i64::from(o))),
            venue: None,
            context: None,
            language: "en".into(),
            reported_by_id: None,
            created_at: now,
            updated_at: now,
            version: 1,
            deleted_at: None,
        }
    }

    #[test]
    fn an_earlier_day_is_before() {
        let source = statement("2017-07-09", DatePrecision::Day, None);
        assert!(stated_before(
            &statement("2017-07-07", DatePrecision::Day, None),
            &source
        ));
        assert!(!stated_before(
            &statement("2017-07-09", DatePrecision::Day, None),
            &source
        ));
        assert!(!stated_before(
            &statement("2017-07-24", DatePrecision::Day, None),
            &source
        ));
    }

    #[test]
    fn an_imprecise_date_is_before_only_when_its_whole_period_is() {
        let source = statement("2017-07-09", DatePrecision::Day, None);
        assert!(!stated_before(
            &statement("2017-07-01", DatePrecision::Month, None),
            &source
        ));
        assert!(!stated_before(
            &statement("2017-01-01", DatePrecision::Year, None),
            &source
        ));
        assert!(stated_before(
            &statement("2017-06-01", DatePrecision::Month, None),
            &source
        ));
        assert!(stated_before(
            &statement("2016-01-01", DatePrecision::Year, None),
            &source
        ));
        let december = statement("2016-12-01", DatePrecision::Month, None);
        assert!(stated_before(
            &december,
            &statement("2017-01-01", DatePrecision::Day, None)
        ));
        assert!(!stated_before(
            &december,
            &statement("2016-12-31", DatePrecision::Day, None)
        ));
    }

    #[test]
    fn on_one_day_known_times_decide() {
        let source = statement("2017-07-09", DatePrecision::Day, Some(("15:00", -240)));
        assert!(stated_before(
            &statement("2017-07-09", DatePrecision::Day, Some(("14:59", -240))),
            &source
        ));
        assert!(!stated_before(
            &statement("2017-07-09", DatePrecision::Day, Some(("15:30", -240))),
            &source
        ));
        // 20:00 in Moscow (17:00 UTC) came before 15:00 in New York (19:00 UTC).
        assert!(stated_before(
            &statement("2017-07-09", DatePrecision::Day, Some(("20:00", 180))),
            &source
        ));
        assert!(!stated_before(
            &statement("2017-07-09", DatePrecision::Day, None),
            &source
        ));
    }
}
