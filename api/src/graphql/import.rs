//! `importClaimReview`: one ClaimReview document or feed merged into the database by
//! the engine behind `claimtrack import` (see [`crate::ingest`]), with its report.

use async_graphql::{Context, Object, Result, SimpleObject};

use crate::error::ApiError;
use crate::graphql::{actor, db};
use crate::ingest::import::{self, FileReport, Problem};
use crate::ingest::merge::{self, Records};
use crate::service::validate;

/// What an import did: every review accounted for.
#[derive(SimpleObject)]
pub struct ImportReport {
    /// Reviews found in the document.
    pub read: u64,
    /// Reviews whose statement (or claim) was new.
    pub created: u64,
    /// Reviews whose statement or claim was already known and that added or changed a
    /// verdict or an appearance.
    pub merged: u64,
    /// Reviews that changed nothing: everything in them was already recorded.
    pub unchanged: u64,
    /// Reviews not taken; `refusals` says why, one entry each.
    pub refused: u64,
    pub refusals: Vec<Problem>,
    /// Fields that were there but could not be read; their reviews were taken without
    /// them.
    pub unreadable: Vec<Problem>,
    /// Source fields ClaimTrack has no place for (dropped), with how many reviews had each.
    pub unmapped: Vec<UnmappedField>,
    pub records: Records,
    /// True when nothing was written (`dryRun: true`).
    pub dry_run: bool,
}

/// A source field with no place in ClaimTrack, as a dotted path below the review
/// (array positions as `*`).
#[derive(SimpleObject)]
pub struct UnmappedField {
    pub field: String,
    pub count: u64,
}

impl From<FileReport> for ImportReport {
    fn from(r: FileReport) -> Self {
        Self {
            read: r.read,
            created: r.created,
            merged: r.merged,
            unchanged: r.unchanged,
            refused: r.refused,
            refusals: r.refusals,
            unreadable: r.unreadable,
            unmapped: r
                .unmapped
                .into_iter()
                .map(|(field, count)| UnmappedField { field, count })
                .collect(),
            records: r.records,
            dry_run: r.dry_run,
        }
    }
}

#[derive(Default)]
pub struct ImportMutation;

#[Object]
impl ImportMutation {
    /// Imports ClaimReview as fact-checkers publish it: one review, an array, an
    /// `@graph`, a schema.org `DataFeed`, or a Google Fact Check Tools `claims:search`
    /// response. Each review becomes the claimant's statement (a claim when none is
    /// named), its appearances, the reviewer's outlet and a PUBLISHED verdict carrying
    /// the review's address; what is already recorded is matched by its natural key
    /// and not repeated, so sending the same document twice changes nothing the second
    /// time. All or nothing: one transaction. EDITOR.
    async fn import_claim_review(
        &self,
        ctx: &Context<'_>,
        document: serde_json::Value,
        #[graphql(default = false, desc = "Read and merge, report, and write nothing.")]
        dry_run: bool,
        #[graphql(
            default_with = "String::from(\"en\")",
            desc = "The language of reviews that name none (`inLanguage`)."
        )]
        language: String,
    ) -> Result<ImportReport> {
        let language = validate::language("language", &language)?;
        let pool = db(ctx).get_postgres_connection_pool();
        let report = import::document(pool, &document, &language, dry_run, actor(ctx).key_id)
            .await
            .map_err(|e| match e {
                import::FileError::Database(e) if merge::is_lock_timeout(&e) => {
                    ApiError::Conflict {
                        message: "another import is running; retry when it is done".into(),
                        field: None,
                    }
                }
                import::FileError::Database(e) => ApiError::Internal(format!("import: {e}")),
                other => ApiError::bad_input("document", other.to_string()),
            })?;
        Ok(report.into())
    }
}
