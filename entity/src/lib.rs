//! Sea-ORM models of ClaimTrack's tables: one module per table, database enums in
//! [`enums`]. No GraphQL or HTTP here: the public API types live in the `api` crate.

pub mod api_key;
pub mod appearance;
pub mod article;
pub mod claim;
pub mod claim_topic;
pub mod enums;
pub mod link;
pub mod outlet;
pub mod revision;
pub mod speaker;
pub mod speaker_role;
pub mod stance;
pub mod statement;
pub mod statement_topic;
pub mod topic;
pub mod verdict;
pub mod watchlist;
pub mod webhook;
pub mod webhook_delivery;

pub use enums::*;
