//! The demo data set: TASS, 24 July 2017, "Lavrov says establishment of Russia-US
//! cyber security working group still on agenda", and the follow-up of 9 July 2017
//! in which Donald Trump first backed a joint cyber security unit and then, hours
//! later, said it could not happen.
//!
//! Loading is idempotent: every record is looked up by its natural key (slug, or
//! speaker, date and text) and created only when missing. Sources without a known
//! URL are stored without one.

use chrono::{NaiveDate, TimeZone, Utc};
use sea_orm::{ColumnTrait, DatabaseConnection, QueryFilter};
use tracing::info;
use uuid::Uuid;

use crate::error::{ApiError, ApiResult};
use crate::service::statement::{NewAppearance, NewStatement};
use crate::service::{self, Actor, Record};
use entity::{
    DatePrecision, LinkRelation, LinkStatus, SpeakerKind, StanceKind, StatementKind, article,
    claim, link, outlet, speaker, speaker_role, statement, topic,
};

pub const TASS_TITLE: &str =
    "Lavrov says establishment of Russia-US cyber security working group still on agenda";

/// Loads the demo data set; returns how many records it created.
pub async fn load(db: &DatabaseConnection) -> ApiResult<usize> {
    let mut loader = Loader {
        db,
        actor: Actor::system(),
        created: 0,
    };
    loader.run().await?;
    info!(created = loader.created, "demo data set loaded");
    Ok(loader.created)
}

struct Loader<'a> {
    db: &'a DatabaseConnection,
    actor: Actor,
    created: usize,
}

fn date(y: i32, m: u32, d: u32) -> ApiResult<NaiveDate> {
    NaiveDate::from_ymd_opt(y, m, d).ok_or_else(|| ApiError::Internal("bad demo date".into()))
}

impl Loader<'_> {
    async fn run(&mut self) -> ApiResult<()> {
        let cyber = self.topic("Cyber security", "cyber-security").await?;
        let relations = self
            .topic("Russia–U.S. relations", "russia-us-relations")
            .await?;
        let ukraine = self.topic("Ukrainian crisis", "ukrainian-crisis").await?;

        let lavrov = self
            .speaker(
                "Sergei Lavrov",
                "sergei-lavrov",
                SpeakerKind::Person,
                "Russian diplomat",
                None,
            )
            .await?;
        let putin = self
            .speaker(
                "Vladimir Putin",
                "vladimir-putin",
                SpeakerKind::Person,
                "Russian politician",
                Some("Q7747"),
            )
            .await?;
        let trump = self
            .speaker(
                "Donald Trump",
                "donald-trump",
                SpeakerKind::Person,
                "American politician",
                Some("Q22686"),
            )
            .await?;
        let congress = self
            .speaker(
                "Some members of U.S. Congress",
                "us-congress-members",
                SpeakerKind::Group,
                "Members of the U.S. Congress who criticised the Hamburg agreement, unnamed in the report",
                None,
            )
            .await?;
        self.role(
            lavrov,
            "Minister of Foreign Affairs of Russia",
            "Ministry of Foreign Affairs of the Russian Federation",
            date(2004, 3, 9)?,
            None,
        )
        .await?;
        self.role(
            putin,
            "President of Russia",
            "Russian Federation",
            date(2012, 5, 7)?,
            None,
        )
        .await?;
        self.role(
            trump,
            "President of the United States",
            "United States of America",
            date(2017, 1, 20)?,
            Some(date(2021, 1, 20)?),
        )
        .await?;

        let tass = self.outlet("TASS", "tass", "RU", "en").await?;
        let article = self.article(tass).await?;

        let group = self
            .claim(
                "Russia and the U.S. will set up a joint cyber security working group",
                "russia-us-cyber-security-working-group",
                &[cyber, relations],
            )
            .await?;
        let channel = self
            .claim(
                "Russia and the U.S. will set up a channel on settling the Ukrainian crisis",
                "russia-us-ukraine-channel",
                &[ukraine, relations],
            )
            .await?;

        let hamburg_excerpt = "They (Presidents Putin and Trump) agreed to set up a channel for facilitation of settlement of the Ukrainian crisis and to discuss the possibility of a joint workgroup for reviewing any problems in the field of cybersecurity";
        let putin_hamburg = self
            .statement(NewStatement {
                speaker_id: putin,
                text: "Agreed with Donald Trump to set up a channel for facilitating the settlement of the Ukrainian crisis and to discuss the possibility of a joint working group on problems in the field of cyber security.".into(),
                kind: StatementKind::Paraphrase,
                stated_on: date(2017, 7, 7)?,
                stated_on_precision: DatePrecision::Day,
                stated_time: None,
                venue: Some("Meeting with Donald Trump at the G20 summit, Hamburg".into()),
                context: Some("As reported by Sergei Lavrov in an interview with the Kurdish TV channel Rudaw on 24 July 2017.".into()),
                language: "en".into(),
                reported_by_id: Some(lavrov),
                stances: vec![(group, StanceKind::Supports), (channel, StanceKind::Supports)],
                topic_ids: vec![cyber, relations, ukraine],
                appearances: vec![appearance(article, hamburg_excerpt)],
            })
            .await?;
        let trump_hamburg = self
            .statement(NewStatement {
                speaker_id: trump,
                text: "Agreed with Vladimir Putin to set up a channel for facilitating the settlement of the Ukrainian crisis and to discuss the possibility of a joint working group on problems in the field of cyber security.".into(),
                kind: StatementKind::Paraphrase,
                stated_on: date(2017, 7, 7)?,
                stated_on_precision: DatePrecision::Day,
                stated_time: None,
                venue: Some("Meeting with Vladimir Putin at the G20 summit, Hamburg".into()),
                context: Some("As reported by Sergei Lavrov in an interview with the Kurdish TV channel Rudaw on 24 July 2017.".into()),
                language: "en".into(),
                reported_by_id: Some(lavrov),
                stances: vec![(group, StanceKind::Supports), (channel, StanceKind::Supports)],
                topic_ids: vec![cyber, relations, ukraine],
                appearances: vec![appearance(article, hamburg_excerpt)],
            })
            .await?;
        let trump_unit = self
            .statement(NewStatement {
                speaker_id: trump,
                text: "Putin & I discussed forming an impenetrable Cyber Security unit so that election hacking, & many other negative things, will be guarded and safe.".into(),
                kind: StatementKind::Quote,
                stated_on: date(2017, 7, 9)?,
                stated_on_precision: DatePrecision::Day,
                stated_time: None,
                venue: Some("Twitter".into()),
                context: None,
                language: "en".into(),
                reported_by_id: None,
                stances: vec![(group, StanceKind::Supports)],
                topic_ids: vec![cyber, relations],
                appearances: vec![],
            })
            .await?;
        let trump_cant = self
            .statement(NewStatement {
                speaker_id: trump,
                text: "The fact that President Putin and I discussed a Cyber Security unit doesn't mean I think it can happen. It can't-but a ceasefire can,& did!".into(),
                kind: StatementKind::Quote,
                stated_on: date(2017, 7, 9)?,
                stated_on_precision: DatePrecision::Day,
                stated_time: None,
                venue: Some("Twitter".into()),
                context: Some("Posted later the same day as the post about an impenetrable Cyber Security unit.".into()),
                language: "en".into(),
                reported_by_id: None,
                stances: vec![(group, StanceKind::Opposes)],
                topic_ids: vec![cyber, relations],
                appearances: vec![],
            })
            .await?;
        let lavrov_topical = self
            .statement(NewStatement {
                speaker_id: lavrov,
                text: "The proposals to set up a Russia–U.S. working group on cyber security remain topical.".into(),
                kind: StatementKind::Paraphrase,
                stated_on: date(2017, 7, 24)?,
                stated_on_precision: DatePrecision::Day,
                stated_time: None,
                venue: Some("Interview with the Kurdish TV channel Rudaw".into()),
                context: None,
                language: "en".into(),
                reported_by_id: None,
                stances: vec![(group, StanceKind::Supports)],
                topic_ids: vec![cyber, relations],
                appearances: vec![appearance(article, "Russia continues believing that the proposals to set up a Russia-U.S. workgroup for cyber security remain topical")],
            })
            .await?;
        let congress_devil = self
            .statement(NewStatement {
                speaker_id: congress,
                text: "President Trump sat down to the conference table with the devil when he agreed on the cyber security working group.".into(),
                kind: StatementKind::Paraphrase,
                stated_on: date(2017, 7, 1)?,
                stated_on_precision: DatePrecision::Month,
                stated_time: None,
                venue: None,
                context: Some("Charges levelled at President Trump after the Hamburg meeting, as reported by Sergei Lavrov.".into()),
                language: "en".into(),
                reported_by_id: Some(lavrov),
                stances: vec![],
                topic_ids: vec![relations],
                appearances: vec![appearance(article, "Some members of U.S. Congress have levelled charges at President Trump for his alleged 'sitting down to the conference table with the devil' when he went as far as making an agreement on the workgroup")],
            })
            .await?;
        let lavrov_childish = self
            .statement(NewStatement {
                speaker_id: lavrov,
                text: "I think their position is childish.".into(),
                kind: StatementKind::Quote,
                stated_on: date(2017, 7, 24)?,
                stated_on_precision: DatePrecision::Day,
                stated_time: None,
                venue: Some("Interview with the Kurdish TV channel Rudaw".into()),
                context: Some("On members of U.S. Congress who accused President Trump of sitting down with \"the devil\" over the working group.".into()),
                language: "en".into(),
                reported_by_id: None,
                stances: vec![],
                topic_ids: vec![relations],
                appearances: vec![appearance(article, "I think their position is childish.")],
            })
            .await?;

        self.link(
            trump_hamburg,
            trump_unit,
            LinkRelation::FollowsUp,
            "Trump's own account of the Hamburg discussion, two days later.",
        )
        .await?;
        self.link(
            trump_unit,
            trump_cant,
            LinkRelation::Reverses,
            "Hours later Trump said the unit could not happen.",
        )
        .await?;
        self.link(
            putin_hamburg,
            lavrov_topical,
            LinkRelation::Reaffirms,
            "Lavrov says the proposal agreed in Hamburg remains topical.",
        )
        .await?;
        self.link(
            congress_devil,
            lavrov_childish,
            LinkRelation::FollowsUp,
            "Lavrov's answer to the criticism.",
        )
        .await?;
        Ok(())
    }

    async fn topic(&mut self, name: &str, slug: &str) -> ApiResult<Uuid> {
        if let Some(t) = topic::Entity::live()
            .filter(topic::Column::Slug.eq(slug))
            .one(self.db)
            .await?
        {
            return Ok(t.id);
        }
        self.created += 1;
        let new = service::topic::NewTopic {
            name: name.into(),
            slug: Some(slug.into()),
            parent_id: None,
        };
        Ok(service::topic::create(self.db, &self.actor, new).await?.id)
    }

    async fn speaker(
        &mut self,
        name: &str,
        slug: &str,
        kind: SpeakerKind,
        description: &str,
        wikidata_id: Option<&str>,
    ) -> ApiResult<Uuid> {
        if let Some(s) = speaker::Entity::live()
            .filter(speaker::Column::Slug.eq(slug))
            .one(self.db)
            .await?
        {
            return Ok(s.id);
        }
        self.created += 1;
        let new = service::speaker::NewSpeaker {
            name: name.into(),
            slug: Some(slug.into()),
            kind,
            description: Some(description.into()),
            wikidata_id: wikidata_id.map(Into::into),
            aliases: vec![],
        };
        Ok(service::speaker::create(self.db, &self.actor, new)
            .await?
            .id)
    }

    async fn role(
        &mut self,
        speaker_id: Uuid,
        title: &str,
        organization: &str,
        started_on: NaiveDate,
        ended_on: Option<NaiveDate>,
    ) -> ApiResult<()> {
        let existing = speaker_role::Entity::live()
            .filter(speaker_role::Column::SpeakerId.eq(speaker_id))
            .filter(speaker_role::Column::Title.eq(title))
            .one(self.db)
            .await?;
        if existing.is_none() {
            self.created += 1;
            let new = service::speaker_role::NewSpeakerRole {
                speaker_id,
                title: title.into(),
                organization: Some(organization.into()),
                started_on: Some(started_on),
                ended_on,
            };
            service::speaker_role::create(self.db, &self.actor, new).await?;
        }
        Ok(())
    }

    async fn outlet(
        &mut self,
        name: &str,
        slug: &str,
        country: &str,
        language: &str,
    ) -> ApiResult<Uuid> {
        if let Some(o) = outlet::Entity::live()
            .filter(outlet::Column::Slug.eq(slug))
            .one(self.db)
            .await?
        {
            return Ok(o.id);
        }
        self.created += 1;
        let new = service::outlet::NewOutlet {
            name: name.into(),
            slug: Some(slug.into()),
            homepage: None,
            country: Some(country.into()),
            language: Some(language.into()),
        };
        Ok(service::outlet::create(self.db, &self.actor, new).await?.id)
    }

    async fn article(&mut self, outlet_id: Uuid) -> ApiResult<Uuid> {
        let existing = article::Entity::live()
            .filter(article::Column::OutletId.eq(outlet_id))
            .filter(article::Column::Title.eq(TASS_TITLE))
            .one(self.db)
            .await?;
        if let Some(a) = existing {
            return Ok(a.id);
        }
        self.created += 1;
        let published_at = Utc
            .with_ymd_and_hms(2017, 7, 24, 18, 5, 0)
            .single()
            .ok_or_else(|| ApiError::Internal("bad demo time".into()))?;
        let new = service::article::NewArticle {
            outlet_id,
            url: None,
            title: TASS_TITLE.into(),
            published_at: Some(published_at),
            language: Some("en".into()),
            byline: None,
            archive_url: None,
        };
        Ok(service::article::create(self.db, &self.actor, new)
            .await?
            .id)
    }

    async fn claim(&mut self, text: &str, slug: &str, topics: &[Uuid]) -> ApiResult<Uuid> {
        if let Some(c) = claim::Entity::live()
            .filter(claim::Column::Slug.eq(slug))
            .one(self.db)
            .await?
        {
            return Ok(c.id);
        }
        self.created += 1;
        let new = service::claim::NewClaim {
            text: text.into(),
            slug: Some(slug.into()),
            topic_ids: topics.to_vec(),
        };
        Ok(service::claim::create(self.db, &self.actor, new).await?.id)
    }

    async fn statement(&mut self, new: NewStatement) -> ApiResult<Uuid> {
        let existing = statement::Entity::live()
            .filter(statement::Column::SpeakerId.eq(new.speaker_id))
            .filter(statement::Column::StatedOn.eq(new.stated_on))
            .filter(statement::Column::Text.eq(new.text.as_str()))
            .one(self.db)
            .await?;
        if let Some(s) = existing {
            return Ok(s.id);
        }
        self.created += 1;
        Ok(service::statement::create(self.db, &self.actor, new)
            .await?
            .id)
    }

    /// A confirmed link; a matching suggestion the service already made is confirmed.
    async fn link(
        &mut self,
        source: Uuid,
        target: Uuid,
        relation: LinkRelation,
        note: &str,
    ) -> ApiResult<()> {
        let existing = link::Entity::live()
            .filter(link::Column::SourceStatementId.eq(source))
            .filter(link::Column::TargetStatementId.eq(target))
            .filter(link::Column::Relation.eq(relation))
            .one(self.db)
            .await?;
        match existing {
            Some(l) if l.status == LinkStatus::Suggested => {
                self.created += 1;
                service::link::settle(
                    self.db,
                    &self.actor,
                    l.id,
                    l.version,
                    LinkStatus::Confirmed,
                    Some(note.into()),
                )
                .await?;
            }
            Some(_) => {}
            None => {
                self.created += 1;
                let new = service::link::NewLink {
                    source_statement_id: source,
                    target_statement_id: Some(target),
                    target_article_id: None,
                    relation,
                    note: Some(note.into()),
                    status: LinkStatus::Confirmed,
                };
                service::link::create(self.db, &self.actor, new).await?;
            }
        }
        Ok(())
    }
}

fn appearance(article_id: Uuid, excerpt: &str) -> NewAppearance {
    NewAppearance {
        article_id,
        first: true,
        excerpt: Some(excerpt.into()),
        char_offset: None,
        timecode_ms: None,
    }
}
