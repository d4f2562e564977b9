//! What a page shows, read through the services the API answers from: the events are
//! a page of the merged timeline (`service::timeline`, as the `timeline` query reads
//! it), the records behind them are loaded by id in batches as the DataLoaders load
//! them (`graphql::loader`), and what a reader may see is decided by the API's own
//! rules (`graphql::verdict::visible`, `graphql::link::visible`) for an anonymous
//! viewer: drafts and suggested links never reach a page.
//!
//! A page costs eleven SQL statements in five round trips; statements of one round
//! run concurrently, each on its own pooled connection.

use std::collections::{HashMap, HashSet};

use chrono::NaiveDate;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use uuid::Uuid;

use crate::auth::Viewer;
use crate::error::ApiResult;
use crate::graphql::loader::{
    AppearancesOfStatement, HasMany, RolesOfSpeaker, StancesOfStatement, live_by_ids,
};
use crate::service::Record;
use crate::service::timeline::{self, Event, EventKind, TimelineFilter};
use entity::{
    appearance, article, claim, link, outlet, speaker, speaker_role, stance, statement, verdict,
};

/// Most events a page lists; past it, the page says so and asks to narrow the dates.
pub const MAX_EVENTS: u64 = 500;

/// How a page is narrowed: `?from=&to=` (days, inclusive) and, on a speaker's page,
/// `?claim=` (a claim's slug or id).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Narrowing {
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    pub claim: Option<String>,
}

/// The events of a page and every record they refer to, by id.
#[derive(Debug, Default)]
pub struct Records {
    /// Oldest first, at most [`MAX_EVENTS`].
    pub events: Vec<Event>,
    /// More events matched than are listed.
    pub truncated: bool,
    pub statements: HashMap<Uuid, statement::Model>,
    /// Each statement's stances, in the order they were recorded.
    pub stances: HashMap<Uuid, Vec<stance::Model>>,
    /// Each statement's appearances, first appearance first.
    pub appearances: HashMap<Uuid, Vec<appearance::Model>>,
    pub claims: HashMap<Uuid, claim::Model>,
    pub speakers: HashMap<Uuid, speaker::Model>,
    /// Published verdicts only.
    pub verdicts: HashMap<Uuid, verdict::Model>,
    /// Confirmed links only.
    pub links: HashMap<Uuid, link::Model>,
    pub articles: HashMap<Uuid, article::Model>,
    pub outlets: HashMap<Uuid, outlet::Model>,
}

impl Records {
    /// The events readers may see (a verdict or link the API would hide is left out).
    pub fn visible_events(&self) -> impl Iterator<Item = &Event> {
        self.events.iter().filter(|e| match e.kind {
            EventKind::VerdictPublished => e
                .verdict_id
                .is_some_and(|id| self.verdicts.contains_key(&id)),
            EventKind::FollowUp => e.link_id.is_some_and(|id| self.links.contains_key(&id)),
            EventKind::Statement | EventKind::PositionChange => e
                .statement_id
                .is_some_and(|id| self.statements.contains_key(&id)),
        })
    }

    /// The outlet an article appeared in.
    pub fn outlet_of(&self, article: &article::Model) -> Option<&outlet::Model> {
        self.outlets.get(&article.outlet_id)
    }
}

/// A speaker's page.
#[derive(Debug)]
pub struct SpeakerPage {
    pub speaker: speaker::Model,
    /// Earliest first.
    pub roles: Vec<speaker_role::Model>,
    /// The claim the page is narrowed to, if any.
    pub claim: Option<claim::Model>,
    pub records: Records,
}

/// A claim's page.
#[derive(Debug)]
pub struct ClaimPage {
    pub claim: claim::Model,
    pub records: Records,
}

/// Why a page cannot be shown.
#[derive(Debug, thiserror::Error)]
pub enum PageError {
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    BadRequest(String),
    #[error(transparent)]
    Api(#[from] crate::error::ApiError),
}

/// The page of the speaker with this slug, narrowed.
pub async fn speaker_page<C: ConnectionTrait>(
    db: &C,
    slug: &str,
    narrowing: &Narrowing,
) -> Result<SpeakerPage, PageError> {
    let speaker = speaker::Entity::live()
        .filter(speaker::Column::Slug.eq(slug))
        .one(db)
        .await
        .map_err(crate::error::ApiError::from)?
        .ok_or_else(|| PageError::NotFound(format!("no speaker is called `{slug}`")))?;
    let claim = match &narrowing.claim {
        None => None,
        Some(wanted) => Some(find_claim(db, wanted).await?.ok_or_else(|| {
            PageError::BadRequest(format!("claim: no claim has the slug or id `{wanted}`"))
        })?),
    };
    let roles = RolesOfSpeaker::scope(
        speaker_role::Entity::find().filter(speaker_role::Column::SpeakerId.eq(speaker.id)),
    );
    let filter = TimelineFilter {
        speaker_ids: Some(vec![speaker.id]),
        claim_ids: claim.as_ref().map(|c| vec![c.id]),
        from: narrowing.from,
        to: narrowing.to,
        ..Default::default()
    };
    let (roles, records) = futures::try_join!(
        async { roles.all(db).await.map_err(crate::error::ApiError::from) },
        records(db, &filter)
    )?;
    Ok(SpeakerPage {
        speaker,
        roles,
        claim,
        records,
    })
}

/// The page of the claim with this slug (or id), narrowed to dates.
pub async fn claim_page<C: ConnectionTrait>(
    db: &C,
    slug: &str,
    narrowing: &Narrowing,
) -> Result<ClaimPage, PageError> {
    let claim = find_claim(db, slug)
        .await?
        .ok_or_else(|| PageError::NotFound(format!("no claim has the slug or id `{slug}`")))?;
    let filter = TimelineFilter {
        claim_ids: Some(vec![claim.id]),
        from: narrowing.from,
        to: narrowing.to,
        ..Default::default()
    };
    let records = records(db, &filter).await?;
    Ok(ClaimPage { claim, records })
}

/// A live claim by slug, or by id when `wanted` is one.
async fn find_claim<C: ConnectionTrait>(db: &C, wanted: &str) -> ApiResult<Option<claim::Model>> {
    let by = match Uuid::parse_str(wanted) {
        Ok(id) => claim::Column::Id.eq(id),
        Err(_) => claim::Column::Slug.eq(wanted),
    };
    Ok(claim::Entity::live().filter(by).one(db).await?)
}

/// The events matching `filter` (a page of [`MAX_EVENTS`]) and their records.
async fn records<C: ConnectionTrait>(db: &C, filter: &TimelineFilter) -> ApiResult<Records> {
    let mut events = timeline::page(db, filter, None, MAX_EVENTS + 1).await?;
    let truncated = events.len() as u64 > MAX_EVENTS;
    events.truncate(MAX_EVENTS as usize);
    let mut out = Records {
        truncated,
        ..Default::default()
    };
    let anonymous = Viewer::anonymous();

    // Round 2: what the events name.
    let statement_ids: HashSet<Uuid> = events.iter().filter_map(|e| e.statement_id).collect();
    let link_ids: HashSet<Uuid> = events.iter().filter_map(|e| e.link_id).collect();
    let verdict_ids: HashSet<Uuid> = events.iter().filter_map(|e| e.verdict_id).collect();
    let (statements, links, verdicts) = futures::try_join!(
        live_by_ids::<statement::Entity, _>(db, statement_ids),
        live_by_ids::<link::Entity, _>(db, link_ids),
        live_by_ids::<verdict::Entity, _>(db, verdict_ids),
    )?;
    out.statements = statements;
    out.links = links
        .into_iter()
        .filter(|(_, l)| crate::graphql::link::visible(&anonymous, l))
        .collect();
    out.verdicts = verdicts
        .into_iter()
        .filter(|(_, v)| crate::graphql::verdict::visible(&anonymous, v))
        .collect();

    // Round 3: the statements' stances and appearances, and the statements followed
    // up on.
    let ids: Vec<Uuid> = out.statements.keys().copied().collect();
    let targets: HashSet<Uuid> = out
        .links
        .values()
        .filter_map(|l| l.target_statement_id)
        .filter(|id| !out.statements.contains_key(id))
        .collect();
    let (stances, appearances, targets) = futures::try_join!(
        async {
            StancesOfStatement::scope(
                stance::Entity::find().filter(stance::Column::StatementId.is_in(ids.clone())),
            )
            .all(db)
            .await
        },
        async {
            AppearancesOfStatement::scope(
                appearance::Entity::find()
                    .filter(appearance::Column::StatementId.is_in(ids.clone())),
            )
            .all(db)
            .await
        },
        live_by_ids::<statement::Entity, _>(db, targets),
    )?;
    out.statements.extend(targets);
    for s in stances {
        out.stances.entry(s.statement_id).or_default().push(s);
    }
    for a in appearances {
        out.appearances.entry(a.statement_id).or_default().push(a);
    }

    // Round 4: claims, speakers, articles.
    let claim_ids: HashSet<Uuid> = out
        .stances
        .values()
        .flatten()
        .map(|s| s.claim_id)
        .chain(out.verdicts.values().filter_map(|v| v.claim_id))
        .collect();
    let speaker_ids: HashSet<Uuid> = out.statements.values().map(|s| s.speaker_id).collect();
    let article_ids: HashSet<Uuid> = out
        .statements
        .values()
        .filter_map(|s| s.reported_by_id)
        .chain(out.appearances.values().flatten().map(|a| a.article_id))
        .chain(out.links.values().filter_map(|l| l.target_article_id))
        .collect();
    let (claims, speakers, articles) = futures::try_join!(
        live_by_ids::<claim::Entity, _>(db, claim_ids),
        live_by_ids::<speaker::Entity, _>(db, speaker_ids),
        live_by_ids::<article::Entity, _>(db, article_ids),
    )?;
    out.claims = claims;
    out.speakers = speakers;
    out.articles = articles;

    // Round 5: the outlets of the articles and the reviewers.
    let outlet_ids: HashSet<Uuid> = out
        .articles
        .values()
        .map(|a| a.outlet_id)
        .chain(out.verdicts.values().map(|v| v.reviewer_id))
        .collect();
    out.outlets = live_by_ids::<outlet::Entity, _>(db, outlet_ids).await?;
    out.events = events;
    Ok(out)
}
