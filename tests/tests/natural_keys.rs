//! The natural keys imports merge by, in the database: `text_key` gives what its plain
//! definition (NFKC, lower case, white space runs as one space, trimmed) gives, for the
//! inputs its shortcuts skip work on and those they do not; `uuid_v7()` is a version 7
//! uuid in time order.

use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, TestRunner};
use sea_orm::{ConnectionTrait, Statement};
use tests::{TestDb, scalar};

const PLAIN: &str = "btrim(lower(regexp_replace(normalize($1, NFKC), '\\s+', ' ', 'g')))";

async fn same_as_plain(db: &TestDb, text: &str) -> (String, String) {
    let row = db
        .db()
        .query_one_raw(Statement::from_sql_and_values(
            db.db().get_database_backend(),
            format!("SELECT text_key($1), {PLAIN}"),
            [text.into()],
        ))
        .await
        .expect("query")
        .expect("a row");
    (
        row.try_get_by_index(0).expect("the key"),
        row.try_get_by_index(1).expect("the plain key"),
    )
}

#[tokio::test]
async fn text_key_is_its_plain_definition_on_tricky_text() {
    let db = TestDb::new().await;
    for text in [
        "Taxes went UP.",
        "  Taxes \t went\n\nUP.  ",
        "ﬁnancial ｆｕｌｌｗｉｄｔｈ",
        "non\u{a0}breaking\u{a0}\u{a0}spaces",
        "ideographic\u{3000}space",
        "line\u{2028}separator and ogham\u{1680}mark",
        "Ça déjà vu, ΣΊΣΥΦΟΣ",
        "single spaces only",
        "x",
    ] {
        let (key, plain) = same_as_plain(&db, text).await;
        assert_eq!(key, plain, "{text:?}");
    }
    assert_eq!(
        same_as_plain(&db, "  Taxes \t went\n\nUP.  ").await.0,
        "taxes went up."
    );
}

#[tokio::test]
async fn text_key_is_its_plain_definition_on_random_text() {
    let db = TestDb::new().await;
    let parts = proptest::collection::vec(
        prop_oneof![
            Just(" ".to_owned()),
            Just("\t".to_owned()),
            Just("\n".to_owned()),
            Just("\u{a0}".to_owned()),
            Just("\u{3000}".to_owned()),
            Just("ﬁ".to_owned()),
            "[a-zA-Z]{1,5}",
            "[À-ÿ]{1,3}",
        ],
        0..12,
    );
    let mut runner = TestRunner::new(Config::default());
    let cases: Vec<String> = (0..300)
        .map(|_| {
            parts
                .new_tree(&mut runner)
                .expect("a case")
                .current()
                .concat()
        })
        .collect();
    for text in cases {
        let (key, plain) = same_as_plain(&db, &text).await;
        assert_eq!(key, plain, "{text:?}");
    }
}

#[tokio::test]
async fn uuid_v7_is_version_7_and_in_time_order() {
    let db = TestDb::new().await;
    let first: String = scalar(db.db(), "SELECT uuid_v7()::text").await;
    tokio::time::sleep(std::time::Duration::from_millis(3)).await;
    let second: String = scalar(db.db(), "SELECT uuid_v7()::text").await;
    for id in [&first, &second] {
        let parsed = uuid::Uuid::parse_str(id).expect("a uuid");
        assert_eq!(parsed.get_version_num(), 7, "{id}");
        assert_eq!(parsed.get_variant(), uuid::Variant::RFC4122, "{id}");
    }
    assert!(first < second, "{first} then {second}");
}
