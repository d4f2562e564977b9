//! Speakers through the real schema: create/update/delete with versions and
//! revisions, lookups by id and slug, the name-ordered connection with its filters
//! and pages, and every refused input (which writes nothing).

use serde_json::{Value, json};
use tests::TestDb;
use tests::check::{assert_refused, id_of, revisions};
use tests::fixtures::{claim, statement};
use uuid::Uuid;

const FIELDS: &str = "id name slug kind description wikidataId aliases version createdAt updatedAt";

fn create_query() -> String {
    format!(
        "mutation($input: CreateSpeakerInput!) {{ createSpeaker(input: $input) {{ speaker {{ {FIELDS} }} }} }}"
    )
}

fn update_query() -> String {
    format!(
        "mutation($input: UpdateSpeakerInput!) {{ updateSpeaker(input: $input) {{ speaker {{ {FIELDS} }} }} }}"
    )
}

const DELETE: &str =
    "mutation($input: DeleteInput!) { deleteSpeaker(input: $input) { deletedId version } }";

const LOOKUP: &str = "query($id: ID, $slug: String) { speaker(id: $id, slug: $slug) { id name slug version description } }";

const PAGE: &str =
    "query($first: Int, $after: String, $last: Int, $before: String, $filter: SpeakerFilter) {
    speakers(first: $first, after: $after, last: $last, before: $before, filter: $filter) {
        totalCount
        edges { cursor node { id name slug } }
        pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    }
}";

async fn create(db: &TestDb, input: Value) -> Value {
    db.ok(&create_query(), json!({ "input": input })).await["createSpeaker"]["speaker"].clone()
}

/// A PERSON speaker with a slug made from `name`.
async fn person(db: &TestDb, name: &str) -> Value {
    create(db, json!({ "name": name, "kind": "PERSON" })).await
}

/// A claim and a statement by `speaker` (reported by `reporter`, when given) taking a
/// stance on it; returns the statement's id.
async fn statement_by(db: &TestDb, speaker: &Value, reporter: Option<&Value>) -> String {
    let claim = claim(
        db,
        "Russia and the U.S. will set up a joint cyber security working group",
    )
    .await;
    statement(
        db,
        json!({
            "speakerId": speaker["id"],
            "reportedById": reporter.map(|r| r["id"].clone()),
            "text": "They agreed to discuss a joint cyber security working group.",
            "kind": "PARAPHRASE",
            "statedOn": "2017-07-07",
            "language": "en",
            "stances": [{ "claimId": claim, "stance": "SUPPORTS" }],
        }),
    )
    .await
}

async fn assert_create_refused(db: &TestDb, input: Value, field: &str) -> Value {
    assert_refused(
        db,
        &create_query(),
        json!({ "input": input }),
        "BAD_USER_INPUT",
        field,
    )
    .await
}

fn names(connection: &Value) -> Vec<String> {
    connection["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["name"].as_str().unwrap().to_owned())
        .collect()
}

fn slugs(connection: &Value) -> Vec<String> {
    connection["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["slug"].as_str().unwrap().to_owned())
        .collect()
}

async fn page(db: &TestDb, variables: Value) -> Value {
    db.ok(PAGE, variables).await["speakers"].clone()
}

// ---------------------------------------------------------------------------------
// Create and look up

#[tokio::test]
async fn create_speaker_makes_the_slug_from_the_name() {
    let db = TestDb::new().await;
    let lavrov = create(&db, json!({ "name": "  Sergei Lavrov ", "kind": "PERSON" })).await;
    assert_eq!(lavrov["name"], "Sergei Lavrov", "the name is trimmed");
    assert_eq!(lavrov["slug"], "sergei-lavrov");
    assert_eq!(lavrov["kind"], "PERSON");
    assert_eq!(lavrov["description"], Value::Null);
    assert_eq!(lavrov["wikidataId"], Value::Null);
    assert_eq!(lavrov["aliases"], json!([]));
    assert_eq!(lavrov["version"], 1);
    assert_eq!(lavrov["createdAt"], lavrov["updatedAt"]);
    assert!(Uuid::parse_str(lavrov["id"].as_str().unwrap()).is_ok());

    let congress = create(
        &db,
        json!({ "name": "Some members of U.S. Congress", "kind": "GROUP" }),
    )
    .await;
    assert_eq!(congress["slug"], "some-members-of-u-s-congress");
    assert_eq!(congress["kind"], "GROUP");
    assert_eq!(db.count("speaker").await, 2);
}

#[tokio::test]
async fn create_speaker_keeps_an_explicit_slug_dedups_aliases_and_stores_the_wikidata_id() {
    let db = TestDb::new().await;
    let lavrov = create(
        &db,
        json!({
            "name": "Sergei Lavrov",
            "slug": "lavrov",
            "kind": "PERSON",
            "description": "Minister of Foreign Affairs of Russia",
            "wikidataId": "Q1234",
            "aliases": ["Lavrov", " Sergey Lavrov ", "Lavrov", "Sergey Lavrov", "S. V. Lavrov"],
        }),
    )
    .await;
    assert_eq!(
        lavrov["slug"], "lavrov",
        "an explicit slug wins over the name"
    );
    assert_eq!(
        lavrov["description"],
        "Minister of Foreign Affairs of Russia"
    );
    assert_eq!(lavrov["wikidataId"], "Q1234");
    assert_eq!(
        lavrov["aliases"],
        json!(["Lavrov", "Sergey Lavrov", "S. V. Lavrov"]),
        "trimmed, deduplicated, in order"
    );

    let read = db.ok(LOOKUP, json!({ "id": lavrov["id"] })).await;
    assert_eq!(read["speaker"]["slug"], "lavrov");
    let stored = db
        .ok(
            "query($slug: String) { speaker(slug: $slug) { aliases wikidataId } }",
            json!({ "slug": "lavrov" }),
        )
        .await;
    assert_eq!(
        stored["speaker"]["aliases"],
        json!(["Lavrov", "Sergey Lavrov", "S. V. Lavrov"])
    );
    assert_eq!(stored["speaker"]["wikidataId"], "Q1234");
}

#[tokio::test]
async fn speaker_is_found_by_id_and_by_slug() {
    let db = TestDb::new().await;
    let putin = person(&db, "Vladimir Putin").await;
    person(&db, "Donald Trump").await;

    let by_id = db.ok(LOOKUP, json!({ "id": putin["id"] })).await;
    assert_eq!(by_id["speaker"]["name"], "Vladimir Putin");
    let by_slug = db.ok(LOOKUP, json!({ "slug": "vladimir-putin" })).await;
    assert_eq!(by_slug["speaker"]["id"], putin["id"]);

    let unknown = db
        .ok(LOOKUP, json!({ "id": Uuid::now_v7().to_string() }))
        .await;
    assert_eq!(unknown["speaker"], Value::Null);
    let unknown = db.ok(LOOKUP, json!({ "slug": "no-such-speaker" })).await;
    assert_eq!(unknown["speaker"], Value::Null);
}

#[tokio::test]
async fn speaker_lookup_takes_exactly_one_of_id_and_slug() {
    let db = TestDb::new().await;
    let putin = person(&db, "Vladimir Putin").await;

    let both = db
        .err(
            LOOKUP,
            json!({ "id": putin["id"], "slug": "vladimir-putin" }),
        )
        .await;
    assert_eq!(both["extensions"]["code"], "BAD_USER_INPUT", "{both:#}");
    assert_eq!(both["extensions"]["field"], "id");
    let neither = db.err(LOOKUP, json!({})).await;
    assert_eq!(
        neither["extensions"]["code"], "BAD_USER_INPUT",
        "{neither:#}"
    );
    assert_eq!(neither["extensions"]["field"], "id");
    let malformed = db.err(LOOKUP, json!({ "id": "not-a-uuid" })).await;
    assert_eq!(
        malformed["extensions"]["code"], "BAD_USER_INPUT",
        "{malformed:#}"
    );
    assert_eq!(malformed["extensions"]["field"], "id");
}

// ---------------------------------------------------------------------------------
// The list

#[tokio::test]
async fn speakers_are_listed_by_name_and_first_after_walks_every_page_once() {
    let db = TestDb::new().await;
    let names_in_order = [
        "Xi Jinping",
        "Sergei Lavrov",
        "Angela Merkel",
        "Vladimir Putin",
        "Donald Trump",
        "Boris Johnson",
        "Emmanuel Macron",
    ];
    for name in names_in_order {
        person(&db, name).await;
    }
    let mut expected: Vec<String> = names_in_order.iter().map(|n| (*n).to_owned()).collect();
    expected.sort();

    let mut seen = Vec::new();
    let mut after = Value::Null;
    let mut pages = 0;
    loop {
        let conn = page(&db, json!({ "first": 3, "after": after })).await;
        assert_eq!(
            conn["totalCount"], 7,
            "totalCount counts the whole list on every page"
        );
        assert_eq!(conn["pageInfo"]["hasPreviousPage"], pages > 0);
        seen.extend(names(&conn));
        pages += 1;
        if conn["pageInfo"]["hasNextPage"] == false {
            break;
        }
        after = conn["pageInfo"]["endCursor"].clone();
        assert!(pages < 10, "the walk does not end");
    }
    assert_eq!(pages, 3);
    assert_eq!(seen, expected, "every speaker once, by name");

    // Without arguments: the default page holds all seven, by name.
    assert_eq!(names(&page(&db, json!({})).await), expected);
}

#[tokio::test]
async fn speakers_sharing_a_name_are_paged_by_id_without_loss_or_repeat() {
    let db = TestDb::new().await;
    // Two speakers share a name; the page boundary falls between them.
    person(&db, "Angela Merkel").await;
    create(
        &db,
        json!({ "name": "Members of Congress", "slug": "members-of-congress-us", "kind": "GROUP" }),
    )
    .await;
    create(
        &db,
        json!({ "name": "Members of Congress", "slug": "members-of-congress-ph", "kind": "GROUP" }),
    )
    .await;
    person(&db, "Xi Jinping").await;

    let one = page(&db, json!({ "first": 2 })).await;
    assert_eq!(slugs(&one), ["angela-merkel", "members-of-congress-us"]);
    let two = page(
        &db,
        json!({ "first": 2, "after": one["pageInfo"]["endCursor"] }),
    )
    .await;
    assert_eq!(
        slugs(&two),
        ["members-of-congress-ph", "xi-jinping"],
        "the tie is broken by id (creation order)"
    );
    assert_eq!(two["pageInfo"]["hasNextPage"], false);

    let back = page(
        &db,
        json!({ "last": 2, "before": two["edges"][1]["cursor"] }),
    )
    .await;
    assert_eq!(
        slugs(&back),
        ["members-of-congress-us", "members-of-congress-ph"]
    );
}

#[tokio::test]
async fn speakers_page_backward_with_last_and_before() {
    let db = TestDb::new().await;
    for name in ["Echo", "Alpha", "Delta", "Bravo", "Charlie"] {
        person(&db, name).await;
    }

    let last = page(&db, json!({ "last": 2 })).await;
    assert_eq!(names(&last), ["Delta", "Echo"]);
    assert_eq!(last["totalCount"], 5);
    assert_eq!(last["pageInfo"]["hasPreviousPage"], true);
    assert_eq!(last["pageInfo"]["hasNextPage"], false);

    let middle = page(
        &db,
        json!({ "last": 2, "before": last["pageInfo"]["startCursor"] }),
    )
    .await;
    assert_eq!(names(&middle), ["Bravo", "Charlie"]);
    assert_eq!(middle["pageInfo"]["hasPreviousPage"], true);
    assert_eq!(middle["pageInfo"]["hasNextPage"], true);

    let start = page(
        &db,
        json!({ "last": 2, "before": middle["pageInfo"]["startCursor"] }),
    )
    .await;
    assert_eq!(names(&start), ["Alpha"]);
    assert_eq!(start["pageInfo"]["hasPreviousPage"], false);
    assert_eq!(start["totalCount"], 5);
}

/// The names a page request returns, or None when it was refused as bad input (a
/// service may refuse an argument mix it does not support, but must never answer
/// with rows from the wrong side of the cursor).
async fn names_or_refused(db: &TestDb, variables: Value) -> Option<Vec<String>> {
    let response = db.exec(PAGE, variables).await;
    match response.get("errors") {
        Some(errors) => {
            assert_eq!(
                errors[0]["extensions"]["code"], "BAD_USER_INPUT",
                "{response:#}"
            );
            None
        }
        None => Some(names(&response["data"]["speakers"])),
    }
}

#[tokio::test]
async fn speakers_first_with_before_and_last_with_after_stay_on_the_cursor_side() {
    let db = TestDb::new().await;
    for name in ["Echo", "Alpha", "Delta", "Bravo", "Charlie"] {
        person(&db, name).await;
    }
    let all = page(&db, json!({})).await;
    assert_eq!(names(&all), ["Alpha", "Bravo", "Charlie", "Delta", "Echo"]);
    let (alpha, delta) = (
        all["edges"][0]["cursor"].clone(),
        all["edges"][3]["cursor"].clone(),
    );

    // Relay: the edges before Delta are Alpha, Bravo, Charlie; the first two of them.
    let first_before = names_or_refused(&db, json!({ "first": 2, "before": delta })).await;
    // The edges after Alpha are Bravo … Echo; the last two of them.
    let last_after = names_or_refused(&db, json!({ "last": 2, "after": alpha })).await;
    let expect =
        |got: &Option<Vec<String>>, want: [&str; 2]| got.as_ref().is_none_or(|got| got == &want);
    assert!(
        expect(&first_before, ["Alpha", "Bravo"]) && expect(&last_after, ["Delta", "Echo"]),
        "first/before gave {first_before:?} (want [Alpha, Bravo]); last/after gave {last_after:?} (want [Delta, Echo])"
    );
}

#[tokio::test]
async fn speakers_filter_by_kind() {
    let db = TestDb::new().await;
    person(&db, "Sergei Lavrov").await;
    person(&db, "Donald Trump").await;
    create(
        &db,
        json!({ "name": "Some members of U.S. Congress", "kind": "GROUP" }),
    )
    .await;
    create(
        &db,
        json!({ "name": "Ministry of Foreign Affairs of Russia", "kind": "ORGANIZATION" }),
    )
    .await;

    let people = page(&db, json!({ "filter": { "kind": "PERSON" } })).await;
    assert_eq!(names(&people), ["Donald Trump", "Sergei Lavrov"]);
    assert_eq!(people["totalCount"], 2);
    let groups = page(&db, json!({ "filter": { "kind": "GROUP" } })).await;
    assert_eq!(names(&groups), ["Some members of U.S. Congress"]);
    assert_eq!(groups["totalCount"], 1);
    let orgs = page(
        &db,
        json!({ "filter": { "kind": "ORGANIZATION", "name": "ministry" } }),
    )
    .await;
    assert_eq!(names(&orgs), ["Ministry of Foreign Affairs of Russia"]);
    let none = page(
        &db,
        json!({ "filter": { "kind": "GROUP", "name": "lavrov" } }),
    )
    .await;
    assert_eq!(none["totalCount"], 0, "both conditions must hold");
}

#[tokio::test]
async fn speakers_filter_by_part_of_the_name_or_an_alias_ignoring_case() {
    let db = TestDb::new().await;
    create(&db, json!({ "name": "Sergei Lavrov", "kind": "PERSON", "aliases": ["Sergey Viktorovich Lavrov"] })).await;
    create(
        &db,
        json!({ "name": "Vladimir Putin", "kind": "PERSON", "aliases": ["VVP"] }),
    )
    .await;
    person(&db, "Donald Trump").await;

    let by_name = page(&db, json!({ "filter": { "name": "LAVR" } })).await;
    assert_eq!(names(&by_name), ["Sergei Lavrov"]);
    assert_eq!(by_name["totalCount"], 1);
    let by_alias = page(&db, json!({ "filter": { "name": "viktorovich" } })).await;
    assert_eq!(names(&by_alias), ["Sergei Lavrov"], "an alias matches too");
    let by_alias = page(&db, json!({ "filter": { "name": "vvp" } })).await;
    assert_eq!(
        names(&by_alias),
        ["Vladimir Putin"],
        "aliases match ignoring case"
    );
    let both = page(&db, json!({ "filter": { "name": "  r " } })).await;
    assert_eq!(
        both["totalCount"], 3,
        "the filter is trimmed; every name holds an r"
    );
    let nobody = page(&db, json!({ "filter": { "name": "merkel" } })).await;
    assert_eq!(nobody["totalCount"], 0);
    assert_eq!(names(&nobody), Vec::<String>::new());
}

#[tokio::test]
async fn speakers_name_filter_takes_percent_and_underscore_literally() {
    let db = TestDb::new().await;
    create(&db, json!({ "name": "Alpha_Beta Group", "kind": "GROUP" })).await;
    create(&db, json!({ "name": "AlphaXBeta Group", "kind": "GROUP" })).await;
    create(&db, json!({ "name": "The 50% Coalition", "kind": "GROUP" })).await;
    create(
        &db,
        json!({ "name": "The 500 Coalition", "kind": "GROUP", "aliases": ["Five hundred"] }),
    )
    .await;
    create(
        &db,
        json!({ "name": "Backslash Society", "kind": "GROUP", "aliases": ["a\\b"] }),
    )
    .await;
    create(&db, json!({ "name": "Kebab Party", "kind": "GROUP" })).await;

    assert_eq!(
        names(&page(&db, json!({ "filter": { "name": "a_b" } })).await),
        ["Alpha_Beta Group"],
        "_ is literal"
    );
    assert_eq!(
        names(&page(&db, json!({ "filter": { "name": "0%" } })).await),
        ["The 50% Coalition"],
        "% is literal"
    );
    assert_eq!(
        names(&page(&db, json!({ "filter": { "name": "%" } })).await),
        ["The 50% Coalition"]
    );
    assert_eq!(
        names(&page(&db, json!({ "filter": { "name": "a\\b" } })).await),
        ["Backslash Society"]
    );
}

#[tokio::test]
async fn speakers_refuse_bad_page_sizes_and_cursors() {
    let db = TestDb::new().await;
    person(&db, "Sergei Lavrov").await;

    for first in [101, -1] {
        assert_refused(
            &db,
            PAGE,
            json!({ "first": first }),
            "BAD_USER_INPUT",
            "first",
        )
        .await;
    }
    assert_refused(&db, PAGE, json!({ "last": 101 }), "BAD_USER_INPUT", "last").await;
    assert_refused(
        &db,
        PAGE,
        json!({ "after": "garbage" }),
        "BAD_USER_INPUT",
        "after",
    )
    .await;
    assert_refused(
        &db,
        PAGE,
        json!({ "before": "bm90IGEgY3Vyc29y" }),
        "BAD_USER_INPUT",
        "before",
    )
    .await;
    // The limit itself is fine.
    assert_eq!(page(&db, json!({ "first": 100 })).await["totalCount"], 1);
    assert_eq!(
        names(&page(&db, json!({ "first": 0 })).await),
        Vec::<String>::new()
    );
}

#[tokio::test]
async fn speakers_refuse_a_cursor_from_another_list() {
    let db = TestDb::new().await;
    let trump = person(&db, "Donald Trump").await;
    person(&db, "Sergei Lavrov").await;
    statement_by(&db, &trump, None).await;
    let statements = db
        .ok(
            "query { statements(first: 1) { pageInfo { endCursor } } }",
            json!({}),
        )
        .await;
    let foreign = statements["statements"]["pageInfo"]["endCursor"].clone();
    assert!(foreign.is_string());

    // A cursor of the date-ordered statement list names no position among speakers
    // ordered by name: the client's mistake, not a server failure.
    assert_refused(
        &db,
        PAGE,
        json!({ "first": 1, "after": foreign }),
        "BAD_USER_INPUT",
        "after",
    )
    .await;
}

// ---------------------------------------------------------------------------------
// Update and delete

#[tokio::test]
async fn update_speaker_bumps_the_version_and_null_clears_the_description() {
    let db = TestDb::new().await;
    let lavrov = create(
        &db,
        json!({ "name": "Sergei Lavrov", "kind": "PERSON", "description": "Diplomat", "wikidataId": "Q1234",
                "aliases": ["Lavrov"] }),
    )
    .await;

    let data = db
        .ok(
            &update_query(),
            json!({ "input": { "id": lavrov["id"], "version": 1, "name": "Sergey Lavrov", "description": null } }),
        )
        .await;
    let updated = &data["updateSpeaker"]["speaker"];
    assert_eq!(updated["version"], 2);
    assert_eq!(updated["name"], "Sergey Lavrov");
    assert_eq!(
        updated["description"],
        Value::Null,
        "an explicit null clears the description"
    );
    assert_eq!(
        updated["slug"], "sergei-lavrov",
        "a new name does not move the slug"
    );
    assert_eq!(updated["wikidataId"], "Q1234", "a field left out stays");
    assert_eq!(updated["aliases"], json!(["Lavrov"]));
    assert_ne!(updated["updatedAt"], lavrov["updatedAt"]);
    assert_eq!(updated["createdAt"], lavrov["createdAt"]);

    let data = db
        .ok(
            &update_query(),
            json!({ "input": { "id": lavrov["id"], "version": 2, "slug": "lavrov", "kind": "PERSON",
                               "wikidataId": null, "aliases": ["Lavrov", "Lavrov", "S. Lavrov"] } }),
        )
        .await;
    let updated = &data["updateSpeaker"]["speaker"];
    assert_eq!(updated["version"], 3);
    assert_eq!(updated["slug"], "lavrov");
    assert_eq!(updated["wikidataId"], Value::Null);
    assert_eq!(updated["aliases"], json!(["Lavrov", "S. Lavrov"]));
    assert_eq!(updated["name"], "Sergey Lavrov");

    let read = db.ok(LOOKUP, json!({ "slug": "lavrov" })).await;
    assert_eq!(read["speaker"]["version"], 3);
    assert_eq!(
        db.ok(LOOKUP, json!({ "slug": "sergei-lavrov" })).await["speaker"],
        Value::Null
    );
}

#[tokio::test]
async fn update_speaker_with_a_stale_version_is_a_conflict_and_leaves_the_row() {
    let db = TestDb::new().await;
    let lavrov = person(&db, "Sergei Lavrov").await;
    db.ok(
        &update_query(),
        json!({ "input": { "id": lavrov["id"], "version": 1, "description": "First edit" } }),
    )
    .await;

    let input = json!({ "input": { "id": lavrov["id"], "version": 1, "name": "Lost edit", "description": "Lost" } });
    assert_refused(&db, &update_query(), input, "CONFLICT", "version").await;
    let read = db.ok(LOOKUP, json!({ "id": lavrov["id"] })).await;
    assert_eq!(read["speaker"]["name"], "Sergei Lavrov");
    assert_eq!(read["speaker"]["description"], "First edit");
    assert_eq!(read["speaker"]["version"], 2);
}

#[tokio::test]
async fn update_speaker_refuses_bad_input_and_writes_nothing() {
    let db = TestDb::new().await;
    create(
        &db,
        json!({ "name": "Vladimir Putin", "kind": "PERSON", "wikidataId": "Q7747" }),
    )
    .await;
    let lavrov = person(&db, "Sergei Lavrov").await;
    let input = |extra: Value| {
        let mut input = json!({ "id": lavrov["id"], "version": 1 });
        input
            .as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        json!({ "input": input })
    };

    let query = update_query();
    assert_refused(
        &db,
        &query,
        input(json!({ "name": "  " })),
        "BAD_USER_INPUT",
        "input.name",
    )
    .await;
    assert_refused(
        &db,
        &query,
        input(json!({ "slug": "Bad Slug" })),
        "BAD_USER_INPUT",
        "input.slug",
    )
    .await;
    assert_refused(
        &db,
        &query,
        input(json!({ "slug": "vladimir-putin" })),
        "BAD_USER_INPUT",
        "input.slug",
    )
    .await;
    assert_refused(
        &db,
        &query,
        input(json!({ "wikidataId": "Q7747" })),
        "BAD_USER_INPUT",
        "input.wikidataId",
    )
    .await;
    assert_refused(
        &db,
        &query,
        input(json!({ "wikidataId": "Q0" })),
        "BAD_USER_INPUT",
        "input.wikidataId",
    )
    .await;
    let malformed = json!({ "input": { "id": "not-a-uuid", "version": 1, "name": "X" } });
    assert_refused(&db, &query, malformed, "BAD_USER_INPUT", "input.id").await;

    let unknown =
        json!({ "input": { "id": Uuid::now_v7().to_string(), "version": 1, "name": "X" } });
    let before = db.counts().await;
    let error = db.err(&query, unknown).await;
    assert_eq!(error["extensions"]["code"], "NOT_FOUND", "{error:#}");
    assert_eq!(db.counts().await, before);

    // Its own slug and Wikidata id are no conflict.
    let data = db
        .ok(
            &query,
            input(json!({ "slug": "sergei-lavrov", "wikidataId": "Q1234" })),
        )
        .await;
    assert_eq!(data["updateSpeaker"]["speaker"]["version"], 2);
}

#[tokio::test]
async fn delete_speaker_hides_it_from_lookup_and_list_and_frees_the_slug() {
    let db = TestDb::new().await;
    let lavrov = create(
        &db,
        json!({ "name": "Sergei Lavrov", "kind": "PERSON", "wikidataId": "Q1234" }),
    )
    .await;
    person(&db, "Donald Trump").await;

    let data = db
        .ok(
            DELETE,
            json!({ "input": { "id": lavrov["id"], "version": 1 } }),
        )
        .await;
    assert_eq!(data["deleteSpeaker"]["deletedId"], lavrov["id"]);
    assert_eq!(data["deleteSpeaker"]["version"], 2);

    assert_eq!(
        db.ok(LOOKUP, json!({ "id": lavrov["id"] })).await["speaker"],
        Value::Null
    );
    assert_eq!(
        db.ok(LOOKUP, json!({ "slug": "sergei-lavrov" })).await["speaker"],
        Value::Null
    );
    let list = page(&db, json!({})).await;
    assert_eq!(names(&list), ["Donald Trump"]);
    assert_eq!(list["totalCount"], 1);
    assert_eq!(
        page(&db, json!({ "filter": { "name": "lavrov" } })).await["totalCount"],
        0
    );
    assert_eq!(db.count("speaker").await, 2, "a soft delete keeps the row");

    // Deleting it again, or updating it, finds nothing.
    let error = db
        .err(
            DELETE,
            json!({ "input": { "id": lavrov["id"], "version": 2 } }),
        )
        .await;
    assert_eq!(error["extensions"]["code"], "NOT_FOUND");
    // Its slug and Wikidata id are free again.
    let again = create(
        &db,
        json!({ "name": "Sergei Lavrov", "kind": "PERSON", "wikidataId": "Q1234" }),
    )
    .await;
    assert_eq!(again["slug"], "sergei-lavrov");
    assert_ne!(again["id"], lavrov["id"]);
}

#[tokio::test]
async fn delete_speaker_with_a_stale_version_is_a_conflict() {
    let db = TestDb::new().await;
    let lavrov = person(&db, "Sergei Lavrov").await;
    db.ok(
        &update_query(),
        json!({ "input": { "id": lavrov["id"], "version": 1, "description": "Diplomat" } }),
    )
    .await;

    assert_refused(
        &db,
        DELETE,
        json!({ "input": { "id": lavrov["id"], "version": 1 } }),
        "CONFLICT",
        "version",
    )
    .await;
    assert_eq!(
        db.ok(LOOKUP, json!({ "id": lavrov["id"] })).await["speaker"]["version"],
        2
    );
}

#[tokio::test]
async fn delete_speaker_with_statements_is_a_conflict() {
    let db = TestDb::new().await;
    let trump = person(&db, "Donald Trump").await;
    let lavrov = person(&db, "Sergei Lavrov").await;
    let statement = statement_by(&db, &trump, Some(&lavrov)).await;

    let error = assert_refused(
        &db,
        DELETE,
        json!({ "input": { "id": trump["id"], "version": 1 } }),
        "CONFLICT",
        "id",
    )
    .await;
    assert!(
        error["message"].as_str().unwrap().contains("statement"),
        "{error:#}"
    );
    // Reporting a statement is a reference too.
    assert_refused(
        &db,
        DELETE,
        json!({ "input": { "id": lavrov["id"], "version": 1 } }),
        "CONFLICT",
        "id",
    )
    .await;
    assert_eq!(
        db.ok(LOOKUP, json!({ "id": trump["id"] })).await["speaker"]["version"],
        1
    );

    // Once the statement is gone, so may the speaker be.
    db.ok(
        "mutation($input: DeleteInput!) { deleteStatement(input: $input) { deletedId } }",
        json!({ "input": { "id": statement, "version": 1 } }),
    )
    .await;
    db.ok(
        DELETE,
        json!({ "input": { "id": trump["id"], "version": 1 } }),
    )
    .await;
    db.ok(
        DELETE,
        json!({ "input": { "id": lavrov["id"], "version": 1 } }),
    )
    .await;
}

#[tokio::test]
async fn every_speaker_change_writes_a_revision_with_before_and_after() {
    let db = TestDb::new().await;
    let lavrov = create(
        &db,
        json!({ "name": "Sergei Lavrov", "kind": "PERSON", "description": "Diplomat" }),
    )
    .await;
    db.ok(
        &update_query(),
        json!({ "input": { "id": lavrov["id"], "version": 1, "description": null } }),
    )
    .await;
    db.ok(
        DELETE,
        json!({ "input": { "id": lavrov["id"], "version": 2 } }),
    )
    .await;

    let revs = revisions(&db, &id_of(&lavrov)).await;
    assert_eq!(revs.len(), 3);
    assert!(revs.iter().all(|r| r.entity_type == "speaker"));
    assert_eq!(
        revs.iter().map(|r| r.version).collect::<Vec<_>>(),
        [1, 2, 3]
    );
    assert_eq!(
        revs.iter().map(|r| r.action).collect::<Vec<_>>(),
        [
            entity::RevisionAction::Create,
            entity::RevisionAction::Update,
            entity::RevisionAction::Delete
        ]
    );

    assert!(revs[0].before.is_none());
    let created = revs[0].after.clone().unwrap();
    assert_eq!(created["name"], "Sergei Lavrov");
    assert_eq!(created["slug"], "sergei-lavrov");
    assert_eq!(created["description"], "Diplomat");
    assert_eq!(created["version"], 1);

    let (before, after) = (
        revs[1].before.clone().unwrap(),
        revs[1].after.clone().unwrap(),
    );
    assert_eq!(before["description"], "Diplomat");
    assert_eq!(before["version"], 1);
    assert_eq!(after["description"], Value::Null);
    assert_eq!(after["version"], 2);

    let (before, after) = (
        revs[2].before.clone().unwrap(),
        revs[2].after.clone().unwrap(),
    );
    assert!(before["deleted_at"].is_null());
    assert!(!after["deleted_at"].is_null());
    assert_eq!(after["version"], 3);
}

// ---------------------------------------------------------------------------------
// Refused input

#[tokio::test]
async fn create_speaker_rejects_an_empty_or_blank_name() {
    let db = TestDb::new().await;
    for name in ["", "   ", "\n\t"] {
        assert_create_refused(
            &db,
            json!({ "name": name, "kind": "PERSON", "slug": "nobody" }),
            "input.name",
        )
        .await;
    }
}

#[tokio::test]
async fn create_speaker_rejects_a_name_over_300_characters() {
    let db = TestDb::new().await;
    assert_create_refused(
        &db,
        json!({ "name": "x".repeat(301), "kind": "PERSON" }),
        "input.name",
    )
    .await;
    // Characters, not bytes, count: 300 Cyrillic letters are fine.
    let long = create(
        &db,
        json!({ "name": "л".repeat(300), "kind": "PERSON", "slug": "long" }),
    )
    .await;
    assert_eq!(long["name"].as_str().unwrap().chars().count(), 300);
}

#[tokio::test]
async fn create_speaker_rejects_a_bad_slug() {
    let db = TestDb::new().await;
    for slug in ["Bad Slug", "a--b", "-lavrov", "lavrov-", ""] {
        assert_create_refused(
            &db,
            json!({ "name": "Sergei Lavrov", "kind": "PERSON", "slug": slug }),
            "input.slug",
        )
        .await;
    }
}

#[tokio::test]
async fn create_speaker_rejects_a_slug_another_live_speaker_holds() {
    let db = TestDb::new().await;
    person(&db, "Sergei Lavrov").await;
    // Made from the name, and given.
    assert_create_refused(
        &db,
        json!({ "name": "Sergei Lavrov", "kind": "PERSON" }),
        "input.slug",
    )
    .await;
    assert_create_refused(
        &db,
        json!({ "name": "Someone", "kind": "PERSON", "slug": "sergei-lavrov" }),
        "input.slug",
    )
    .await;
}

#[tokio::test]
async fn create_speaker_makes_a_slug_from_a_name_in_any_script() {
    let db = TestDb::new().await;
    let lavrov = create(&db, json!({ "name": "Сергей Лавров", "kind": "PERSON" })).await;
    assert_eq!(lavrov["name"], "Сергей Лавров");
    assert_eq!(lavrov["slug"], "sergei-lavrov");
    // A second speaker of the same name needs a slug of its own.
    assert_create_refused(
        &db,
        json!({ "name": "Сергей Лавров", "kind": "PERSON" }),
        "input.slug",
    )
    .await;
    // Nothing to make a slug from: the client gives one.
    assert_create_refused(
        &db,
        json!({ "name": "«…»", "kind": "PERSON" }),
        "input.slug",
    )
    .await;
    let named = create(
        &db,
        json!({ "name": "«…»", "kind": "PERSON", "slug": "ellipsis" }),
    )
    .await;
    assert_eq!(named["slug"], "ellipsis");
}

#[tokio::test]
async fn create_speaker_rejects_a_bad_wikidata_id() {
    let db = TestDb::new().await;
    for q in ["Q0", "X12", "Q", "q12", "Q12a", "Q012"] {
        assert_create_refused(
            &db,
            json!({ "name": "Sergei Lavrov", "kind": "PERSON", "wikidataId": q }),
            "input.wikidataId",
        )
        .await;
    }
}

#[tokio::test]
async fn create_speaker_rejects_a_wikidata_id_another_live_speaker_holds() {
    let db = TestDb::new().await;
    create(
        &db,
        json!({ "name": "Sergei Lavrov", "kind": "PERSON", "wikidataId": "Q1234" }),
    )
    .await;
    assert_create_refused(
        &db,
        json!({ "name": "Sergey Lavrov", "kind": "PERSON", "wikidataId": "Q1234" }),
        "input.wikidataId",
    )
    .await;
}

#[tokio::test]
async fn speaker_mutations_reject_a_malformed_id() {
    let db = TestDb::new().await;
    person(&db, "Sergei Lavrov").await;
    let update = json!({ "input": { "id": "not-a-uuid", "version": 1, "name": "Someone" } });
    assert_refused(&db, &update_query(), update, "BAD_USER_INPUT", "input.id").await;
    assert_refused(
        &db,
        DELETE,
        json!({ "input": { "id": "not-a-uuid", "version": 1 } }),
        "BAD_USER_INPUT",
        "input.id",
    )
    .await;
}
