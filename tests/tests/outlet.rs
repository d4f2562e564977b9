//! Outlets through the real schema: create/read/update/delete with versions and
//! revisions, lookups, the name-ordered connection, and every refused input.

use sea_orm::ConnectionTrait;
use serde_json::{Value, json};
use tests::TestDb;
use tests::check::assert_refused;
use uuid::Uuid;

const FIELDS: &str = "id name slug homepage country language version createdAt updatedAt";

fn create_query() -> String {
    format!(
        "mutation($input: CreateOutletInput!) {{ createOutlet(input: $input) {{ outlet {{ {FIELDS} }} }} }}"
    )
}

fn update_query() -> String {
    format!(
        "mutation($input: UpdateOutletInput!) {{ updateOutlet(input: $input) {{ outlet {{ {FIELDS} }} }} }}"
    )
}

const DELETE: &str =
    "mutation($input: DeleteInput!) { deleteOutlet(input: $input) { deletedId version } }";

async fn create(db: &TestDb, input: Value) -> Value {
    db.ok(&create_query(), json!({ "input": input })).await["createOutlet"]["outlet"].clone()
}

async fn create_article(db: &TestDb, outlet_id: &Value, title: &str) -> Value {
    let query = "mutation($input: CreateArticleInput!) { createArticle(input: $input) { article { id title } } }";
    db.ok(
        query,
        json!({ "input": { "outletId": outlet_id, "title": title } }),
    )
    .await["createArticle"]["article"]
        .clone()
}

async fn assert_create_refused(db: &TestDb, input: Value, code: &str, field: &str) -> Value {
    assert_refused(db, &create_query(), json!({ "input": input }), code, field).await
}

#[tokio::test]
async fn create_outlet_makes_slug_from_name_and_normalizes_fields() {
    let db = TestDb::new().await;
    let outlet = create(
        &db,
        json!({ "name": "  TASS Russian News Agency ", "homepage": "HTTPS://TASS.com/?utm_source=x#top",
                "country": "ru", "language": "en" }),
    )
    .await;
    assert_eq!(outlet["name"], "TASS Russian News Agency");
    assert_eq!(outlet["slug"], "tass-russian-news-agency");
    assert_eq!(outlet["homepage"], "https://tass.com/");
    assert_eq!(outlet["country"], "RU");
    assert_eq!(outlet["language"], "en");
    assert_eq!(outlet["version"], 1);
    assert_eq!(db.count("outlet").await, 1);
    assert_eq!(db.count("revision").await, 1);
}

#[tokio::test]
async fn outlet_round_trip_bumps_version_and_writes_a_revision_per_change() {
    let db = TestDb::new().await;
    let created = create(
        &db,
        json!({ "name": "TASS", "slug": "tass", "country": "RU", "homepage": "https://tass.com" }),
    )
    .await;
    let id = created["id"].clone();

    let read = db
        .ok(
            &format!("query($id: ID!) {{ outlet(id: $id) {{ {FIELDS} }} }}"),
            json!({ "id": id }),
        )
        .await;
    assert_eq!(read["outlet"], created);

    let updated = db
        .ok(&update_query(), json!({ "input": { "id": id, "version": 1, "name": "TASS News Agency", "country": null } }))
        .await["updateOutlet"]["outlet"]
        .clone();
    assert_eq!(updated["name"], "TASS News Agency");
    assert_eq!(
        updated["slug"], "tass",
        "an update leaves the fields it does not name"
    );
    assert_eq!(updated["homepage"], "https://tass.com/");
    assert_eq!(updated["country"], Value::Null, "null clears");
    assert_eq!(updated["version"], 2);
    assert_eq!(db.count("revision").await, 2);

    let deleted = db
        .ok(DELETE, json!({ "input": { "id": id, "version": 2 } }))
        .await;
    assert_eq!(
        deleted["deleteOutlet"],
        json!({ "deletedId": id, "version": 3 })
    );
    assert_eq!(db.count("revision").await, 3);
    assert_eq!(db.count("outlet").await, 1, "deletes are soft");

    let gone = db
        .ok(
            "query($id: ID!) { outlet(id: $id) { id } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(gone["outlet"], Value::Null);
    let list = db.ok("{ outlets { totalCount } }", json!({})).await;
    assert_eq!(list["outlets"]["totalCount"], 0);
}

#[tokio::test]
async fn outlet_is_found_by_id_and_by_slug() {
    let db = TestDb::new().await;
    let tass = create(&db, json!({ "name": "TASS", "slug": "tass" })).await;
    create(&db, json!({ "name": "Rudaw" })).await;

    let by_slug = db
        .ok("{ outlet(slug: \"tass\") { id name } }", json!({}))
        .await;
    assert_eq!(by_slug["outlet"]["id"], tass["id"]);
    let by_id = db
        .ok(
            "query($id: ID!) { outlet(id: $id) { slug } }",
            json!({ "id": tass["id"] }),
        )
        .await;
    assert_eq!(by_id["outlet"]["slug"], "tass");
    let missing = db
        .ok("{ outlet(slug: \"nobody\") { id } }", json!({}))
        .await;
    assert_eq!(missing["outlet"], Value::Null);
}

#[tokio::test]
async fn outlet_lookup_needs_exactly_one_of_id_and_slug() {
    let db = TestDb::new().await;
    let both = db
        .err(
            "{ outlet(id: \"0190a000-0000-7000-8000-000000000000\", slug: \"tass\") { id } }",
            json!({}),
        )
        .await;
    assert_eq!(both["extensions"]["code"], "BAD_USER_INPUT");
    assert_eq!(both["extensions"]["field"], "id");
    let neither = db.err("{ outlet { id } }", json!({})).await;
    assert_eq!(neither["extensions"]["code"], "BAD_USER_INPUT");
    assert_eq!(neither["extensions"]["field"], "id");
    let malformed = db
        .err("{ outlet(id: \"not-a-uuid\") { id } }", json!({}))
        .await;
    assert_eq!(malformed["extensions"]["code"], "BAD_USER_INPUT");
    assert_eq!(malformed["extensions"]["field"], "id");
}

fn names(connection: &Value) -> Vec<String> {
    connection["edges"]
        .as_array()
        .map(|edges| {
            edges
                .iter()
                .filter_map(|e| e["node"]["name"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

const PAGE: &str =
    "query($first: Int, $after: String, $last: Int, $before: String, $filter: OutletFilter) {
    outlets(first: $first, after: $after, last: $last, before: $before, filter: $filter) {
        totalCount
        edges { cursor node { name } }
        pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    }
}";

#[tokio::test]
async fn outlets_page_by_name_forward_and_backward() {
    let db = TestDb::new().await;
    for name in ["Echo", "Alpha", "Delta", "Bravo", "Charlie"] {
        create(&db, json!({ "name": name })).await;
    }

    let first = db.ok(PAGE, json!({ "first": 2 })).await["outlets"].clone();
    assert_eq!(names(&first), ["Alpha", "Bravo"]);
    assert_eq!(first["totalCount"], 5);
    assert_eq!(first["pageInfo"]["hasNextPage"], true);
    assert_eq!(first["pageInfo"]["hasPreviousPage"], false);

    let second = db
        .ok(
            PAGE,
            json!({ "first": 2, "after": first["pageInfo"]["endCursor"] }),
        )
        .await["outlets"]
        .clone();
    assert_eq!(names(&second), ["Charlie", "Delta"]);
    assert_eq!(second["pageInfo"]["hasNextPage"], true);
    assert_eq!(second["pageInfo"]["hasPreviousPage"], true);

    let third = db
        .ok(
            PAGE,
            json!({ "first": 2, "after": second["pageInfo"]["endCursor"] }),
        )
        .await["outlets"]
        .clone();
    assert_eq!(names(&third), ["Echo"]);
    assert_eq!(third["pageInfo"]["hasNextPage"], false);
    assert_eq!(
        third["totalCount"], 5,
        "totalCount counts the whole list, not the page"
    );

    let last = db.ok(PAGE, json!({ "last": 2 })).await["outlets"].clone();
    assert_eq!(names(&last), ["Delta", "Echo"]);
    assert_eq!(last["pageInfo"]["hasPreviousPage"], true);

    let before = db
        .ok(
            PAGE,
            json!({ "last": 2, "before": last["pageInfo"]["startCursor"] }),
        )
        .await["outlets"]
        .clone();
    assert_eq!(names(&before), ["Bravo", "Charlie"]);
    assert_eq!(before["pageInfo"]["hasNextPage"], true);
}

#[tokio::test]
async fn outlets_filter_by_part_of_the_name_ignoring_case() {
    let db = TestDb::new().await;
    for name in ["TASS", "Rudaw", "The Washington Post", "100% Fact_Check"] {
        create(&db, json!({ "name": name })).await;
    }
    let wash = db.ok(PAGE, json!({ "filter": { "name": "WASH" } })).await["outlets"].clone();
    assert_eq!(names(&wash), ["The Washington Post"]);
    assert_eq!(wash["totalCount"], 1);
    // LIKE wildcards in the filter are taken literally.
    let percent = db.ok(PAGE, json!({ "filter": { "name": "0%" } })).await["outlets"].clone();
    assert_eq!(names(&percent), ["100% Fact_Check"]);
    let underscore = db.ok(PAGE, json!({ "filter": { "name": "t_c" } })).await["outlets"].clone();
    assert_eq!(names(&underscore), ["100% Fact_Check"]);
}

#[tokio::test]
async fn outlet_articles_list_newest_first() {
    let db = TestDb::new().await;
    let tass = create(&db, json!({ "name": "TASS" })).await;
    let other = create(&db, json!({ "name": "Rudaw" })).await;
    for title in ["one", "two", "three"] {
        create_article(&db, &tass["id"], title).await;
    }
    create_article(&db, &other["id"], "elsewhere").await;
    let query =
        "query($id: ID!, $after: String) { outlet(id: $id) { articles(first: 2, after: $after) {
        totalCount edges { node { title } } pageInfo { hasNextPage endCursor } } } }";
    let page = db.ok(query, json!({ "id": tass["id"] })).await["outlet"]["articles"].clone();
    let titles: Vec<&str> = page["edges"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| e["node"]["title"].as_str())
        .collect();
    assert_eq!(titles, ["three", "two"]);
    assert_eq!(page["totalCount"], 3);
    let next = db
        .ok(
            query,
            json!({ "id": tass["id"], "after": page["pageInfo"]["endCursor"] }),
        )
        .await["outlet"]["articles"]
        .clone();
    assert_eq!(next["edges"][0]["node"]["title"], "one");
    assert_eq!(next["pageInfo"]["hasNextPage"], false);
}

#[tokio::test]
async fn create_outlet_rejects_empty_name() {
    let db = TestDb::new().await;
    assert_create_refused(
        &db,
        json!({ "name": "   " }),
        "BAD_USER_INPUT",
        "input.name",
    )
    .await;
}

#[tokio::test]
async fn create_outlet_rejects_oversized_name() {
    let db = TestDb::new().await;
    assert_create_refused(
        &db,
        json!({ "name": "x".repeat(301) }),
        "BAD_USER_INPUT",
        "input.name",
    )
    .await;
}

#[tokio::test]
async fn create_outlet_rejects_bad_slug() {
    let db = TestDb::new().await;
    for slug in ["Not A Slug", "double--dash", "-lead", "ü", ""] {
        assert_create_refused(
            &db,
            json!({ "name": "TASS", "slug": slug }),
            "BAD_USER_INPUT",
            "input.slug",
        )
        .await;
    }
}

#[tokio::test]
async fn create_outlet_makes_a_slug_from_a_name_in_any_script() {
    let db = TestDb::new().await;
    let tass = create(&db, json!({ "name": "ТАСС" })).await;
    assert_eq!(tass["slug"], "tass");
    // Nothing to make one from: the client gives a slug.
    assert_create_refused(&db, json!({ "name": "«»" }), "BAD_USER_INPUT", "input.slug").await;
}

#[tokio::test]
async fn create_outlet_rejects_duplicate_slug() {
    let db = TestDb::new().await;
    create(&db, json!({ "name": "TASS", "slug": "tass" })).await;
    let error = assert_create_refused(
        &db,
        json!({ "name": "Tass" }),
        "BAD_USER_INPUT",
        "input.slug",
    )
    .await;
    assert!(
        error["message"]
            .as_str()
            .unwrap_or_default()
            .contains("tass"),
        "{error:#}"
    );
}

#[tokio::test]
async fn create_outlet_may_reuse_the_slug_of_a_deleted_outlet() {
    let db = TestDb::new().await;
    let old = create(&db, json!({ "name": "TASS", "slug": "tass" })).await;
    db.ok(
        DELETE,
        json!({ "input": { "id": old["id"], "version": 1 } }),
    )
    .await;
    let new = create(&db, json!({ "name": "TASS", "slug": "tass" })).await;
    assert_ne!(new["id"], old["id"]);
}

#[tokio::test]
async fn create_outlet_rejects_malformed_homepage() {
    let db = TestDb::new().await;
    for homepage in [
        "tass.com",
        "ftp://tass.com/",
        "https://",
        "javascript:alert(1)",
    ] {
        assert_create_refused(
            &db,
            json!({ "name": "TASS", "homepage": homepage }),
            "BAD_USER_INPUT",
            "input.homepage",
        )
        .await;
    }
}

#[tokio::test]
async fn create_outlet_rejects_bad_country_and_language() {
    let db = TestDb::new().await;
    assert_create_refused(
        &db,
        json!({ "name": "TASS", "country": "RUS" }),
        "BAD_USER_INPUT",
        "input.country",
    )
    .await;
    assert_create_refused(
        &db,
        json!({ "name": "TASS", "country": "R1" }),
        "BAD_USER_INPUT",
        "input.country",
    )
    .await;
    assert_create_refused(
        &db,
        json!({ "name": "TASS", "language": "English" }),
        "BAD_USER_INPUT",
        "input.language",
    )
    .await;
}

#[tokio::test]
async fn update_outlet_rejects_stale_version() {
    let db = TestDb::new().await;
    let outlet = create(&db, json!({ "name": "TASS" })).await;
    db.ok(
        &update_query(),
        json!({ "input": { "id": outlet["id"], "version": 1, "name": "TASS 2" } }),
    )
    .await;
    assert_refused(
        &db,
        &update_query(),
        json!({ "input": { "id": outlet["id"], "version": 1, "name": "TASS 3" } }),
        "CONFLICT",
        "version",
    )
    .await;
    let read = db
        .ok(
            "query($id: ID!) { outlet(id: $id) { name version } }",
            json!({ "id": outlet["id"] }),
        )
        .await;
    assert_eq!(read["outlet"], json!({ "name": "TASS 2", "version": 2 }));
}

#[tokio::test]
async fn update_outlet_rejects_duplicate_slug_and_bad_input() {
    let db = TestDb::new().await;
    create(&db, json!({ "name": "TASS", "slug": "tass" })).await;
    let rudaw = create(&db, json!({ "name": "Rudaw" })).await;
    let input = |patch: Value| {
        let mut input = json!({ "id": rudaw["id"], "version": 1 });
        if let (Some(input), Some(patch)) = (input.as_object_mut(), patch.as_object()) {
            input.extend(patch.clone());
        }
        json!({ "input": input })
    };
    assert_refused(
        &db,
        &update_query(),
        input(json!({ "slug": "tass" })),
        "BAD_USER_INPUT",
        "input.slug",
    )
    .await;
    assert_refused(
        &db,
        &update_query(),
        input(json!({ "name": "" })),
        "BAD_USER_INPUT",
        "input.name",
    )
    .await;
    assert_refused(
        &db,
        &update_query(),
        input(json!({ "homepage": "nope" })),
        "BAD_USER_INPUT",
        "input.homepage",
    )
    .await;
    // Keeping one's own slug is not a duplicate.
    db.ok(&update_query(), input(json!({ "slug": "rudaw" })))
        .await;
}

#[tokio::test]
async fn update_outlet_of_unknown_id_is_not_found() {
    let db = TestDb::new().await;
    let id = Uuid::now_v7().to_string();
    let before = db.counts().await;
    let error = db
        .err(
            &update_query(),
            json!({ "input": { "id": id, "version": 1, "name": "x" } }),
        )
        .await;
    assert_eq!(error["extensions"]["code"], "NOT_FOUND");
    assert_eq!(db.counts().await, before);
}

#[tokio::test]
async fn delete_outlet_with_live_articles_is_a_conflict() {
    let db = TestDb::new().await;
    let tass = create(&db, json!({ "name": "TASS" })).await;
    let article = create_article(&db, &tass["id"], "Lavrov says").await;
    let error = assert_refused(
        &db,
        DELETE,
        json!({ "input": { "id": tass["id"], "version": 1 } }),
        "CONFLICT",
        "id",
    )
    .await;
    assert!(
        error["message"]
            .as_str()
            .unwrap_or_default()
            .contains("article"),
        "{error:#}"
    );
    let still = db
        .ok(
            "query($id: ID!) { outlet(id: $id) { version } }",
            json!({ "id": tass["id"] }),
        )
        .await;
    assert_eq!(
        still["outlet"]["version"], 1,
        "the refused delete left the outlet as it was"
    );

    // Once its articles are gone, the outlet can go.
    db.ok(
        "mutation($input: DeleteInput!) { deleteArticle(input: $input) { version } }",
        json!({ "input": { "id": article["id"], "version": 1 } }),
    )
    .await;
    db.ok(
        DELETE,
        json!({ "input": { "id": tass["id"], "version": 1 } }),
    )
    .await;
}

#[tokio::test]
async fn delete_outlet_that_reviewed_verdicts_is_a_conflict() {
    let db = TestDb::new().await;
    let checker = create(&db, json!({ "name": "PolitiFact" })).await;
    let claim = Uuid::now_v7();
    let verdict = Uuid::now_v7();
    let reviewer = checker["id"].as_str().unwrap_or_default();
    db.db()
        .execute_unprepared(&format!(
            "INSERT INTO claim (id, text) VALUES ('{claim}', 'A claim');
             INSERT INTO verdict (id, claim_id, reviewer_id, rating_label)
             VALUES ('{verdict}', '{claim}', '{reviewer}', 'False');"
        ))
        .await
        .expect("insert a verdict");
    let error = assert_refused(
        &db,
        DELETE,
        json!({ "input": { "id": checker["id"], "version": 1 } }),
        "CONFLICT",
        "id",
    )
    .await;
    assert!(
        error["message"]
            .as_str()
            .unwrap_or_default()
            .contains("verdict"),
        "{error:#}"
    );
}

#[tokio::test]
async fn delete_outlet_rejects_stale_version() {
    let db = TestDb::new().await;
    let outlet = create(&db, json!({ "name": "TASS" })).await;
    db.ok(
        &update_query(),
        json!({ "input": { "id": outlet["id"], "version": 1, "language": "ru" } }),
    )
    .await;
    assert_refused(
        &db,
        DELETE,
        json!({ "input": { "id": outlet["id"], "version": 1 } }),
        "CONFLICT",
        "version",
    )
    .await;
}
