//! The merged timeline: one date-ordered stream of events — statements made,
//! verdicts published, follow-ups (confirmed links to later statements or articles)
//! and position changes — for speakers, claims or topics.
//!
//! One SQL statement builds the page: the statements in scope, then each kind of
//! event over them, merged by `(at, kind rank, id, sub-id)`, which is also the
//! keyset cursor. The page is cut in the database (`LIMIT n + 1` after the cursor),
//! never by loading everything and slicing.

use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, Utc};
use sea_orm::{ConnectionTrait, FromQueryResult, Statement};
use serde::{Deserialize, Serialize};
use tracing::instrument;
use uuid::Uuid;

use crate::error::ApiResult;
use crate::service::position::{ChangeRow, POSITION_KEY, PositionRow};
use crate::service::sql::Params;
use entity::{DatePrecision, StanceKind};

/// Kinds of timeline events, in the order they sort within one instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventKind {
    Statement,
    VerdictPublished,
    FollowUp,
    PositionChange,
}

impl EventKind {
    pub const ALL: [EventKind; 4] = [
        EventKind::Statement,
        EventKind::VerdictPublished,
        EventKind::FollowUp,
        EventKind::PositionChange,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::Statement => "STATEMENT",
            EventKind::VerdictPublished => "VERDICT_PUBLISHED",
            EventKind::FollowUp => "FOLLOW_UP",
            EventKind::PositionChange => "POSITION_CHANGE",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// Which events to list. Given dimensions must all hold; within one, any id matches.
#[derive(Debug, Clone, Default)]
pub struct TimelineFilter {
    pub speaker_ids: Option<Vec<Uuid>>,
    pub claim_ids: Option<Vec<Uuid>>,
    pub topic_ids: Option<Vec<Uuid>>,
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    pub kinds: Option<Vec<EventKind>>,
    /// Only the event of one record (a subscription turning a change into the event
    /// the timeline shows for it).
    pub only: Option<Only>,
}

/// One event: its statement (which bounds the statements the timeline looks at; the
/// nil id for a verdict on a claim itself), its record (the statement, verdict or
/// link; see [`Event::key`]) and, for a position change, its claim.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Only {
    pub statement_id: Uuid,
    pub record_id: Uuid,
    pub claim_id: Option<Uuid>,
}

/// An event's place in the timeline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventKey {
    pub at: NaiveDateTime,
    pub rank: i32,
    pub id: Uuid,
    pub sub: Uuid,
}

#[derive(Debug, Clone, FromQueryResult)]
struct EventSqlRow {
    at: NaiveDateTime,
    rank: i32,
    id: Uuid,
    sub: Uuid,
    kind: String,
    statement_id: Option<Uuid>,
    verdict_id: Option<Uuid>,
    link_id: Option<Uuid>,
    article_id: Option<Uuid>,
    from_statement_id: Option<Uuid>,
    // A position change's two positions; NULL for other kinds.
    speaker_id: Option<Uuid>,
    stance: Option<StanceKind>,
    stated_on: Option<NaiveDate>,
    stated_on_precision: Option<DatePrecision>,
    stated_at_utc: Option<NaiveDateTime>,
    reported: Option<bool>,
    prev_stance: Option<StanceKind>,
    prev_stated_on: Option<NaiveDate>,
    prev_precision: Option<DatePrecision>,
    prev_at: Option<NaiveDateTime>,
    prev_reported: Option<bool>,
}

impl EventSqlRow {
    /// The change a POSITION_CHANGE row describes (`sub` is its claim).
    fn change(&self) -> Option<ChangeRow> {
        let position = |statement_id, stance, stated_on, precision, at, reported| PositionRow {
            statement_id,
            speaker_id: self.speaker_id.unwrap_or_default(),
            claim_id: self.sub,
            stance,
            stated_on,
            stated_on_precision: precision,
            stated_at_utc: at,
            reported,
        };
        Some(ChangeRow {
            from: position(
                self.from_statement_id?,
                self.prev_stance?,
                self.prev_stated_on?,
                self.prev_precision?,
                self.prev_at,
                self.prev_reported?,
            ),
            to: position(
                self.statement_id?,
                self.stance?,
                self.stated_on?,
                self.stated_on_precision?,
                self.stated_at_utc,
                self.reported?,
            ),
        })
    }
}

/// One event. `at` is UTC: the statement's instant (its date at midnight when the
/// time is unknown), the verdict's publication, the follow-up's own date.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    pub key: EventKey,
    pub kind: EventKind,
    /// The statement made; the verdict's statement; the follow-up's source; the
    /// change's later statement.
    pub statement_id: Option<Uuid>,
    pub verdict_id: Option<Uuid>,
    pub link_id: Option<Uuid>,
    pub article_id: Option<Uuid>,
    /// For a position change: its two positions (as they stood then, "as of").
    pub change: Option<ChangeRow>,
}

const NO_ID: &str = "'00000000-0000-0000-0000-000000000000'::uuid";

/// The columns of an event row. The last eleven are a position change's two positions
/// (so its `change` needs no further query); other kinds leave them NULL (`NO_CHANGE`).
const EVENT_COLUMNS: &str = "at, rank, id, sub, kind, statement_id, verdict_id, link_id, article_id, \
     from_statement_id, speaker_id, stance, stated_on, stated_on_precision, stated_at_utc, reported, \
     prev_stance, prev_stated_on, prev_precision, prev_at, prev_reported";
const NO_CHANGE: &str = "NULL::uuid, NULL::stance_kind, NULL::date, NULL::date_precision, NULL::timestamp, \
     NULL::boolean, NULL::stance_kind, NULL::date, NULL::date_precision, NULL::timestamp, NULL::boolean";

/// A bound list of ids. One id is bound as a scalar (`col = $n`), more as an array
/// (`col = ANY($n)`): PostgreSQL estimates a scalar parameter as it would a constant,
/// so after five executions of the prepared statement it keeps one generic plan and
/// stops planning (about 1.5 ms, longer than the page takes to run); an array of
/// unknown length makes the generic plan look dearer than a fresh one, so every
/// execution was planned anew.
struct Ids {
    param: String,
    one: bool,
}

impl Ids {
    fn bind(ids: &[Uuid], params: &mut Params) -> Self {
        match ids {
            [id] => Self {
                param: params.bind(*id),
                one: true,
            },
            _ => Self {
                param: params.bind(ids.to_vec()),
                one: false,
            },
        }
    }

    /// The condition that `column` is one of the ids.
    fn matched_by(&self, column: &str) -> String {
        let p = &self.param;
        if self.one {
            format!("{column} = {p}")
        } else {
            format!("{column} = ANY({p})")
        }
    }
}

/// The SQL of the events matching `filter`, after `after`, in timeline order (in the
/// columns of [`EVENT_COLUMNS`]), its values bound to `params`. Only the conditions
/// and event kinds the filter asks for are written out, so each one can use its index
/// (a generic `$1 IS NULL OR …` would keep the planner from it); the text depends on
/// the filter's shape only, so each shape is one prepared statement.
pub fn events_sql(
    filter: &TimelineFilter,
    after: Option<&EventKey>,
    limit: Option<u64>,
    params: &mut Params,
) -> String {
    let speakers = filter
        .speaker_ids
        .as_deref()
        .map(|ids| Ids::bind(ids, params));
    let claims = filter
        .claim_ids
        .as_deref()
        .map(|ids| Ids::bind(ids, params));
    let topics = filter
        .topic_ids
        .as_deref()
        .map(|ids| Ids::bind(ids, params));
    let mut scope = vec!["s.deleted_at IS NULL".to_owned()];
    if let Some(only) = &filter.only {
        scope.push(format!("s.id = {}", params.bind(only.statement_id)));
    }
    if let Some(ids) = &speakers {
        scope.push(ids.matched_by("s.speaker_id"));
    }
    if let Some(ids) = &claims {
        scope.push(format!(
            "EXISTS (SELECT 1 FROM stance st WHERE st.statement_id = s.id AND {})",
            ids.matched_by("st.claim_id")
        ));
    }
    if let Some(ids) = &topics {
        scope.push(format!(
            "(EXISTS (SELECT 1 FROM statement_topic t WHERE t.statement_id = s.id AND {}) \
              OR EXISTS (SELECT 1 FROM stance st JOIN claim_topic ct ON ct.claim_id = st.claim_id \
                         WHERE st.statement_id = s.id AND {}))",
            ids.matched_by("t.topic_id"),
            ids.matched_by("ct.topic_id")
        ));
    }
    let wants = |kind: EventKind| filter.kinds.as_ref().is_none_or(|k| k.contains(&kind));
    // The first branch types every column (PostgreSQL settles a UNION's column types
    // branch by branch, so two untyped NULLs in a row would settle on text).
    let mut branches: Vec<String> = vec![format!(
        "SELECT NULL::timestamp AS at, 0 AS rank, {NO_ID} AS id, {NO_ID} AS sub, ''::text AS kind, \
                NULL::uuid AS statement_id, NULL::uuid AS verdict_id, NULL::uuid AS link_id, \
                NULL::uuid AS article_id, NULL::uuid AS from_statement_id, {NO_CHANGE} WHERE false"
    )];
    if wants(EventKind::Statement) {
        branches.push(format!(
            "SELECT coalesce(s.stated_at_utc, s.stated_on::timestamp) AS at, 0 AS rank, s.id, {NO_ID} AS sub, \
                    'STATEMENT' AS kind, s.id AS statement_id, NULL::uuid AS verdict_id, NULL::uuid AS link_id, \
                    NULL::uuid AS article_id, NULL::uuid AS from_statement_id, {NO_CHANGE} \
             FROM scope s"
        ));
    }
    if wants(EventKind::VerdictPublished) {
        branches.push(format!(
            "SELECT v.published_at AT TIME ZONE 'UTC', 1, v.id, {NO_ID}, 'VERDICT_PUBLISHED', v.statement_id, v.id, \
                    NULL, NULL, NULL, {NO_CHANGE} \
             FROM scope s JOIN verdict v ON v.statement_id = s.id \
             WHERE v.status = 'PUBLISHED' AND v.deleted_at IS NULL AND v.published_at IS NOT NULL"
        ));
        // Verdicts on the claims themselves, unless the timeline is a speaker's.
        if speakers.is_none() && (claims.is_some() || topics.is_some()) {
            let mut on = vec!["v.claim_id IS NOT NULL".to_owned()];
            if let Some(ids) = &claims {
                on.push(ids.matched_by("v.claim_id"));
            }
            if let Some(ids) = &topics {
                on.push(format!(
                    "EXISTS (SELECT 1 FROM claim_topic ct WHERE ct.claim_id = v.claim_id AND {})",
                    ids.matched_by("ct.topic_id")
                ));
            }
            branches.push(format!(
                "SELECT v.published_at AT TIME ZONE 'UTC', 1, v.id, {NO_ID}, 'VERDICT_PUBLISHED', NULL, v.id, \
                        NULL, NULL, NULL, {NO_CHANGE} \
                 FROM verdict v \
                 WHERE v.status = 'PUBLISHED' AND v.deleted_at IS NULL AND v.published_at IS NOT NULL AND {}",
                on.join(" AND ")
            ));
        }
    }
    if wants(EventKind::FollowUp) {
        branches.push(format!(
            "SELECT coalesce(t.stated_at_utc, t.stated_on::timestamp, a.published_at AT TIME ZONE 'UTC', \
                             l.created_at AT TIME ZONE 'UTC'), \
                    2, l.id, {NO_ID}, 'FOLLOW_UP', l.source_statement_id, NULL, l.id, l.target_article_id, NULL, \
                    {NO_CHANGE} \
             FROM scope s JOIN link l ON l.source_statement_id = s.id \
             LEFT JOIN statement t ON t.id = l.target_statement_id \
             LEFT JOIN article a ON a.id = l.target_article_id \
             WHERE l.deleted_at IS NULL AND l.status = 'CONFIRMED'"
        ));
    }
    let mut ctes = vec![format!(
        "scope AS MATERIALIZED (SELECT s.id, s.speaker_id, s.stated_on, s.stated_at_utc \
                                 FROM statement s WHERE {})",
        scope.join(" AND ")
    )];
    if wants(EventKind::PositionChange) {
        let claim_cond = claims
            .as_ref()
            .map(|ids| format!("WHERE {}", ids.matched_by("st2.claim_id")))
            .unwrap_or_default();
        ctes.push(format!(
            "pairs AS (SELECT DISTINCT sc.speaker_id, st2.claim_id FROM scope sc \
                       JOIN stance st2 ON st2.statement_id = sc.id {claim_cond})"
        ));
        ctes.push(format!(
            "positions AS (SELECT s.id AS statement_id, s.speaker_id, st.claim_id, st.stance, s.stated_on, \
                    s.stated_on_precision, s.stated_at_utc, s.reported_by_id IS NOT NULL AS reported, \
                    lag(s.id) OVER w AS prev_id, lag(st.stance) OVER w AS prev_stance, \
                    lag(s.stated_on) OVER w AS prev_stated_on, lag(s.stated_on_precision) OVER w AS prev_precision, \
                    lag(s.stated_at_utc) OVER w AS prev_at, lag(s.reported_by_id IS NOT NULL) OVER w AS prev_reported \
             FROM pairs p JOIN stance st ON st.claim_id = p.claim_id \
             JOIN statement s ON s.id = st.statement_id AND s.speaker_id = p.speaker_id AND s.deleted_at IS NULL \
             WINDOW w AS (PARTITION BY s.speaker_id, st.claim_id ORDER BY {POSITION_KEY}))"
        ));
        branches.push(
            "SELECT coalesce(p.stated_at_utc, p.stated_on::timestamp), 3, p.statement_id, p.claim_id, \
                    'POSITION_CHANGE', p.statement_id, NULL, NULL, NULL, p.prev_id, p.speaker_id, p.stance, \
                    p.stated_on, p.stated_on_precision, p.stated_at_utc, p.reported, p.prev_stance, p.prev_stated_on, \
                    p.prev_precision, p.prev_at, p.prev_reported \
             FROM positions p \
             WHERE p.prev_stance IS NOT NULL AND p.prev_stance <> p.stance \
               AND p.statement_id IN (SELECT id FROM scope)"
                .to_owned(),
        );
    }
    let mut outer: Vec<String> = Vec::new();
    if let Some(only) = &filter.only {
        outer.push(format!("id = {}", params.bind(only.record_id)));
        if let Some(claim) = only.claim_id {
            outer.push(format!("sub = {}", params.bind(claim)));
        }
    }
    if let Some(from) = filter.from {
        outer.push(format!("at >= {}::date", params.bind(from)));
    }
    if let Some(to) = filter.to {
        outer.push(format!("at < {}::date + 1", params.bind(to)));
    }
    if let Some(key) = after {
        outer.push(format!(
            "(at, rank, id, sub) > ({}, {}, {}, {})",
            params.bind(key.at),
            params.bind(key.rank),
            params.bind(key.id),
            params.bind(key.sub)
        ));
    }
    let outer = if outer.is_empty() {
        String::new()
    } else {
        format!("WHERE {}", outer.join(" AND "))
    };
    // A parameter, not a literal: one SQL text for every page size.
    let limit = limit
        .map(|n| {
            format!(
                "LIMIT {}",
                params.bind(i64::try_from(n).unwrap_or(i64::MAX))
            )
        })
        .unwrap_or_default();
    format!(
        "WITH {}, events ({EVENT_COLUMNS}) AS ({}) \
         SELECT * FROM events {outer} ORDER BY at, rank, id, sub {limit}",
        ctes.join(", "),
        branches.join(" UNION ALL ")
    )
}

/// One page of events after `after`.
#[instrument(skip(db))]
pub async fn page<C: ConnectionTrait>(
    db: &C,
    filter: &TimelineFilter,
    after: Option<&EventKey>,
    limit: u64,
) -> ApiResult<Vec<Event>> {
    let mut params = Params::new();
    let sql = events_sql(filter, after, Some(limit), &mut params);
    let rows = EventSqlRow::find_by_statement(params.statement(sql))
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .filter_map(|r| {
            let kind = EventKind::parse(&r.kind)?;
            let change = if kind == EventKind::PositionChange {
                r.change()
            } else {
                None
            };
            Some(Event {
                key: EventKey {
                    at: r.at,
                    rank: r.rank,
                    id: r.id,
                    sub: r.sub,
                },
                kind,
                statement_id: r.statement_id,
                verdict_id: r.verdict_id,
                link_id: r.link_id,
                article_id: r.article_id,
                change,
            })
        })
        .collect())
}

/// The statement counting every event matching `filter`.
pub fn count(filter: &TimelineFilter) -> Statement {
    let mut params = Params::new();
    let sql = count_sql(filter, &mut params);
    params.statement(sql)
}

/// The SQL counting every event matching `filter`, its values bound to `params`.
pub fn count_sql(filter: &TimelineFilter, params: &mut Params) -> String {
    format!(
        "SELECT COUNT(*) FROM ({}) AS timeline",
        events_sql(filter, None, None, params)
    )
}

/// One page of the timeline as it stood at `at`, rebuilt from the revisions: the
/// statements of then with their stances, the verdicts published by then, the links
/// confirmed by then. The page is cut after merging in memory, so its cost grows with
/// the events in scope (a speaker's or a claim's: hundreds, not millions).
#[instrument(skip(db))]
pub async fn page_as_of<C: ConnectionTrait>(
    db: &C,
    filter: &TimelineFilter,
    at: DateTime<Utc>,
    after: Option<&EventKey>,
    limit: usize,
) -> ApiResult<(Vec<Event>, usize)> {
    use crate::service::as_of;
    use crate::service::statement::filter::Filter;
    use std::collections::{BTreeSet, HashMap};

    let (scope, _) = as_of::statements(
        db,
        &Filter {
            speaker_ids: filter.speaker_ids.clone(),
            claim_ids: filter.claim_ids.clone(),
            topic_ids: filter.topic_ids.clone(),
            ..Filter::default()
        },
        at,
        None,
        None,
    )
    .await?;
    let instant = |s: &entity::statement::Model| {
        s.stated_at_utc
            .unwrap_or_else(|| s.stated_on.and_time(NaiveTime::MIN))
    };
    let by_id: HashMap<Uuid, &entity::statement::Model> = scope
        .iter()
        .map(|s| (s.statement.id, &s.statement))
        .collect();
    let ids: Vec<Uuid> = by_id.keys().copied().collect();
    let mut events: Vec<Event> = Vec::new();
    let event = |at, rank, id, sub, kind| Event {
        key: EventKey { at, rank, id, sub },
        kind,
        statement_id: None,
        verdict_id: None,
        link_id: None,
        article_id: None,
        change: None,
    };
    for s in &scope {
        events.push(Event {
            statement_id: Some(s.statement.id),
            ..event(
                instant(&s.statement),
                0,
                s.statement.id,
                Uuid::nil(),
                EventKind::Statement,
            )
        });
    }
    let verdicts: Vec<entity::verdict::Model> =
        as_of::states_by(db, "verdict", "statement_id", &ids, at).await?;
    let claim_verdicts: Vec<entity::verdict::Model> = match (&filter.speaker_ids, &filter.claim_ids)
    {
        (None, Some(claims)) => as_of::states_by(db, "verdict", "claim_id", claims, at).await?,
        _ => Vec::new(),
    };
    for v in verdicts.iter().chain(&claim_verdicts) {
        if let (entity::VerdictStatus::Published, Some(published)) = (v.status, v.published_at) {
            events.push(Event {
                statement_id: v.statement_id,
                verdict_id: Some(v.id),
                ..event(
                    published.naive_utc(),
                    1,
                    v.id,
                    Uuid::nil(),
                    EventKind::VerdictPublished,
                )
            });
        }
    }
    let links: Vec<entity::link::Model> =
        as_of::states_by(db, "link", "source_statement_id", &ids, at).await?;
    for l in links
        .iter()
        .filter(|l| l.status == entity::LinkStatus::Confirmed)
    {
        let target_at = match (l.target_statement_id, l.target_article_id) {
            (Some(t), _) => match by_id.get(&t) {
                Some(s) => Some(instant(s)),
                None => as_of::record::<entity::statement::Model, _>(db, t, at)
                    .await?
                    .map(|s| instant(&s)),
            },
            (None, Some(a)) => as_of::record::<entity::article::Model, _>(db, a, at)
                .await?
                .map(|a| a.published_at.unwrap_or(a.created_at).naive_utc()),
            (None, None) => None,
        };
        events.push(Event {
            statement_id: Some(l.source_statement_id),
            link_id: Some(l.id),
            article_id: l.target_article_id,
            ..event(
                target_at.unwrap_or(l.created_at.naive_utc()),
                2,
                l.id,
                Uuid::nil(),
                EventKind::FollowUp,
            )
        });
    }
    let pairs: BTreeSet<(Uuid, Uuid)> = scope
        .iter()
        .flat_map(|s| {
            s.stances
                .iter()
                .map(|st| (s.statement.speaker_id, st.claim_id))
        })
        .filter(|(_, claim)| filter.claim_ids.as_ref().is_none_or(|c| c.contains(claim)))
        .collect();
    for (speaker, claim) in pairs {
        let history = as_of::position_history(db, speaker, claim, at).await?;
        for change in crate::service::position::changes_in(&history) {
            let Some(to) = by_id.get(&change.to.statement_id) else {
                continue;
            };
            events.push(Event {
                statement_id: Some(to.id),
                change: Some(change.clone()),
                ..event(instant(to), 3, to.id, claim, EventKind::PositionChange)
            });
        }
    }
    events.retain(|e| {
        filter.kinds.as_ref().is_none_or(|k| k.contains(&e.kind))
            && filter.from.is_none_or(|d| e.key.at.date() >= d)
            && filter.to.is_none_or(|d| e.key.at.date() <= d)
    });
    events.sort_by(|a, b| {
        (a.key.at, a.key.rank, a.key.id, a.key.sub)
            .cmp(&(b.key.at, b.key.rank, b.key.id, b.key.sub))
    });
    let total = events.len();
    let page = events
        .into_iter()
        .filter(|e| {
            after.is_none_or(|k| {
                (e.key.at, e.key.rank, e.key.id, e.key.sub) > (k.at, k.rank, k.id, k.sub)
            })
        })
        .take(limit)
        .collect();
    Ok((page, total))
}
