//! The words of a page: dates as a reader writes them, stances, rating bands, what a
//! follow-up is, and the anchors that tie the picture's marks to the list's entries.

use chrono::NaiveDate;
use uuid::Uuid;

use super::read::Records;
use crate::service::scorecard::Band;
use entity::{DatePrecision, LinkRelation, StanceKind, claim, link, statement, verdict};

/// `9 Jul 2017`.
pub fn day(day: NaiveDate) -> String {
    day.format("%-d %b %Y").to_string()
}

/// A statement's date as precisely as it is known: `9 Jul 2017`, `Jul 2017`, `2017`.
pub fn stated(statement: &statement::Model) -> String {
    match statement.stated_on_precision {
        DatePrecision::Day => day(statement.stated_on),
        DatePrecision::Month => statement.stated_on.format("%b %Y").to_string(),
        DatePrecision::Year => statement.stated_on.format("%Y").to_string(),
    }
}

/// A stance as the API names it.
pub fn stance(stance: StanceKind) -> &'static str {
    match stance {
        StanceKind::Supports => "SUPPORTS",
        StanceKind::Opposes => "OPPOSES",
        StanceKind::Neutral => "NEUTRAL",
        StanceKind::Unclear => "UNCLEAR",
    }
}

/// A rating band in words.
pub fn band(band: Band) -> &'static str {
    match band {
        Band::False => "false",
        Band::MostlyFalse => "mostly false",
        Band::Mixed => "mixed",
        Band::MostlyTrue => "mostly true",
        Band::True => "true",
        Band::Unrated => "not rated on a scale",
    }
}

/// What a link says of its target.
pub fn relation(relation: LinkRelation) -> &'static str {
    match relation {
        LinkRelation::FollowsUp => "followed up by",
        LinkRelation::Corroborates => "corroborated by",
        LinkRelation::Contradicts => "contradicted by",
        LinkRelation::Updates => "updated by",
        LinkRelation::Corrects => "corrected by",
        LinkRelation::Retracts => "retracted by",
        LinkRelation::Repeats => "repeated in",
        LinkRelation::Reaffirms => "reaffirmed in",
        LinkRelation::Softens => "softened in",
        LinkRelation::Hardens => "hardened in",
        LinkRelation::Reverses => "reversed in",
        LinkRelation::Clarifies => "clarified in",
        LinkRelation::DeniesSaying => "denied in",
    }
}

/// `text` cut at a word boundary to about `max` characters, with an ellipsis.
pub fn shorten(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let cut: String = text.chars().take(max).collect();
    let cut = cut.rsplit_once(' ').map_or(cut.as_str(), |(head, _)| head);
    format!("{}…", cut.trim_end_matches([',', ';', ':', '.', ' ']))
}

pub fn statement_anchor(id: Uuid) -> String {
    format!("s-{id}")
}

pub fn verdict_anchor(id: Uuid) -> String {
    format!("v-{id}")
}

pub fn link_anchor(id: Uuid) -> String {
    format!("l-{id}")
}

pub fn change_anchor(statement: Uuid, claim: Uuid) -> String {
    format!("c-{statement}-{claim}")
}

/// A claim's page: by slug, or by id when it has none.
pub fn claim_href(claim: &claim::Model) -> String {
    match &claim.slug {
        Some(slug) => format!("/claims/{slug}"),
        None => format!("/claims/{}", claim.id),
    }
}

/// A verdict in one line: its rating, its reviewer, its band.
pub fn verdict_label(records: &Records, verdict: &verdict::Model) -> String {
    let reviewer = records
        .outlets
        .get(&verdict.reviewer_id)
        .map_or("a fact-checker", |o| o.name.as_str());
    format!(
        "{}: “{}” ({})",
        reviewer,
        verdict.rating_label,
        band(Band::of(verdict.score))
    )
}

/// A follow-up in one line: the relation and what followed.
pub fn follow_up_label(records: &Records, link: &link::Model) -> String {
    let target = if let Some(s) = link
        .target_statement_id
        .and_then(|id| records.statements.get(&id))
    {
        let who = records
            .speakers
            .get(&s.speaker_id)
            .map_or("someone", |p| p.name.as_str());
        format!("{who}, {}: “{}”", stated(s), shorten(&s.text, 120))
    } else if let Some(a) = link
        .target_article_id
        .and_then(|id| records.articles.get(&id))
    {
        match records.outlet_of(a) {
            Some(outlet) => format!("“{}” ({})", a.title, outlet.name),
            None => format!("“{}”", a.title),
        }
    } else {
        "a later report".to_owned()
    };
    let relation = relation(link.relation);
    let mut first = relation.chars();
    let relation = first
        .next()
        .map(|c| c.to_uppercase().chain(first).collect::<String>())
        .unwrap_or_default();
    format!("{relation} {target}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shortening_cuts_at_a_word() {
        assert_eq!(shorten("short", 10), "short");
        assert_eq!(
            shorten("We will form an impenetrable cyber security unit", 20),
            "We will form an…"
        );
    }

    #[test]
    fn days_read_as_written() {
        let d = NaiveDate::from_ymd_opt(2017, 7, 9).unwrap_or_default();
        assert_eq!(day(d), "9 Jul 2017");
    }
}
