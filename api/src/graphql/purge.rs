//! `purgeRecord`, for admins: a hard delete that also blanks the record's revisions.

use async_graphql::{Context, ID, InputObject, Object, Result, SimpleObject};

use crate::graphql::scalars::uuid;
use crate::graphql::{actor, db};
use crate::service;

/// Purges a record (live or soft-deleted) read at `version`. A stale version is a CONFLICT;
/// an unknown id is NOT_FOUND.
#[derive(InputObject, Debug)]
pub struct PurgeRecordInput {
    /// Any record: speaker, role, outlet, article, topic, claim, statement, appearance,
    /// verdict or link.
    pub id: ID,
    /// The version the client read (for a deleted record, the last one in `revisions`).
    pub version: i32,
    /// Why, for the audit trail (a takedown request, an erasure request, …); at most
    /// 2,000 characters.
    pub reason: String,
}

/// One record a purge removed.
#[derive(SimpleObject, Debug)]
pub struct PurgedRecord {
    /// The table it lived in (`statement`, `link`, …).
    pub entity_type: String,
    /// The id the record had.
    pub id: ID,
}

/// The result of `purgeRecord`: what was removed and how much of the audit trail was
/// blanked.
#[derive(SimpleObject, Debug)]
pub struct PurgeRecordPayload {
    /// The id of the record asked for, as given.
    pub purged_id: ID,
    /// The record asked for first, then those that belonged to it (a statement's
    /// appearances and links, a speaker's roles, …).
    pub purged: Vec<PurgedRecord>,
    /// How many revisions had their content blanked.
    pub redacted_revisions: u64,
}

#[derive(Default)]
pub struct PurgeMutation;

#[Object]
impl PurgeMutation {
    /// Removes a record for good, with the records that belong to it, and blanks the
    /// content of their revisions; a PURGE revision records who purged it, when and why.
    /// Refused (CONFLICT) while other records, deleted ones included, refer to it. Needs an
    /// ADMIN key.
    async fn purge_record(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The record, the version read and the reason.")] input: PurgeRecordInput,
    ) -> Result<PurgeRecordPayload> {
        let id = uuid("input.id", &input.id)?;
        let outcome =
            service::purge::purge(db(ctx), &actor(ctx), id, input.version, &input.reason).await?;
        Ok(PurgeRecordPayload {
            purged_id: input.id,
            purged: outcome
                .records
                .into_iter()
                .map(|r| PurgedRecord {
                    entity_type: r.entity_type.to_owned(),
                    id: ID(r.id.to_string()),
                })
                .collect(),
            redacted_revisions: outcome.redacted_revisions,
        })
    }
}
