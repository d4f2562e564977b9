//! Articles through the real schema: create/read/update/delete with versions and
//! revisions, lookup by id and by (normalized) url, the newest-first connection and
//! its filters, and every refused input.

use sea_orm::ConnectionTrait;
use serde_json::{Value, json};
use tests::TestDb;
use tests::check::assert_refused;
use tests::fixtures::{outlet, with};
use uuid::Uuid;

const FIELDS: &str = "id outletId url title publishedAt language byline archiveUrl version createdAt updatedAt outlet { id slug }";

const TASS_URL: &str = "https://tass.com/politics/943510";

fn create_query() -> String {
    format!(
        "mutation($input: CreateArticleInput!) {{ createArticle(input: $input) {{ article {{ {FIELDS} }} }} }}"
    )
}

fn update_query() -> String {
    format!(
        "mutation($input: UpdateArticleInput!) {{ updateArticle(input: $input) {{ article {{ {FIELDS} }} }} }}"
    )
}

const DELETE: &str =
    "mutation($input: DeleteInput!) { deleteArticle(input: $input) { deletedId version } }";

async fn create(db: &TestDb, input: Value) -> Value {
    db.ok(&create_query(), json!({ "input": input })).await["createArticle"]["article"].clone()
}

/// A speaker with one statement that `article` reported, written directly: the
/// statement API belongs to another module.
async fn statement_in(db: &TestDb, article: &Value) -> Uuid {
    let speaker = Uuid::now_v7();
    let statement = Uuid::now_v7();
    let appearance = Uuid::now_v7();
    let article = article.as_str().unwrap_or_default();
    db.db()
        .execute_unprepared(&format!(
            "INSERT INTO speaker (id, name, slug, kind) VALUES ('{speaker}', 'Sergei Lavrov', 's-{speaker}', 'PERSON');
             INSERT INTO statement (id, speaker_id, text, kind, stated_on, language)
             VALUES ('{statement}', '{speaker}', 'The proposals remain topical.', 'PARAPHRASE', '2017-07-24', 'en');
             INSERT INTO appearance (id, statement_id, article_id, first)
             VALUES ('{appearance}', '{statement}', '{article}', true);"
        ))
        .await
        .unwrap_or_else(|e| panic!("insert a statement that appears in the article: {e}"));
    statement
}

#[tokio::test]
async fn create_article_normalizes_urls_and_loads_its_outlet() {
    let db = TestDb::new().await;
    let tass = outlet(&db, "TASS").await;
    let article = create(
        &db,
        json!({ "outletId": tass, "url": "HTTPS://TASS.com/politics/943510?utm_source=twitter&fbclid=1#comments",
                "title": " Lavrov says establishment of Russia-US cyber security working group still on agenda ",
                "publishedAt": "2017-07-24T18:05:00Z", "language": "en", "byline": "TASS",
                "archiveUrl": "https://web.archive.org/web/2017/https://tass.com/politics/943510#x" }),
    )
    .await;
    assert_eq!(article["url"], TASS_URL);
    assert_eq!(
        article["title"],
        "Lavrov says establishment of Russia-US cyber security working group still on agenda"
    );
    assert_eq!(article["publishedAt"], "2017-07-24T18:05:00+00:00");
    assert_eq!(
        article["archiveUrl"],
        "https://web.archive.org/web/2017/https://tass.com/politics/943510"
    );
    assert_eq!(article["outletId"], tass);
    assert_eq!(article["outlet"]["id"], tass);
    assert_eq!(article["version"], 1);
    assert_eq!(
        db.count("revision").await,
        2,
        "one for the outlet, one for the article"
    );
}

#[tokio::test]
async fn article_round_trip_bumps_version_and_writes_a_revision_per_change() {
    let db = TestDb::new().await;
    let tass = outlet(&db, "TASS").await;
    let rudaw = outlet(&db, "Rudaw").await;
    let created = create(
        &db,
        json!({ "outletId": tass, "url": TASS_URL, "title": "Lavrov", "byline": "TASS" }),
    )
    .await;
    let id = created["id"].clone();
    let revisions = db.count("revision").await;

    let read = db
        .ok(
            &format!("query($id: ID!) {{ article(id: $id) {{ {FIELDS} }} }}"),
            json!({ "id": id }),
        )
        .await;
    assert_eq!(read["article"], created);

    let updated = db
        .ok(
            &update_query(),
            json!({ "input": { "id": id, "version": 1, "outletId": rudaw, "url": null, "byline": null,
                               "title": "Lavrov on cyber security" } }),
        )
        .await["updateArticle"]["article"]
        .clone();
    assert_eq!(updated["url"], Value::Null, "null clears the url");
    assert_eq!(updated["byline"], Value::Null);
    assert_eq!(updated["title"], "Lavrov on cyber security");
    assert_eq!(updated["outlet"]["id"], rudaw);
    assert_eq!(updated["version"], 2);
    assert_eq!(db.count("revision").await, revisions + 1);

    let deleted = db
        .ok(DELETE, json!({ "input": { "id": id, "version": 2 } }))
        .await;
    assert_eq!(
        deleted["deleteArticle"],
        json!({ "deletedId": id, "version": 3 })
    );
    assert_eq!(db.count("revision").await, revisions + 2);
    let gone = db
        .ok(
            "query($id: ID!) { article(id: $id) { id } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(gone["article"], Value::Null);
}

#[tokio::test]
async fn article_lookup_by_url_normalizes_the_given_url() {
    let db = TestDb::new().await;
    let tass = outlet(&db, "TASS").await;
    let article = create(
        &db,
        json!({ "outletId": tass, "url": TASS_URL, "title": "Lavrov" }),
    )
    .await;
    for spelling in [
        TASS_URL,
        "HTTPS://Tass.COM/politics/943510?utm_campaign=x#top",
        "https://tass.com:443/politics/943510",
    ] {
        let found = db
            .ok(
                "query($url: String!) { article(url: $url) { id } }",
                json!({ "url": spelling }),
            )
            .await;
        assert_eq!(found["article"]["id"], article["id"], "{spelling}");
    }
    let other = db
        .ok(
            "{ article(url: \"https://tass.com/politics/1\") { id } }",
            json!({}),
        )
        .await;
    assert_eq!(other["article"], Value::Null);
}

#[tokio::test]
async fn article_lookup_by_malformed_url_is_bad_input() {
    let db = TestDb::new().await;
    let error = db
        .err("{ article(url: \"tass.com/politics\") { id } }", json!({}))
        .await;
    assert_eq!(error["extensions"]["code"], "BAD_USER_INPUT");
    assert_eq!(error["extensions"]["field"], "url");
}

#[tokio::test]
async fn article_lookup_needs_exactly_one_of_id_and_url() {
    let db = TestDb::new().await;
    let neither = db.err("{ article { id } }", json!({})).await;
    assert_eq!(neither["extensions"]["code"], "BAD_USER_INPUT");
    assert_eq!(neither["extensions"]["field"], "id");
    let both = db
        .err(
            &format!(
                "{{ article(id: \"{}\", url: \"{TASS_URL}\") {{ id }} }}",
                Uuid::now_v7()
            ),
            json!({}),
        )
        .await;
    assert_eq!(both["extensions"]["field"], "id");
}

#[tokio::test]
async fn create_article_rejects_duplicate_normalized_url() {
    let db = TestDb::new().await;
    let tass = outlet(&db, "TASS").await;
    let first = create(
        &db,
        json!({ "outletId": tass, "url": TASS_URL, "title": "Lavrov" }),
    )
    .await;
    let error = assert_refused(
        &db,
        &create_query(),
        json!({ "input": { "outletId": tass, "url": "HTTPS://TASS.com/politics/943510?utm_medium=rss", "title": "Again" } }),
        "BAD_USER_INPUT",
        "input.url",
    )
    .await;
    let message = error["message"].as_str().unwrap_or_default();
    assert!(
        message.contains(first["id"].as_str().unwrap_or("?")),
        "the error names the existing article: {message}"
    );
}

#[tokio::test]
async fn create_article_allows_articles_without_url_and_shared_archive_urls() {
    let db = TestDb::new().await;
    let tass = outlet(&db, "TASS").await;
    let archive = "https://archive.ph/abc";
    create(
        &db,
        json!({ "outletId": tass, "title": "Broadcast", "archiveUrl": archive }),
    )
    .await;
    create(
        &db,
        json!({ "outletId": tass, "title": "Print", "archiveUrl": archive }),
    )
    .await;
    assert_eq!(db.count("article").await, 2);
}

#[tokio::test]
async fn create_article_may_reuse_the_url_of_a_deleted_article() {
    let db = TestDb::new().await;
    let tass = outlet(&db, "TASS").await;
    let old = create(
        &db,
        json!({ "outletId": tass, "url": TASS_URL, "title": "Lavrov" }),
    )
    .await;
    db.ok(
        DELETE,
        json!({ "input": { "id": old["id"], "version": 1 } }),
    )
    .await;
    let new = create(
        &db,
        json!({ "outletId": tass, "url": TASS_URL, "title": "Lavrov" }),
    )
    .await;
    let found = db
        .ok(
            "query($url: String!) { article(url: $url) { id } }",
            json!({ "url": TASS_URL }),
        )
        .await;
    assert_eq!(found["article"]["id"], new["id"]);
}

#[tokio::test]
async fn create_article_rejects_unknown_outlet() {
    let db = TestDb::new().await;
    let input = json!({ "outletId": Uuid::now_v7().to_string(), "title": "Lavrov" });
    assert_refused(
        &db,
        &create_query(),
        json!({ "input": input }),
        "NOT_FOUND",
        "input.outletId",
    )
    .await;
    let input = json!({ "outletId": "tass", "title": "Lavrov" });
    assert_refused(
        &db,
        &create_query(),
        json!({ "input": input }),
        "BAD_USER_INPUT",
        "input.outletId",
    )
    .await;
}

#[tokio::test]
async fn create_article_rejects_a_deleted_outlet() {
    let db = TestDb::new().await;
    let tass = outlet(&db, "TASS").await;
    db.ok(
        "mutation($input: DeleteInput!) { deleteOutlet(input: $input) { version } }",
        json!({ "input": { "id": tass, "version": 1 } }),
    )
    .await;
    let input = json!({ "outletId": tass, "title": "Lavrov" });
    assert_refused(
        &db,
        &create_query(),
        json!({ "input": input }),
        "NOT_FOUND",
        "input.outletId",
    )
    .await;
}

#[tokio::test]
async fn create_article_rejects_malformed_urls() {
    let db = TestDb::new().await;
    let tass = outlet(&db, "TASS").await;
    let base = json!({ "outletId": tass, "title": "Lavrov" });
    for url in [
        "tass.com/politics",
        "ftp://tass.com/a",
        "https://user:pw@tass.com/",
        "https://",
    ] {
        let input = with(&base, json!({ "url": url }));
        assert_refused(
            &db,
            &create_query(),
            json!({ "input": input }),
            "BAD_USER_INPUT",
            "input.url",
        )
        .await;
    }
    let long = format!("https://tass.com/{}", "a".repeat(2100));
    let input = with(&base, json!({ "url": long }));
    assert_refused(
        &db,
        &create_query(),
        json!({ "input": input }),
        "BAD_USER_INPUT",
        "input.url",
    )
    .await;
    let input = with(&base, json!({ "archiveUrl": "archive.ph/abc" }));
    assert_refused(
        &db,
        &create_query(),
        json!({ "input": input }),
        "BAD_USER_INPUT",
        "input.archiveUrl",
    )
    .await;
}

#[tokio::test]
async fn create_article_rejects_empty_and_oversized_text() {
    let db = TestDb::new().await;
    let tass = outlet(&db, "TASS").await;
    let base = json!({ "outletId": tass, "title": "Lavrov" });
    for (extra, field) in [
        (json!({ "title": " " }), "input.title"),
        (json!({ "title": "x".repeat(1001) }), "input.title"),
        (json!({ "byline": "x".repeat(501) }), "input.byline"),
        (json!({ "language": "EN" }), "input.language"),
    ] {
        let input = with(&base, extra);
        assert_refused(
            &db,
            &create_query(),
            json!({ "input": input }),
            "BAD_USER_INPUT",
            field,
        )
        .await;
    }
    // The limits themselves are allowed.
    create(
        &db,
        with(
            &base,
            json!({ "title": "x".repeat(1000), "byline": "y".repeat(500) }),
        ),
    )
    .await;
}

#[tokio::test]
async fn update_article_rejects_the_url_of_another_article() {
    let db = TestDb::new().await;
    let tass = outlet(&db, "TASS").await;
    create(
        &db,
        json!({ "outletId": tass, "url": TASS_URL, "title": "Lavrov" }),
    )
    .await;
    let other = create(&db, json!({ "outletId": tass, "title": "Other" })).await;
    let input = json!({ "id": other["id"], "version": 1, "url": format!("{TASS_URL}#again") });
    assert_refused(
        &db,
        &update_query(),
        json!({ "input": input }),
        "BAD_USER_INPUT",
        "input.url",
    )
    .await;
    // Setting an article's own url again is no duplicate.
    let own = create(
        &db,
        json!({ "outletId": tass, "url": "https://tass.com/b", "title": "B" }),
    )
    .await;
    db.ok(
        &update_query(),
        json!({ "input": { "id": own["id"], "version": 1, "url": "https://TASS.com/b" } }),
    )
    .await;
}

#[tokio::test]
async fn update_article_rejects_unknown_outlet_and_bad_input() {
    let db = TestDb::new().await;
    let tass = outlet(&db, "TASS").await;
    let article = create(&db, json!({ "outletId": tass, "title": "Lavrov" })).await;
    let base = json!({ "id": article["id"], "version": 1 });
    for (extra, code, field) in [
        (
            json!({ "outletId": Uuid::now_v7().to_string() }),
            "NOT_FOUND",
            "input.outletId",
        ),
        (json!({ "title": "" }), "BAD_USER_INPUT", "input.title"),
        (json!({ "url": "nope" }), "BAD_USER_INPUT", "input.url"),
        (
            json!({ "archiveUrl": "nope" }),
            "BAD_USER_INPUT",
            "input.archiveUrl",
        ),
    ] {
        let input = with(&base, extra);
        assert_refused(&db, &update_query(), json!({ "input": input }), code, field).await;
    }
}

#[tokio::test]
async fn update_article_rejects_stale_version() {
    let db = TestDb::new().await;
    let tass = outlet(&db, "TASS").await;
    let article = create(&db, json!({ "outletId": tass, "title": "Lavrov" })).await;
    db.ok(
        &update_query(),
        json!({ "input": { "id": article["id"], "version": 1, "title": "New" } }),
    )
    .await;
    let input = json!({ "id": article["id"], "version": 1, "title": "Newer" });
    assert_refused(
        &db,
        &update_query(),
        json!({ "input": input }),
        "CONFLICT",
        "version",
    )
    .await;
    assert_refused(
        &db,
        DELETE,
        json!({ "input": { "id": article["id"], "version": 1 } }),
        "CONFLICT",
        "version",
    )
    .await;
}

#[tokio::test]
async fn delete_article_with_appearances_is_a_conflict() {
    let db = TestDb::new().await;
    let tass = outlet(&db, "TASS").await;
    let article = create(&db, json!({ "outletId": tass, "title": "Lavrov" })).await;
    statement_in(&db, &article["id"]).await;
    let error = assert_refused(
        &db,
        DELETE,
        json!({ "input": { "id": article["id"], "version": 1 } }),
        "CONFLICT",
        "id",
    )
    .await;
    assert!(
        error["message"]
            .as_str()
            .unwrap_or_default()
            .contains("appearance"),
        "{error:#}"
    );
}

#[tokio::test]
async fn delete_article_that_links_point_to_is_a_conflict() {
    let db = TestDb::new().await;
    let tass = outlet(&db, "TASS").await;
    let source = create(&db, json!({ "outletId": tass, "title": "Source" })).await;
    let target = create(&db, json!({ "outletId": tass, "title": "Follow-up" })).await;
    let statement = statement_in(&db, &source["id"]).await;
    let link = Uuid::now_v7();
    let target_id = target["id"].as_str().unwrap_or_default();
    db.db()
        .execute_unprepared(&format!(
            "INSERT INTO link (id, source_statement_id, target_article_id, relation)
             VALUES ('{link}', '{statement}', '{target_id}', 'FOLLOWS_UP')"
        ))
        .await
        .expect("insert a link");
    let error = assert_refused(
        &db,
        DELETE,
        json!({ "input": { "id": target["id"], "version": 1 } }),
        "CONFLICT",
        "id",
    )
    .await;
    assert!(
        error["message"]
            .as_str()
            .unwrap_or_default()
            .contains("link"),
        "{error:#}"
    );
}

fn titles(connection: &Value) -> Vec<String> {
    connection["edges"]
        .as_array()
        .map(|edges| {
            edges
                .iter()
                .filter_map(|e| e["node"]["title"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

const PAGE: &str =
    "query($first: Int, $after: String, $last: Int, $before: String, $filter: ArticleFilter) {
    articles(first: $first, after: $after, last: $last, before: $before, filter: $filter) {
        totalCount
        edges { cursor node { title } }
        pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    }
}";

#[tokio::test]
async fn articles_page_newest_first_forward_and_backward() {
    let db = TestDb::new().await;
    let tass = outlet(&db, "TASS").await;
    for title in ["a1", "a2", "a3", "a4", "a5"] {
        create(&db, json!({ "outletId": tass, "title": title })).await;
    }
    let first = db.ok(PAGE, json!({ "first": 2 })).await["articles"].clone();
    assert_eq!(titles(&first), ["a5", "a4"]);
    assert_eq!(first["totalCount"], 5);
    assert_eq!(first["pageInfo"]["hasNextPage"], true);
    let second = db
        .ok(
            PAGE,
            json!({ "first": 2, "after": first["pageInfo"]["endCursor"] }),
        )
        .await["articles"]
        .clone();
    assert_eq!(titles(&second), ["a3", "a2"]);
    let third = db
        .ok(
            PAGE,
            json!({ "first": 2, "after": second["pageInfo"]["endCursor"] }),
        )
        .await["articles"]
        .clone();
    assert_eq!(titles(&third), ["a1"]);
    assert_eq!(third["pageInfo"]["hasNextPage"], false);

    let last = db.ok(PAGE, json!({ "last": 2 })).await["articles"].clone();
    assert_eq!(titles(&last), ["a2", "a1"]);
    assert_eq!(last["pageInfo"]["hasPreviousPage"], true);
    let before = db
        .ok(
            PAGE,
            json!({ "last": 2, "before": last["pageInfo"]["startCursor"] }),
        )
        .await["articles"]
        .clone();
    assert_eq!(titles(&before), ["a4", "a3"]);

    let too_big = db.err(PAGE, json!({ "first": 101 })).await;
    assert_eq!(too_big["extensions"]["code"], "BAD_USER_INPUT");
    assert_eq!(too_big["extensions"]["field"], "first");
}

#[tokio::test]
async fn articles_filter_by_outlet_publication_time_and_language() {
    let db = TestDb::new().await;
    let tass = outlet(&db, "TASS").await;
    let rudaw = outlet(&db, "Rudaw").await;
    create(&db, json!({ "outletId": tass, "title": "t-june", "publishedAt": "2017-06-30T12:00:00Z", "language": "ru" }))
        .await;
    create(&db, json!({ "outletId": tass, "title": "t-july", "publishedAt": "2017-07-24T18:05:00Z", "language": "en" }))
        .await;
    create(&db, json!({ "outletId": rudaw, "title": "r-july", "publishedAt": "2017-07-24T09:00:00Z", "language": "en" }))
        .await;
    create(&db, json!({ "outletId": rudaw, "title": "r-undated" })).await;

    let by_outlet = db
        .ok(PAGE, json!({ "filter": { "outletIds": [tass] } }))
        .await["articles"]
        .clone();
    assert_eq!(titles(&by_outlet), ["t-july", "t-june"]);
    assert_eq!(by_outlet["totalCount"], 2);

    let july =
        json!({ "publishedFrom": "2017-07-01T00:00:00Z", "publishedTo": "2017-07-24T18:05:00Z" });
    let in_july = db.ok(PAGE, json!({ "filter": july })).await["articles"].clone();
    assert_eq!(
        titles(&in_july),
        ["r-july", "t-july"],
        "both bounds are inclusive; undated articles drop out"
    );

    let english_tass = db
        .ok(
            PAGE,
            json!({ "filter": { "language": "en", "outletIds": [tass] } }),
        )
        .await["articles"]
        .clone();
    assert_eq!(titles(&english_tass), ["t-july"]);

    let backwards =
        json!({ "publishedFrom": "2017-08-01T00:00:00Z", "publishedTo": "2017-07-01T00:00:00Z" });
    let error = db.err(PAGE, json!({ "filter": backwards })).await;
    assert_eq!(error["extensions"]["code"], "BAD_USER_INPUT");
    assert_eq!(error["extensions"]["field"], "filter.publishedTo");

    let error = db
        .err(PAGE, json!({ "filter": { "outletIds": ["tass"] } }))
        .await;
    assert_eq!(error["extensions"]["code"], "BAD_USER_INPUT");
    assert_eq!(error["extensions"]["field"], "filter.outletIds[0]");
}

#[tokio::test]
async fn article_statements_lists_the_statements_it_reported() {
    let db = TestDb::new().await;
    let tass = outlet(&db, "TASS").await;
    let article = create(&db, json!({ "outletId": tass, "title": "Lavrov" })).await;
    let other = create(&db, json!({ "outletId": tass, "title": "Other" })).await;
    let statement = statement_in(&db, &article["id"]).await;
    statement_in(&db, &other["id"]).await;
    let query = "query($id: ID!) { article(id: $id) { statements(first: 10) { totalCount edges { node { id } } } } }";
    let data = db.ok(query, json!({ "id": article["id"] })).await;
    let statements = &data["article"]["statements"];
    assert_eq!(statements["totalCount"], 1);
    assert_eq!(statements["edges"][0]["node"]["id"], statement.to_string());
}
