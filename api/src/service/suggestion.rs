//! Contradiction candidates. A position change (two consecutive positions of one
//! speaker on one claim with different stances) is proposed as a SUGGESTED `REVERSES`
//! link from the earlier statement to the later, for an editor to confirm or dismiss.
//! After every change to a statement, the histories it takes part in are read again:
//! changes without a link get a suggestion, and suggestions that are no longer a
//! change on any shared claim are withdrawn. A pair that already has a confirmed or
//! dismissed REVERSES link is never proposed again.

use std::collections::{BTreeSet, HashSet};

use chrono::Utc;
use sea_orm::{
    ActiveEnum, ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait,
    EntityTrait, QueryFilter,
};
use uuid::Uuid;

use crate::error::ApiResult;
use crate::service::audit::{self, Actor};
use crate::service::position::{self, ChangeRow};
use crate::service::record::{self, Record as _};
use entity::link;
use entity::{LinkRelation, LinkStatus, RevisionAction, stance, statement};

/// Re-reads the position histories of `speakers` on `claims` (those a statement took
/// part in, before and after its change) and brings the suggestions in line, inside
/// the caller's transaction. `touched` is the changed statement, whose suggestions
/// are re-checked even when it left every history.
pub async fn refresh<C: ConnectionTrait>(
    txn: &C,
    actor: &Actor,
    touched: Uuid,
    speakers: &BTreeSet<Uuid>,
    claims: &BTreeSet<Uuid>,
) -> ApiResult<()> {
    let mut changes: Vec<ChangeRow> = Vec::new();
    let mut members: HashSet<Uuid> = HashSet::from([touched]);
    for speaker in speakers {
        for claim in claims {
            let history = position::history(txn, *speaker, *claim).await?;
            members.extend(history.iter().map(|p| p.statement_id));
            changes.extend(position::changes_in(&history));
        }
    }
    let existing = link::Entity::live()
        .filter(link::Column::Relation.eq(LinkRelation::Reverses))
        .filter(
            Condition::any()
                .add(link::Column::SourceStatementId.is_in(members.iter().copied()))
                .add(link::Column::TargetStatementId.is_in(members.iter().copied())),
        )
        .all(txn)
        .await?;
    let wanted: HashSet<(Uuid, Uuid)> = changes
        .iter()
        .map(|c| (c.from.statement_id, c.to.statement_id))
        .collect();
    let mut kept: Vec<&link::Model> = Vec::new();
    for l in &existing {
        let Some(target) = l.target_statement_id else {
            continue;
        };
        let pair = (l.source_statement_id, target);
        if l.status == LinkStatus::Suggested
            && !wanted.contains(&pair)
            && !is_change(txn, pair).await?
        {
            record::soft_delete::<link::Entity, _>(txn, actor, l.id, l.version).await?;
        } else {
            kept.push(l);
        }
    }
    let now = Utc::now();
    let mut proposed: HashSet<(Uuid, Uuid)> = HashSet::new();
    for change in &changes {
        let (from, to) = (change.from.statement_id, change.to.statement_id);
        let settled = kept.iter().any(|l| {
            let ends = (l.source_statement_id, l.target_statement_id);
            ends == (from, Some(to)) || ends == (to, Some(from))
        });
        if settled || !proposed.insert((from, to)) {
            continue;
        }
        let model = link::ActiveModel {
            id: Set(Uuid::now_v7()),
            source_statement_id: Set(from),
            target_statement_id: Set(Some(to)),
            target_article_id: Set(None),
            relation: Set(LinkRelation::Reverses),
            note: Set(Some(format!(
                "Suggested: the speaker's stance on a claim went from {} to {}.",
                change.from.stance.to_value(),
                change.to.stance.to_value()
            ))),
            status: Set(LinkStatus::Suggested),
            created_at: Set(now),
            updated_at: Set(now),
            version: Set(1),
            deleted_at: Set(None),
        }
        .insert(txn)
        .await?;
        audit::record::<link::Entity, _>(txn, actor, RevisionAction::Create, None, Some(&model))
            .await?;
    }
    Ok(())
}

/// Whether `from` → `to` is a position change on any claim the two statements share.
async fn is_change<C: ConnectionTrait>(txn: &C, (from, to): (Uuid, Uuid)) -> ApiResult<bool> {
    let Some(source) = statement::Entity::live()
        .filter(statement::Column::Id.eq(from))
        .one(txn)
        .await?
    else {
        return Ok(false);
    };
    let stances = stance::Entity::find()
        .filter(stance::Column::StatementId.is_in([from, to]))
        .all(txn)
        .await?;
    let shared: BTreeSet<Uuid> = stances
        .iter()
        .filter(|s| s.statement_id == from)
        .map(|s| s.claim_id)
        .filter(|c| {
            stances
                .iter()
                .any(|t| t.statement_id == to && t.claim_id == *c)
        })
        .collect();
    for claim in shared {
        let history = position::history(txn, source.speaker_id, claim).await?;
        if position::changes_in(&history)
            .iter()
            .any(|c| c.from.statement_id == from && c.to.statement_id == to)
        {
            return Ok(true);
        }
    }
    Ok(false)
}

/// The claims a statement takes a stance on.
pub async fn claims_of<C: ConnectionTrait>(
    txn: &C,
    statement_id: Uuid,
) -> ApiResult<BTreeSet<Uuid>> {
    Ok(stance::Entity::find()
        .filter(stance::Column::StatementId.eq(statement_id))
        .all(txn)
        .await?
        .into_iter()
        .map(|s| s.claim_id)
        .collect())
}
