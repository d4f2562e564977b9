//! ClaimTrack: a claim-tracking and fact-check database with a GraphQL API.
//!
//! `main.rs` only parses the command line and hands over to [`cli::run`]; everything
//! else is here so tests build the very same app and schema.

pub mod config;
pub mod error;
pub mod graphql;
pub mod service;
