//! Verdicts through the real schema: the derived score on each reviewer's own scale,
//! create/update/publish/delete with versions and revisions, the list and its
//! filters, the schema.org ClaimReview, and every refused input (which writes nothing).

use serde_json::{Value, json};
use tests::TestDb;
use tests::check::{id_of, revisions};
use tests::fixtures::{claim, speaker, statement};

const FIELDS: &str = "id version status ratingLabel ratingValue bestRating worstRating score summary url publishedAt \
                      createdAt updatedAt statement { id } claim { id } reviewer { id }";

fn create_mutation() -> String {
    format!(
        "mutation($input: CreateVerdictInput!) {{ createVerdict(input: $input) {{ verdict {{ {FIELDS} }} }} }}"
    )
}

fn update_mutation() -> String {
    format!(
        "mutation($input: UpdateVerdictInput!) {{ updateVerdict(input: $input) {{ verdict {{ {FIELDS} }} }} }}"
    )
}

fn publish_mutation() -> String {
    format!(
        "mutation($input: PublishVerdictInput!) {{ publishVerdict(input: $input) {{ verdict {{ {FIELDS} }} }} }}"
    )
}

const DELETE: &str =
    r#"mutation($input: DeleteInput!) { deleteVerdict(input: $input) { deletedId version } }"#;

/// What most tests need: a speaker's statement on a claim, and a reviewing outlet.
struct Fixture {
    statement: String,
    claim: String,
    reviewer: String,
}

async fn fixture(db: &TestDb) -> Fixture {
    let reviewer = outlet(db, "PolitiFact").await;
    let claim = claim(
        db,
        "Russia and the U.S. will set up a joint cyber security unit",
    )
    .await;
    let trump = speaker(db, "Donald Trump").await;
    let statement = statement(
        db,
        json!({
            "speakerId": trump,
            "text": "Putin & I discussed forming an impenetrable Cyber Security unit.",
            "kind": "QUOTE",
            "statedOn": "2017-07-09",
            "language": "en",
            "stances": [{ "claimId": claim, "stance": "SUPPORTS" }],
        }),
    )
    .await;
    Fixture {
        statement,
        claim,
        reviewer,
    }
}

/// An outlet named `name` with PolitiFact's homepage, which the ClaimReview names.
async fn outlet(db: &TestDb, name: &str) -> String {
    db.ok(
        r#"mutation($input: CreateOutletInput!) { createOutlet(input: $input) { outlet { id } } }"#,
        json!({ "input": { "name": name, "homepage": "https://www.politifact.com/" } }),
    )
    .await["createOutlet"]["outlet"]["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn create(db: &TestDb, input: Value) -> Value {
    db.ok(&create_mutation(), json!({ "input": input })).await["createVerdict"]["verdict"].clone()
}

#[tokio::test]
async fn create_verdict_on_a_statement_derives_the_score_and_starts_as_draft() {
    let db = TestDb::new().await;
    let f = fixture(&db).await;

    let v = create(
        &db,
        json!({
            "statementId": f.statement, "reviewerId": f.reviewer, "ratingLabel": " Mostly False ",
            "ratingValue": 2, "bestRating": 5, "worstRating": 1,
            "summary": "No such unit was set up.",
            "url": "HTTPS://WWW.PolitiFact.com/factchecks/2017/jul/10/?utm_source=x#top",
        }),
    )
    .await;
    assert_eq!(v["score"], 0.25);
    assert_eq!(v["ratingLabel"], "Mostly False");
    assert_eq!(v["status"], "DRAFT");
    assert_eq!(v["publishedAt"], Value::Null);
    assert_eq!(v["version"], 1);
    assert_eq!(
        v["url"],
        "https://www.politifact.com/factchecks/2017/jul/10/"
    );
    assert_eq!(v["statement"]["id"], f.statement.as_str());
    assert_eq!(v["claim"], Value::Null);
    assert_eq!(v["reviewer"]["id"], f.reviewer.as_str());

    let read = db
        .ok(
            r#"query($id: ID!) { verdict(id: $id) { id score } }"#,
            json!({ "id": v["id"] }),
        )
        .await;
    assert_eq!(read["verdict"]["score"], 0.25);

    let revs = revisions(&db, &id_of(&v)).await;
    assert_eq!(revs.len(), 1);
    assert_eq!(revs[0].action, entity::RevisionAction::Create);
    assert_eq!(
        revs[0].after.clone().unwrap()["rating_label"],
        "Mostly False"
    );
}

#[tokio::test]
async fn a_reversed_scale_scores_from_its_worst_end() {
    let db = TestDb::new().await;
    let f = fixture(&db).await;
    // Some reviewers rate 1 as best: 2 on a 1 (best) .. 5 (worst) scale is good.
    let v = create(
        &db,
        json!({ "claimId": f.claim, "reviewerId": f.reviewer, "ratingLabel": "Mostly True",
                "ratingValue": 2, "bestRating": 1, "worstRating": 5 }),
    )
    .await;
    assert_eq!(v["score"], 0.75);
    assert_eq!(v["claim"]["id"], f.claim.as_str());
    assert_eq!(v["statement"], Value::Null);
}

#[tokio::test]
async fn a_rating_without_its_scale_is_on_the_schema_org_default() {
    let db = TestDb::new().await;
    let f = fixture(&db).await;
    let v = create(&db, json!({ "claimId": f.claim, "reviewerId": f.reviewer, "ratingLabel": "Half True", "ratingValue": 3 }))
        .await;
    assert_eq!(
        (v["bestRating"].clone(), v["worstRating"].clone()),
        (json!(5.0), json!(1.0))
    );
    assert_eq!(v["score"], 0.5);

    let label_only = create(
        &db,
        json!({ "claimId": f.claim, "reviewerId": f.reviewer, "ratingLabel": "Misleading" }),
    )
    .await;
    assert_eq!(label_only["ratingValue"], Value::Null);
    assert_eq!(label_only["bestRating"], Value::Null);
    assert_eq!(label_only["score"], Value::Null);
}

#[tokio::test]
async fn create_verdict_rejects_a_rating_off_its_scale() {
    let db = TestDb::new().await;
    let f = fixture(&db).await;
    let before = db.counts().await;
    let cases = [
        (
            json!({ "ratingValue": 0, "bestRating": 5, "worstRating": 1 }),
            "input.ratingValue",
        ),
        (json!({ "ratingValue": 6 }), "input.ratingValue"),
        (
            json!({ "ratingValue": 0.5, "bestRating": 1, "worstRating": 5 }),
            "input.ratingValue",
        ),
        (
            json!({ "bestRating": 3, "worstRating": 3 }),
            "input.bestRating",
        ),
    ];
    for (rating, field) in cases {
        let mut input =
            json!({ "statementId": f.statement, "reviewerId": f.reviewer, "ratingLabel": "False" });
        input
            .as_object_mut()
            .unwrap()
            .extend(rating.as_object().unwrap().clone());
        let err = db.err(&create_mutation(), json!({ "input": input })).await;
        assert_eq!(err["extensions"]["code"], "BAD_USER_INPUT", "{rating}");
        assert_eq!(err["extensions"]["field"], field, "{rating}");
    }
    assert_eq!(db.counts().await, before);
}

#[tokio::test]
async fn create_verdict_needs_exactly_one_subject() {
    let db = TestDb::new().await;
    let f = fixture(&db).await;
    let before = db.counts().await;

    let none = json!({ "reviewerId": f.reviewer, "ratingLabel": "False" });
    let both = json!({ "statementId": f.statement, "claimId": f.claim, "reviewerId": f.reviewer, "ratingLabel": "False" });
    for input in [none, both] {
        let err = db.err(&create_mutation(), json!({ "input": input })).await;
        assert_eq!(err["extensions"]["code"], "BAD_USER_INPUT", "{input}");
        assert_eq!(err["extensions"]["field"], "input.statementId", "{input}");
    }
    assert_eq!(db.counts().await, before);
}

#[tokio::test]
async fn create_verdict_names_the_unknown_reference() {
    let db = TestDb::new().await;
    let f = fixture(&db).await;
    let before = db.counts().await;
    let nobody = uuid::Uuid::now_v7().to_string();

    let cases = [
        (
            json!({ "statementId": nobody, "reviewerId": f.reviewer }),
            "input.statementId",
        ),
        (
            json!({ "claimId": nobody, "reviewerId": f.reviewer }),
            "input.claimId",
        ),
        (
            json!({ "claimId": f.claim, "reviewerId": nobody }),
            "input.reviewerId",
        ),
    ];
    for (mut input, field) in cases {
        input["ratingLabel"] = json!("False");
        let err = db.err(&create_mutation(), json!({ "input": input })).await;
        assert_eq!(err["extensions"]["code"], "NOT_FOUND", "{input}");
        assert_eq!(err["extensions"]["field"], field, "{input}");
    }
    let err = db
        .err(&create_mutation(), json!({ "input": { "claimId": "nope", "reviewerId": f.reviewer, "ratingLabel": "False" } }))
        .await;
    assert_eq!(err["extensions"]["code"], "BAD_USER_INPUT");
    assert_eq!(err["extensions"]["field"], "input.claimId");
    assert_eq!(db.counts().await, before);
}

#[tokio::test]
async fn create_verdict_rejects_a_blank_label_and_a_bad_url() {
    let db = TestDb::new().await;
    let f = fixture(&db).await;
    let before = db.counts().await;
    let cases = [
        (json!({ "ratingLabel": "  " }), "input.ratingLabel"),
        (
            json!({ "ratingLabel": "x".repeat(201) }),
            "input.ratingLabel",
        ),
        (
            json!({ "ratingLabel": "False", "url": "ftp://example.org/x" }),
            "input.url",
        ),
    ];
    for (mut input, field) in cases {
        input["claimId"] = json!(f.claim);
        input["reviewerId"] = json!(f.reviewer);
        let err = db.err(&create_mutation(), json!({ "input": input })).await;
        assert_eq!(err["extensions"]["code"], "BAD_USER_INPUT", "{input}");
        assert_eq!(err["extensions"]["field"], field, "{input}");
    }
    assert_eq!(db.counts().await, before);
}

#[tokio::test]
async fn a_verdict_created_published_gets_a_publication_time() {
    let db = TestDb::new().await;
    let f = fixture(&db).await;
    let v = create(&db, json!({ "claimId": f.claim, "reviewerId": f.reviewer, "ratingLabel": "False", "status": "PUBLISHED" }))
        .await;
    assert_eq!(v["status"], "PUBLISHED");
    assert!(v["publishedAt"].is_string());

    let given = create(
        &db,
        json!({ "claimId": f.claim, "reviewerId": f.reviewer, "ratingLabel": "False", "status": "PUBLISHED",
                "publishedAt": "2017-07-10T12:00:00Z" }),
    )
    .await;
    assert_eq!(given["publishedAt"], "2017-07-10T12:00:00+00:00");
}

#[tokio::test]
async fn update_verdict_bumps_the_version_and_rescores() {
    let db = TestDb::new().await;
    let f = fixture(&db).await;
    let v = create(
        &db,
        json!({ "statementId": f.statement, "reviewerId": f.reviewer, "ratingLabel": "Mostly False", "ratingValue": 2 }),
    )
    .await;

    let data = db
        .ok(
            &update_mutation(),
            json!({ "input": { "id": v["id"], "version": 1, "ratingLabel": "Pants on Fire", "ratingValue": 0,
                               "bestRating": 5, "worstRating": 0, "summary": "Never happened." } }),
        )
        .await;
    let u = &data["updateVerdict"]["verdict"];
    assert_eq!(u["version"], 2);
    assert_eq!(u["ratingLabel"], "Pants on Fire");
    assert_eq!(u["score"], 0.0);
    assert_eq!(u["summary"], "Never happened.");
    assert_eq!(
        u["statement"]["id"],
        f.statement.as_str(),
        "fields left out stay"
    );

    // Moving the verdict from the statement to the claim: clear one, set the other.
    let data = db
        .ok(
            &update_mutation(),
            json!({ "input": { "id": v["id"], "version": 2, "statementId": null, "claimId": f.claim, "summary": null } }),
        )
        .await;
    let u = &data["updateVerdict"]["verdict"];
    assert_eq!(u["version"], 3);
    assert_eq!(u["statement"], Value::Null);
    assert_eq!(u["claim"]["id"], f.claim.as_str());
    assert_eq!(u["summary"], Value::Null);

    let revs = revisions(&db, &id_of(&v)).await;
    assert_eq!(
        revs.iter().map(|r| r.version).collect::<Vec<_>>(),
        vec![1, 2, 3]
    );
    assert_eq!(
        revs[1].before.clone().unwrap()["rating_label"],
        "Mostly False"
    );
    assert_eq!(
        revs[1].after.clone().unwrap()["rating_label"],
        "Pants on Fire"
    );
}

#[tokio::test]
async fn update_verdict_refuses_bad_merges_and_stale_versions_writing_nothing() {
    let db = TestDb::new().await;
    let f = fixture(&db).await;
    let v = create(&db, json!({ "statementId": f.statement, "reviewerId": f.reviewer, "ratingLabel": "False", "ratingValue": 2 }))
        .await;
    let before = db.counts().await;

    let cases = [
        (
            json!({ "version": 1, "claimId": f.claim }),
            "BAD_USER_INPUT",
            "input.statementId",
        ),
        (
            json!({ "version": 1, "statementId": null }),
            "BAD_USER_INPUT",
            "input.statementId",
        ),
        (
            json!({ "version": 1, "bestRating": 1.5 }),
            "BAD_USER_INPUT",
            "input.ratingValue",
        ),
        (
            json!({ "version": 1, "reviewerId": uuid::Uuid::now_v7().to_string() }),
            "NOT_FOUND",
            "input.reviewerId",
        ),
        (
            json!({ "version": 0, "ratingLabel": "True" }),
            "CONFLICT",
            "version",
        ),
    ];
    for (mut input, code, field) in cases {
        input["id"] = v["id"].clone();
        let err = db.err(&update_mutation(), json!({ "input": input })).await;
        assert_eq!(err["extensions"]["code"], code, "{input}");
        assert_eq!(err["extensions"]["field"], field, "{input}");
    }
    assert_eq!(db.counts().await, before);
}

#[tokio::test]
async fn publish_verdict_sets_status_and_publication_time() {
    let db = TestDb::new().await;
    let f = fixture(&db).await;
    let draft = create(
        &db,
        json!({ "claimId": f.claim, "reviewerId": f.reviewer, "ratingLabel": "False" }),
    )
    .await;

    let data = db
        .ok(
            &publish_mutation(),
            json!({ "input": { "id": draft["id"], "version": 1 } }),
        )
        .await;
    let p = &data["publishVerdict"]["verdict"];
    assert_eq!(p["status"], "PUBLISHED");
    assert_eq!(p["version"], 2);
    let published_at: chrono::DateTime<chrono::Utc> =
        p["publishedAt"].as_str().unwrap().parse().unwrap();
    assert!(
        (chrono::Utc::now() - published_at).num_seconds().abs() < 60,
        "defaults to now"
    );

    let other = create(
        &db,
        json!({ "claimId": f.claim, "reviewerId": f.reviewer, "ratingLabel": "True" }),
    )
    .await;
    let data = db
        .ok(
            &publish_mutation(),
            json!({ "input": { "id": other["id"], "version": 1, "publishedAt": "2017-07-10T09:30:00Z" } }),
        )
        .await;
    assert_eq!(
        data["publishVerdict"]["verdict"]["publishedAt"],
        "2017-07-10T09:30:00+00:00"
    );

    let revs = revisions(&db, &id_of(&draft)).await;
    assert_eq!(revs.len(), 2);
    assert_eq!(revs[1].before.clone().unwrap()["status"], "DRAFT");
    assert_eq!(revs[1].after.clone().unwrap()["status"], "PUBLISHED");
}

#[tokio::test]
async fn publish_verdict_with_a_stale_version_is_a_conflict() {
    let db = TestDb::new().await;
    let f = fixture(&db).await;
    let draft = create(
        &db,
        json!({ "claimId": f.claim, "reviewerId": f.reviewer, "ratingLabel": "False" }),
    )
    .await;
    db.ok(
        &update_mutation(),
        json!({ "input": { "id": draft["id"], "version": 1, "summary": "Edited" } }),
    )
    .await;
    let before = db.counts().await;

    let err = db
        .err(
            &publish_mutation(),
            json!({ "input": { "id": draft["id"], "version": 1 } }),
        )
        .await;
    assert_eq!(err["extensions"]["code"], "CONFLICT");
    assert_eq!(err["extensions"]["field"], "version");
    assert_eq!(db.counts().await, before);
    let read = db
        .ok(
            r#"query($id: ID!) { verdict(id: $id) { status } }"#,
            json!({ "id": draft["id"] }),
        )
        .await;
    assert_eq!(read["verdict"]["status"], "DRAFT");
}

#[tokio::test]
async fn clearing_the_publication_time_of_a_published_verdict_is_refused() {
    let db = TestDb::new().await;
    let f = fixture(&db).await;
    let v = create(&db, json!({ "claimId": f.claim, "reviewerId": f.reviewer, "ratingLabel": "False", "status": "PUBLISHED" }))
        .await;
    let before = db.counts().await;
    let err = db
        .err(
            &update_mutation(),
            json!({ "input": { "id": v["id"], "version": 1, "publishedAt": null } }),
        )
        .await;
    assert_eq!(err["extensions"]["code"], "BAD_USER_INPUT");
    assert_eq!(err["extensions"]["field"], "input.publishedAt");
    assert_eq!(db.counts().await, before);
}

#[tokio::test]
async fn claim_review_of_a_statement_verdict_is_schema_org_json_ld() {
    let db = TestDb::new().await;
    let f = fixture(&db).await;
    let v = create(
        &db,
        json!({ "statementId": f.statement, "reviewerId": f.reviewer, "ratingLabel": "Mostly False",
                "ratingValue": 2, "bestRating": 5, "worstRating": 1, "status": "PUBLISHED",
                "publishedAt": "2017-07-10T12:00:00Z", "url": "https://www.politifact.com/factchecks/2017/jul/10/" }),
    )
    .await;

    let data = db
        .ok(
            r#"query($id: ID!) { verdict(id: $id) { claimReview } }"#,
            json!({ "id": v["id"] }),
        )
        .await;
    assert_eq!(
        data["verdict"]["claimReview"],
        json!({
            "@context": "https://schema.org",
            "@type": "ClaimReview",
            "url": "https://www.politifact.com/factchecks/2017/jul/10/",
            "datePublished": "2017-07-10",
            "author": { "@type": "Organization", "name": "PolitiFact", "url": "https://www.politifact.com/" },
            "claimReviewed": "Putin & I discussed forming an impenetrable Cyber Security unit.",
            "inLanguage": "en",
            "itemReviewed": {
                "@type": "Claim",
                "author": { "@type": "Person", "name": "Donald Trump" },
                "datePublished": "2017-07-09",
            },
            "reviewRating": {
                "@type": "Rating",
                "ratingValue": 2,
                "bestRating": 5,
                "worstRating": 1,
                "alternateName": "Mostly False",
            },
        })
    );
}

#[tokio::test]
async fn claim_review_of_a_claim_verdict_reviews_the_claim_text() {
    let db = TestDb::new().await;
    let f = fixture(&db).await;
    let v = create(
        &db,
        json!({ "claimId": f.claim, "reviewerId": f.reviewer, "ratingLabel": "Unproven", "summary": "Too early to tell." }),
    )
    .await;

    let data = db
        .ok(
            r#"query($id: ID!) { verdict(id: $id) { claimReview } }"#,
            json!({ "id": v["id"] }),
        )
        .await;
    let review = &data["verdict"]["claimReview"];
    assert_eq!(review["@type"], "ClaimReview");
    assert_eq!(
        review["claimReviewed"],
        "Russia and the U.S. will set up a joint cyber security unit"
    );
    assert_eq!(review["itemReviewed"], json!({ "@type": "Claim" }));
    assert_eq!(
        review["reviewRating"],
        json!({ "@type": "Rating", "alternateName": "Unproven" })
    );
    assert_eq!(review["reviewBody"], "Too early to tell.");
    assert!(
        review.get("datePublished").is_none(),
        "a draft has no publication date"
    );
    assert!(review.get("url").is_none());
}

#[tokio::test]
async fn verdicts_are_listed_newest_first_and_filtered() {
    let db = TestDb::new().await;
    let f = fixture(&db).await;
    let snopes = outlet(&db, "Snopes").await;
    let a = id_of(
        &create(
            &db,
            json!({ "statementId": f.statement, "reviewerId": f.reviewer, "ratingLabel": "False" }),
        )
        .await,
    );
    let b = id_of(
        &create(&db, json!({ "claimId": f.claim, "reviewerId": f.reviewer, "ratingLabel": "False", "status": "PUBLISHED" }))
            .await,
    );
    let c = id_of(
        &create(
            &db,
            json!({ "claimId": f.claim, "reviewerId": snopes, "ratingLabel": "Unproven" }),
        )
        .await,
    );

    let list = r#"query($filter: VerdictFilter, $first: Int, $after: String) {
        verdicts(filter: $filter, first: $first, after: $after) {
            totalCount edges { node { id } } pageInfo { hasNextPage endCursor }
        }
    }"#;
    let nodes = |v: &Value| -> Vec<String> {
        v["verdicts"]["edges"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["node"]["id"].as_str().unwrap().to_owned())
            .collect()
    };

    let all = db.ok(list, json!({})).await;
    assert_eq!(nodes(&all), vec![c.clone(), b.clone(), a.clone()]);
    assert_eq!(all["verdicts"]["totalCount"], 3);

    let first = db.ok(list, json!({ "first": 2 })).await;
    assert_eq!(nodes(&first), vec![c.clone(), b.clone()]);
    assert_eq!(first["verdicts"]["pageInfo"]["hasNextPage"], true);
    let rest = db
        .ok(
            list,
            json!({ "first": 2, "after": first["verdicts"]["pageInfo"]["endCursor"] }),
        )
        .await;
    assert_eq!(nodes(&rest), vec![a.clone()]);
    assert_eq!(rest["verdicts"]["pageInfo"]["hasNextPage"], false);

    let by = |filter: Value| db.ok(list, json!({ "filter": filter }));
    assert_eq!(
        nodes(&by(json!({ "statementIds": [f.statement] })).await),
        vec![a.clone()]
    );
    assert_eq!(
        nodes(&by(json!({ "claimIds": [f.claim] })).await),
        vec![c.clone(), b.clone()]
    );
    assert_eq!(
        nodes(&by(json!({ "reviewerIds": [snopes] })).await),
        vec![c.clone()]
    );
    assert_eq!(
        nodes(&by(json!({ "status": "PUBLISHED" })).await),
        vec![b.clone()]
    );
    assert_eq!(
        nodes(&by(json!({ "status": ["DRAFT", "IN_REVIEW"] })).await),
        vec![c.clone(), a.clone()]
    );
    assert_eq!(
        nodes(&by(json!({ "claimIds": [f.claim], "reviewerIds": [f.reviewer] })).await),
        vec![b.clone()]
    );

    let err = db
        .err(list, json!({ "filter": { "reviewerIds": ["x"] } }))
        .await;
    assert_eq!(err["extensions"]["field"], "filter.reviewerIds[0]");
}

#[tokio::test]
async fn delete_verdict_hides_it_and_records_a_revision() {
    let db = TestDb::new().await;
    let f = fixture(&db).await;
    let v = create(
        &db,
        json!({ "claimId": f.claim, "reviewerId": f.reviewer, "ratingLabel": "False" }),
    )
    .await;

    let err = db
        .err(DELETE, json!({ "input": { "id": v["id"], "version": 7 } }))
        .await;
    assert_eq!(err["extensions"]["code"], "CONFLICT");

    let data = db
        .ok(DELETE, json!({ "input": { "id": v["id"], "version": 1 } }))
        .await;
    assert_eq!(data["deleteVerdict"]["version"], 2);
    let read = db
        .ok(
            r#"query($id: ID!) { verdict(id: $id) { id } }"#,
            json!({ "id": v["id"] }),
        )
        .await;
    assert_eq!(read["verdict"], Value::Null);
    let listed = db
        .ok(r#"query { verdicts { totalCount } }"#, json!({}))
        .await;
    assert_eq!(listed["verdicts"]["totalCount"], 0);
    let claim = db
        .ok(
            r#"query($id: ID) { claim(id: $id) { verdicts { id } } }"#,
            json!({ "id": f.claim }),
        )
        .await;
    assert_eq!(claim["claim"]["verdicts"], json!([]));

    let revs = revisions(&db, &id_of(&v)).await;
    assert_eq!(revs.last().unwrap().action, entity::RevisionAction::Delete);
}
