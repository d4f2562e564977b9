//! Hard deletes: `purgeRecord` removes a record with what belongs to it and blanks
//! the content of its revisions, leaving a PURGE revision that says who, when and why;
//! it refuses while other records refer to it; PostgreSQL allows that blanking and no
//! other change to the trail.

use claimtrack::auth::KeyStore;
use claimtrack::auth::Viewer;
use entity::ApiRole;
use sea_orm::ConnectionTrait;
use serde_json::{Value, json};
use tests::TestDb;
use tests::fixtures::instant;
use tests::scalar;

const SECRET: &str = "private phone number 555-0199";

const PURGE: &str = r#"mutation($id: ID!, $version: Int!, $reason: String!) {
  purgeRecord(input: {id: $id, version: $version, reason: $reason}) {
    purgedId purged { entityType id } redactedRevisions
  }
}"#;

const REVISIONS: &str = r#"query($id: ID!) { revisions(entityId: $id) { totalCount edges { node {
  version action before after reason redactedAt actorKey { name role } } } } }"#;

/// Revisions anywhere in the trail whose content mentions the secret.
async fn mentions_of_secret(db: &TestDb) -> i64 {
    scalar::<i64>(
        db.db(),
        &format!(
            "SELECT count(*) FROM revision WHERE coalesce(before::text, '') || coalesce(after::text, '') LIKE '%{SECRET}%'"
        ),
    )
    .await
}

async fn redacted(db: &TestDb) -> i64 {
    scalar::<i64>(
        db.db(),
        "SELECT count(*) FROM revision WHERE redacted_at IS NOT NULL",
    )
    .await
}

struct World {
    speaker: Value,
    claim: Value,
    article: Value,
    kept: Value,
}

async fn world(db: &TestDb) -> World {
    let speaker = db
        .ok(r#"mutation { createSpeaker(input: {name: "Ada Example", kind: PERSON}) { speaker { id } } }"#, json!({}))
        .await["createSpeaker"]["speaker"]["id"]
        .clone();
    let claim = db
        .ok(r#"mutation { createClaim(input: {text: "The bridge will open in May"}) { claim { id } } }"#, json!({}))
        .await["createClaim"]["claim"]["id"]
        .clone();
    let outlet = db
        .ok(
            r#"mutation { createOutlet(input: {name: "Daily Example"}) { outlet { id } } }"#,
            json!({}),
        )
        .await["createOutlet"]["outlet"]["id"]
        .clone();
    let article = db
        .ok(
            r#"mutation($o: ID!) { createArticle(input: {outletId: $o, title: "Bridge news", url: "https://example.org/bridge"}) { article { id } } }"#,
            json!({ "o": outlet }),
        )
        .await["createArticle"]["article"]["id"]
        .clone();
    let kept = statement(db, &speaker, &claim, "The bridge opens in May.", "SUPPORTS").await;
    World {
        speaker,
        claim,
        article,
        kept,
    }
}

async fn statement(db: &TestDb, speaker: &Value, claim: &Value, text: &str, stance: &str) -> Value {
    db.ok(
        r#"mutation($s: ID!, $c: ID!, $text: String!, $stance: Stance!) { createStatement(input: {
            speakerId: $s, text: $text, kind: QUOTE, statedOn: "2020-03-01", language: "en",
            stances: [{claimId: $c, stance: $stance}] }) { statement { id } } }"#,
        json!({ "s": speaker, "c": claim, "text": text, "stance": stance }),
    )
    .await["createStatement"]["statement"]["id"]
        .clone()
}

async fn admin(db: &TestDb) -> Viewer {
    let token = db.key(ApiRole::Admin).await;
    KeyStore::new(db.db().clone())
        .authenticate(&token)
        .await
        .expect("a new admin key is accepted")
}

#[tokio::test]
async fn purging_a_statement_removes_it_with_what_belongs_to_it_and_blanks_its_trail() {
    let db = TestDb::new().await;
    let w = world(&db).await;
    let purged = statement(
        &db,
        &w.speaker,
        &w.claim,
        &format!("Call me on my {SECRET}."),
        "OPPOSES",
    )
    .await;
    let appearance = db
        .ok(
            r#"mutation($s: ID!, $a: ID!) { addAppearance(input: {statementId: $s, articleId: $a, excerpt: "call me"}) { appearance { id } } }"#,
            json!({ "s": purged, "a": w.article }),
        )
        .await["addAppearance"]["appearance"]["id"]
        .clone();
    let link = db
        .ok(
            r#"mutation($s: ID!, $t: ID!) { createLink(input: {sourceStatementId: $s, targetStatementId: $t, relation: CONTRADICTS}) { link { id } } }"#,
            json!({ "s": w.kept, "t": purged }),
        )
        .await["createLink"]["link"]["id"]
        .clone();
    db.ok(
        r#"mutation($id: ID!) { updateStatement(input: {id: $id, version: 1, context: "Said on the radio"}) { statement { version } } }"#,
        json!({ "id": purged }),
    )
    .await;
    let viewer = admin(&db).await;
    let while_it_stood = instant().await;
    assert!(mentions_of_secret(&db).await > 0);
    let bands = format!(
        "SELECT count(*) FROM statement_text_band WHERE statement_id = '{}'",
        purged.as_str().unwrap()
    );
    assert_eq!(scalar::<i64>(db.db(), &bands).await, 20);
    // OPPOSES after SUPPORTS: the statement also has a suggested REVERSES link.
    let suggestion = db
        .db()
        .query_one_raw(sea_orm::Statement::from_string(
            sea_orm::DbBackend::Postgres,
            format!(
                "SELECT id::text FROM link WHERE status = 'SUGGESTED' AND '{}' IN (source_statement_id, target_statement_id)",
                purged.as_str().unwrap()
            ),
        ))
        .await
        .unwrap()
        .expect("a contradiction suggestion")
        .try_get_by_index::<String>(0)
        .unwrap();
    let suggestion = Value::String(suggestion);
    let ids = [&purged, &appearance, &link, &suggestion]
        .map(|id| format!("'{}'", id.as_str().unwrap()))
        .join(", ");
    let own_revisions = scalar::<i64>(
        db.db(),
        &format!("SELECT count(*) FROM revision WHERE entity_id IN ({ids})"),
    )
    .await;
    assert_eq!(own_revisions, 5, "statement ×2, appearance, two links");
    let other_revisions = scalar::<i64>(
        db.db(),
        &format!("SELECT count(*) FROM revision WHERE entity_id NOT IN ({ids})"),
    )
    .await;

    let response = db
        .exec_as(
            viewer,
            PURGE,
            json!({ "id": purged, "version": 2, "reason": "Erasure request 2026-114" }),
        )
        .await;
    assert!(response.get("errors").is_none(), "{response:#}");
    let payload = &response["data"]["purgeRecord"];
    assert_eq!(payload["purgedId"], purged);
    assert_eq!(
        scalar::<i64>(db.db(), &bands).await,
        0,
        "the text's signature goes too"
    );
    let kinds: Vec<&str> = payload["purged"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["entityType"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        ["statement", "appearance", "link", "link"],
        "{payload}"
    );
    let purged_ids: Vec<&Value> = payload["purged"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| &r["id"])
        .collect();
    assert_eq!(purged_ids[..2], [&purged, &appearance]);
    let mut links = purged_ids[2..].to_vec();
    links.sort_by_key(|id| id.as_str());
    let mut expected = vec![&link, &suggestion];
    expected.sort_by_key(|id| id.as_str());
    assert_eq!(links, expected);
    assert_eq!(payload["redactedRevisions"], own_revisions, "{payload}");

    // The rows are gone, join rows included, and the text is nowhere in the trail.
    let id = purged.as_str().unwrap();
    for (table, column) in [
        ("statement", "id"),
        ("stance", "statement_id"),
        ("appearance", "statement_id"),
        ("link", "target_statement_id"),
    ] {
        let left = scalar::<i64>(
            db.db(),
            &format!("SELECT count(*) FROM {table} WHERE {column} = '{id}'"),
        )
        .await;
        assert_eq!(left, 0, "{table} still holds rows of the purged statement");
    }
    assert_eq!(mentions_of_secret(&db).await, 0);
    assert_eq!(redacted(&db).await, own_revisions);

    // Its trail keeps every version, blanked, then the purge with key and reason.
    let trail = db.ok(REVISIONS, json!({ "id": purged })).await;
    let edges = trail["revisions"]["edges"].as_array().unwrap();
    let actions: Vec<&str> = edges
        .iter()
        .map(|e| e["node"]["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["CREATE", "UPDATE", "PURGE"]);
    for edge in &edges[..2] {
        let node = &edge["node"];
        assert!(
            node["before"].is_null() && node["after"].is_null(),
            "{node}"
        );
        assert!(node["redactedAt"].is_string(), "{node}");
    }
    let purge = &edges[2]["node"];
    assert_eq!(purge["version"], 3);
    assert_eq!(purge["reason"], "Erasure request 2026-114");
    assert_eq!(
        purge["actorKey"],
        json!({ "name": "Admin test key", "role": "ADMIN" })
    );
    assert!(purge["redactedAt"].is_null());

    // Gone now, and gone at every instant before.
    let now = db
        .exec(
            r#"query($id: ID!) { statement(id: $id) { id } }"#,
            json!({ "id": purged }),
        )
        .await;
    assert!(now["data"]["statement"].is_null(), "{now}");
    let then = db
        .ok(
            r#"query($id: ID!, $s: ID!, $c: ID!, $at: DateTime!) {
                statement(id: $id, asOf: $at) { id }
                statements(asOf: $at, filter: {speakerIds: [$s]}) { edges { node { id } } }
                positionHistory(speakerId: $s, claimId: $c, asOf: $at) { stance }
            }"#,
            json!({ "id": purged, "s": w.speaker, "c": w.claim, "at": while_it_stood }),
        )
        .await;
    assert!(then["statement"].is_null(), "{then}");
    assert_eq!(
        then["statements"]["edges"],
        json!([{ "node": { "id": w.kept } }])
    );
    assert_eq!(then["positionHistory"], json!([{ "stance": "SUPPORTS" }]));

    // The other statement, and its trail, are untouched.
    let kept = db
        .ok(
            r#"query($id: ID!) { statement(id: $id) { text links { id } } }"#,
            json!({ "id": w.kept }),
        )
        .await;
    assert_eq!(kept["statement"]["text"], "The bridge opens in May.");
    assert_eq!(kept["statement"]["links"], json!([]));
    let untouched = scalar::<i64>(
        db.db(),
        &format!(
            "SELECT count(*) FROM revision WHERE redacted_at IS NULL AND entity_id NOT IN ({ids})"
        ),
    )
    .await;
    assert_eq!(
        untouched, other_revisions,
        "revisions of other records changed"
    );
}

#[tokio::test]
async fn a_purge_is_refused_while_records_refer_to_it_and_then_writes_nothing() {
    let db = TestDb::new().await;
    let w = world(&db).await;
    db.ok(
        r#"mutation($s: ID!) { createSpeakerRole(input: {speakerId: $s, title: "Mayor"}) { speakerRole { id } } }"#,
        json!({ "s": w.speaker }),
    )
    .await;
    let reason = "Takedown request";
    let before = db.counts().await;

    let refused = db
        .err(
            PURGE,
            json!({ "id": w.speaker, "version": 1, "reason": reason }),
        )
        .await;
    assert_eq!(refused["extensions"]["code"], "CONFLICT", "{refused}");
    assert_eq!(refused["extensions"]["field"], "input.id", "{refused}");
    let message = refused["message"].as_str().unwrap();
    assert!(message.contains("1 statements"), "{message}");

    let claim = db
        .err(
            PURGE,
            json!({ "id": w.claim, "version": 1, "reason": reason }),
        )
        .await;
    assert_eq!(claim["extensions"]["code"], "CONFLICT", "{claim}");
    assert!(
        claim["message"].as_str().unwrap().contains("stance"),
        "{claim}"
    );

    let stale = db
        .err(
            PURGE,
            json!({ "id": w.kept, "version": 7, "reason": reason }),
        )
        .await;
    assert_eq!(stale["extensions"]["code"], "CONFLICT", "{stale}");
    assert_eq!(stale["extensions"]["field"], "version", "{stale}");

    let unknown = db
        .err(
            PURGE,
            json!({ "id": uuid::Uuid::now_v7().to_string(), "version": 1, "reason": reason }),
        )
        .await;
    assert_eq!(unknown["extensions"]["code"], "NOT_FOUND", "{unknown}");

    for blank in ["", "   "] {
        let bad = db
            .err(
                PURGE,
                json!({ "id": w.kept, "version": 1, "reason": blank }),
            )
            .await;
        assert_eq!(bad["extensions"]["code"], "BAD_USER_INPUT", "{bad}");
        assert_eq!(bad["extensions"]["field"], "input.reason", "{bad}");
    }
    let long = db
        .err(
            PURGE,
            json!({ "id": w.kept, "version": 1, "reason": "x".repeat(2001) }),
        )
        .await;
    assert_eq!(long["extensions"]["field"], "input.reason", "{long}");

    assert_eq!(db.counts().await, before, "a refused purge wrote");
    assert_eq!(redacted(&db).await, 0);

    // Once its statement is purged, the (soft-deleted) speaker goes, with its role.
    db.ok(
        PURGE,
        json!({ "id": w.kept, "version": 1, "reason": reason }),
    )
    .await;
    db.ok(
        r#"mutation($id: ID!) { deleteSpeaker(input: {id: $id, version: 1}) { version } }"#,
        json!({ "id": w.speaker }),
    )
    .await;
    let done = db
        .ok(
            PURGE,
            json!({ "id": w.speaker, "version": 2, "reason": reason }),
        )
        .await;
    let kinds: Vec<&str> = done["purgeRecord"]["purged"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["entityType"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["speaker", "speaker_role"]);
    // Speaker: create and delete; role: create.
    assert_eq!(done["purgeRecord"]["redactedRevisions"], 3);
    assert_eq!(db.count("speaker").await, 0);
    assert_eq!(db.count("speaker_role").await, 0);
    // Purged twice: there is nothing left to purge.
    let again = db
        .err(
            PURGE,
            json!({ "id": w.speaker, "version": 3, "reason": reason }),
        )
        .await;
    assert_eq!(again["extensions"]["code"], "NOT_FOUND", "{again}");
}

#[tokio::test]
async fn postgres_allows_blanking_revisions_only_of_a_purged_record() {
    let db = TestDb::new().await;
    let w = world(&db).await;
    let id = w.article.as_str().unwrap().to_owned();
    let run = |sql: String| {
        let db = db.db().clone();
        async move {
            db.execute_unprepared(&sql)
                .await
                .map(|_| ())
                .map_err(|e| e.to_string())
        }
    };
    let blank = format!(
        "UPDATE revision SET before = NULL, after = NULL, redacted_at = now() WHERE entity_id = '{id}'"
    );
    let refused = |result: Result<(), String>, what: &str| {
        let message = result.expect_err(what);
        assert!(message.contains("append-only"), "{what}: {message}");
    };

    refused(run(blank.clone()).await, "blanking a live record's trail");
    run(format!(
        "INSERT INTO revision (id, entity_type, entity_id, version, action, reason) \
         VALUES ('{}', 'article', '{id}', 2, 'PURGE', 'test')",
        uuid::Uuid::now_v7()
    ))
    .await
    .unwrap();
    refused(
        run(blank.clone()).await,
        "blanking while the record still exists",
    );
    run(format!("DELETE FROM article WHERE id = '{id}'"))
        .await
        .unwrap();
    refused(
        run(format!(
            "UPDATE revision SET before = NULL, after = NULL, redacted_at = now(), created_at = now() \
             WHERE entity_id = '{id}' AND action = 'CREATE'"
        ))
        .await,
        "blanking and changing another column",
    );
    refused(
        run(format!(
            "UPDATE revision SET reason = 'rewritten' WHERE entity_id = '{id}' AND action = 'PURGE'"
        ))
        .await,
        "rewriting the purge's reason",
    );
    refused(
        run(format!(
            "UPDATE revision SET after = '{{}}'::jsonb WHERE entity_id = '{id}' AND action = 'CREATE'"
        ))
        .await,
        "rewriting a purged record's content",
    );
    refused(
        run(format!("DELETE FROM revision WHERE entity_id = '{id}'")).await,
        "deleting a purged record's revisions",
    );
    run(format!("{blank} AND action = 'CREATE'")).await.unwrap();
    assert_eq!(redacted(&db).await, 1);
    refused(
        run(format!(
            "UPDATE revision SET redacted_at = now() WHERE entity_id = '{id}' AND action = 'CREATE'"
        ))
        .await,
        "blanking twice",
    );
}
