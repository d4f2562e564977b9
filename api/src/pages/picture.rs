//! The picture of a page: time runs left to right, and each lane is one claim (on a
//! speaker's page) or one speaker (on a claim's page). A statement is a mark whose
//! shape and colour say its stance; where a position changes, the lane breaks; a
//! published verdict is a diamond above the lane, at its publication date, lettered
//! and coloured by its rating band and tied to the statement it rates; a confirmed
//! follow-up is an arrow from the statement to what followed. Shapes and letters carry
//! the meaning, so the picture reads in greyscale and in print; every mark is a link
//! (focusable, with its text as a tooltip) to the same event in the list below.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;

use chrono::{Datelike, NaiveDate};
use maud::{Markup, PreEscaped, html};
use uuid::Uuid;

use super::read::Records;
use super::text;
use crate::service::scorecard::Band;
use crate::service::timeline::EventKind;
use entity::StanceKind;

/// Most lanes a picture draws; the rest are named below it.
pub const MAX_LANES: usize = 12;

const WIDTH: f64 = 960.0;
const MARGIN: f64 = 24.0;
const AXIS: f64 = 34.0;
const LANE: f64 = 76.0;
/// Within a lane: its label, its verdicts, its line.
const LABEL_Y: f64 = 16.0;
const VERDICT_Y: f64 = 36.0;
const LINE_Y: f64 = 60.0;
/// Least distance between two marks, and between two verdicts, of a lane.
const MARK_GAP: f64 = 30.0;
const VERDICT_GAP: f64 = 26.0;

/// What lanes a picture has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LanesBy {
    /// One lane per claim the statements take a stance on (a speaker's page).
    Claim,
    /// One lane per speaker with a stance on this claim (a claim's page).
    Speaker(Uuid),
}

/// A picture, ready to draw.
#[derive(Debug, Clone)]
pub struct Picture {
    pub title: String,
    /// The picture in words: its text alternative.
    pub summary: String,
    pub lanes: Vec<Lane>,
    /// Lanes left out past [`MAX_LANES`]: label, link, statements.
    pub more: Vec<(String, String, usize)>,
    pub start: NaiveDate,
    pub end: NaiveDate,
    /// Where links in the picture point: "" on the page itself, the page's path in a
    /// standalone picture.
    pub base: String,
}

#[derive(Debug, Clone)]
pub struct Lane {
    pub label: String,
    pub href: String,
    pub marks: Vec<Mark>,
    pub verdicts: Vec<VerdictMark>,
    pub follow_ups: Vec<FollowUp>,
}

#[derive(Debug, Clone)]
pub struct Mark {
    /// Where it is drawn (set by [`Picture::place`]): at its day, or just right of the
    /// mark before when they would overlap (two statements on one day).
    pub x: f64,
    pub statement_id: Uuid,
    pub on: NaiveDate,
    pub stance: StanceKind,
    pub text: String,
    /// Set when this mark changes the position: the stance before, and the anchor
    /// of the change in the list.
    pub changed_from: Option<(StanceKind, String)>,
}

#[derive(Debug, Clone)]
pub struct VerdictMark {
    /// Where it is drawn (see [`Mark::x`]).
    pub x: f64,
    pub verdict_id: Uuid,
    pub on: NaiveDate,
    pub band: Band,
    pub label: String,
    /// The statement it rates, when on this lane.
    pub statement_id: Option<Uuid>,
}

#[derive(Debug, Clone)]
pub struct FollowUp {
    pub link_id: Uuid,
    pub from: Uuid,
    /// The statement followed up with, when it is a mark of this lane.
    pub to_statement: Option<Uuid>,
    pub on: NaiveDate,
    pub label: String,
}

impl Picture {
    /// The picture of `records`, in lanes as `by` says.
    pub fn of(records: &Records, by: LanesBy, title: String) -> Self {
        let mut lanes: BTreeMap<Uuid, Lane> = BTreeMap::new();
        // Which lanes each statement is a mark in.
        let mut lanes_of: HashMap<Uuid, Vec<Uuid>> = HashMap::new();
        let mut changes: HashMap<(Uuid, Uuid), (StanceKind, String)> = HashMap::new();
        for event in records.visible_events() {
            if let (EventKind::PositionChange, Some(change)) = (event.kind, &event.change) {
                let lane = match by {
                    LanesBy::Claim => change.to.claim_id,
                    LanesBy::Speaker(_) => change.to.speaker_id,
                };
                changes.insert(
                    (lane, change.to.statement_id),
                    (
                        change.from.stance,
                        text::change_anchor(change.to.statement_id, change.to.claim_id),
                    ),
                );
            }
        }
        for event in records.visible_events() {
            if event.kind != EventKind::Statement {
                continue;
            }
            let Some(statement) = event
                .statement_id
                .and_then(|id| records.statements.get(&id))
            else {
                continue;
            };
            for stance in records.stances.get(&statement.id).into_iter().flatten() {
                let (lane_id, label, href) = match by {
                    LanesBy::Claim => {
                        let Some(claim) = records.claims.get(&stance.claim_id) else {
                            continue;
                        };
                        (claim.id, claim.text.clone(), text::claim_href(claim))
                    }
                    LanesBy::Speaker(claim_id) => {
                        let Some(speaker) = records.speakers.get(&statement.speaker_id) else {
                            continue;
                        };
                        if stance.claim_id != claim_id {
                            continue;
                        }
                        (
                            speaker.id,
                            speaker.name.clone(),
                            format!("/speakers/{}", speaker.slug),
                        )
                    }
                };
                let lane = lanes.entry(lane_id).or_insert_with(|| Lane {
                    label,
                    href,
                    marks: Vec::new(),
                    verdicts: Vec::new(),
                    follow_ups: Vec::new(),
                });
                lane.marks.push(Mark {
                    x: 0.0,
                    statement_id: statement.id,
                    on: statement.stated_on,
                    stance: stance.stance,
                    text: statement.text.clone(),
                    changed_from: changes.remove(&(lane_id, statement.id)),
                });
                lanes_of.entry(statement.id).or_default().push(lane_id);
            }
        }
        let claim_lane = Uuid::nil();
        for event in records.visible_events() {
            match event.kind {
                EventKind::VerdictPublished => {
                    let Some(verdict) = event.verdict_id.and_then(|id| records.verdicts.get(&id))
                    else {
                        continue;
                    };
                    let on = event.key.at.date();
                    let mark = VerdictMark {
                        x: 0.0,
                        verdict_id: verdict.id,
                        on,
                        band: Band::of(verdict.score),
                        label: text::verdict_label(records, verdict),
                        statement_id: verdict.statement_id,
                    };
                    match verdict.statement_id {
                        Some(statement) => {
                            for lane in lanes_of.get(&statement).into_iter().flatten() {
                                if let Some(lane) = lanes.get_mut(lane) {
                                    lane.verdicts.push(mark.clone());
                                }
                            }
                        }
                        // A verdict on the claim itself: a lane of its own, first.
                        None => lanes
                            .entry(claim_lane)
                            .or_insert_with(|| Lane {
                                label: "Fact-checks of the claim itself".to_owned(),
                                href: String::new(),
                                marks: Vec::new(),
                                verdicts: Vec::new(),
                                follow_ups: Vec::new(),
                            })
                            .verdicts
                            .push(mark),
                    }
                }
                EventKind::FollowUp => {
                    let Some(link) = event.link_id.and_then(|id| records.links.get(&id)) else {
                        continue;
                    };
                    for lane_id in lanes_of
                        .get(&link.source_statement_id)
                        .into_iter()
                        .flatten()
                    {
                        let Some(lane) = lanes.get_mut(lane_id) else {
                            continue;
                        };
                        let to_statement = link
                            .target_statement_id
                            .filter(|t| lane.marks.iter().any(|m| m.statement_id == *t));
                        lane.follow_ups.push(FollowUp {
                            link_id: link.id,
                            from: link.source_statement_id,
                            to_statement,
                            on: event.key.at.date(),
                            label: text::follow_up_label(records, link),
                        });
                    }
                }
                EventKind::Statement | EventKind::PositionChange => {}
            }
        }
        let mut lanes: Vec<(Uuid, Lane)> = lanes.into_iter().collect();
        // The claim's own verdicts first, then the busiest lanes, then the earliest.
        lanes.sort_by_key(|(id, lane)| {
            (
                *id != claim_lane,
                std::cmp::Reverse(lane.marks.len()),
                lane.marks.first().map(|m| m.on),
                lane.label.clone(),
            )
        });
        let more = lanes
            .iter()
            .skip(MAX_LANES)
            .map(|(_, l)| (l.label.clone(), l.href.clone(), l.marks.len()))
            .collect();
        let lanes: Vec<Lane> = lanes.into_iter().take(MAX_LANES).map(|(_, l)| l).collect();
        let days = lanes.iter().flat_map(|l| {
            l.marks
                .iter()
                .map(|m| m.on)
                .chain(l.verdicts.iter().map(|v| v.on))
                .chain(l.follow_ups.iter().map(|f| f.on))
        });
        let (start, end) = span(days);
        let summary = summary(&title, &lanes, start, end);
        let mut picture = Picture {
            title,
            summary,
            lanes,
            more,
            start,
            end,
            base: String::new(),
        };
        picture.place();
        picture
    }

    /// Places the marks and verdicts of each lane at their days, keeping marks at
    /// least [`MARK_GAP`] and verdicts [`VERDICT_GAP`] apart, in their order.
    fn place(&mut self) {
        let (start, end) = (self.start, self.end);
        let x = |day| x_of(start, end, day);
        for lane in &mut self.lanes {
            let mut last = f64::NEG_INFINITY;
            for mark in &mut lane.marks {
                mark.x = x(mark.on).max(last + MARK_GAP);
                last = mark.x;
            }
            lane.verdicts.sort_by_key(|v| v.on);
            let mut last = f64::NEG_INFINITY;
            for verdict in &mut lane.verdicts {
                verdict.x = x(verdict.on).max(last + VERDICT_GAP);
                last = verdict.x;
            }
        }
    }

    /// The picture's height in its own units.
    pub fn height(&self) -> f64 {
        AXIS + LANE * self.lanes.len().max(1) as f64 + 8.0
    }

    fn x(&self, day: NaiveDate) -> f64 {
        x_of(self.start, self.end, day)
    }

    /// The picture as an `<svg>` element; `standalone` adds the namespace and the
    /// styles, for a file of its own.
    pub fn svg(&self, standalone: bool) -> Markup {
        let height = self.height();
        let view_box = format!("0 0 {WIDTH} {height}");
        let xmlns = standalone.then_some("http://www.w3.org/2000/svg");
        let target = standalone.then_some("_top");
        html! {
            svg xmlns=[xmlns] class="picture" viewBox=(view_box) width=(WIDTH) height=(fmt(height))
                aria-labelledby="picture-title picture-desc" preserveAspectRatio="xMinYMin meet" {
                title id="picture-title" { (self.title) }
                desc id="picture-desc" { (self.summary) }
                @if standalone { style { (PreEscaped(STYLE)) } }
                defs {
                    marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="5"
                        markerHeight="5" orient="auto-start-reverse" {
                        path d="M0,0 L10,5 L0,10 z" class="follow-up-head" {}
                    }
                }
                (self.axis(height))
                @if self.lanes.is_empty() {
                    text x=(fmt(WIDTH / 2.0)) y=(fmt(AXIS + LINE_Y)) text-anchor="middle" class="empty" {
                        "Nothing to show in this range."
                    }
                }
                @for (i, lane) in self.lanes.iter().enumerate() {
                    g class="lane" transform=(format!("translate(0,{})", fmt(AXIS + LANE * i as f64))) {
                        @if lane.href.is_empty() {
                            text x=(MARGIN) y=(LABEL_Y) class="lane-label" { (text::shorten(&lane.label, 110)) }
                        } @else {
                            a href=(lane.href) target=[target] {
                                text x=(MARGIN) y=(LABEL_Y) class="lane-label" { (text::shorten(&lane.label, 110)) }
                            }
                        }
                        (self.line(lane, target))
                        @for follow_up in &lane.follow_ups { (self.follow_up(lane, follow_up, target)) }
                        @for verdict in &lane.verdicts { (self.verdict(lane, verdict, target)) }
                        @for mark in &lane.marks { (self.mark(mark, target)) }
                    }
                }
            }
        }
    }

    fn axis(&self, height: f64) -> Markup {
        html! {
            g class="axis" {
                @for (day, label) in ticks(self.start, self.end) {
                    line x1=(fmt(self.x(day))) x2=(fmt(self.x(day))) y1=(AXIS - 8.0) y2=(fmt(height)) class="grid" {}
                    text x=(fmt(self.x(day))) y=(AXIS - 14.0) text-anchor="middle" { (label) }
                }
            }
        }
    }

    /// The lane's line: one segment per held position, broken where it changes.
    fn line(&self, lane: &Lane, target: Option<&str>) -> Markup {
        let mut segments = String::new();
        let mut breaks = Vec::new();
        for pair in lane.marks.windows(2) {
            let (a, b) = (pair[0].x, pair[1].x);
            match &pair[1].changed_from {
                None => {
                    let _ = write!(
                        segments,
                        "<line x1=\"{}\" x2=\"{}\" y1=\"{LINE_Y}\" y2=\"{LINE_Y}\" class=\"held {}\"/>",
                        fmt(a),
                        fmt(b),
                        stance_class(pair[0].stance)
                    );
                }
                Some((from, anchor)) => {
                    let mid = (a + b) / 2.0;
                    let _ = write!(
                        segments,
                        "<line x1=\"{}\" x2=\"{}\" y1=\"{LINE_Y}\" y2=\"{LINE_Y}\" class=\"held {}\"/>",
                        fmt(a),
                        fmt((mid - 7.0).max(a)),
                        stance_class(pair[0].stance)
                    );
                    breaks.push((mid, *from, pair[1].stance, anchor.clone(), pair[1].on));
                }
            }
        }
        html! {
            (PreEscaped(segments))
            @for (mid, from, to, anchor, on) in breaks {
                a href=(format!("{}#{anchor}", self.base)) target=[target] class="change" {
                    title { "Position changed on " (text::day(on)) ": " (text::stance(from)) " → " (text::stance(to)) }
                    path d=(format!("M{} {LINE_Y} l3 -10 l4 20 l3 -10 l4 0", fmt(mid - 7.0))) class="break" {}
                }
            }
        }
    }

    fn mark(&self, mark: &Mark, target: Option<&str>) -> Markup {
        let x = mark.x;
        let shape = match mark.stance {
            StanceKind::Supports => format!("M{} {} l8 13 l-16 0 z", fmt(x), fmt(LINE_Y - 8.0)),
            StanceKind::Opposes => format!("M{} {} l8 -13 l-16 0 z", fmt(x), fmt(LINE_Y + 8.0)),
            StanceKind::Neutral => format!(
                "M{} {LINE_Y} a7 7 0 1 0 14 0 a7 7 0 1 0 -14 0 z",
                fmt(x - 7.0)
            ),
            StanceKind::Unclear => {
                format!("M{} {} h12 v12 h-12 z", fmt(x - 6.0), fmt(LINE_Y - 6.0))
            }
        };
        html! {
            a href=(format!("{}#{}", self.base, text::statement_anchor(mark.statement_id))) target=[target] class="mark" {
                title { (text::day(mark.on)) ", " (text::stance(mark.stance)) ": “" (text::shorten(&mark.text, 200)) "”" }
                path d=(shape) class=(format!("shape {}", stance_class(mark.stance))) {}
            }
        }
    }

    fn verdict(&self, lane: &Lane, verdict: &VerdictMark, target: Option<&str>) -> Markup {
        let x = verdict.x;
        let rated = verdict
            .statement_id
            .and_then(|id| lane.marks.iter().find(|m| m.statement_id == id));
        html! {
            @if let Some(rated) = rated {
                line x1=(fmt(x)) y1=(VERDICT_Y + 9.0) x2=(fmt(rated.x)) y2=(LINE_Y - 9.0) class="rates" {}
            }
            a href=(format!("{}#{}", self.base, text::verdict_anchor(verdict.verdict_id))) target=[target] class="verdict" {
                title { (verdict.label) }
                path d=(format!("M{} {} l11 11 l-11 11 l-11 -11 z", fmt(x), fmt(VERDICT_Y - 11.0)))
                    class=(format!("shape {}", band_class(verdict.band))) {}
                text x=(fmt(x)) y=(VERDICT_Y + 3.5) text-anchor="middle" class=(format!("band-letter {}", band_class(verdict.band))) {
                    (band_letter(verdict.band))
                }
                // The rating in words, shown while the diamond has the focus or the
                // pointer (a tooltip alone does not show on keyboard focus).
                text x=(fmt(x.clamp(MARGIN + 120.0, WIDTH - MARGIN - 120.0))) y=(VERDICT_Y - 15.0)
                    text-anchor="middle" class="focus-label" {
                    (text::shorten(&verdict.label, 60))
                }
            }
        }
    }

    fn follow_up(&self, lane: &Lane, follow_up: &FollowUp, target: Option<&str>) -> Markup {
        let Some(from) = lane.marks.iter().find(|m| m.statement_id == follow_up.from) else {
            return html! {};
        };
        let to = follow_up
            .to_statement
            .and_then(|id| lane.marks.iter().find(|m| m.statement_id == id))
            .map_or_else(
                || self.x(follow_up.on).max(from.x + MARK_GAP / 2.0),
                |m| m.x,
            );
        let (x1, x2) = (from.x, to);
        let dip = 14.0;
        // Out of the source downwards, into the target from the left.
        let path = format!(
            "M{} {} C{} {} {} {} {} {}",
            fmt(x1),
            fmt(LINE_Y + 6.0),
            fmt(x1),
            fmt(LINE_Y + dip),
            fmt(x2 - 14.0),
            fmt(LINE_Y + dip),
            fmt(x2 - 5.0),
            fmt(LINE_Y + 9.0),
        );
        html! {
            a href=(format!("{}#{}", self.base, text::link_anchor(follow_up.link_id))) target=[target] class="follow-up" {
                title { (follow_up.label) }
                path d=(path) class="follow-up-line" marker-end="url(#arrow)" {}
                @if follow_up.to_statement.is_none() {
                    circle cx=(fmt(x2)) cy=(LINE_Y + 10.0) r="3.5" class="follow-up-end" {}
                }
            }
        }
    }
}

/// Where a day falls between `start` and `end` (the middle of its day).
fn x_of(start: NaiveDate, end: NaiveDate, day: NaiveDate) -> f64 {
    let total = ((end - start).num_days() + 1).max(1) as f64;
    let at = (day - start).num_days() as f64 + 0.5;
    MARGIN + (WIDTH - 2.0 * MARGIN) * at / total
}

/// The days the picture spans: a little wider than what it shows, a month at least.
fn span(days: impl Iterator<Item = NaiveDate>) -> (NaiveDate, NaiveDate) {
    let (mut lo, mut hi) = (None::<NaiveDate>, None::<NaiveDate>);
    for day in days {
        lo = Some(lo.map_or(day, |lo| lo.min(day)));
        hi = Some(hi.map_or(day, |hi| hi.max(day)));
    }
    let today = chrono::Utc::now().date_naive();
    let (lo, hi) = (lo.unwrap_or(today), hi.unwrap_or(today));
    let pad = ((hi - lo).num_days() / 20).max(1);
    let (lo, hi) = (
        lo - chrono::Duration::days(pad),
        hi + chrono::Duration::days(pad),
    );
    // A week at least, so that a few days' events are not drawn a page apart.
    let short = (7 - (hi - lo).num_days()).max(0);
    (
        lo - chrono::Duration::days(short / 2),
        hi + chrono::Duration::days(short - short / 2),
    )
}

/// Tick days and labels for an axis from `start` to `end`: first days of months, a
/// step of months that gives at most eight.
fn ticks(start: NaiveDate, end: NaiveDate) -> Vec<(NaiveDate, String)> {
    let days = (end - start).num_days();
    if days <= 70 {
        let step = [1, 2, 7, 14]
            .into_iter()
            .find(|s| days / s <= 8)
            .unwrap_or(14);
        return start
            .iter_days()
            .take_while(|d| *d <= end)
            .step_by(step as usize)
            .map(|d| (d, d.format("%-d %b").to_string()))
            .collect();
    }
    let months = |d: NaiveDate| d.year() * 12 + d.month0() as i32;
    let total = months(end) - months(start) + 1;
    let step = [1, 2, 3, 6, 12, 24, 60, 120, 240]
        .into_iter()
        .find(|s| total / s <= 8)
        .unwrap_or(600);
    let mut out = Vec::new();
    let mut m = months(start) + 1;
    m += (step - m.rem_euclid(step)) % step;
    while m <= months(end) {
        let Some(day) = NaiveDate::from_ymd_opt(m.div_euclid(12), m.rem_euclid(12) as u32 + 1, 1)
        else {
            break;
        };
        let label = if step >= 12 {
            day.format("%Y").to_string()
        } else {
            day.format("%b %Y").to_string()
        };
        out.push((day, label));
        m += step;
    }
    if out.is_empty() {
        out.push((start, start.format("%-d %b %Y").to_string()));
    }
    out
}

/// The picture in words, for its text alternative.
fn summary(title: &str, lanes: &[Lane], start: NaiveDate, end: NaiveDate) -> String {
    let mut out = format!("{title}, {} to {}. ", text::day(start), text::day(end));
    for lane in lanes {
        let _ = write!(out, "{}: ", text::shorten(&lane.label, 80));
        let positions: Vec<String> = lane
            .marks
            .iter()
            .map(|m| {
                let change = if m.changed_from.is_some() {
                    " (a change)"
                } else {
                    ""
                };
                format!("{} {}{change}", text::stance(m.stance), text::day(m.on))
            })
            .collect();
        out.push_str(&positions.join(", then "));
        if !lane.verdicts.is_empty() {
            let verdicts: Vec<&str> = lane.verdicts.iter().map(|v| v.label.as_str()).collect();
            let _ = write!(out, "; fact-checks: {}", verdicts.join("; "));
        }
        if !lane.follow_ups.is_empty() {
            let _ = write!(out, "; {} follow-up(s)", lane.follow_ups.len());
        }
        out.push_str(". ");
    }
    out.trim_end().to_owned()
}

pub fn stance_class(stance: StanceKind) -> &'static str {
    match stance {
        StanceKind::Supports => "supports",
        StanceKind::Opposes => "opposes",
        StanceKind::Neutral => "neutral",
        StanceKind::Unclear => "unclear",
    }
}

pub fn band_class(band: Band) -> &'static str {
    match band {
        Band::False => "band-false",
        Band::MostlyFalse => "band-mostly-false",
        Band::Mixed => "band-mixed",
        Band::MostlyTrue => "band-mostly-true",
        Band::True => "band-true",
        Band::Unrated => "band-unrated",
    }
}

/// The letters inside a verdict's diamond: the band in print and greyscale.
pub fn band_letter(band: Band) -> &'static str {
    match band {
        Band::False => "F",
        Band::MostlyFalse => "MF",
        Band::Mixed => "MX",
        Band::MostlyTrue => "MT",
        Band::True => "T",
        Band::Unrated => "?",
    }
}

/// A coordinate, to a tenth.
fn fmt(v: f64) -> String {
    let rounded = (v * 10.0).round() / 10.0;
    if rounded.fract() == 0.0 {
        format!("{rounded:.0}")
    } else {
        format!("{rounded:.1}")
    }
}

/// The picture's styles: inline in the page, inside a standalone picture. Colours are
/// redundant with shapes and letters; their lightness still orders the bands.
pub const STYLE: &str = r#"
.picture { font: 12px system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; max-width: 100%; height: auto; background: #fff; }
.picture .axis text { fill: #444; font-size: 11px; }
.picture .grid { stroke: #e4e4e4; stroke-width: 1; }
.picture .lane-label { fill: #111; font-weight: 600; }
.picture a .lane-label { text-decoration: underline; }
.picture .held { stroke-width: 3; }
.picture .held.supports { stroke: #1a7f37; }
.picture .held.opposes { stroke: #c62828; }
.picture .held.neutral, .picture .held.unclear { stroke: #8a8a8a; }
.picture .break { fill: none; stroke: #111; stroke-width: 2.5; stroke-linejoin: round; }
.picture .shape { stroke: #111; stroke-width: 1; }
.picture .shape.supports { fill: #1a7f37; }
.picture .shape.opposes { fill: #c62828; }
.picture .shape.neutral { fill: #8a8a8a; }
.picture .shape.unclear { fill: #fff; stroke: #555; stroke-width: 2; }
.picture .band-false { fill: #4a0d0d; }
.picture .band-mostly-false { fill: #b23a3a; }
.picture .band-mixed { fill: #c98a1c; }
.picture .band-mostly-true { fill: #8fd08f; }
.picture .band-true { fill: #e3f5e3; }
.picture .band-unrated { fill: #fff; }
.picture .band-letter { font-size: 8px; font-weight: 700; stroke: none; }
.picture .band-letter.band-false, .picture .band-letter.band-mostly-false { fill: #fff; }
.picture .band-letter.band-mixed, .picture .band-letter.band-mostly-true, .picture .band-letter.band-true, .picture .band-letter.band-unrated { fill: #111; }
.picture .rates { stroke: #777; stroke-width: 1; stroke-dasharray: 2 2; }
.picture .follow-up-line { fill: none; stroke: #2a5db0; stroke-width: 1.5; }
.picture .follow-up-head { fill: #2a5db0; }
.picture .follow-up-end { fill: #fff; stroke: #2a5db0; stroke-width: 1.5; }
.picture .empty { fill: #666; font-size: 14px; }
.picture .focus-label { display: none; fill: #111; font-size: 12px; font-weight: 600; paint-order: stroke; stroke: #fff; stroke-width: 4px; }
.picture a:focus .focus-label, .picture a:hover .focus-label { display: inline; }
.picture a:focus, .picture a:hover { outline: none; }
.picture a:focus .shape, .picture a:hover .shape, .picture a:focus .break, .picture a:hover .break,
.picture a:focus .follow-up-line, .picture a:hover .follow-up-line { stroke: #000; stroke-width: 3.5; }
.picture a:focus .lane-label { outline: 2px solid #000; }
"#;

#[cfg(test)]
mod tests {
    use super::*;

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap_or_default()
    }

    #[test]
    fn ticks_fall_on_first_days_and_stay_few() {
        for (start, end) in [
            (day(2017, 6, 20), day(2017, 7, 25)),
            (day(2015, 1, 1), day(2021, 12, 31)),
            (day(1990, 3, 3), day(2024, 2, 2)),
        ] {
            let ticks = ticks(start, end);
            assert!(!ticks.is_empty() && ticks.len() <= 9, "{ticks:?}");
            assert!(ticks.iter().all(|(d, _)| *d >= start && *d <= end));
            assert!(ticks.windows(2).all(|w| w[0].0 < w[1].0));
        }
        assert_eq!(ticks(day(2017, 6, 20), day(2017, 9, 25))[0].1, "Jul 2017");
        assert_eq!(ticks(day(2017, 7, 5), day(2017, 7, 11))[0].1, "5 Jul");
    }

    #[test]
    fn the_span_pads_what_it_shows() {
        let (start, end) = span([day(2017, 7, 8), day(2017, 7, 9)].into_iter());
        assert!(start < day(2017, 7, 8) && end > day(2017, 7, 9));
        assert_eq!((end - start).num_days(), 7);
        let (start, end) = span([day(2000, 1, 1), day(2020, 1, 1)].into_iter());
        assert_eq!((end - start).num_days(), 7305 + 2 * 365);
    }

    #[test]
    fn coordinates_are_short() {
        assert_eq!(fmt(12.0), "12");
        assert_eq!(fmt(12.345), "12.3");
    }
}
