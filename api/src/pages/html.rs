//! The journalist's pages as HTML: the picture inline, then the same events as a dated
//! list with quotes, outlets and links to the sources. No script and nothing from
//! elsewhere: one document with its styles, readable on a phone and in print.

use maud::{DOCTYPE, Markup, PreEscaped, html};

use super::picture::{self, Picture};
use super::read::{ClaimPage, Narrowing, Records, SpeakerPage};
use super::text;
use crate::service::scorecard::Band;
use crate::service::timeline::{Event, EventKind};
use entity::StanceKind;

/// Where the page lives, for its embed snippet: `https://host`.
pub struct Origin<'a> {
    pub origin: &'a str,
    /// The page's path, e.g. `/speakers/donald-trump`.
    pub path: &'a str,
    /// The query string the page was asked with (for the picture's address).
    pub query: &'a str,
}

impl Origin<'_> {
    fn svg(&self) -> String {
        let query = if self.query.is_empty() {
            String::new()
        } else {
            format!("?{}", self.query)
        };
        format!("{}{}.svg{query}", self.origin, self.path)
    }
}

/// Whose lane a page's list names.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Focus {
    /// A speaker's page: entries name the claims.
    Speaker,
    /// A claim's page: entries name the speakers.
    Claim,
}

pub fn speaker(
    page: &SpeakerPage,
    picture: &Picture,
    at: &Origin<'_>,
    narrowing: &Narrowing,
) -> Markup {
    let speaker = &page.speaker;
    let title = format!("{} — positions over time", speaker.name);
    let claims: Vec<(String, String)> = {
        let mut claims: Vec<(String, String)> = page
            .records
            .claims
            .values()
            .map(|c| {
                (
                    c.slug.clone().unwrap_or_else(|| c.id.to_string()),
                    c.text.clone(),
                )
            })
            .collect();
        claims.sort_by(|a, b| a.1.cmp(&b.1));
        claims
    };
    layout(
        &title,
        html! {
            h1 { (speaker.name) }
            @if let Some(description) = &speaker.description { p.lede { (description) } }
            @if let Some(q) = &speaker.wikidata_id {
                p.meta { "Wikidata: " a href=(format!("https://www.wikidata.org/wiki/{q}")) rel="external" { (q) } }
            }
            @if !page.roles.is_empty() {
                section.roles aria-labelledby="roles" {
                    h2 id="roles" { "Roles" }
                    ol {
                        @for role in &page.roles {
                            li {
                                strong { (role.title) }
                                @if let Some(org) = &role.organization { ", " (org) }
                                " — " (period(role.started_on, role.ended_on))
                            }
                        }
                    }
                }
            }
            (narrow_form(narrowing, Some(ClaimChoice {
                claims: &claims,
                chosen: page.claim.as_ref().map(|c| c.slug.clone().unwrap_or_else(|| c.id.to_string())),
            })))
            (figure(picture, at, &format!("{}'s positions", speaker.name)))
            (events(&page.records, Focus::Speaker))
        },
    )
}

pub fn claim(
    page: &ClaimPage,
    picture: &Picture,
    at: &Origin<'_>,
    narrowing: &Narrowing,
) -> Markup {
    let claim = &page.claim;
    let title = format!(
        "“{}” — who said what, and what fact-checkers found",
        text::shorten(&claim.text, 90)
    );
    let records = &page.records;
    // Each speaker's current position: the last of their positions on this claim.
    let mut current: Vec<(&str, &str, StanceKind, String)> = picture
        .lanes
        .iter()
        .filter_map(|lane| {
            let last = lane.marks.last()?;
            // Held since the first of the last run of that stance.
            let since = lane
                .marks
                .iter()
                .rev()
                .take_while(|m| m.stance == last.stance)
                .last()
                .map_or(last.on, |m| m.on);
            Some((
                lane.label.as_str(),
                lane.href.as_str(),
                last.stance,
                text::day(since),
            ))
        })
        .collect();
    current.sort_by(|a, b| a.0.cmp(b.0));
    layout(
        &title,
        html! {
            p.kicker { "Claim" }
            h1 { "“" (claim.text) "”" }
            @if !current.is_empty() {
                section.current aria-labelledby="current" {
                    h2 id="current" { "Where each speaker stands" }
                    ul {
                        @for (name, href, stance, since) in &current {
                            li { a href=(href) { (name) } ": " (stance_chip(*stance)) " since " (since) }
                        }
                    }
                }
            }
            (narrow_form(narrowing, None))
            (figure(picture, at, "Positions on this claim"))
            (events(records, Focus::Claim))
        },
    )
}

/// A page that could not be shown: not found, or a narrowing that cannot be read.
pub fn problem(title: &str, message: &str) -> Markup {
    layout(
        title,
        html! {
            h1 { (title) }
            p { (message) }
        },
    )
}

fn layout(title: &str, main: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                // No icon to fetch.
                link rel="icon" href="data:,";
                title { (title) " · ClaimTrack" }
                style { (PreEscaped(PAGE_STYLE)) (PreEscaped(picture::STYLE)) }
            }
            body {
                a.skip href="#events" { "Skip to the list of events" }
                header.site { span.brand { "ClaimTrack" } span.tagline { "positions over time, who reported them, what fact-checkers found" } }
                main { (main) }
                footer.site {
                    p { "Published fact-checks and confirmed follow-ups only. The same records answer GraphQL queries at " code { "/graphql" } "." }
                }
            }
        }
    }
}

/// The claims a speaker's page can be narrowed to (key and text), and the one chosen.
struct ClaimChoice<'a> {
    claims: &'a [(String, String)],
    chosen: Option<String>,
}

fn narrow_form(narrowing: &Narrowing, choice: Option<ClaimChoice<'_>>) -> Markup {
    let value = |d: Option<chrono::NaiveDate>| d.map(|d| d.to_string()).unwrap_or_default();
    html! {
        form.narrow method="get" aria-label="Narrow the page" {
            label { "From " input type="date" name="from" value=(value(narrowing.from)); }
            label { "To " input type="date" name="to" value=(value(narrowing.to)); }
            @if let Some(ClaimChoice { claims, chosen }) = choice {
                label {
                    "Claim "
                    select name="claim" {
                        option value="" { "All claims" }
                        @for (key, text) in claims {
                            option value=(key) selected[chosen.as_deref() == Some(key.as_str())] { (text::shorten(text, 80)) }
                        }
                    }
                }
            }
            button type="submit" { "Show" }
        }
    }
}

fn figure(picture: &Picture, at: &Origin<'_>, caption: &str) -> Markup {
    let svg = at.svg();
    let height = picture.height().ceil();
    let snippet = format!(
        "<iframe src=\"{svg}\" title=\"{}\" width=\"960\" height=\"{height}\" style=\"border:0;max-width:100%\" loading=\"lazy\"></iframe>",
        html_attr(&picture.title)
    );
    html! {
        figure.picture-frame {
            div.scroll { (picture.svg(false)) }
            figcaption {
                strong { (caption) } ". "
                (legend())
                @if !picture.more.is_empty() {
                    p.more {
                        "Also: "
                        @for (i, (label, href, n)) in picture.more.iter().enumerate() {
                            @if i > 0 { "; " }
                            a href=(href) { (text::shorten(label, 60)) } " (" (n) ")"
                        }
                    }
                }
            }
        }
        details.embed {
            summary { "Embed or download this picture" }
            p { "The picture alone, as SVG: " a href=(svg) { (svg) } }
            p { "Paste into an article:" }
            pre { code { (snippet) } }
        }
    }
}

fn legend() -> Markup {
    let shape = |class: &str, d: &str| {
        html! {
            svg.key viewBox="-9 -9 18 18" width="16" height="16" aria-hidden="true" {
                path d=(d) class=(format!("shape {class}")) {}
            }
        }
    };
    html! {
        span.legend {
            span { (shape("supports", "M0 -8 l8 13 l-16 0 z")) " supports" }
            span { (shape("opposes", "M0 8 l8 -13 l-16 0 z")) " opposes" }
            span { (shape("neutral", "M-7 0 a7 7 0 1 0 14 0 a7 7 0 1 0 -14 0 z")) " neutral" }
            span { (shape("unclear", "M-6 -6 h12 v12 h-12 z")) " unclear" }
            span { svg.key viewBox="-9 -9 18 18" width="16" height="16" aria-hidden="true" { path d="M-7 0 l3 -8 l4 16 l3 -8" class="break" {} } " position change" }
            span { "◆ fact-check, lettered by rating: F false, MF mostly false, MX mixed, MT mostly true, T true" }
            span { "⤻ confirmed follow-up" }
        }
    }
}

fn events(records: &Records, focus: Focus) -> Markup {
    let events: Vec<&Event> = records.visible_events().collect();
    html! {
        section.events aria-labelledby="events" {
            h2 id="events" { "Events, oldest first" }
            @if records.truncated {
                p.note { "Only the first " (events.len()) " events are listed: narrow the dates to see later ones." }
            }
            @if events.is_empty() { p { "No published events in this range." } }
            ol {
                @for event in events { (entry(records, event, focus)) }
            }
        }
    }
}

fn entry(records: &Records, event: &Event, focus: Focus) -> Markup {
    let when = text::day(event.key.at.date());
    let datetime = event.key.at.date().to_string();
    match event.kind {
        EventKind::Statement => {
            let Some(s) = event
                .statement_id
                .and_then(|id| records.statements.get(&id))
            else {
                return html! {};
            };
            let speaker = records.speakers.get(&s.speaker_id);
            let reported = s.reported_by_id.and_then(|id| records.articles.get(&id));
            let appeared: Vec<_> = records
                .appearances
                .get(&s.id)
                .into_iter()
                .flatten()
                .filter_map(|a| records.articles.get(&a.article_id))
                .filter(|a| Some(a.id) != s.reported_by_id)
                .collect();
            html! {
                li.event.statement id=(text::statement_anchor(s.id)) {
                    p.when { time datetime=(s.stated_on.to_string()) { (text::stated(s)) } " · " span.kind { "Statement" }
                        @if focus == Focus::Claim { @if let Some(p) = speaker { " by " a href=(format!("/speakers/{}", p.slug)) { (p.name) } } }
                    }
                    blockquote lang=(s.language) { (s.text) }
                    @if let Some(venue) = &s.venue { p.meta { (venue) } }
                    ul.stances {
                        @for stance in records.stances.get(&s.id).into_iter().flatten() {
                            @if let Some(claim) = records.claims.get(&stance.claim_id) {
                                li { (stance_chip(stance.stance)) " " a href=(text::claim_href(claim)) { (text::shorten(&claim.text, 140)) } }
                            }
                        }
                    }
                    @if let Some(article) = reported {
                        p.source { "Reported by " (article_link(records, article)) }
                    }
                    @if !appeared.is_empty() {
                        p.source {
                            "Appeared in "
                            @for (i, article) in appeared.iter().enumerate() {
                                @if i > 0 { "; " }
                                (article_link(records, article))
                            }
                        }
                    }
                }
            }
        }
        EventKind::VerdictPublished => {
            let Some(v) = event.verdict_id.and_then(|id| records.verdicts.get(&id)) else {
                return html! {};
            };
            let band = Band::of(v.score);
            let rated = v.statement_id.and_then(|id| records.statements.get(&id));
            html! {
                li.event.verdict id=(text::verdict_anchor(v.id)) {
                    p.when { time datetime=(datetime) { (when) } " · " span.kind { "Fact-check" } }
                    p {
                        span.chip.(picture::band_class(band)) aria-hidden="true" { (picture::band_letter(band)) } " "
                        (records.outlets.get(&v.reviewer_id).map_or("A fact-checker", |o| o.name.as_str()))
                        ": " strong { (v.rating_label) } " (" (text::band(band)) ")"
                    }
                    @if let Some(summary) = &v.summary { p { (summary) } }
                    @if let Some(s) = rated {
                        p.meta { "Of the statement of " a href=(format!("#{}", text::statement_anchor(s.id))) { (text::stated(s)) } ": “" (text::shorten(&s.text, 140)) "”" }
                    }
                    @if let Some(url) = &v.url { p.source { a href=(url) rel="external" { "Read the fact-check" } } }
                }
            }
        }
        EventKind::FollowUp => {
            let Some(l) = event.link_id.and_then(|id| records.links.get(&id)) else {
                return html! {};
            };
            let source = records.statements.get(&l.source_statement_id);
            let target_article = l.target_article_id.and_then(|id| records.articles.get(&id));
            html! {
                li.event.follow-up id=(text::link_anchor(l.id)) {
                    p.when { time datetime=(datetime) { (when) } " · " span.kind { "Follow-up" } }
                    @if let Some(s) = source {
                        p { "The statement of " a href=(format!("#{}", text::statement_anchor(s.id))) { (text::stated(s)) } " (“" (text::shorten(&s.text, 100)) "”) was " (text::relation(l.relation)) ":" }
                    }
                    @if let Some(t) = l.target_statement_id.and_then(|id| records.statements.get(&id)) {
                        blockquote lang=(t.language) { (t.text) }
                        p.meta {
                            @if let Some(p) = records.speakers.get(&t.speaker_id) { a href=(format!("/speakers/{}", p.slug)) { (p.name) } ", " }
                            a href=(format!("#{}", text::statement_anchor(t.id))) { (text::stated(t)) }
                        }
                    }
                    @if let Some(article) = target_article { p.source { (article_link(records, article)) } }
                    @if let Some(note) = &l.note { p.meta { (note) } }
                }
            }
        }
        EventKind::PositionChange => {
            let Some(change) = &event.change else {
                return html! {};
            };
            let claim = records.claims.get(&change.to.claim_id);
            let speaker = records.speakers.get(&change.to.speaker_id);
            html! {
                li.event.change id=(text::change_anchor(change.to.statement_id, change.to.claim_id)) {
                    p.when { time datetime=(datetime) { (when) } " · " span.kind { "Position change" } }
                    p {
                        @if focus == Focus::Claim { @if let Some(p) = speaker { a href=(format!("/speakers/{}", p.slug)) { (p.name) } " " } }
                        "changed position"
                        @if focus == Focus::Speaker { @if let Some(c) = claim { " on " a href=(text::claim_href(c)) { (text::shorten(&c.text, 140)) } } }
                        ": " (stance_chip(change.from.stance)) " → " (stance_chip(change.to.stance))
                        ", "
                        @match change.days() {
                            0 => { "the same day as " }
                            1 => { "1 day after " }
                            n => { (n) " days after " }
                        }
                        a href=(format!("#{}", text::statement_anchor(change.from.statement_id))) { "the position of " (text::day(change.from.stated_on)) }
                        "."
                    }
                }
            }
        }
    }
}

fn article_link(records: &Records, article: &entity::article::Model) -> Markup {
    let outlet = records.outlet_of(article).map(|o| o.name.as_str());
    html! {
        @match &article.url {
            Some(url) => { a href=(url) rel="external" { "“" (article.title) "”" } }
            None => { "“" (article.title) "”" }
        }
        @if let Some(outlet) = outlet { " (" (outlet) ")" }
    }
}

fn stance_chip(stance: StanceKind) -> Markup {
    html! { span.chip.stance.(picture::stance_class(stance)) { (text::stance(stance)) } }
}

fn period(from: Option<chrono::NaiveDate>, to: Option<chrono::NaiveDate>) -> String {
    match (from, to) {
        (Some(a), Some(b)) => format!("{} to {}", text::day(a), text::day(b)),
        (Some(a), None) => format!("since {}", text::day(a)),
        (None, Some(b)) => format!("until {}", text::day(b)),
        (None, None) => "dates unknown".to_owned(),
    }
}

/// `text` for a double-quoted attribute inside the embed snippet (shown as text).
fn html_attr(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('"', "&quot;")
        .replace('<', "&lt;")
}

const PAGE_STYLE: &str = r#"
:root { color-scheme: light; }
* { box-sizing: border-box; }
body { margin: 0; font: 16px/1.5 Georgia, "Times New Roman", serif; color: #111; background: #fff; }
main, header.site, footer.site { max-width: 1000px; margin: 0 auto; padding: 0 16px; }
header.site { display: flex; gap: 12px; align-items: baseline; flex-wrap: wrap; padding-top: 12px; padding-bottom: 8px; border-bottom: 1px solid #ddd; font-family: system-ui, sans-serif; }
header.site .brand { font-weight: 700; }
header.site .tagline { color: #555; font-size: 14px; }
h1 { font-size: 32px; line-height: 1.2; margin: 20px 0 8px; }
h2 { font-size: 20px; margin: 28px 0 8px; font-family: system-ui, sans-serif; }
.lede { font-size: 18px; color: #333; margin: 0 0 8px; }
.kicker { text-transform: uppercase; letter-spacing: .08em; font: 600 13px system-ui, sans-serif; color: #555; margin: 20px 0 0; }
.meta, .source { color: #444; font-size: 14px; margin: 4px 0; }
a { color: #0b4aa2; }
a:focus-visible, button:focus-visible, select:focus-visible, input:focus-visible, summary:focus-visible { outline: 3px solid #111; outline-offset: 2px; }
.skip { position: absolute; left: -999px; }
.skip:focus { left: 8px; top: 8px; background: #fff; padding: 4px 8px; z-index: 1; }
.roles ol, .current ul { padding-left: 20px; }
form.narrow { display: flex; flex-wrap: wrap; gap: 8px 16px; align-items: end; margin: 20px 0; font: 14px system-ui, sans-serif; }
form.narrow label { display: flex; flex-direction: column; gap: 2px; }
form.narrow select { max-width: 320px; }
form.narrow input, form.narrow select, form.narrow button { font: inherit; padding: 4px 6px; }
figure.picture-frame { margin: 16px 0; }
figure .scroll { overflow-x: auto; border: 1px solid #ddd; }
figure .picture { display: block; width: 100%; min-width: 560px; }
figcaption { font: 14px/1.6 system-ui, sans-serif; color: #333; margin-top: 8px; }
.legend { display: inline-flex; flex-wrap: wrap; gap: 4px 14px; }
.legend .key { vertical-align: middle; }
.legend .key .break { fill: none; stroke: #111; stroke-width: 2.5; }
details.embed { font: 14px system-ui, sans-serif; margin: 8px 0 16px; }
details.embed pre { white-space: pre-wrap; word-break: break-all; background: #f5f5f5; padding: 8px; }
section.events ol { list-style: none; padding: 0; }
li.event { border-left: 4px solid #ccc; padding: 4px 0 8px 12px; margin: 0 0 16px; }
li.event.verdict { border-left-color: #555; }
li.event.change { border-left-color: #111; border-left-style: double; border-left-width: 6px; }
li.event.follow-up { border-left-color: #2a5db0; border-left-style: dashed; }
li.event:target { background: #fff8d6; }
.when { font: 13px system-ui, sans-serif; color: #555; margin: 0; }
.kind { font-weight: 600; color: #222; }
blockquote { margin: 6px 0; padding: 0; font-size: 18px; }
blockquote::before { content: "“"; } blockquote::after { content: "”"; }
ul.stances { list-style: none; padding: 0; margin: 4px 0; font-size: 15px; }
.chip { display: inline-block; font: 700 12px system-ui, sans-serif; padding: 1px 6px; border: 1px solid #111; border-radius: 3px; }
.chip.supports { background: #1a7f37; color: #fff; }
.chip.opposes { background: #c62828; color: #fff; }
.chip.neutral { background: #8a8a8a; color: #fff; }
.chip.unclear { background: #fff; color: #111; }
.chip.band-false { background: #4a0d0d; color: #fff; }
.chip.band-mostly-false { background: #b23a3a; color: #fff; }
.chip.band-mixed { background: #c98a1c; color: #111; }
.chip.band-mostly-true { background: #8fd08f; color: #111; }
.chip.band-true { background: #e3f5e3; color: #111; }
.chip.band-unrated { background: #fff; color: #111; }
.note { background: #fff4d6; padding: 6px 10px; }
footer.site { border-top: 1px solid #ddd; margin-top: 32px; padding-top: 8px; padding-bottom: 24px; color: #555; font: 13px system-ui, sans-serif; }
@media (max-width: 600px) { h1 { font-size: 26px; } blockquote { font-size: 16px; } }
@media print {
  form.narrow, details.embed, .skip { display: none; }
  figure .scroll { border: 0; overflow: visible; }
  figure .picture { min-width: 0; }
  a { color: #111; }
  li.event { break-inside: avoid; }
}
"#;
