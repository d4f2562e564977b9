//! A nested page costs a fixed number of SQL statements, whatever its size: every
//! object-to-object field goes through a batch loader.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use claimtrack::config::Limits;
use claimtrack::graphql::build_schema;
use serde_json::{Value, json};
use tests::TestDb;

const PAGE: &str = r#"
query($first: Int!) {
  statements(first: $first) {
    totalCount
    edges { node {
      text
      speaker { name roles { title } }
      speakerRole { title }
      reportedBy { name }
      stances { stance claim { text } }
      appearances { first article { title outlet { name } } }
      verdicts { ratingLabel score reviewer { name } }
      links { relation targetStatement { text } }
      topics { name }
    } }
  }
}"#;

async fn id_of(db: &TestDb, query: &str, vars: Value, path: &[&str]) -> String {
    let mut data = db.ok(query, vars).await;
    for key in path {
        data = data[*key].take();
    }
    data["id"].as_str().expect("an id").to_owned()
}

/// `n` statements, each by its own speaker, on its own claim, reported in its own
/// article of one of two outlets, with a verdict each.
async fn seed(db: &TestDb, n: usize) {
    let outlets = [
        id_of(
            db,
            "mutation { createOutlet(input: {name: \"Outlet A\"}) { outlet { id } } }",
            json!({}),
            &["createOutlet", "outlet"],
        )
        .await,
        id_of(
            db,
            "mutation { createOutlet(input: {name: \"Outlet B\"}) { outlet { id } } }",
            json!({}),
            &["createOutlet", "outlet"],
        )
        .await,
    ];
    let topic = id_of(
        db,
        "mutation { createTopic(input: {name: \"Politics\"}) { topic { id } } }",
        json!({}),
        &["createTopic", "topic"],
    )
    .await;
    for i in 0..n {
        let speaker = id_of(
            db,
            "mutation($name: String!) { createSpeaker(input: {name: $name, kind: PERSON}) { speaker { id } } }",
            json!({ "name": format!("Speaker {i}") }),
            &["createSpeaker", "speaker"],
        )
        .await;
        db.ok(
            "mutation($s: ID!) { createSpeakerRole(input: {speakerId: $s, title: \"Minister\", startedOn: \"2000-01-01\"}) { speakerRole { id } } }",
            json!({ "s": speaker }),
        )
        .await;
        let claim = id_of(
            db,
            "mutation($t: String!) { createClaim(input: {text: $t}) { claim { id } } }",
            json!({ "t": format!("Claim number {i}") }),
            &["createClaim", "claim"],
        )
        .await;
        let article = id_of(
            db,
            "mutation($o: ID!, $t: String!) { createArticle(input: {outletId: $o, title: $t}) { article { id } } }",
            json!({ "o": outlets[i % 2], "t": format!("Article {i}") }),
            &["createArticle", "article"],
        )
        .await;
        let statement = id_of(
            db,
            r#"mutation($s: ID!, $c: ID!, $a: ID!, $t: ID!, $text: String!) { createStatement(input: {
                speakerId: $s, text: $text, kind: QUOTE, statedOn: "2020-05-04", language: "en",
                stances: [{claimId: $c, stance: SUPPORTS}], topicIds: [$t],
                appearances: [{articleId: $a, first: true}] }) { statement { id } } }"#,
            json!({ "s": speaker, "c": claim, "a": article, "t": topic, "text": format!("Statement {i}") }),
            &["createStatement", "statement"],
        )
        .await;
        db.ok(
            r#"mutation($st: ID!, $o: ID!) { createVerdict(input: {statementId: $st, reviewerId: $o,
                ratingLabel: "Mostly False", ratingValue: 2, bestRating: 5, worstRating: 1}) { verdict { id } } }"#,
            json!({ "st": statement, "o": outlets[(i + 1) % 2] }),
        )
        .await;
    }
}

/// Runs the nested page on a connection that counts its SQL statements.
async fn statements_for_page(db: &TestDb, first: usize) -> usize {
    let mut conn = claimtrack::db::connect(&db.url(), &Default::default())
        .await
        .expect("connect");
    let counter = Arc::new(AtomicUsize::new(0));
    let seen = counter.clone();
    conn.set_metric_callback(move |_| {
        seen.fetch_add(1, Ordering::SeqCst);
    });
    let schema = build_schema(conn, &Limits::default());
    let request = async_graphql::Request::new(PAGE)
        .variables(async_graphql::Variables::from_json(
            json!({ "first": first }),
        ))
        .data(claimtrack::auth::Viewer::trusted());
    let response = serde_json::to_value(schema.execute(request).await).expect("json");
    assert!(response.get("errors").is_none(), "{response:#}");
    let edges = response["data"]["statements"]["edges"]
        .as_array()
        .expect("edges")
        .clone();
    assert_eq!(edges.len(), first);
    for edge in &edges {
        let node = &edge["node"];
        assert_eq!(
            node["appearances"][0]["article"]["outlet"]["name"]
                .as_str()
                .map(|n| n.starts_with("Outlet")),
            Some(true)
        );
        assert_eq!(node["verdicts"][0]["score"], json!(0.25));
        assert_eq!(node["speakerRole"]["title"], "Minister");
    }
    counter.load(Ordering::SeqCst)
}

#[tokio::test]
async fn nested_statement_page_costs_the_same_sql_for_5_or_25_items() {
    let db = TestDb::new().await;
    seed(&db, 25).await;
    let small = statements_for_page(&db, 5).await;
    let large = statements_for_page(&db, 25).await;
    eprintln!("nested page: {small} SQL statements for 5 items, {large} for 25 items");
    // Loads of one table from two places (article outlets, verdict reviewers) share a
    // batch or not, as they happen to land in one tick: a difference of one is timing.
    // An N+1 would add at least one statement per extra item (20 here).
    assert!(
        large <= small + 1,
        "the SQL count grows with the page size: N+1 somewhere"
    );
    // One page query, one count, and one batch per relation the query touches (13).
    assert!(
        small <= 15 && large <= 15,
        "{small} and {large} statements for one nested page"
    );
}
