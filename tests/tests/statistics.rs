//! The service analyzes tables whose planner statistics are missing or stale, so that
//! a bulk load is planned for what it holds within seconds, not at autovacuum's next
//! round; instances take turns.

use std::time::{Duration, Instant};

use claimtrack::service::statistics::{refresh, stale};
use sea_orm::{ConnectionTrait, TransactionTrait};
use tests::TestDb;

/// The stale tables once PostgreSQL's activity statistics show `table` (they reach
/// shared memory within a second or so of a commit).
async fn stale_with(db: &TestDb, table: &str) -> Vec<String> {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let tables = stale(db.db()).await.unwrap();
        if tables.iter().any(|t| t == table) || Instant::now() > deadline {
            return tables;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// `n` speakers written in one statement, as a bulk load writes them.
async fn load_speakers(db: &TestDb, n: u32) {
    db.db()
        .execute_unprepared(&format!(
            "INSERT INTO speaker (id, name, slug, kind) \
             SELECT gen_random_uuid(), 'Speaker ' || n, 'speaker-' || n, 'PERSON' \
             FROM generate_series(1, {n}) n"
        ))
        .await
        .unwrap();
}

async fn analyzed(db: &TestDb, table: &str) -> bool {
    tests::scalar::<String>(
        db.db(),
        &format!(
            "SELECT (last_analyze IS NOT NULL)::text FROM pg_stat_user_tables \
             WHERE relname = '{table}' AND schemaname = current_schema()"
        ),
    )
    .await
        == "true"
}

#[tokio::test]
async fn a_table_loaded_in_bulk_is_analyzed_and_then_no_longer_stale() {
    let db = TestDb::new().await;
    load_speakers(&db, 700).await;
    let tables = stale_with(&db, "speaker").await;
    assert!(tables.iter().any(|t| t == "speaker"), "{tables:?}");
    assert!(!analyzed(&db, "speaker").await);

    // Another instance holding the turn: this one leaves the tables alone.
    let other = db.db().begin().await.unwrap();
    other
        .execute_unprepared("SELECT pg_advisory_xact_lock(hashtext('claimtrack.statistics'))")
        .await
        .unwrap();
    assert_eq!(refresh(db.db()).await.unwrap(), Vec::<String>::new());
    assert!(!analyzed(&db, "speaker").await);
    other.rollback().await.unwrap();

    let done = refresh(db.db()).await.unwrap();
    assert!(done.iter().any(|t| t == "speaker"), "{done:?}");
    assert!(analyzed(&db, "speaker").await);
    let reltuples: String = tests::scalar(
        db.db(),
        "SELECT reltuples::bigint::text FROM pg_class WHERE oid = 'speaker'::regclass",
    )
    .await;
    assert_eq!(reltuples, "700");
    assert!(!stale(db.db()).await.unwrap().iter().any(|t| t == "speaker"));
}

#[tokio::test]
async fn a_few_changes_to_an_analyzed_table_do_not_make_it_stale() {
    let db = TestDb::new().await;
    load_speakers(&db, 2000).await;
    // Analyzed once the load's counts have reached the activity statistics.
    stale_with(&db, "speaker").await;
    db.db().execute_unprepared("ANALYZE speaker").await.unwrap();
    // 100 changes: under both the floor (500) and a tenth of the table.
    db.db()
        .execute_unprepared("UPDATE speaker SET description = 'x' WHERE slug IN (SELECT 'speaker-' || n FROM generate_series(1, 100) n)")
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let tables = stale(db.db()).await.unwrap();
    assert!(!tables.iter().any(|t| t == "speaker"), "{tables:?}");
}
