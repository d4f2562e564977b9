//! Topics through the real schema: create/read/update/delete with versions and
//! revisions, the tree (parent, children, no cycles), lookups, the name-ordered
//! connection and its filters, and every refused input.

use serde_json::{Value, json};
use tests::TestDb;
use tests::check::assert_refused;
use uuid::Uuid;

const FIELDS: &str = "id name slug parentId version createdAt updatedAt";

fn create_query() -> String {
    format!(
        "mutation($input: CreateTopicInput!) {{ createTopic(input: $input) {{ topic {{ {FIELDS} }} }} }}"
    )
}

fn update_query() -> String {
    format!(
        "mutation($input: UpdateTopicInput!) {{ updateTopic(input: $input) {{ topic {{ {FIELDS} }} }} }}"
    )
}

const DELETE: &str =
    "mutation($input: DeleteInput!) { deleteTopic(input: $input) { deletedId version } }";

async fn create(db: &TestDb, input: Value) -> Value {
    db.ok(&create_query(), json!({ "input": input })).await["createTopic"]["topic"].clone()
}

async fn update(db: &TestDb, input: Value) -> Value {
    db.ok(&update_query(), json!({ "input": input })).await["updateTopic"]["topic"].clone()
}

fn names(list: &Value) -> Vec<String> {
    list.as_array()
        .map(|items| {
            items
                .iter()
                .filter_map(|t| t["name"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn create_topic_makes_slug_from_name_and_links_parent_and_children() {
    let db = TestDb::new().await;
    let security = create(&db, json!({ "name": "International security" })).await;
    assert_eq!(security["slug"], "international-security");
    assert_eq!(security["parentId"], Value::Null);
    assert_eq!(security["version"], 1);
    let cyber = create(
        &db,
        json!({ "name": "Cyber security", "parentId": security["id"] }),
    )
    .await;
    create(
        &db,
        json!({ "name": "Arms control", "parentId": security["id"] }),
    )
    .await;
    assert_eq!(cyber["parentId"], security["id"]);
    assert_eq!(db.count("revision").await, 3);

    let query = "query($id: ID!) { topic(id: $id) { name parent { name } children { name parent { slug } } } }";
    let tree = db.ok(query, json!({ "id": security["id"] })).await["topic"].clone();
    assert_eq!(tree["parent"], Value::Null);
    assert_eq!(
        names(&tree["children"]),
        ["Arms control", "Cyber security"],
        "children by name"
    );
    assert_eq!(
        tree["children"][0]["parent"]["slug"],
        "international-security"
    );
    let leaf = db.ok(query, json!({ "id": cyber["id"] })).await["topic"].clone();
    assert_eq!(leaf["parent"]["name"], "International security");
    assert_eq!(leaf["children"], json!([]));
}

#[tokio::test]
async fn topic_round_trip_bumps_version_and_writes_a_revision_per_change() {
    let db = TestDb::new().await;
    let parent = create(&db, json!({ "name": "Security", "slug": "security" })).await;
    let topic = create(
        &db,
        json!({ "name": "Cyber", "slug": "cyber", "parentId": parent["id"] }),
    )
    .await;
    let id = topic["id"].clone();

    let read = db
        .ok(
            &format!("query($id: ID!) {{ topic(id: $id) {{ {FIELDS} }} }}"),
            json!({ "id": id }),
        )
        .await;
    assert_eq!(read["topic"], topic);

    let renamed = update(
        &db,
        json!({ "id": id, "version": 1, "name": "Cyber security", "slug": "cyber-security" }),
    )
    .await;
    assert_eq!(renamed["name"], "Cyber security");
    assert_eq!(
        renamed["parentId"], parent["id"],
        "an update leaves the fields it does not name"
    );
    assert_eq!(renamed["version"], 2);
    let moved = update(&db, json!({ "id": id, "version": 2, "parentId": null })).await;
    assert_eq!(
        moved["parentId"],
        Value::Null,
        "null moves the topic to the top"
    );
    assert_eq!(moved["version"], 3);
    assert_eq!(db.count("revision").await, 4);

    let deleted = db
        .ok(DELETE, json!({ "input": { "id": id, "version": 3 } }))
        .await;
    assert_eq!(
        deleted["deleteTopic"],
        json!({ "deletedId": id, "version": 4 })
    );
    assert_eq!(db.count("revision").await, 5);
    let gone = db
        .ok("{ topic(slug: \"cyber-security\") { id } }", json!({}))
        .await;
    assert_eq!(gone["topic"], Value::Null);
}

#[tokio::test]
async fn topic_is_found_by_id_and_by_slug() {
    let db = TestDb::new().await;
    let topic = create(&db, json!({ "name": "Cyber security" })).await;
    let by_slug = db
        .ok("{ topic(slug: \"cyber-security\") { id } }", json!({}))
        .await;
    assert_eq!(by_slug["topic"]["id"], topic["id"]);
    let by_id = db
        .ok(
            "query($id: ID!) { topic(id: $id) { slug } }",
            json!({ "id": topic["id"] }),
        )
        .await;
    assert_eq!(by_id["topic"]["slug"], "cyber-security");
    let neither = db.err("{ topic { id } }", json!({})).await;
    assert_eq!(neither["extensions"]["code"], "BAD_USER_INPUT");
    assert_eq!(neither["extensions"]["field"], "id");
}

const PAGE: &str =
    "query($first: Int, $after: String, $last: Int, $before: String, $filter: TopicFilter) {
    topics(first: $first, after: $after, last: $last, before: $before, filter: $filter) {
        totalCount
        edges { node { name } }
        pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    }
}";

fn page_names(connection: &Value) -> Vec<String> {
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

#[tokio::test]
async fn topics_page_by_name_forward_and_backward() {
    let db = TestDb::new().await;
    for name in ["Ukraine", "Cyber", "Sanctions", "Elections"] {
        create(&db, json!({ "name": name })).await;
    }
    let first = db.ok(PAGE, json!({ "first": 3 })).await["topics"].clone();
    assert_eq!(page_names(&first), ["Cyber", "Elections", "Sanctions"]);
    assert_eq!(first["totalCount"], 4);
    assert_eq!(first["pageInfo"]["hasNextPage"], true);
    let rest = db
        .ok(
            PAGE,
            json!({ "first": 3, "after": first["pageInfo"]["endCursor"] }),
        )
        .await["topics"]
        .clone();
    assert_eq!(page_names(&rest), ["Ukraine"]);
    assert_eq!(rest["pageInfo"]["hasNextPage"], false);
    assert_eq!(rest["pageInfo"]["hasPreviousPage"], true);

    let last = db.ok(PAGE, json!({ "last": 1 })).await["topics"].clone();
    assert_eq!(page_names(&last), ["Ukraine"]);
    let before = db
        .ok(
            PAGE,
            json!({ "last": 2, "before": last["pageInfo"]["startCursor"] }),
        )
        .await["topics"]
        .clone();
    assert_eq!(page_names(&before), ["Elections", "Sanctions"]);
    assert_eq!(before["pageInfo"]["hasPreviousPage"], true);

    let bad_cursor = db.err(PAGE, json!({ "after": "garbage" })).await;
    assert_eq!(bad_cursor["extensions"]["code"], "BAD_USER_INPUT");
    assert_eq!(bad_cursor["extensions"]["field"], "after");
}

#[tokio::test]
async fn topics_filter_by_parent_and_name() {
    let db = TestDb::new().await;
    let security = create(&db, json!({ "name": "Security" })).await;
    create(
        &db,
        json!({ "name": "Cyber security", "parentId": security["id"] }),
    )
    .await;
    create(
        &db,
        json!({ "name": "Arms control", "parentId": security["id"] }),
    )
    .await;
    create(&db, json!({ "name": "Cyber crime" })).await;

    let children = db
        .ok(PAGE, json!({ "filter": { "parentId": security["id"] } }))
        .await["topics"]
        .clone();
    assert_eq!(page_names(&children), ["Arms control", "Cyber security"]);
    assert_eq!(children["totalCount"], 2);
    let cyber = db.ok(PAGE, json!({ "filter": { "name": "CYBER" } })).await["topics"].clone();
    assert_eq!(page_names(&cyber), ["Cyber crime", "Cyber security"]);
    let both = db
        .ok(
            PAGE,
            json!({ "filter": { "name": "cyber", "parentId": security["id"] } }),
        )
        .await["topics"]
        .clone();
    assert_eq!(page_names(&both), ["Cyber security"]);
    let error = db
        .err(PAGE, json!({ "filter": { "parentId": "security" } }))
        .await;
    assert_eq!(error["extensions"]["code"], "BAD_USER_INPUT");
    assert_eq!(error["extensions"]["field"], "filter.parentId");
}

#[tokio::test]
async fn create_topic_rejects_empty_and_oversized_names() {
    let db = TestDb::new().await;
    let query = create_query();
    assert_refused(
        &db,
        &query,
        json!({ "input": { "name": "" } }),
        "BAD_USER_INPUT",
        "input.name",
    )
    .await;
    let long = "x".repeat(201);
    assert_refused(
        &db,
        &query,
        json!({ "input": { "name": long } }),
        "BAD_USER_INPUT",
        "input.name",
    )
    .await;
    create(&db, json!({ "name": "x".repeat(200) })).await;
}

#[tokio::test]
async fn create_topic_rejects_bad_and_duplicate_slugs() {
    let db = TestDb::new().await;
    let query = create_query();
    for slug in [
        "Cyber",
        "cyber_security",
        "cyber-",
        "a".repeat(101).as_str(),
    ] {
        let input = json!({ "name": "Cyber", "slug": slug });
        assert_refused(
            &db,
            &query,
            json!({ "input": input }),
            "BAD_USER_INPUT",
            "input.slug",
        )
        .await;
    }
    create(&db, json!({ "name": "Cyber", "slug": "cyber" })).await;
    let input = json!({ "name": "Cyber!" });
    assert_refused(
        &db,
        &query,
        json!({ "input": input }),
        "BAD_USER_INPUT",
        "input.slug",
    )
    .await;
}

#[tokio::test]
async fn create_topic_rejects_unknown_parent() {
    let db = TestDb::new().await;
    let input = json!({ "name": "Cyber", "parentId": Uuid::now_v7().to_string() });
    assert_refused(
        &db,
        &create_query(),
        json!({ "input": input }),
        "NOT_FOUND",
        "input.parentId",
    )
    .await;
    let input = json!({ "name": "Cyber", "parentId": "nope" });
    assert_refused(
        &db,
        &create_query(),
        json!({ "input": input }),
        "BAD_USER_INPUT",
        "input.parentId",
    )
    .await;
}

#[tokio::test]
async fn update_topic_rejects_itself_as_parent() {
    let db = TestDb::new().await;
    let topic = create(&db, json!({ "name": "Cyber" })).await;
    let input = json!({ "id": topic["id"], "version": 1, "parentId": topic["id"] });
    assert_refused(
        &db,
        &update_query(),
        json!({ "input": input }),
        "BAD_USER_INPUT",
        "input.parentId",
    )
    .await;
}

#[tokio::test]
async fn update_topic_rejects_a_cycle() {
    let db = TestDb::new().await;
    let top = create(&db, json!({ "name": "Top" })).await;
    let middle = create(&db, json!({ "name": "Middle", "parentId": top["id"] })).await;
    let bottom = create(&db, json!({ "name": "Bottom", "parentId": middle["id"] })).await;
    for descendant in [&middle, &bottom] {
        let input = json!({ "id": top["id"], "version": 1, "parentId": descendant["id"] });
        let error = assert_refused(
            &db,
            &update_query(),
            json!({ "input": input }),
            "BAD_USER_INPUT",
            "input.parentId",
        )
        .await;
        assert!(
            error["message"]
                .as_str()
                .unwrap_or_default()
                .contains("cycle"),
            "{error:#}"
        );
    }
    // Moving a subtree elsewhere, away from its own descendants, is fine.
    let other = create(&db, json!({ "name": "Other" })).await;
    let moved = update(
        &db,
        json!({ "id": middle["id"], "version": 1, "parentId": other["id"] }),
    )
    .await;
    assert_eq!(moved["parentId"], other["id"]);
    // And now Top may go below Bottom: Bottom is no longer under it.
    let moved = update(
        &db,
        json!({ "id": top["id"], "version": 1, "parentId": bottom["id"] }),
    )
    .await;
    assert_eq!(moved["parentId"], bottom["id"]);
}

#[tokio::test]
async fn update_topic_rejects_unknown_parent_duplicate_slug_and_stale_version() {
    let db = TestDb::new().await;
    create(&db, json!({ "name": "Ukraine" })).await;
    let topic = create(&db, json!({ "name": "Cyber" })).await;
    let base = |extra: Value| {
        let mut input = json!({ "id": topic["id"], "version": 1 });
        if let (Some(input), Some(extra)) = (input.as_object_mut(), extra.as_object()) {
            input.extend(extra.clone());
        }
        json!({ "input": input })
    };
    let query = update_query();
    assert_refused(
        &db,
        &query,
        base(json!({ "parentId": Uuid::now_v7().to_string() })),
        "NOT_FOUND",
        "input.parentId",
    )
    .await;
    assert_refused(
        &db,
        &query,
        base(json!({ "slug": "ukraine" })),
        "BAD_USER_INPUT",
        "input.slug",
    )
    .await;
    assert_refused(
        &db,
        &query,
        base(json!({ "name": " " })),
        "BAD_USER_INPUT",
        "input.name",
    )
    .await;
    update(
        &db,
        json!({ "id": topic["id"], "version": 1, "name": "Cyber security" }),
    )
    .await;
    assert_refused(
        &db,
        &query,
        base(json!({ "name": "Stale" })),
        "CONFLICT",
        "version",
    )
    .await;
    assert_refused(
        &db,
        DELETE,
        json!({ "input": { "id": topic["id"], "version": 1 } }),
        "CONFLICT",
        "version",
    )
    .await;
}

#[tokio::test]
async fn delete_topic_with_live_children_is_a_conflict() {
    let db = TestDb::new().await;
    let parent = create(&db, json!({ "name": "Security" })).await;
    let child = create(&db, json!({ "name": "Cyber", "parentId": parent["id"] })).await;
    let error = assert_refused(
        &db,
        DELETE,
        json!({ "input": { "id": parent["id"], "version": 1 } }),
        "CONFLICT",
        "id",
    )
    .await;
    assert!(
        error["message"]
            .as_str()
            .unwrap_or_default()
            .contains("child topics"),
        "{error:#}"
    );
    db.ok(
        DELETE,
        json!({ "input": { "id": child["id"], "version": 1 } }),
    )
    .await;
    db.ok(
        DELETE,
        json!({ "input": { "id": parent["id"], "version": 1 } }),
    )
    .await;
}
