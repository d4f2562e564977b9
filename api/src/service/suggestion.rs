//! Contradiction candidates. A position change (two consecutive positions of one
//! speaker on one claim with different stances) is proposed as a SUGGESTED `REVERSES`
//! link from the earlier statement to the later, for an editor to confirm or dismiss.
//! After every change to a statement, the histories it takes part in are read again:
//! changes without a link get a suggestion, and suggestions that are no longer a
//! change on any shared claim are withdrawn. A pair that already has a confirmed or
//! dismissed REVERSES link is never proposed again.
//!
//! Claims are not the only way to see that a speaker turned around: the same speaker's
//! statements with similar text (trigram similarity of at least [`SIMILAR_TEXT`]), one
//! SUPPORTS and the other OPPOSES, on claims they do not share (two records of one
//! proposition, say), are proposed the same way, earlier to later.
//!
//! Many editors write at once. A refresh reads a speaker's histories and writes the
//! suggestions that follow from them; two at once for one speaker would each miss the
//! other's statement, propose one pair twice or withdraw one suggestion twice. So
//! every change to a speaker's statements or suggestions holds that speaker's
//! transaction-scoped advisory lock ([`lock_speakers`]) from before it locks any row
//! until it commits: refreshes for one speaker run one after the other, each reading
//! what the one before it committed, and the last one leaves the suggestions a
//! sequential run would. Speakers are locked in one order, so two writers never wait
//! on each other in a circle.

use std::collections::{BTreeSet, HashSet};

use chrono::Utc;
use sea_orm::{
    ActiveEnum, ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait,
    DbBackend, EntityTrait, FromQueryResult, QueryFilter, Statement,
};
use uuid::Uuid;

use crate::error::ApiResult;
use crate::service::audit::{self, Actor};
use crate::service::position::{self, ChangeRow, PositionRow};
use crate::service::record::{self, Record as _};
use entity::link;
use entity::{LinkRelation, LinkStatus, RevisionAction, stance, statement};

/// Advisory lock class of a speaker's statements and suggestions (the second key is
/// drawn from the speaker's id; two speakers sharing it only wait for each other).
const SPEAKER_LOCK_CLASS: i32 = 0x5350_4b52;

/// Speakers whose lock the transaction holds, from [`lock_speakers`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LockedSpeakers(BTreeSet<Uuid>);

impl LockedSpeakers {
    pub fn speakers(&self) -> &BTreeSet<Uuid> {
        &self.0
    }
}

/// Takes the advisory locks of `speakers` for the rest of the transaction, in the
/// order of their keys, waiting for the transactions that hold them. Call it before
/// locking any row: a writer holding a statement's row while it waits for a lock
/// could wait on a refresh that waits for that row.
pub async fn lock_speakers<C: ConnectionTrait>(
    txn: &C,
    speakers: impl IntoIterator<Item = Uuid>,
) -> ApiResult<LockedSpeakers> {
    let speakers: BTreeSet<Uuid> = speakers.into_iter().collect();
    let keys: BTreeSet<i32> = speakers.iter().map(|s| lock_key(*s)).collect();
    for key in keys {
        txn.execute_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT pg_advisory_xact_lock($1, $2)",
            [SPEAKER_LOCK_CLASS.into(), key.into()],
        ))
        .await?;
    }
    Ok(LockedSpeakers(speakers))
}

/// The second advisory-lock key of a speaker: its id folded to 32 bits.
fn lock_key(speaker: Uuid) -> i32 {
    let folded = speaker.as_bytes().chunks_exact(4).fold(0u32, |acc, c| {
        acc ^ u32::from_be_bytes([c[0], c[1], c[2], c[3]])
    });
    i32::from_ne_bytes(folded.to_ne_bytes())
}

/// The speaker whose lock guards a statement's suggestions; `None` when the statement
/// does not exist (the caller's own checks report it).
pub async fn speaker_of<C: ConnectionTrait>(
    txn: &C,
    statement_id: Uuid,
) -> ApiResult<Option<Uuid>> {
    Ok(statement::Entity::find_by_id(statement_id)
        .one(txn)
        .await?
        .map(|s| s.speaker_id))
}

/// Re-reads the position histories of the `locked` speakers on `claims` (those a
/// statement took part in, before and after its change) and brings the suggestions in
/// line, inside the caller's transaction. `touched` is the changed statement, whose
/// suggestions are re-checked even when it left every history.
pub async fn refresh<C: ConnectionTrait>(
    txn: &C,
    actor: &Actor,
    touched: Uuid,
    locked: &LockedSpeakers,
    claims: &BTreeSet<Uuid>,
) -> ApiResult<()> {
    let speakers = locked.speakers();
    let mut changes: Vec<ChangeRow> = Vec::new();
    let mut members: HashSet<Uuid> = HashSet::from([touched]);
    for speaker in speakers {
        for claim in claims {
            let history = position::history(txn, *speaker, *claim).await?;
            members.extend(history.iter().map(|p| p.statement_id));
            changes.extend(position::changes_in(&history));
        }
    }
    let by_text = similar_text_changes(txn, touched).await?;
    let text_pairs: HashSet<(Uuid, Uuid)> = by_text
        .iter()
        .map(|c| (c.from.statement_id, c.to.statement_id))
        .collect();
    members.extend(text_pairs.iter().flat_map(|(a, b)| [*a, *b]));
    changes.extend(by_text);
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
            note: Set(Some(if text_pairs.contains(&(from, to)) {
                format!(
                    "Suggested: the speaker said something similar with the opposite stance ({} to {}).",
                    change.from.stance.to_value(),
                    change.to.stance.to_value()
                )
            } else {
                format!(
                    "Suggested: the speaker's stance on a claim went from {} to {}.",
                    change.from.stance.to_value(),
                    change.to.stance.to_value()
                )
            })),
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
    Ok(similar_text_changes(txn, from)
        .await?
        .iter()
        .any(|c| c.from.statement_id == from && c.to.statement_id == to))
}

/// Lowest trigram similarity at which two statements of one speaker count as saying
/// the same thing.
pub const SIMILAR_TEXT: f64 = 0.6;

const POSITION_OF: &str = "SELECT s.id AS statement_id, s.speaker_id, st.claim_id, st.stance, s.stated_on, \
     s.stated_on_precision, s.stated_at_utc, s.reported_by_id IS NOT NULL AS reported \
     FROM stance st JOIN statement s ON s.id = st.statement_id WHERE s.id = $1 AND st.claim_id = $2";

#[derive(Debug, FromQueryResult)]
struct TextPair {
    other: Uuid,
    own_claim: Uuid,
    other_claim: Uuid,
}

/// Position changes between `statement` and the same speaker's statements with similar
/// text and the opposite stance (SUPPORTS against OPPOSES) on claims the two do not
/// share, each from the earlier statement to the later.
async fn similar_text_changes<C: ConnectionTrait>(
    txn: &C,
    statement: Uuid,
) -> ApiResult<Vec<ChangeRow>> {
    let pairs = TextPair::find_by_statement(Statement::from_sql_and_values(
        DbBackend::Postgres,
        "SELECT o.id AS other, ms.claim_id AS own_claim, os.claim_id AS other_claim \
         FROM statement me \
         JOIN statement o ON o.speaker_id = me.speaker_id AND o.id <> me.id AND o.deleted_at IS NULL \
         JOIN stance ms ON ms.statement_id = me.id \
         JOIN stance os ON os.statement_id = o.id \
         WHERE me.id = $1 AND me.deleted_at IS NULL AND similarity(o.text, me.text) >= $2 \
           AND ((ms.stance = 'SUPPORTS' AND os.stance = 'OPPOSES') OR (ms.stance = 'OPPOSES' AND os.stance = 'SUPPORTS')) \
           AND NOT EXISTS (SELECT 1 FROM stance x JOIN stance y ON y.claim_id = x.claim_id \
                           WHERE x.statement_id = me.id AND y.statement_id = o.id) \
         ORDER BY o.id, ms.claim_id, os.claim_id",
        [statement.into(), SIMILAR_TEXT.into()],
    ))
    .all(txn)
    .await?;
    let mut changes = Vec::new();
    let mut seen: HashSet<Uuid> = HashSet::new();
    for pair in pairs {
        // One suggestion per pair of statements, however many claims they take.
        if !seen.insert(pair.other) {
            continue;
        }
        let own = position_of(txn, statement, pair.own_claim).await?;
        let other = position_of(txn, pair.other, pair.other_claim).await?;
        let (Some(own), Some(other)) = (own, other) else {
            continue;
        };
        let (from, to) = if position_order(&other) < position_order(&own) {
            (other, own)
        } else {
            (own, other)
        };
        changes.push(ChangeRow { from, to });
    }
    Ok(changes)
}

async fn position_of<C: ConnectionTrait>(
    txn: &C,
    statement: Uuid,
    claim: Uuid,
) -> ApiResult<Option<PositionRow>> {
    Ok(
        PositionRow::find_by_statement(Statement::from_sql_and_values(
            DbBackend::Postgres,
            POSITION_OF,
            [statement.into(), claim.into()],
        ))
        .one(txn)
        .await?,
    )
}

/// Position order: date, time of day when known (untimed first), creation.
fn position_order(p: &PositionRow) -> (chrono::NaiveDate, Option<chrono::NaiveDateTime>, Uuid) {
    (p.stated_on, p.stated_at_utc, p.statement_id)
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
