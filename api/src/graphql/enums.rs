//! GraphQL enums mirroring the database enums of the `entity` crate, one spelling
//! from the database to the client.

use async_graphql::Enum;

/// What sort of speaker this is.
#[derive(Enum, Copy, Clone, Debug, Eq, PartialEq)]
#[graphql(remote = "entity::SpeakerKind")]
pub enum SpeakerKind {
    /// One individual, such as Sergei Lavrov.
    Person,
    /// A body that speaks in its own name: a ministry, a party, a company, an agency.
    Organization,
    /// An informal set of people spoken of together, such as "some members of U.S.
    /// Congress".
    Group,
}

/// Whether a statement's text is the speaker's wording or someone's summary of it.
#[derive(Enum, Copy, Clone, Debug, Eq, PartialEq)]
#[graphql(remote = "entity::StatementKind")]
pub enum StatementKind {
    /// The speaker's own words, verbatim (possibly translated).
    Quote,
    /// A reporter's summary of what the speaker said, not their exact words.
    Paraphrase,
}

/// How much of a date is known. An imprecise date is stored as the first day of its
/// period and sorts at the start of it.
#[derive(Enum, Copy, Clone, Debug, Eq, PartialEq)]
#[graphql(remote = "entity::DatePrecision")]
pub enum DatePrecision {
    /// The exact day is known.
    Day,
    /// Only the month is known; the date is the 1st of that month.
    Month,
    /// Only the year is known; the date is 1 January of that year.
    Year,
}

/// How a statement bears on a claim. NEUTRAL and UNCLEAR count as stances of their own:
/// moving from SUPPORTS to NEUTRAL is a position change.
#[derive(Enum, Copy, Clone, Debug, Eq, PartialEq)]
#[graphql(remote = "entity::StanceKind")]
pub enum Stance {
    /// The statement asserts or endorses the claim.
    Supports,
    /// The statement denies the claim or argues against it.
    Opposes,
    /// The statement addresses the claim without taking a side.
    Neutral,
    /// The statement bears on the claim, but which way cannot be told.
    Unclear,
}

/// Where a verdict stands in its editorial life. Only PUBLISHED verdicts are visible to
/// ANONYMOUS and READER callers; EDITOR and ADMIN see all four.
#[derive(Enum, Copy, Clone, Debug, Eq, PartialEq)]
#[graphql(remote = "entity::VerdictStatus")]
pub enum VerdictStatus {
    /// Being written. Visible to EDITOR and ADMIN only; the default of `createVerdict`.
    Draft,
    /// Written and waiting for review. Visible to EDITOR and ADMIN only.
    InReview,
    /// Public: visible to every caller, counted in scorecards and rating-band filters,
    /// and shown in timelines at its `publishedAt`.
    Published,
    /// Withdrawn after publication. Visible to EDITOR and ADMIN only, and no longer
    /// counted anywhere.
    Retracted,
}

/// What a link's target (a later statement or an article) does to its source statement.
/// ClaimTrack's own vocabulary: no schema standard defines these relations.
#[derive(Enum, Copy, Clone, Debug, Eq, PartialEq)]
#[graphql(remote = "entity::LinkRelation")]
pub enum LinkRelation {
    /// The target reports on what became of the source: a follow-up report or a later
    /// statement on the same matter.
    FollowsUp,
    /// The target confirms what the source said.
    Corroborates,
    /// The target says the opposite of the source (another speaker, or evidence).
    Contradicts,
    /// The target brings newer information on the matter of the source.
    Updates,
    /// The target corrects an error in the source.
    Corrects,
    /// The target withdraws the source.
    Retracts,
    /// The target says the same thing again, in the same or nearly the same words.
    Repeats,
    /// The speaker restates the position of the source, which still holds.
    Reaffirms,
    /// The speaker keeps the position of the source but weakens it; a change of
    /// position (see `PositionChange.links`).
    Softens,
    /// The speaker keeps the position of the source but strengthens it; a change of
    /// position (see `PositionChange.links`).
    Hardens,
    /// The speaker takes the opposite position to the source. The service proposes
    /// these itself as SUGGESTED contradiction candidates.
    Reverses,
    /// The target explains what the source meant.
    Clarifies,
    /// The target denies that the source was ever said.
    DeniesSaying,
}

/// Whether a link is settled. Only CONFIRMED links are visible to ANONYMOUS and READER
/// callers.
#[derive(Enum, Copy, Clone, Debug, Eq, PartialEq)]
#[graphql(remote = "entity::LinkStatus")]
pub enum LinkStatus {
    /// Proposed by the machine (or entered as such); waits for an editor to confirm or
    /// dismiss it. Visible to EDITOR and ADMIN only.
    Suggested,
    /// Made or accepted by an editor: public, and shown in timelines as a FOLLOW_UP.
    /// The default of `createLink`.
    Confirmed,
    /// A suggestion an editor turned down; never proposed again. Left out of
    /// `Statement.links` and `backlinks`; EDITOR and ADMIN can still read it with
    /// `link(id:)`.
    Dismissed,
}
