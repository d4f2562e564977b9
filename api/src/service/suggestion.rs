//! Contradiction candidates. When a statement with stances is created or edited, the
//! same speaker's nearest earlier and nearest later statements that take a different
//! stance on one of the same claims are proposed as SUGGESTED `REVERSES` links, from
//! the earlier of the two to the later, for an editor to confirm or dismiss. Nearest
//! only: a speaker who flips ten times gets ten suggestions, not fifty-five. A pair that already has a
//! REVERSES link — suggested, confirmed or dismissed — is never proposed again, and an
//! edit that ends the conflict withdraws a suggestion still waiting.

use std::collections::{HashMap, HashSet};

use chrono::{NaiveDate, NaiveDateTime, Utc};
use sea_orm::{
    ActiveEnum, ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait,
    DbBackend, FromQueryResult, QueryFilter, Statement,
};
use uuid::Uuid;

use crate::error::ApiResult;
use crate::service::audit::{self, Actor};
use crate::service::record::{self, Record as _};
use entity::{LinkRelation, LinkStatus, RevisionAction, StanceKind, link, statement};

#[derive(Debug, FromQueryResult)]
struct Conflict {
    id: Uuid,
    stated_on: NaiveDate,
    stated_at_utc: Option<NaiveDateTime>,
    mine: StanceKind,
    theirs: StanceKind,
}

/// Position order of a statement: date, time of day when known, creation.
fn order_key(
    stated_on: NaiveDate,
    at: Option<NaiveDateTime>,
    id: Uuid,
) -> (NaiveDate, NaiveDateTime, Uuid) {
    (stated_on, at.unwrap_or(NaiveDateTime::MIN), id)
}

/// Proposes and withdraws suggestions for `me`, just created or edited, inside the
/// caller's transaction.
pub async fn refresh<C: ConnectionTrait>(
    txn: &C,
    actor: &Actor,
    me: &statement::Model,
) -> ApiResult<()> {
    // Every statement of the speaker that still differs from `me` on a shared claim:
    // suggestions between `me` and any other are withdrawn.
    let all = Conflict::find_by_statement(Statement::from_sql_and_values(
        DbBackend::Postgres,
        "SELECT DISTINCT ON (o.id) o.id, o.stated_on, o.stated_at_utc, mine.stance AS mine, theirs.stance AS theirs \
         FROM stance mine \
         JOIN stance theirs ON theirs.claim_id = mine.claim_id AND theirs.stance <> mine.stance \
         JOIN statement o ON o.id = theirs.statement_id \
         WHERE mine.statement_id = $1 AND o.id <> $1 AND o.speaker_id = $2 AND o.deleted_at IS NULL \
         ORDER BY o.id",
        [me.id.into(), me.speaker_id.into()],
    ))
    .all(txn)
    .await?;
    // Per shared claim, the nearest statement before and the nearest after `me` (in
    // position order) whose stance differs: these are proposed.
    let conflicts = Conflict::find_by_statement(Statement::from_sql_and_values(
        DbBackend::Postgres,
        "WITH me AS (SELECT s.stated_on, coalesce(s.stated_at_utc, '-infinity'::timestamp) AS at, s.id \
                     FROM statement s WHERE s.id = $1), \
         other AS ( \
           SELECT o.id, o.stated_on, o.stated_at_utc, mine.stance AS mine, theirs.stance AS theirs, mine.claim_id, \
                  (o.stated_on, coalesce(o.stated_at_utc, '-infinity'::timestamp), o.id) \
                    < (SELECT me.stated_on, me.at, me.id FROM me) AS earlier, \
                  o.stated_on AS sort_on, coalesce(o.stated_at_utc, '-infinity'::timestamp) AS sort_at \
           FROM stance mine \
           JOIN stance theirs ON theirs.claim_id = mine.claim_id AND theirs.stance <> mine.stance \
           JOIN statement o ON o.id = theirs.statement_id \
           WHERE mine.statement_id = $1 AND o.id <> $1 AND o.speaker_id = $2 AND o.deleted_at IS NULL), \
         nearest AS ( \
           (SELECT DISTINCT ON (claim_id) * FROM other WHERE earlier ORDER BY claim_id, sort_on DESC, sort_at DESC, id DESC) \
           UNION ALL \
           (SELECT DISTINCT ON (claim_id) * FROM other WHERE NOT earlier ORDER BY claim_id, sort_on, sort_at, id)) \
         SELECT DISTINCT ON (id) id, stated_on, stated_at_utc, mine, theirs FROM nearest ORDER BY id",
        [me.id.into(), me.speaker_id.into()],
    ))
    .all(txn)
    .await?;
    let my_key = order_key(me.stated_on, me.stated_at_utc, me.id);
    // The link a conflict calls for: from the earlier statement to the later.
    let pair = |c: &Conflict| {
        if order_key(c.stated_on, c.stated_at_utc, c.id) < my_key {
            (c.id, me.id)
        } else {
            (me.id, c.id)
        }
    };
    let standing: HashSet<(Uuid, Uuid)> = all.iter().map(pair).collect();
    let wanted: HashMap<(Uuid, Uuid), &Conflict> = conflicts.iter().map(|c| (pair(c), c)).collect();

    let existing = link::Entity::live()
        .filter(link::Column::Relation.eq(LinkRelation::Reverses))
        .filter(
            Condition::any()
                .add(link::Column::SourceStatementId.eq(me.id))
                .add(link::Column::TargetStatementId.eq(me.id)),
        )
        .all(txn)
        .await?;
    // A suggestion whose pair no longer conflicts (in that direction) is withdrawn;
    // every other REVERSES link between a pair means the pair is settled.
    let withdrawn = |l: &link::Model| {
        l.status == LinkStatus::Suggested
            && l.target_statement_id
                .is_none_or(|t| !standing.contains(&(l.source_statement_id, t)))
    };
    for l in existing.iter().filter(|l| withdrawn(l)) {
        record::soft_delete::<link::Entity, _>(txn, actor, l.id, l.version).await?;
    }
    let now = Utc::now();
    for ((source, target), conflict) in &wanted {
        let settled = existing.iter().filter(|l| !withdrawn(l)).any(|l| {
            let ends = (l.source_statement_id, l.target_statement_id);
            ends == (*source, Some(*target)) || ends == (*target, Some(*source))
        });
        if settled {
            continue;
        }
        let (earlier, later) = if *source == me.id {
            (conflict.mine, conflict.theirs)
        } else {
            (conflict.theirs, conflict.mine)
        };
        let model = link::ActiveModel {
            id: Set(Uuid::now_v7()),
            source_statement_id: Set(*source),
            target_statement_id: Set(Some(*target)),
            target_article_id: Set(None),
            relation: Set(LinkRelation::Reverses),
            note: Set(Some(format!(
                "Suggested: the same speaker's stance on a shared claim went from {} to {}.",
                earlier.to_value(),
                later.to_value()
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
