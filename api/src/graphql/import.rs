//! `importClaimReview`: one ClaimReview document or feed merged into the database by
//! the engine behind `claimtrack import` (see [`crate::ingest`]), with its report.

use async_graphql::{Context, Object, Result};

use crate::error::ApiError;
use crate::graphql::{actor, db};
use crate::ingest::import::{self, FileReport};
use crate::ingest::merge;
use crate::service::validate;

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
    /// time. All or nothing: one transaction; while another import runs, this one waits up
    /// to 5 seconds and is then refused (CONFLICT). Needs an EDITOR or ADMIN key.
    async fn import_claim_review(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "The ClaimReview JSON-LD, as published: a review object, an array, an `@graph`, a `DataFeed` or a Fact Check Tools response. A document that cannot be read at all is BAD_USER_INPUT and writes nothing."
        )]
        document: serde_json::Value,
        #[graphql(
            default = false,
            desc = "Read and merge, report what would change, and write nothing. False by default."
        )]
        dry_run: bool,
        #[graphql(
            default_with = "String::from(\"en\")",
            desc = "The language of reviews that name none (`inLanguage`), as a language tag; `en` by default."
        )]
        language: String,
    ) -> Result<FileReport> {
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
        Ok(report)
    }
}
