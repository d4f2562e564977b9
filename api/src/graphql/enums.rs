//! GraphQL enums mirroring the database enums of the `entity` crate, one spelling
//! from the database to the client.

use async_graphql::Enum;

#[derive(Enum, Copy, Clone, Debug, Eq, PartialEq)]
#[graphql(remote = "entity::SpeakerKind")]
pub enum SpeakerKind {
    Person,
    Organization,
    Group,
}

#[derive(Enum, Copy, Clone, Debug, Eq, PartialEq)]
#[graphql(remote = "entity::StatementKind")]
pub enum StatementKind {
    /// The speaker's own words.
    Quote,
    /// A reporter's summary of what the speaker said.
    Paraphrase,
}

/// How much of a date is known; an imprecise date is the start of its period.
#[derive(Enum, Copy, Clone, Debug, Eq, PartialEq)]
#[graphql(remote = "entity::DatePrecision")]
pub enum DatePrecision {
    Day,
    Month,
    Year,
}

#[derive(Enum, Copy, Clone, Debug, Eq, PartialEq)]
#[graphql(remote = "entity::StanceKind")]
pub enum Stance {
    Supports,
    Opposes,
    Neutral,
    Unclear,
}

#[derive(Enum, Copy, Clone, Debug, Eq, PartialEq)]
#[graphql(remote = "entity::VerdictStatus")]
pub enum VerdictStatus {
    Draft,
    InReview,
    Published,
    Retracted,
}

#[derive(Enum, Copy, Clone, Debug, Eq, PartialEq)]
#[graphql(remote = "entity::LinkRelation")]
pub enum LinkRelation {
    FollowsUp,
    Corroborates,
    Contradicts,
    Updates,
    Corrects,
    Retracts,
    Repeats,
    Reaffirms,
    Softens,
    Hardens,
    Reverses,
    Clarifies,
    DeniesSaying,
}

#[derive(Enum, Copy, Clone, Debug, Eq, PartialEq)]
#[graphql(remote = "entity::LinkStatus")]
pub enum LinkStatus {
    /// Proposed by the machine; waits for an editor.
    Suggested,
    Confirmed,
    /// A suggestion an editor turned down; never proposed again.
    Dismissed,
}
