//! ClaimTrack: a claim-tracking and fact-check database with a GraphQL API.
//!
//! `main.rs` only parses the command line and hands over to [`cli::run`]; everything
//! else is here so tests build the very same app and schema.

pub mod admission;
pub mod auth;
pub mod cli;
pub mod config;
pub mod db;
pub mod demo;
pub mod embedded;
pub mod error;
pub mod graphql;
pub mod http;
pub mod ingest;
pub mod live;
pub mod metrics;
pub mod pages;
pub mod rate_limit;
pub mod service;
pub mod telemetry;
