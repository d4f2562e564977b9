//! "As of": answers rebuilt from the revisions, asked for every instant between
//! edits, a delete and a re-creation.

use serde_json::{Value, json};
use tests::TestDb;
use tests::fixtures::{claim, instant, speaker};

const STATEMENT_AT: &str = r#"query($id: ID!, $at: DateTime!) {
  statement(id: $id, asOf: $at) { text version stances { stance } }
}"#;

const LIST_AT: &str = r#"query($speaker: ID!, $claim: ID!, $at: DateTime!) {
  statements(asOf: $at, filter: {speakerIds: [$speaker]}) { totalCount edges { node { text } } }
  positionHistory(speakerId: $speaker, claimId: $claim, asOf: $at) { stance }
  speaker(id: $speaker, asOf: $at) { name slug }
  timeline(asOf: $at, filter: {speakerIds: [$speaker]}) { totalCount edges { node { kind } } }
}"#;

fn texts(data: &Value) -> Vec<String> {
    data["statements"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["text"].as_str().unwrap().to_owned())
        .collect()
}

fn stances(data: &Value) -> Vec<String> {
    data["positionHistory"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["stance"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn every_instant_between_edits_deletes_and_recreation_answers_as_it_stood() {
    let db = TestDb::new().await;
    let t0 = instant().await;
    let speaker = speaker(&db, "Ada Example").await;
    let claim = claim(&db, "The bridge will open in May").await;
    let create = r#"mutation($s: ID!, $c: ID!, $text: String!, $stance: Stance!) { createStatement(input: {
        speakerId: $s, text: $text, kind: QUOTE, statedOn: "2020-03-01", language: "en",
        stances: [{claimId: $c, stance: $stance}] }) { statement { id } } }"#;
    let first = db
        .ok(
            create,
            json!({ "s": speaker, "c": claim, "text": "It opens in May.", "stance": "SUPPORTS" }),
        )
        .await["createStatement"]["statement"]["id"]
        .clone();
    let t1 = instant().await;
    db.ok(
        r#"mutation($id: ID!, $c: ID!) { updateStatement(input: {id: $id, version: 1, text: "It will not open in May.",
            stances: [{claimId: $c, stance: OPPOSES}]}) { statement { id } } }"#,
        json!({ "id": first, "c": claim }),
    )
    .await;
    db.ok(
        r#"mutation($id: ID!) { updateSpeaker(input: {id: $id, version: 1, name: "Ada Renamed", slug: "ada-renamed"}) { speaker { id } } }"#,
        json!({ "id": speaker }),
    )
    .await;
    let t2 = instant().await;
    db.ok(
        r#"mutation($id: ID!) { deleteStatement(input: {id: $id, version: 2}) { deletedId } }"#,
        json!({ "id": first }),
    )
    .await;
    let t3 = instant().await;
    db.ok(
        create,
        json!({ "s": speaker, "c": claim, "text": "It opens in June.", "stance": "NEUTRAL" }),
    )
    .await;
    let t4 = instant().await;

    // The statement itself.
    let at = |t: &str| json!({ "id": first, "at": t });
    assert!(
        db.ok(STATEMENT_AT, at(&t0)).await["statement"].is_null(),
        "created later: absent"
    );
    assert_eq!(
        db.ok(STATEMENT_AT, at(&t1)).await["statement"],
        json!({ "text": "It opens in May.", "version": 1, "stances": [{ "stance": "SUPPORTS" }] })
    );
    assert_eq!(
        db.ok(STATEMENT_AT, at(&t2)).await["statement"],
        json!({ "text": "It will not open in May.", "version": 2, "stances": [{ "stance": "OPPOSES" }] })
    );
    assert!(
        db.ok(STATEMENT_AT, at(&t3)).await["statement"].is_null(),
        "deleted by then"
    );
    assert!(db.ok(STATEMENT_AT, at(&t4)).await["statement"].is_null());

    // Lists, positions, the speaker and the timeline.
    let list = |t: &str| json!({ "speaker": speaker, "claim": claim, "at": t });
    let d0 = db.ok(LIST_AT, list(&t0)).await;
    assert_eq!(d0["statements"]["totalCount"], 0);
    assert!(d0["speaker"].is_null());
    assert_eq!(stances(&d0), Vec::<String>::new());
    let d1 = db.ok(LIST_AT, list(&t1)).await;
    assert_eq!(texts(&d1), ["It opens in May."]);
    assert_eq!(stances(&d1), ["SUPPORTS"]);
    assert_eq!(
        d1["speaker"],
        json!({ "name": "Ada Example", "slug": "ada-example" })
    );
    assert_eq!(d1["timeline"]["totalCount"], 1);
    let d2 = db.ok(LIST_AT, list(&t2)).await;
    assert_eq!(texts(&d2), ["It will not open in May."]);
    assert_eq!(stances(&d2), ["OPPOSES"]);
    assert_eq!(
        d2["speaker"],
        json!({ "name": "Ada Renamed", "slug": "ada-renamed" })
    );
    let d3 = db.ok(LIST_AT, list(&t3)).await;
    assert_eq!(d3["statements"]["totalCount"], 0);
    assert_eq!(d3["timeline"]["totalCount"], 0);
    let d4 = db.ok(LIST_AT, list(&t4)).await;
    assert_eq!(texts(&d4), ["It opens in June."]);
    assert_eq!(stances(&d4), ["NEUTRAL"]);

    // Slugs resolve to what they named then.
    let by_slug =
        r#"query($slug: String!, $at: DateTime!) { speaker(slug: $slug, asOf: $at) { name } }"#;
    assert_eq!(
        db.ok(by_slug, json!({ "slug": "ada-example", "at": t1 }))
            .await["speaker"]["name"],
        "Ada Example"
    );
    assert!(
        db.ok(by_slug, json!({ "slug": "ada-example", "at": t4 }))
            .await["speaker"]
            .is_null()
    );
    assert_eq!(
        db.ok(by_slug, json!({ "slug": "ada-renamed", "at": t4 }))
            .await["speaker"]["name"],
        "Ada Renamed"
    );
}

#[tokio::test]
async fn as_of_timeline_shows_a_change_that_a_later_edit_removed() {
    let db = TestDb::new().await;
    claimtrack::demo::load(db.db()).await.unwrap();
    let claim = db
        .ok(
            r#"{ claim(slug: "russia-us-cyber-security-working-group") { id } }"#,
            json!({}),
        )
        .await["claim"]["id"]
        .clone();
    let query = r#"query($c: ID!, $at: DateTime) {
      timeline(asOf: $at, filter: {claimIds: [$c], kinds: [POSITION_CHANGE]}) {
        totalCount edges { node { change { from { stance } to { stance statement { id version } } } } }
      } }"#;
    let before = db.ok(query, json!({ "c": claim, "at": null })).await;
    assert_eq!(before["timeline"]["totalCount"], 1);
    let to = before["timeline"]["edges"][0]["node"]["change"]["to"]["statement"].clone();
    let t = instant().await;
    db.ok(
        r#"mutation($id: ID!, $v: Int!, $c: ID!) { updateStatement(input: {id: $id, version: $v,
            stances: [{claimId: $c, stance: SUPPORTS}]}) { statement { id } } }"#,
        json!({ "id": to["id"], "v": to["version"], "c": claim }),
    )
    .await;
    assert_eq!(
        db.ok(query, json!({ "c": claim, "at": null })).await["timeline"]["totalCount"],
        0,
        "no change now"
    );
    let then = db.ok(query, json!({ "c": claim, "at": t })).await;
    assert_eq!(then["timeline"]["totalCount"], 1, "but there was one then");
    assert_eq!(
        then["timeline"]["edges"][0]["node"]["change"]["from"]["stance"],
        "SUPPORTS"
    );
    assert_eq!(
        then["timeline"]["edges"][0]["node"]["change"]["to"]["stance"], "OPPOSES",
        "the stance of then"
    );
}
