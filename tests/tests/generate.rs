//! The benchmark data generator: what it loads, that the same scale and seed load the
//! same data, and that generated statements are found like any others (their
//! signature bands are loaded with them, and the band trigger is back on afterwards).

use claimtrack::service::generate::{Scale, generate};
use claimtrack::service::search::similar::{Strategy, similar_by};
use sea_orm::{ConnectionTrait, DbBackend, Statement};
use serde_json::json;
use tests::TestDb;
use tests::fixtures::{self, speaker};

const SCALE: Scale = Scale {
    statements: 2_000,
    seed: 7,
};

async fn text(db: &TestDb, sql: &str) -> String {
    tests::scalar(db.db(), sql).await
}

#[tokio::test]
async fn generate_loads_every_table_at_scale_with_the_statements_bands() {
    let db = TestDb::new().await;
    let loaded = generate(db.db(), SCALE).await.unwrap();
    for (table, rows) in &loaded {
        assert!(*rows > 0, "{table} is empty");
        let stored = db.count(table).await;
        assert_eq!(stored, i64::try_from(*rows).unwrap(), "{table}");
    }
    let rows = |table: &str| loaded.iter().find(|(t, _)| t == table).unwrap().1;
    assert_eq!(rows("statement"), 2_000);
    assert_eq!(rows("speaker"), 200);
    assert_eq!(rows("claim"), 100);
    assert_eq!(rows("article"), 500);
    assert_eq!(rows("revision"), 2_000);
    // Every statement's bands, exactly as the trigger would have listed them.
    let missing = text(
        &db,
        "SELECT count(*)::text FROM statement s, unnest(statement_text_bands(s.text)) b(band) \
         WHERE NOT EXISTS (SELECT 1 FROM statement_text_band t WHERE t.band = b.band AND t.statement_id = s.id)",
    )
    .await;
    assert_eq!(missing, "0");
    assert_eq!(rows("statement_text_band"), 40_000);
    // The generated near-duplicates (statement 237 repeats an earlier one: one in 23
    // does) are found through the bands as exactly.
    let (id, statement) = {
        let row = db
            .db()
            .query_one_raw(Statement::from_string(
                DbBackend::Postgres,
                "SELECT id, text FROM statement ORDER BY id LIMIT 1 OFFSET 237".to_owned(),
            ))
            .await
            .unwrap()
            .unwrap();
        (
            row.try_get::<uuid::Uuid>("", "id").unwrap(),
            row.try_get::<String>("", "text").unwrap(),
        )
    };
    let ids = |found: Vec<claimtrack::service::search::similar::Similar>| -> Vec<uuid::Uuid> {
        found.into_iter().map(|s| s.statement.id).collect()
    };
    let exact = ids(
        similar_by(db.db(), Strategy::Trigrams, &statement, Some(id), 0.7, 100)
            .await
            .unwrap(),
    );
    let banded = ids(
        similar_by(db.db(), Strategy::Bands, &statement, Some(id), 0.7, 100)
            .await
            .unwrap(),
    );
    assert!(!exact.is_empty(), "a repeat has its original");
    assert_eq!(banded, exact);
    // The row trigger is on again: a statement created afterwards gets its bands.
    let speaker = speaker(&db, "After").await;
    let created = fixtures::statement(
        &db,
        json!({ "speakerId": speaker, "text": statement, "kind": "QUOTE", "statedOn": "2024-01-01", "language": "en" }),
    )
    .await;
    let bands = text(
        &db,
        &format!("SELECT count(*)::text FROM statement_text_band WHERE statement_id = '{created}'"),
    )
    .await;
    assert_eq!(bands, "20");
}

#[tokio::test]
async fn the_same_scale_and_seed_load_the_same_data() {
    let fingerprint = |db: &TestDb| {
        let db = db.db().clone();
        async move {
            db.query_one_raw(Statement::from_string(
                DbBackend::Postgres,
                "SELECT md5(string_agg(id::text || text || stated_on::text || speaker_id::text, ',' ORDER BY id)) \
                 || md5((SELECT string_agg(statement_id::text || claim_id::text || stance::text, ',' ORDER BY statement_id, claim_id) FROM stance)) \
                 FROM statement"
                    .to_owned(),
            ))
            .await
            .unwrap()
            .unwrap()
            .try_get_by_index::<String>(0)
            .unwrap()
        }
    };
    let (a, b, c) = (
        TestDb::new().await,
        TestDb::new().await,
        TestDb::new().await,
    );
    generate(a.db(), SCALE).await.unwrap();
    generate(b.db(), SCALE).await.unwrap();
    generate(c.db(), Scale { seed: 8, ..SCALE }).await.unwrap();
    assert_eq!(fingerprint(&a).await, fingerprint(&b).await);
    assert_ne!(fingerprint(&a).await, fingerprint(&c).await);
}
