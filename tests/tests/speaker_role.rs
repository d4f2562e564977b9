//! Speaker roles through the real schema: create/read/update/delete with versions and
//! revisions, every refused input, and which role a speaker held on a given day
//! (the service, its batched form, and the DataLoader statements use).

use chrono::NaiveDate;
use claimtrack::graphql::speaker_role::RoleOn;
use claimtrack::service::speaker_role::{role_on, roles_on};
use sea_orm::ConnectionTrait;
use serde_json::{Value, json};
use tests::TestDb;
use tests::check::{assert_refused, id_of};
use tests::fixtures::speaker;
use uuid::Uuid;

const FIELDS: &str = "id speakerId title organization startedOn endedOn version createdAt updatedAt speaker { slug }";

fn create_query() -> String {
    format!(
        "mutation($input: CreateSpeakerRoleInput!) {{ createSpeakerRole(input: $input) {{ speakerRole {{ {FIELDS} }} }} }}"
    )
}

fn update_query() -> String {
    format!(
        "mutation($input: UpdateSpeakerRoleInput!) {{ updateSpeakerRole(input: $input) {{ speakerRole {{ {FIELDS} }} }} }}"
    )
}

const DELETE: &str =
    "mutation($input: DeleteInput!) { deleteSpeakerRole(input: $input) { deletedId version } }";

async fn create(db: &TestDb, input: Value) -> Value {
    db.ok(&create_query(), json!({ "input": input })).await["createSpeakerRole"]["speakerRole"]
        .clone()
}

fn day(s: &str) -> NaiveDate {
    s.parse()
        .unwrap_or_else(|e| panic!("{s} is not a date: {e}"))
}

fn uuid_of(id: &str) -> Uuid {
    id.parse()
        .unwrap_or_else(|e| panic!("{id} is not a uuid: {e}"))
}

#[tokio::test]
async fn create_speaker_role_reads_back_with_its_speaker() {
    let db = TestDb::new().await;
    let lavrov = speaker(&db, "Sergei Lavrov").await;
    let role = create(
        &db,
        json!({ "speakerId": lavrov, "title": " Minister of Foreign Affairs ", "organization": "Government of Russia",
                "startedOn": "2004-03-09" }),
    )
    .await;
    assert_eq!(role["title"], "Minister of Foreign Affairs");
    assert_eq!(role["organization"], "Government of Russia");
    assert_eq!(role["startedOn"], "2004-03-09");
    assert_eq!(role["endedOn"], Value::Null);
    assert_eq!(role["speakerId"], lavrov);
    assert_eq!(role["speaker"]["slug"], "sergei-lavrov");
    assert_eq!(role["version"], 1);
    assert_eq!(
        db.count("revision").await,
        2,
        "one for the speaker, one for the role"
    );

    let roles = db
        .ok(
            "query($id: ID!) { speaker(id: $id) { roles { id title } } }",
            json!({ "id": lavrov }),
        )
        .await;
    assert_eq!(
        roles["speaker"]["roles"],
        json!([{ "id": role["id"], "title": "Minister of Foreign Affairs" }])
    );
}

#[tokio::test]
async fn speaker_role_round_trip_bumps_version_and_writes_a_revision_per_change() {
    let db = TestDb::new().await;
    let trump = speaker(&db, "Donald Trump").await;
    let created = create(
        &db,
        json!({ "speakerId": trump, "title": "President of the United States", "organization": "USA",
                "startedOn": "2017-01-20", "endedOn": "2021-01-20" }),
    )
    .await;
    let id = created["id"].clone();
    let revisions = db.count("revision").await;

    let read = db
        .ok(
            &format!("query($id: ID!) {{ speakerRole(id: $id) {{ {FIELDS} }} }}"),
            json!({ "id": id }),
        )
        .await;
    assert_eq!(read["speakerRole"], created);

    let updated = db
        .ok(
            &update_query(),
            json!({ "input": { "id": id, "version": 1, "endedOn": null, "organization": null } }),
        )
        .await["updateSpeakerRole"]["speakerRole"]
        .clone();
    assert_eq!(updated["endedOn"], Value::Null, "null clears");
    assert_eq!(updated["organization"], Value::Null);
    assert_eq!(
        updated["startedOn"], "2017-01-20",
        "an update leaves the fields it does not name"
    );
    assert_eq!(updated["version"], 2);
    assert_eq!(db.count("revision").await, revisions + 1);

    let deleted = db
        .ok(DELETE, json!({ "input": { "id": id, "version": 2 } }))
        .await;
    assert_eq!(
        deleted["deleteSpeakerRole"],
        json!({ "deletedId": id, "version": 3 })
    );
    assert_eq!(db.count("revision").await, revisions + 2);
    let gone = db
        .ok(
            "query($id: ID!) { speakerRole(id: $id) { id } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(gone["speakerRole"], Value::Null);
    let roles = db
        .ok(
            "query($id: ID!) { speaker(id: $id) { roles { id } } }",
            json!({ "id": trump }),
        )
        .await;
    assert_eq!(roles["speaker"]["roles"], json!([]));
}

#[tokio::test]
async fn create_speaker_role_rejects_ended_on_before_started_on() {
    let db = TestDb::new().await;
    let lavrov = speaker(&db, "Sergei Lavrov").await;
    let input = json!({ "speakerId": lavrov, "title": "Minister", "startedOn": "2004-03-09", "endedOn": "2004-03-08" });
    assert_refused(
        &db,
        &create_query(),
        json!({ "input": input }),
        "BAD_USER_INPUT",
        "input.endedOn",
    )
    .await;
    // A one-day role is fine.
    create(&db, json!({ "speakerId": lavrov, "title": "Minister", "startedOn": "2004-03-09", "endedOn": "2004-03-09" }))
        .await;
}

#[tokio::test]
async fn update_speaker_role_rejects_ended_on_before_the_stored_started_on() {
    let db = TestDb::new().await;
    let lavrov = speaker(&db, "Sergei Lavrov").await;
    let role = create(
        &db,
        json!({ "speakerId": lavrov, "title": "Minister", "startedOn": "2004-03-09" }),
    )
    .await;
    let query = update_query();
    let input = json!({ "id": role["id"], "version": 1, "endedOn": "2000-01-01" });
    assert_refused(
        &db,
        &query,
        json!({ "input": input }),
        "BAD_USER_INPUT",
        "input.endedOn",
    )
    .await;
    let input = json!({ "id": role["id"], "version": 1, "startedOn": "2010-01-01", "endedOn": "2009-12-31" });
    assert_refused(
        &db,
        &query,
        json!({ "input": input }),
        "BAD_USER_INPUT",
        "input.endedOn",
    )
    .await;
    // Moving the start past a stored end is refused too.
    db.ok(
        &query,
        json!({ "input": { "id": role["id"], "version": 1, "endedOn": "2010-01-01" } }),
    )
    .await;
    let input = json!({ "id": role["id"], "version": 2, "startedOn": "2011-01-01" });
    assert_refused(
        &db,
        &query,
        json!({ "input": input }),
        "BAD_USER_INPUT",
        "input.endedOn",
    )
    .await;
}

#[tokio::test]
async fn create_speaker_role_rejects_empty_and_oversized_text() {
    let db = TestDb::new().await;
    let lavrov = speaker(&db, "Sergei Lavrov").await;
    for (input, field) in [
        (json!({ "speakerId": lavrov, "title": "  " }), "input.title"),
        (
            json!({ "speakerId": lavrov, "title": "x".repeat(301) }),
            "input.title",
        ),
        (
            json!({ "speakerId": lavrov, "title": "Minister", "organization": "x".repeat(301) }),
            "input.organization",
        ),
    ] {
        assert_refused(
            &db,
            &create_query(),
            json!({ "input": input }),
            "BAD_USER_INPUT",
            field,
        )
        .await;
    }
}

#[tokio::test]
async fn create_speaker_role_rejects_unknown_speaker() {
    let db = TestDb::new().await;
    let input = json!({ "speakerId": Uuid::now_v7().to_string(), "title": "Minister" });
    assert_refused(
        &db,
        &create_query(),
        json!({ "input": input }),
        "NOT_FOUND",
        "input.speakerId",
    )
    .await;
    let input = json!({ "speakerId": "lavrov", "title": "Minister" });
    assert_refused(
        &db,
        &create_query(),
        json!({ "input": input }),
        "BAD_USER_INPUT",
        "input.speakerId",
    )
    .await;
}

#[tokio::test]
async fn create_speaker_role_rejects_malformed_dates() {
    let db = TestDb::new().await;
    let lavrov = speaker(&db, "Sergei Lavrov").await;
    let before = db.counts().await;
    let input = json!({ "speakerId": lavrov, "title": "Minister", "startedOn": "2004-13-09" });
    let error = db.err(&create_query(), json!({ "input": input })).await;
    assert_eq!(error["extensions"]["code"], "BAD_USER_INPUT", "{error:#}");
    assert_eq!(db.counts().await, before);
}

#[tokio::test]
async fn update_speaker_role_rejects_stale_version_and_bad_text() {
    let db = TestDb::new().await;
    let lavrov = speaker(&db, "Sergei Lavrov").await;
    let role = create(&db, json!({ "speakerId": lavrov, "title": "Minister" })).await;
    let query = update_query();
    let input = json!({ "id": role["id"], "version": 1, "title": "" });
    assert_refused(
        &db,
        &query,
        json!({ "input": input }),
        "BAD_USER_INPUT",
        "input.title",
    )
    .await;
    db.ok(
        &query,
        json!({ "input": { "id": role["id"], "version": 1, "title": "Foreign Minister" } }),
    )
    .await;
    let input = json!({ "id": role["id"], "version": 1, "title": "Stale" });
    assert_refused(
        &db,
        &query,
        json!({ "input": input }),
        "CONFLICT",
        "version",
    )
    .await;
    assert_refused(
        &db,
        DELETE,
        json!({ "input": { "id": role["id"], "version": 1 } }),
        "CONFLICT",
        "version",
    )
    .await;
}

/// Lavrov's career, with overlaps and open ends, for the role-on-a-day tests.
struct Career {
    lavrov: Uuid,
    un: Uuid,
    minister: Uuid,
    council: Uuid,
    other: Uuid,
}

async fn career(db: &TestDb) -> Career {
    let lavrov = speaker(db, "Sergei Lavrov").await;
    let other = speaker(db, "Vladimir Putin").await;
    let role = |input: Value| async move { uuid_of(&id_of(&create(db, input).await)) };
    let un = role(
        json!({ "speakerId": lavrov, "title": "Permanent Representative to the UN",
                          "startedOn": "1994-01-01", "endedOn": "2004-03-08" }),
    )
    .await;
    let minister = role(json!({ "speakerId": lavrov, "title": "Minister of Foreign Affairs", "startedOn": "2004-03-09" })).await;
    // Open-started: counts as the earliest start, so it loses every overlap.
    let council =
        role(json!({ "speakerId": lavrov, "title": "Member of the Security Council" })).await;
    let deleted = create(
        db,
        json!({ "speakerId": lavrov, "title": "Deleted", "startedOn": "2017-01-01" }),
    )
    .await;
    db.ok(
        DELETE,
        json!({ "input": { "id": deleted["id"], "version": 1 } }),
    )
    .await;
    Career {
        lavrov: uuid_of(&lavrov),
        un,
        minister,
        council,
        other: uuid_of(&other),
    }
}

#[tokio::test]
async fn role_on_picks_the_role_held_that_day_latest_start_first() {
    let db = TestDb::new().await;
    let c = career(&db).await;
    let on = |d: &'static str| role_on(db.db(), c.lavrov, day(d));
    assert_eq!(
        on("2017-07-24").await.expect("role").map(|r| r.id),
        Some(c.minister),
        "deleted roles do not count"
    );
    assert_eq!(
        on("2004-03-09").await.expect("role").map(|r| r.id),
        Some(c.minister),
        "the first day counts"
    );
    assert_eq!(
        on("2004-03-08").await.expect("role").map(|r| r.id),
        Some(c.un),
        "the last day counts"
    );
    assert_eq!(
        on("1990-01-01").await.expect("role").map(|r| r.id),
        Some(c.council),
        "only the open-started role"
    );
    assert_eq!(
        role_on(db.db(), c.other, day("2017-07-24"))
            .await
            .expect("role"),
        None
    );
}

#[tokio::test]
async fn role_on_prefers_the_newest_role_among_equal_starts() {
    let db = TestDb::new().await;
    let lavrov = speaker(&db, "Sergei Lavrov").await;
    create(
        &db,
        json!({ "speakerId": lavrov, "title": "First", "startedOn": "2004-03-09" }),
    )
    .await;
    let newer = create(
        &db,
        json!({ "speakerId": lavrov, "title": "Second", "startedOn": "2004-03-09" }),
    )
    .await;
    let role = role_on(db.db(), uuid_of(&lavrov), day("2010-01-01"))
        .await
        .expect("role");
    assert_eq!(role.map(|r| r.id), Some(uuid_of(&id_of(&newer))));
}

#[tokio::test]
async fn roles_on_answers_many_pairs_in_one_query() {
    let db = TestDb::new().await;
    let c = career(&db).await;
    let pairs = [
        (c.lavrov, day("2017-07-24")),
        (c.lavrov, day("2000-01-01")),
        (c.lavrov, day("1990-01-01")),
        (c.other, day("2017-07-24")),
    ];
    let roles = roles_on(db.db(), &pairs).await.expect("roles");
    assert_eq!(roles.len(), 3, "the speaker without roles is absent");
    assert_eq!(roles.get(&pairs[0]).map(|r| r.id), Some(c.minister));
    assert_eq!(roles.get(&pairs[1]).map(|r| r.id), Some(c.un));
    assert_eq!(roles.get(&pairs[2]).map(|r| r.id), Some(c.council));
    assert!(roles_on(db.db(), &[]).await.expect("roles").is_empty());
}

#[tokio::test]
async fn role_on_loader_batches_statement_lookups() {
    let db = TestDb::new().await;
    let c = career(&db).await;
    let loader = claimtrack::graphql::loader::loaders(db.db().clone());
    let keys = [
        RoleOn(c.lavrov, day("2017-07-24")),
        RoleOn(c.lavrov, day("2000-01-01")),
        RoleOn(c.other, day("2017-07-24")),
    ];
    let roles = loader.load_many(keys.clone()).await.expect("roles");
    assert_eq!(roles.get(&keys[0]).map(|r| r.id), Some(c.minister));
    assert_eq!(roles.get(&keys[1]).map(|r| r.id), Some(c.un));
    assert!(!roles.contains_key(&keys[2]));
}

#[tokio::test]
async fn statement_shows_the_role_its_speaker_held_that_day() {
    let db = TestDb::new().await;
    let c = career(&db).await;
    let (then, now) = (Uuid::now_v7(), Uuid::now_v7());
    db.db()
        .execute_unprepared(&format!(
            "INSERT INTO statement (id, speaker_id, text, kind, stated_on, language) VALUES
             ('{then}', '{lavrov}', 'At the UN.', 'QUOTE', '2000-05-01', 'en'),
             ('{now}', '{lavrov}', 'The proposals remain topical.', 'PARAPHRASE', '2017-07-24', 'en');",
            lavrov = c.lavrov
        ))
        .await
        .expect("insert statements");
    let query = "query($id: ID!) { statement(id: $id) { speakerRole { id title } } }";
    let at_un = db.ok(query, json!({ "id": then.to_string() })).await;
    assert_eq!(at_un["statement"]["speakerRole"]["id"], c.un.to_string());
    let minister = db.ok(query, json!({ "id": now.to_string() })).await;
    assert_eq!(
        minister["statement"]["speakerRole"]["title"],
        "Minister of Foreign Affairs"
    );
}
