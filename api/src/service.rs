//! Business rules and SQL. Every function is generic over `C: ConnectionTrait`, so one
//! function serves the pool or a transaction; resolvers stay thin and call these.

pub mod api_key;
pub mod article;
pub mod as_of;
pub mod audit;
pub mod claim;
pub mod event;
pub mod generate;
pub mod jobs;
pub mod link;
pub mod model;
pub mod outlet;
pub mod position;
pub mod purge;
pub mod record;
pub mod scorecard;
pub mod search;
pub mod speaker;
pub mod speaker_role;
pub mod sql;
pub mod statement;
pub mod statistics;
pub mod suggestion;
pub mod timeline;
pub mod topic;
pub mod validate;
pub mod verdict;
pub mod watchlist;
pub mod webhook;

pub use audit::Actor;
pub use record::Record;
