//! Periodic work that several instances on one database share: each job runs in a
//! transaction holding an advisory lock named for it, so one instance at a time does
//! it and the others skip their turn (the lock goes with the transaction, even when an
//! instance dies holding it).

use sea_orm::{ConnectionTrait, DatabaseTransaction};

use crate::error::ApiResult;

/// Takes the job's lock for the rest of `txn`; false when another instance holds it.
pub async fn try_lock(txn: &DatabaseTransaction, job: &str) -> ApiResult<bool> {
    Ok(txn
        .query_one_raw(sea_orm::Statement::from_sql_and_values(
            sea_orm::DbBackend::Postgres,
            "SELECT pg_try_advisory_xact_lock(hashtext($1))",
            [job.into()],
        ))
        .await?
        .map(|row| row.try_get_by_index::<bool>(0))
        .transpose()?
        .unwrap_or(false))
}

/// Waits for the transaction-scoped advisory lock named `name`, held until `txn` ends:
/// what a check-then-write (a count against a cap) takes so that two writers do not
/// both pass the check.
pub async fn lock<C: sea_orm::ConnectionTrait>(txn: &C, name: &str) -> ApiResult<()> {
    txn.execute_raw(sea_orm::Statement::from_sql_and_values(
        sea_orm::DbBackend::Postgres,
        "SELECT pg_advisory_xact_lock(hashtext($1))",
        [name.into()],
    ))
    .await?;
    Ok(())
}
