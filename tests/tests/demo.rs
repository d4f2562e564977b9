//! The demo data set: DESIGN.md's worked example, loaded idempotently, answers the
//! journalist's question in one query.

use serde_json::json;
use tests::TestDb;

#[tokio::test]
async fn demo_loads_once_however_often_it_runs() {
    let db = TestDb::new().await;
    let created = claimtrack::demo::load(db.db())
        .await
        .expect("load the demo");
    assert!(created > 20, "only {created} records created");
    let counts = db.counts().await;
    let again = claimtrack::demo::load(db.db())
        .await
        .expect("load the demo again");
    assert_eq!(again, 0);
    assert_eq!(db.counts().await, counts, "a second load wrote something");
}

#[tokio::test]
async fn demo_has_the_slugs_the_docs_rely_on() {
    let db = TestDb::new().await;
    claimtrack::demo::load(db.db())
        .await
        .expect("load the demo");
    let data = db
        .ok(
            r#"{
              lavrov: speaker(slug: "sergei-lavrov") { kind roles { title } }
              putin: speaker(slug: "vladimir-putin") { kind wikidataId }
              trump: speaker(slug: "donald-trump") { kind wikidataId }
              group: speaker(slug: "us-congress-members") { kind }
              tass: outlet(slug: "tass") { name articles { edges { node { url title } } } }
              wg: claim(slug: "russia-us-cyber-security-working-group") { text }
              ch: claim(slug: "russia-us-ukraine-channel") { text }
            }"#,
            json!({}),
        )
        .await;
    assert_eq!(
        data["lavrov"]["roles"][0]["title"],
        "Minister of Foreign Affairs of Russia"
    );
    assert_eq!(data["trump"]["wikidataId"], "Q22686");
    assert_eq!(data["group"]["kind"], "GROUP");
    let article = &data["tass"]["articles"]["edges"][0]["node"];
    assert!(
        article["url"].is_null(),
        "demo sources have no invented URL"
    );
    assert!(
        article["title"]
            .as_str()
            .unwrap_or_default()
            .starts_with("Lavrov says")
    );
    assert!(data["wg"]["text"].is_string() && data["ch"]["text"].is_string());
}

#[tokio::test]
async fn trumps_position_on_the_working_group_is_answered_in_one_query() {
    let db = TestDb::new().await;
    claimtrack::demo::load(db.db())
        .await
        .expect("load the demo");
    let claim = db
        .ok(
            r#"{ claim(slug: "russia-us-cyber-security-working-group") { id } }"#,
            json!({}),
        )
        .await;
    let data = db
        .ok(
            r#"query($claim: ID!) {
              speaker(slug: "donald-trump") {
                statements(filter: {claimIds: [$claim]}) {
                  edges { node {
                    statedOn text reported reportedBy { name }
                    stances { stance claim { id } }
                    appearances { article { title outlet { name } } }
                    links { relation targetStatement { text } }
                  } }
                }
              }
            }"#,
            json!({ "claim": claim["claim"]["id"] }),
        )
        .await;
    let edges = data["speaker"]["statements"]["edges"]
        .as_array()
        .expect("edges");
    let stance_of = |i: usize| {
        edges[i]["node"]["stances"]
            .as_array()
            .expect("stances")
            .iter()
            .find(|s| s["claim"]["id"] == claim["claim"]["id"])
            .map(|s| s["stance"].clone())
    };
    assert_eq!(edges.len(), 3);
    assert_eq!(
        (edges[0]["node"]["statedOn"].clone(), stance_of(0)),
        (json!("2017-07-07"), Some(json!("SUPPORTS")))
    );
    assert_eq!(edges[0]["node"]["reportedBy"]["name"], "Sergei Lavrov");
    assert_eq!(
        edges[0]["node"]["appearances"][0]["article"]["outlet"]["name"],
        "TASS"
    );
    assert_eq!(
        (edges[1]["node"]["statedOn"].clone(), stance_of(1)),
        (json!("2017-07-09"), Some(json!("SUPPORTS")))
    );
    assert_eq!(
        (edges[2]["node"]["statedOn"].clone(), stance_of(2)),
        (json!("2017-07-09"), Some(json!("OPPOSES")))
    );
    assert_eq!(edges[1]["node"]["links"][0]["relation"], "REVERSES");
    assert_eq!(edges[0]["node"]["links"][0]["relation"], "FOLLOWS_UP");
}
