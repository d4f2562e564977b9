//! Statements: what a speaker said on a date. A statement is stored once with its
//! stances on claims, its topics and its appearances in articles; its revisions
//! snapshot the stances and topics with it, so the audit trail shows a changed
//! position as a change of the statement.

pub mod filter;

use chrono::{NaiveDate, Utc};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel,
    QueryFilter, QueryOrder, QuerySelect, TransactionSession, TransactionTrait,
};
use serde::Serialize;
use tracing::instrument;
use uuid::Uuid;

use crate::error::{ApiError, ApiResult};
use crate::service::audit::{self, Actor};
use crate::service::record::{self, Record, ensure_exists};
use crate::service::suggestion;
use crate::service::validate::{self, MAX_LONG_TEXT, MAX_STATEMENT_TEXT};
use entity::{
    DatePrecision, RevisionAction, StanceKind, StatementKind, appearance, article, claim, link,
    speaker, stance, statement, statement_topic, topic, verdict,
};

/// Most claims one statement may take a stance on, and most topics it may carry.
pub const MAX_STANCES: usize = 50;
pub const MAX_TOPICS: usize = 50;

#[derive(Debug, Clone)]
pub struct NewStatement {
    pub speaker_id: Uuid,
    pub text: String,
    pub kind: StatementKind,
    pub stated_on: NaiveDate,
    pub stated_on_precision: DatePrecision,
    pub stated_time: Option<String>,
    pub venue: Option<String>,
    pub context: Option<String>,
    pub language: String,
    pub reported_by_id: Option<Uuid>,
    pub stances: Vec<(Uuid, StanceKind)>,
    pub topic_ids: Vec<Uuid>,
    pub appearances: Vec<NewAppearance>,
}

/// A partial update: `None` leaves a field as it is; `Some(None)` clears it; a given
/// list of stances or topics replaces the old one.
#[derive(Debug, Clone, Default)]
pub struct StatementPatch {
    pub speaker_id: Option<Uuid>,
    pub text: Option<String>,
    pub kind: Option<StatementKind>,
    pub stated_on: Option<NaiveDate>,
    pub stated_on_precision: Option<DatePrecision>,
    pub stated_time: Option<Option<String>>,
    pub venue: Option<Option<String>>,
    pub context: Option<Option<String>>,
    pub language: Option<String>,
    pub reported_by_id: Option<Option<Uuid>>,
    pub stances: Option<Vec<(Uuid, StanceKind)>>,
    pub topic_ids: Option<Vec<Uuid>>,
}

/// Where a statement was reported.
#[derive(Debug, Clone)]
pub struct NewAppearance {
    pub article_id: Uuid,
    pub first: bool,
    pub excerpt: Option<String>,
    pub char_offset: Option<i32>,
    pub timecode_ms: Option<i64>,
}

/// What a statement's revisions record: the row, its stances and its topics.
#[derive(Debug, Serialize)]
pub struct Snapshot<'a> {
    #[serde(flatten)]
    pub statement: &'a statement::Model,
    pub stances: Vec<SnapshotStance>,
    pub topic_ids: Vec<Uuid>,
}

#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct SnapshotStance {
    pub claim_id: Uuid,
    pub stance: StanceKind,
}

/// [`Snapshot`] in SQL, for the statement row `alias`: what set-based writes (imports,
/// generated data) record in a statement's revision.
pub fn snapshot_sql(alias: &str) -> String {
    format!(
        "((to_jsonb({alias}) - 'search_doc' - 'search_config') || jsonb_build_object( \
           'stances', (SELECT coalesce(jsonb_agg(jsonb_build_object('claim_id', x.claim_id, 'stance', x.stance) \
                                                 ORDER BY x.claim_id), '[]') \
                       FROM stance x WHERE x.statement_id = {alias}.id), \
           'topic_ids', (SELECT coalesce(jsonb_agg(t.topic_id ORDER BY t.topic_id), '[]') \
                         FROM statement_topic t WHERE t.statement_id = {alias}.id)))"
    )
}

/// Input checks that need no database.
struct Checked {
    text: Option<String>,
    venue: Option<Option<String>>,
    context: Option<Option<String>>,
    language: Option<String>,
    time: Option<Option<(chrono::NaiveTime, i16)>>,
}

fn check_stances(stances: &[(Uuid, StanceKind)]) -> ApiResult<()> {
    if stances.len() > MAX_STANCES {
        return Err(ApiError::bad_input(
            "input.stances",
            format!("at most {MAX_STANCES} stances"),
        ));
    }
    for (i, (claim, _)) in stances.iter().enumerate() {
        if stances[..i].iter().any(|(c, _)| c == claim) {
            return Err(ApiError::bad_input(
                format!("input.stances[{i}].claimId"),
                "a statement takes one stance per claim",
            ));
        }
    }
    Ok(())
}

fn check_topics(topics: &[Uuid]) -> ApiResult<Vec<Uuid>> {
    if topics.len() > MAX_TOPICS {
        return Err(ApiError::bad_input(
            "input.topicIds",
            format!("at most {MAX_TOPICS} topics"),
        ));
    }
    let mut out = topics.to_vec();
    out.sort();
    out.dedup();
    Ok(out)
}

fn check_time(value: Option<&str>) -> ApiResult<Option<(chrono::NaiveTime, i16)>> {
    value
        .map(|t| validate::time_of_day("input.statedTime", t))
        .transpose()
}

fn check_date(
    date: NaiveDate,
    precision: DatePrecision,
    time: Option<&(chrono::NaiveTime, i16)>,
) -> ApiResult<()> {
    validate::stated_on("input.statedOn", date, precision)?;
    if time.is_some() && precision != DatePrecision::Day {
        return Err(ApiError::bad_input(
            "input.statedTime",
            "a time of day needs a DAY-precision date",
        ));
    }
    Ok(())
}

/// Checks that every id the input names exists, blaming the field that names it.
async fn check_references<C: ConnectionTrait>(
    db: &C,
    speaker_id: Option<Uuid>,
    reported_by: Option<Uuid>,
    stances: &[(Uuid, StanceKind)],
    topics: &[Uuid],
) -> ApiResult<()> {
    if let Some(id) = speaker_id {
        ensure_exists::<speaker::Entity, _>(db, id, "input.speakerId").await?;
    }
    if let Some(id) = reported_by {
        ensure_exists::<speaker::Entity, _>(db, id, "input.reportedById").await?;
    }
    for (i, (claim_id, _)) in stances.iter().enumerate() {
        ensure_exists::<claim::Entity, _>(db, *claim_id, &format!("input.stances[{i}].claimId"))
            .await?;
    }
    for (i, topic_id) in topics.iter().enumerate() {
        ensure_exists::<topic::Entity, _>(db, *topic_id, &format!("input.topicIds[{i}]")).await?;
    }
    Ok(())
}

#[instrument(skip(db))]
pub async fn create<C: TransactionTrait + ConnectionTrait>(
    db: &C,
    actor: &Actor,
    input: NewStatement,
) -> ApiResult<statement::Model> {
    let checked = Checked {
        text: Some(validate::text(
            "input.text",
            &input.text,
            MAX_STATEMENT_TEXT,
        )?),
        venue: Some(validate::optional_text(
            "input.venue",
            input.venue.as_deref(),
            1000,
        )?),
        context: Some(validate::optional_text(
            "input.context",
            input.context.as_deref(),
            MAX_LONG_TEXT,
        )?),
        language: Some(validate::language("input.language", &input.language)?),
        time: Some(check_time(input.stated_time.as_deref())?),
    };
    let time = checked.time.flatten();
    check_date(input.stated_on, input.stated_on_precision, time.as_ref())?;
    if input.reported_by_id == Some(input.speaker_id) {
        return Err(ApiError::bad_input(
            "input.reportedById",
            "a speaker does not report their own statement",
        ));
    }
    check_stances(&input.stances)?;
    let topics = check_topics(&input.topic_ids)?;
    check_appearances(&input.appearances, |i| format!("input.appearances[{i}]"))?;

    let txn = db.begin().await?;
    let locked = suggestion::lock_speakers(&txn, [input.speaker_id]).await?;
    // The client's own list, so an error names the position the client sent.
    check_references(
        &txn,
        Some(input.speaker_id),
        input.reported_by_id,
        &input.stances,
        &input.topic_ids,
    )
    .await?;
    let now = Utc::now();
    let model = statement::ActiveModel {
        id: Set(Uuid::now_v7()),
        speaker_id: Set(input.speaker_id),
        text: Set(checked.text.unwrap_or_default()),
        kind: Set(input.kind),
        stated_on: Set(input.stated_on),
        stated_on_precision: Set(input.stated_on_precision),
        stated_time: Set(time.map(|t| t.0)),
        stated_utc_offset_minutes: Set(time.map(|t| t.1)),
        stated_at_utc: sea_orm::ActiveValue::NotSet,
        venue: Set(checked.venue.flatten()),
        context: Set(checked.context.flatten()),
        language: Set(checked.language.unwrap_or_default()),
        reported_by_id: Set(input.reported_by_id),
        created_at: Set(now),
        updated_at: Set(now),
        version: Set(1),
        deleted_at: Set(None),
    }
    .insert(&txn)
    .await?;
    replace_stances(&txn, model.id, &input.stances).await?;
    replace_topics(&txn, model.id, &topics).await?;
    let claims = input.stances.iter().map(|(claim, _)| *claim).collect();
    suggestion::refresh(&txn, actor, model.id, &locked, &claims).await?;
    for (i, appearance) in input.appearances.into_iter().enumerate() {
        insert_appearance(
            &txn,
            actor,
            model.id,
            appearance,
            &format!("input.appearances[{i}].articleId"),
        )
        .await?;
    }
    let after = snapshot(&txn, &model).await?;
    audit::write(
        &txn,
        actor,
        statement::Entity::NAME,
        model.id,
        1,
        RevisionAction::Create,
        None,
        Some(after),
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
    patch: StatementPatch,
) -> ApiResult<statement::Model> {
    let checked = Checked {
        text: patch
            .text
            .as_deref()
            .map(|t| validate::text("input.text", t, MAX_STATEMENT_TEXT))
            .transpose()?,
        venue: patch
            .venue
            .as_ref()
            .map(|v| validate::optional_text("input.venue", v.as_deref(), 1000))
            .transpose()?,
        context: patch
            .context
            .as_ref()
            .map(|v| validate::optional_text("input.context", v.as_deref(), MAX_LONG_TEXT))
            .transpose()?,
        language: patch
            .language
            .as_deref()
            .map(|l| validate::language("input.language", l))
            .transpose()?,
        time: patch
            .stated_time
            .as_ref()
            .map(|t| check_time(t.as_deref()))
            .transpose()?,
    };
    if let Some(stances) = &patch.stances {
        check_stances(stances)?;
    }
    let topics = patch.topic_ids.as_deref().map(check_topics).transpose()?;

    let txn = db.begin().await?;
    // The speakers whose suggestions the change touches, locked before the row.
    let current = suggestion::speaker_of(&txn, id).await?;
    let locked =
        suggestion::lock_speakers(&txn, current.into_iter().chain(patch.speaker_id)).await?;
    let before = record::lock_for_change::<statement::Entity, _>(&txn, id, version).await?;
    let speaker_id = patch.speaker_id.unwrap_or(before.speaker_id);
    let reported_by = patch.reported_by_id.unwrap_or(before.reported_by_id);
    if reported_by == Some(speaker_id) {
        return Err(ApiError::bad_input(
            "input.reportedById",
            "a speaker does not report their own statement",
        ));
    }
    let stated_on = patch.stated_on.unwrap_or(before.stated_on);
    let precision = patch
        .stated_on_precision
        .unwrap_or(before.stated_on_precision);
    let time = match checked.time {
        Some(t) => t,
        None => before.stated_time.zip(before.stated_utc_offset_minutes),
    };
    check_date(stated_on, precision, time.as_ref())?;
    check_references(
        &txn,
        patch.speaker_id,
        patch.reported_by_id.flatten(),
        patch.stances.as_deref().unwrap_or_default(),
        patch.topic_ids.as_deref().unwrap_or_default(),
    )
    .await?;
    let before_snapshot = snapshot(&txn, &before).await?;
    let claims_before = suggestion::claims_of(&txn, id).await?;

    let mut active = before.clone().into_active_model();
    active.speaker_id = Set(speaker_id);
    active.reported_by_id = Set(reported_by);
    active.stated_on = Set(stated_on);
    active.stated_on_precision = Set(precision);
    active.stated_time = Set(time.map(|t| t.0));
    active.stated_utc_offset_minutes = Set(time.map(|t| t.1));
    record::patch(&mut active.text, checked.text);
    record::patch(&mut active.kind, patch.kind);
    record::patch(&mut active.venue, checked.venue);
    record::patch(&mut active.context, checked.context);
    record::patch(&mut active.language, checked.language);
    active.version = Set(before.version + 1);
    active.updated_at = Set(Utc::now());
    let after = active.update(&txn).await?;
    if let Some(stances) = &patch.stances {
        replace_stances(&txn, id, stances).await?;
    }
    if let Some(topics) = &topics {
        replace_topics(&txn, id, topics).await?;
    }
    let mut claims = suggestion::claims_of(&txn, id).await?;
    claims.extend(claims_before);
    if !locked.speakers().contains(&before.speaker_id) {
        // Another writer moved the statement to another speaker between the look and
        // the lock.
        return Err(ApiError::Conflict {
            message: "the statement was moved to another speaker meanwhile; try again".into(),
            field: Some("id".into()),
        });
    }
    suggestion::refresh(&txn, actor, id, &locked, &claims).await?;
    let moved = (
        after.stated_on,
        after.stated_time,
        after.stated_utc_offset_minutes,
    ) != (
        before.stated_on,
        before.stated_time,
        before.stated_utc_offset_minutes,
    );
    if moved {
        check_links_stay_forward(&txn, &after).await?;
    }
    let after_snapshot = snapshot(&txn, &after).await?;
    audit::write(
        &txn,
        actor,
        statement::Entity::NAME,
        id,
        after.version,
        RevisionAction::Update,
        Some(before_snapshot),
        Some(after_snapshot),
    )
    .await?;
    txn.commit().await?;
    Ok(after)
}

/// Soft-deletes a statement no live verdict reviews. Its links, to and from it, go
/// with it (each with its revision): a link needs both its ends.
#[instrument(skip(db))]
pub async fn delete<C: TransactionTrait + ConnectionTrait>(
    db: &C,
    actor: &Actor,
    id: Uuid,
    version: i32,
) -> ApiResult<statement::Model> {
    let txn = db.begin().await?;
    let current = suggestion::speaker_of(&txn, id).await?;
    let locked = suggestion::lock_speakers(&txn, current).await?;
    let deleted = record::soft_delete::<statement::Entity, _>(&txn, actor, id, version).await?;
    record::ensure_unreferenced::<verdict::Entity, _>(
        &txn,
        verdict::Column::StatementId,
        id,
        "verdicts",
    )
    .await?;
    // Locked as read, in id order: another writer may be deleting one of them (a link
    // from another speaker's statement), and its version is read once that is done.
    let links = link::Entity::live()
        .filter(
            sea_orm::Condition::any()
                .add(link::Column::SourceStatementId.eq(id))
                .add(link::Column::TargetStatementId.eq(id)),
        )
        .order_by_asc(link::Column::Id)
        .lock_exclusive()
        .all(&txn)
        .await?;
    for l in links {
        record::soft_delete::<link::Entity, _>(&txn, actor, l.id, l.version).await?;
    }
    // Its neighbours in each history may now be a change of their own.
    let claims = suggestion::claims_of(&txn, id).await?;
    suggestion::refresh(&txn, actor, id, &locked, &claims).await?;
    txn.commit().await?;
    Ok(deleted)
}

/// Refuses a new date or time that would make a link point back in time.
async fn check_links_stay_forward<C: ConnectionTrait>(
    db: &C,
    after: &statement::Model,
) -> ApiResult<()> {
    let links = link::Entity::live()
        .filter(
            sea_orm::Condition::any()
                .add(link::Column::SourceStatementId.eq(after.id))
                .add(link::Column::TargetStatementId.eq(after.id)),
        )
        .all(db)
        .await?;
    for l in links
        .into_iter()
        .filter(|l| l.status != entity::LinkStatus::Dismissed)
    {
        let Some(target_id) = l.target_statement_id else {
            continue;
        };
        let other_id = if l.source_statement_id == after.id {
            target_id
        } else {
            l.source_statement_id
        };
        let Some(other) = statement::Entity::live()
            .filter(statement::Column::Id.eq(other_id))
            .one(db)
            .await?
        else {
            continue;
        };
        let (source, target) = if l.source_statement_id == after.id {
            (after, &other)
        } else {
            (&other, after)
        };
        if crate::service::link::stated_before(target, source) {
            return Err(ApiError::bad_input(
                "input.statedOn",
                format!(
                    "a {:?} link would then point back in time; move or delete the link first",
                    l.relation
                ),
            ));
        }
    }
    Ok(())
}

/// Records that a statement was reported in an article. Marking it `first` moves
/// the first-appearance mark from any earlier one.
#[instrument(skip(db))]
pub async fn add_appearance<C: TransactionTrait + ConnectionTrait>(
    db: &C,
    actor: &Actor,
    statement_id: Uuid,
    appearance: NewAppearance,
) -> ApiResult<appearance::Model> {
    check_appearances(std::slice::from_ref(&appearance), |_| "input".to_owned())?;
    let txn = db.begin().await?;
    ensure_exists::<statement::Entity, _>(&txn, statement_id, "input.statementId").await?;
    let model = insert_appearance(&txn, actor, statement_id, appearance, "input.articleId").await?;
    txn.commit().await?;
    Ok(model)
}

/// Checks appearances given in the input; `prefix(i)` is the input path of the i-th.
fn check_appearances(
    appearances: &[NewAppearance],
    prefix: impl Fn(usize) -> String,
) -> ApiResult<()> {
    for (i, a) in appearances.iter().enumerate() {
        let field = |name: &str| format!("{}.{name}", prefix(i));
        validate::optional_text(&field("excerpt"), a.excerpt.as_deref(), MAX_STATEMENT_TEXT)?;
        if a.char_offset.is_some_and(|o| o < 0) {
            return Err(ApiError::bad_input(
                field("charOffset"),
                "must not be negative",
            ));
        }
        if a.timecode_ms.is_some_and(|t| t < 0) {
            return Err(ApiError::bad_input(
                field("timecodeMs"),
                "must not be negative",
            ));
        }
        if a.first && appearances[..i].iter().any(|b| b.first) {
            return Err(ApiError::bad_input(
                field("first"),
                "only one appearance can be the first",
            ));
        }
        if appearances[..i]
            .iter()
            .any(|b| b.article_id == a.article_id)
        {
            return Err(ApiError::bad_input(
                field("articleId"),
                "the statement already appears in this article",
            ));
        }
    }
    Ok(())
}

async fn insert_appearance<C: ConnectionTrait>(
    txn: &C,
    actor: &Actor,
    statement_id: Uuid,
    a: NewAppearance,
    article_field: &str,
) -> ApiResult<appearance::Model> {
    ensure_exists::<article::Entity, _>(txn, a.article_id, article_field).await?;
    let existing = appearance::Entity::live()
        .filter(appearance::Column::StatementId.eq(statement_id))
        .filter(appearance::Column::ArticleId.eq(a.article_id))
        .one(txn)
        .await?;
    if existing.is_some() {
        return Err(ApiError::bad_input(
            article_field,
            "the statement already appears in this article",
        ));
    }
    if a.first {
        let previous = appearance::Entity::live()
            .filter(appearance::Column::StatementId.eq(statement_id))
            .filter(appearance::Column::First.eq(true))
            .all(txn)
            .await?;
        for before in previous {
            let mut active = before.clone().into_active_model();
            active.first = Set(false);
            active.version = Set(before.version + 1);
            active.updated_at = Set(Utc::now());
            let after = active.update(txn).await?;
            audit::record::<appearance::Entity, _>(
                txn,
                actor,
                RevisionAction::Update,
                Some(&before),
                Some(&after),
            )
            .await?;
        }
    }
    let now = Utc::now();
    let model = appearance::ActiveModel {
        id: Set(Uuid::now_v7()),
        statement_id: Set(statement_id),
        article_id: Set(a.article_id),
        first: Set(a.first),
        excerpt: Set(validate::optional_text(
            "input.excerpt",
            a.excerpt.as_deref(),
            MAX_STATEMENT_TEXT,
        )?),
        char_offset: Set(a.char_offset),
        timecode_ms: Set(a.timecode_ms),
        created_at: Set(now),
        updated_at: Set(now),
        version: Set(1),
        deleted_at: Set(None),
    }
    .insert(txn)
    .await?;
    audit::record::<appearance::Entity, _>(txn, actor, RevisionAction::Create, None, Some(&model))
        .await?;
    Ok(model)
}

/// Replaces a statement's stances: unchanged pairs keep their row, changed ones are
/// updated, missing ones removed.
async fn replace_stances<C: ConnectionTrait>(
    txn: &C,
    statement_id: Uuid,
    stances: &[(Uuid, StanceKind)],
) -> ApiResult<()> {
    let existing = stance::Entity::find()
        .filter(stance::Column::StatementId.eq(statement_id))
        .all(txn)
        .await?;
    let now = Utc::now();
    for old in &existing {
        match stances.iter().find(|(claim, _)| *claim == old.claim_id) {
            None => {
                stance::Entity::delete_by_id(old.id).exec(txn).await?;
            }
            Some((_, kind)) if *kind != old.stance => {
                let mut active = old.clone().into_active_model();
                active.stance = Set(*kind);
                active.updated_at = Set(now);
                active.update(txn).await?;
            }
            Some(_) => {}
        }
    }
    for (claim_id, kind) in stances {
        if existing.iter().all(|old| old.claim_id != *claim_id) {
            stance::ActiveModel {
                id: Set(Uuid::now_v7()),
                statement_id: Set(statement_id),
                claim_id: Set(*claim_id),
                stance: Set(*kind),
                created_at: Set(now),
                updated_at: Set(now),
            }
            .insert(txn)
            .await?;
        }
    }
    Ok(())
}

async fn replace_topics<C: ConnectionTrait>(
    txn: &C,
    statement_id: Uuid,
    topics: &[Uuid],
) -> ApiResult<()> {
    statement_topic::Entity::delete_many()
        .filter(statement_topic::Column::StatementId.eq(statement_id))
        .exec(txn)
        .await?;
    if topics.is_empty() {
        return Ok(());
    }
    let now = Utc::now();
    statement_topic::Entity::insert_many(topics.iter().map(|topic_id| {
        statement_topic::ActiveModel {
            statement_id: Set(statement_id),
            topic_id: Set(*topic_id),
            created_at: Set(now),
        }
    }))
    .exec_without_returning(txn)
    .await?;
    Ok(())
}

/// The statement as its revision records it.
async fn snapshot<C: ConnectionTrait>(
    db: &C,
    model: &statement::Model,
) -> ApiResult<serde_json::Value> {
    let stances = stance::Entity::find()
        .filter(stance::Column::StatementId.eq(model.id))
        .order_by_asc(stance::Column::ClaimId)
        .all(db)
        .await?
        .into_iter()
        .map(|s| SnapshotStance {
            claim_id: s.claim_id,
            stance: s.stance,
        })
        .collect();
    let topic_ids = statement_topic::Entity::find()
        .filter(statement_topic::Column::StatementId.eq(model.id))
        .order_by_asc(statement_topic::Column::TopicId)
        .all(db)
        .await?
        .into_iter()
        .map(|t| t.topic_id)
        .collect();
    let snapshot = Snapshot {
        statement: model,
        stances,
        topic_ids,
    };
    audit::snapshot(Some(&snapshot))?.ok_or_else(|| ApiError::Internal("empty snapshot".into()))
}
