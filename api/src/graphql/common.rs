//! Inputs and payloads every resource shares.

use async_graphql::{ID, InputObject, SimpleObject};

/// Deletes a record read at `version`; a stale version is a CONFLICT.
#[derive(InputObject, Debug)]
pub struct DeleteInput {
    pub id: ID,
    /// The version the client read.
    pub version: i32,
}

#[derive(SimpleObject, Debug)]
pub struct DeletePayload {
    pub deleted_id: ID,
    /// The record's version after deletion (its revision keeps it).
    pub version: i32,
}
