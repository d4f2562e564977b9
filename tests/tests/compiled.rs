//! Compiled queries answer as the resolvers do: every compiled field of every compiled
//! type, over generated data with the awkward cases added (instants with fractions of
//! every width, drafts, deleted rows, indirect speech), page after page, for anonymous
//! callers and editors; and the resolvers answer wherever the compiled statement
//! cannot (a value they refuse, a required object gone, a field outside it).

use async_graphql::{Request, Variables};
use claimtrack::auth::{Role, Viewer};
use claimtrack::graphql::Answer;
use claimtrack::service::generate::{Scale, generate};
use sea_orm::ConnectionTrait;
use serde_json::{Value, json};
use tests::TestDb;

const SCALE: Scale = Scale {
    statements: 2_000,
    seed: 11,
};

/// Every compiled field of a statement, with its relations' fields.
const STATEMENT_FIELDS: &str = r#"
fragment StatementFields on Statement {
  __typename id text kind statedOn statedOnPrecision venue context language reported
  createdAt updatedAt version
  speaker { __typename id name slug kind description wikidataId aliases createdAt updatedAt version }
  reportedBy { id name }
  stances {
    __typename stance
    claim { __typename id text slug createdAt updatedAt version verdicts { id status ratingLabel } }
  }
  appearances {
    __typename id first excerpt charOffset timecodeMs createdAt version
    statement { id }
    article {
      __typename id outletId url title publishedAt language byline archiveUrl createdAt updatedAt version
      outlet { __typename id name slug homepage country language createdAt updatedAt version }
    }
  }
  verdicts {
    __typename id ratingLabel ratingValue bestRating worstRating score summary url publishedAt status
    createdAt updatedAt version
    reviewer { id name }
    statement { id }
    claim { id }
  }
  links {
    __typename id relation status note createdAt updatedAt version
    source { id } targetStatement { id statedOn } targetArticle { id title }
  }
  backlinks { id status relation source { id speaker { id } } }
}
"#;

fn speaker_page() -> String {
    format!(
        r#"query SpeakerPage($speaker: ID!, $first: Int = 3, $after: String) {{
  speaker(id: $speaker) {{
    __typename id name slug kind description wikidataId aliases createdAt updatedAt version
    statements(first: $first, after: $after) {{
      __typename totalCount
      pageInfo {{ __typename hasPreviousPage hasNextPage startCursor endCursor }}
      edges {{ __typename cursor node {{ ...StatementFields }} }}
      nodes {{ id }}
    }}
  }}
}}
{STATEMENT_FIELDS}"#
    )
}

fn claim_page() -> String {
    format!(
        r#"query ClaimPage($claims: [ID!], $speakers: [ID!], $first: Int, $after: String) {{
  statements(first: $first, after: $after, filter: {{ claimIds: $claims, speakerIds: $speakers }}) {{
    totalCount
    pageInfo {{ hasPreviousPage hasNextPage startCursor endCursor }}
    edges {{ cursor node {{ ...StatementFields }} }}
  }}
}}
{STATEMENT_FIELDS}"#
    )
}

fn request(query: &str, variables: &Value, viewer: &Viewer) -> Request {
    Request::new(query)
        .variables(Variables::from_json(variables.clone()))
        .data(viewer.clone())
}

/// Numbers as numbers: the resolvers write `1.0` where PostgreSQL writes `1`.
fn numbers_as_floats(value: Value) -> Value {
    match value {
        Value::Number(n) => json!(n.as_f64()),
        Value::Array(items) => Value::Array(items.into_iter().map(numbers_as_floats).collect()),
        Value::Object(fields) => Value::Object(
            fields
                .into_iter()
                .map(|(k, v)| (k, numbers_as_floats(v)))
                .collect(),
        ),
        other => other,
    }
}

/// The resolvers' answer, and the compiled one (the document learnt first); both
/// must hold the same data, and the second must have been compiled.
async fn compare(db: &TestDb, query: &str, variables: Value, viewer: &Viewer) -> Value {
    let resolved = db
        .schema()
        .execute(request(query, &variables, viewer))
        .await;
    let resolved = serde_json::to_value(&resolved).unwrap();
    assert!(
        resolved.get("errors").is_none(),
        "the resolvers failed: {resolved:#}"
    );
    // The first answer teaches the compiler the document; the second is compiled.
    db.schema().answer(request(query, &variables, viewer)).await;
    let Answer::Compiled(body) = db.schema().answer(request(query, &variables, viewer)).await
    else {
        panic!("not compiled: {query}");
    };
    let compiled: Value = serde_json::from_str(&body).unwrap();
    // No compiled statement fails on the pipeline (to be run again by the pool).
    assert_eq!(db.pipelined("fallback"), 0, "{query}");
    assert_eq!(
        numbers_as_floats(compiled["data"].clone()),
        numbers_as_floats(resolved["data"].clone()),
        "the compiled answer differs for {variables}"
    );
    resolved["data"].clone()
}

/// The answer comes from the resolvers (and is theirs).
async fn resolved_only(db: &TestDb, query: &str, variables: Value, viewer: &Viewer) -> Value {
    let expected = db
        .schema()
        .execute(request(query, &variables, viewer))
        .await;
    let expected = errors_sorted(serde_json::to_value(&expected).unwrap());
    for _ in 0..2 {
        match db.schema().answer(request(query, &variables, viewer)).await {
            Answer::Resolved(response) => {
                let response = errors_sorted(serde_json::to_value(&response).unwrap());
                assert_eq!(response, expected);
            }
            Answer::Compiled(body) => panic!("compiled where the resolvers must answer: {body}"),
        }
    }
    expected
}

/// A response with its errors in one order (sibling fields resolve concurrently, and
/// report their errors in the order they fail).
fn errors_sorted(mut response: Value) -> Value {
    if let Some(errors) = response.get_mut("errors").and_then(Value::as_array_mut) {
        errors.sort_by_key(|e| e["path"].to_string());
    }
    response
}

async fn sql(db: &TestDb, statement: &str) {
    db.db().execute_unprepared(statement).await.unwrap();
}

async fn text(db: &TestDb, query: &str) -> String {
    tests::scalar(db.db(), query).await
}

fn editor() -> Viewer {
    Viewer {
        role: Role::Editor,
        key: None,
    }
}

/// Generated data, with the awkward cases the generator does not make, on the
/// statements of the speaker with the most of them.
async fn data() -> (TestDb, String) {
    let db = TestDb::new().await;
    generate(db.db(), SCALE).await.unwrap();
    // Sessions opened from now on default to another time zone, fewer float digits
    // and another date style: the service's connections (the pipelined ones, opened
    // later, included) set their own, or a score (0.3 / 4) loses its last digits.
    let name = text(&db, "SELECT current_database()").await;
    sql(
        &db,
        &format!(
            "ALTER DATABASE {name} SET timezone = 'Asia/Kathmandu'; \
             ALTER DATABASE {name} SET extra_float_digits = -3; \
             ALTER DATABASE {name} SET datestyle = 'SQL, DMY'"
        ),
    )
    .await;
    let speaker = text(
        &db,
        "SELECT speaker_id::text FROM statement GROUP BY speaker_id ORDER BY count(*) DESC, speaker_id LIMIT 1",
    )
    .await;
    let mine =
        format!("(SELECT id FROM statement WHERE speaker_id = '{speaker}' ORDER BY stated_on, id)");
    // Instants with no fraction, and fractions of 3 and 6 digits (with zeros inside).
    sql(&db, &format!(
        "UPDATE statement SET created_at = CASE (SELECT count(*) FROM statement o WHERE o.speaker_id = statement.speaker_id AND o.id < statement.id) % 4 \
           WHEN 0 THEN '2021-03-04 05:06:07+00' WHEN 1 THEN '2021-03-04 05:06:07.5+00' \
           WHEN 2 THEN '2021-03-04 05:06:07.120+00' ELSE '2021-03-04 05:06:07.000102+00' END::timestamptz, \
           updated_at = '1999-12-31 23:59:59.999999+00', venue = 'Brussels', context = 'a \"quoted\" \\ context' \
         WHERE id IN {mine}"
    )).await;
    sql(&db, &format!(
        "UPDATE article SET published_at = NULL, byline = 'Ann O''Nymous', url = 'https://example.org/a?b=1&c=2' \
         WHERE id IN (SELECT article_id FROM appearance WHERE statement_id IN {mine} ORDER BY id LIMIT 1)"
    )).await;
    // Indirect speech: reported by the speaker of another statement.
    sql(&db, &format!(
        "UPDATE statement SET reported_by_id = (SELECT speaker_id FROM statement WHERE speaker_id <> '{speaker}' LIMIT 1) \
         WHERE id = (SELECT id FROM {mine} m LIMIT 1)"
    )).await;
    // A deleted appearance and a deleted statement drop out; a draft verdict shows to
    // editors only; a deleted verdict to nobody.
    sql(&db, &format!(
        "UPDATE appearance SET deleted_at = now() WHERE id = (SELECT id FROM appearance WHERE statement_id IN {mine} ORDER BY id LIMIT 1)"
    )).await;
    sql(&db, &format!(
        "UPDATE statement SET deleted_at = now() WHERE id = (SELECT id FROM {mine} m OFFSET 2 LIMIT 1)"
    )).await;
    sql(&db, &format!(
        "INSERT INTO verdict (id, statement_id, reviewer_id, rating_label, rating_value, best_rating, worst_rating, status, published_at) \
         SELECT gen_random_uuid(), s.id, (SELECT id FROM outlet ORDER BY id LIMIT 1), label, 1.3, 5, 1, status::verdict_status, \
                CASE WHEN status = 'PUBLISHED' THEN '2022-02-02 02:02:02.02+00'::timestamptz END \
         FROM (SELECT id FROM {mine} m LIMIT 2) s, (VALUES ('Half true', 'DRAFT'), ('Mostly true', 'PUBLISHED'), ('Gone', 'PUBLISHED')) v(label, status)"
    )).await;
    sql(
        &db,
        "UPDATE verdict SET deleted_at = now() WHERE rating_label = 'Gone'",
    )
    .await;
    // Links from the speaker's first statements: confirmed (public), suggested (for
    // editors), dismissed and deleted (for nobody); to statements and to an article.
    sql(&db, &format!(
        "INSERT INTO link (id, source_statement_id, target_statement_id, target_article_id, relation, note, status, deleted_at) \
         SELECT gen_random_uuid(), s.id, CASE WHEN n % 2 = 0 THEN t.id END, \
                CASE WHEN n % 2 = 1 THEN (SELECT id FROM article ORDER BY id LIMIT 1) END, \
                relation::link_relation, CASE WHEN n = 1 THEN 'a ''noted'' link' END, status::link_status, \
                CASE WHEN n = 4 THEN now() END \
         FROM (SELECT id FROM {mine} m LIMIT 1) s, \
              (SELECT id FROM statement WHERE speaker_id <> '{speaker}' ORDER BY id LIMIT 1) t, \
              (VALUES (0, 'CONFIRMED', 'FOLLOWS_UP'), (1, 'CONFIRMED', 'CORRECTS'), (2, 'SUGGESTED', 'UPDATES'), \
                      (3, 'DISMISSED', 'REPEATS'), (4, 'CONFIRMED', 'FOLLOWS_UP')) v(n, status, relation)"
    )).await;
    (db, speaker)
}

#[tokio::test]
async fn compiled_pages_answer_as_the_resolvers_do_page_after_page() {
    let (db, speaker) = data().await;
    let pipelined = db.pipelined("answered");
    let anonymous = Viewer::anonymous();
    for viewer in [&anonymous, &editor()] {
        let mut after = Value::Null;
        let mut pages = 0;
        loop {
            let data = compare(
                &db,
                &speaker_page(),
                json!({ "speaker": speaker, "first": 3, "after": after }),
                viewer,
            )
            .await;
            pages += 1;
            let page = &data["speaker"]["statements"];
            if !page["pageInfo"]["hasNextPage"].as_bool().unwrap() {
                break;
            }
            after = page["pageInfo"]["endCursor"].clone();
        }
        let total = text(
            &db,
            &format!("SELECT count(*)::text FROM statement WHERE speaker_id = '{speaker}' AND deleted_at IS NULL"),
        )
        .await;
        assert_eq!(pages, total.parse::<usize>().unwrap().div_ceil(3));
    }
    // The drafts and the deleted verdict are where the awkward data put them.
    let anonymous_page = compare(
        &db,
        &speaker_page(),
        json!({ "speaker": speaker, "first": 2 }),
        &anonymous,
    )
    .await;
    let editor_page = compare(
        &db,
        &speaker_page(),
        json!({ "speaker": speaker, "first": 2 }),
        &editor(),
    )
    .await;
    let labels = |page: &Value| -> Vec<String> {
        page["speaker"]["statements"]["edges"][0]["node"]["verdicts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v["ratingLabel"].as_str().unwrap().to_owned())
            .collect()
    };
    assert!(labels(&editor_page).contains(&"Half true".to_owned()));
    assert!(!labels(&anonymous_page).contains(&"Half true".to_owned()));
    assert!(labels(&anonymous_page).contains(&"Mostly true".to_owned()));
    assert!(!labels(&editor_page).contains(&"Gone".to_owned()));
    let statuses = |page: &Value| -> Vec<String> {
        page["speaker"]["statements"]["edges"][0]["node"]["links"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l["status"].as_str().unwrap().to_owned())
            .collect()
    };
    // (The generated data may hold confirmed links of its own.)
    let (public, all) = (statuses(&anonymous_page), statuses(&editor_page));
    assert!(
        public.len() >= 2 && public.iter().all(|s| s == "CONFIRMED"),
        "{public:?}"
    );
    assert_eq!(all.len(), public.len() + 1, "{all:?}");
    assert!(all.contains(&"SUGGESTED".to_owned()), "{all:?}");
    let node = &editor_page["speaker"]["statements"]["edges"][0]["node"];
    assert!(node["reportedBy"]["id"].is_string(), "{node:#}");
    assert_eq!(node["createdAt"], "2021-03-04T05:06:07+00:00");
    assert_eq!(node["updatedAt"], "1999-12-31T23:59:59.999999+00:00");
    // Every compiled page went through the pipeline (the pool only where it could not).
    assert!(db.pipelined("answered") > pipelined, "no pipelined read");
    assert_eq!(db.pipelined("fallback"), 0);
}

#[tokio::test]
async fn compiled_lists_and_lookups_answer_as_the_resolvers_do() {
    let (db, speaker) = data().await;
    let viewer = Viewer::anonymous();
    let claim = text(
        &db,
        "SELECT claim_id::text FROM stance GROUP BY claim_id ORDER BY count(*) DESC, claim_id LIMIT 1",
    )
    .await;
    // A claim's statements, page by page, alone and with a speaker too; every statement.
    let mut after = Value::Null;
    loop {
        let data = compare(
            &db,
            &claim_page(),
            json!({ "claims": [claim], "first": 4, "after": after }),
            &viewer,
        )
        .await;
        let page = &data["statements"];
        if !page["pageInfo"]["hasNextPage"].as_bool().unwrap() {
            assert!(page["totalCount"].as_f64().unwrap() > 4.0);
            break;
        }
        after = page["pageInfo"]["endCursor"].clone();
    }
    compare(
        &db,
        &claim_page(),
        json!({ "claims": [claim], "speakers": [speaker] }),
        &viewer,
    )
    .await;
    compare(
        &db,
        &claim_page(),
        json!({ "claims": [], "first": 5 }),
        &viewer,
    )
    .await;
    compare(&db, &claim_page(), json!({ "first": 0 }), &viewer).await;
    let all = compare(&db, &claim_page(), json!({ "first": 100 }), &viewer).await;
    assert_eq!(all["statements"]["edges"].as_array().unwrap().len(), 100);
    // Lookups by id and slug, found and not; aliases, fragments and merged fields.
    let lookups = r#"
      query Lookups($speaker: ID!, $slug: String!, $claim: ID!, $statement: ID!, $missing: ID!) {
        __typename
        bySlug: speaker(slug: $slug) { ... on Speaker { id } name }
        byId: speaker(id: $speaker) { id statements(first: 1) { edges { node { id } } } }
        byId2: speaker(id: $speaker) { statements(first: 1) { totalCount edges { cursor node { text } } } }
        nobody: speaker(id: $missing) { id }
        claim(id: $claim) {
          id text
          statements(first: 2) { totalCount pageInfo { endCursor } nodes { id stances { stance } } }
          verdicts { id reviewer { name } }
        }
        statement(id: $statement) { ...S speaker { name } }
        gone: statement(id: $missing) { id }
      }
      fragment S on Statement { id text speaker { id } }
    "#;
    let slug = text(
        &db,
        &format!("SELECT slug FROM speaker WHERE id = '{speaker}'"),
    )
    .await;
    let statement = text(
        &db,
        "SELECT id::text FROM statement WHERE deleted_at IS NULL ORDER BY id DESC LIMIT 1",
    )
    .await;
    let data = compare(
        &db,
        lookups,
        json!({
            "speaker": speaker, "slug": slug, "claim": claim, "statement": statement,
            "missing": uuid::Uuid::now_v7().to_string(),
        }),
        &viewer,
    )
    .await;
    assert_eq!(data["bySlug"]["id"], json!(speaker));
    assert_eq!(data["nobody"], Value::Null);
    assert!(data["statement"]["speaker"]["name"].is_string(), "{data:#}");
}

#[tokio::test]
async fn the_resolvers_answer_where_the_compiled_statement_cannot() {
    let (db, speaker) = data().await;
    let viewer = Viewer::anonymous();
    // Values the resolvers refuse: their errors, not a compiled answer.
    compare(&db, &speaker_page(), json!({ "speaker": speaker }), &viewer).await;
    let refused = resolved_only(
        &db,
        &speaker_page(),
        json!({ "speaker": "not-an-id" }),
        &viewer,
    )
    .await;
    assert_eq!(refused["errors"][0]["extensions"]["code"], "BAD_USER_INPUT");
    let refused = resolved_only(
        &db,
        &speaker_page(),
        json!({ "speaker": speaker, "first": 101 }),
        &viewer,
    )
    .await;
    assert_eq!(refused["errors"][0]["extensions"]["code"], "BAD_USER_INPUT");
    let refused = resolved_only(
        &db,
        &speaker_page(),
        json!({ "speaker": speaker, "after": "bm90IGEgY3Vyc29y" }),
        &viewer,
    )
    .await;
    assert_eq!(refused["errors"][0]["extensions"]["code"], "BAD_USER_INPUT");
    // The policy's checks apply to compiled documents too: a page size that makes the
    // query too costly is refused as the resolvers refuse it.
    let page = "statements(first: $first, filter: { claimIds: $claims }) { edges { node { ...StatementFields } } }";
    let doubled = claim_page().replacen(
        "statements(first: $first",
        &format!("p1: {page} p2: {page} p3: {page} statements(first: $first"),
        1,
    );
    let cost = |first: i64| {
        let document = async_graphql::parser::parse_query(&doubled).unwrap();
        claimtrack::graphql::shape::complexity(
            &document,
            &Variables::from_json(json!({ "first": first })),
        )
    };
    assert!(
        cost(1) < 20_000 && cost(100) > 20_000,
        "{} {}",
        cost(1),
        cost(100)
    );
    let (a, b) = (json!({ "first": 1 }), json!({ "first": 100 }));
    compare(&db, &doubled, a, &viewer).await;
    let refused = resolved_only(&db, &doubled, b, &viewer).await;
    assert_eq!(
        refused["errors"][0]["extensions"]["code"], "BAD_USER_INPUT",
        "{refused:#}"
    );
    // A non-null variable given null is left to the resolvers; a single id where a
    // list is declared is coerced to a list by both.
    let strict = "query S($id: ID!, $first: Int!) { speaker(id: $id) { statements(first: $first) { totalCount } } }";
    compare(&db, strict, json!({ "id": speaker, "first": 2 }), &viewer).await;
    resolved_only(
        &db,
        strict,
        json!({ "id": speaker, "first": null }),
        &viewer,
    )
    .await;
    let coerced = compare(
        &db,
        &claim_page(),
        json!({ "speakers": speaker, "first": 2 }),
        &viewer,
    )
    .await;
    assert_eq!(
        coerced["statements"]["edges"].as_array().unwrap().len(),
        2,
        "{coerced:#}"
    );
    // Fields under one key with different arguments, which the resolvers answer each
    // with its own, and objects with more keys than one SQL call takes.
    let merged = "query M($id: ID!) { speaker(id: $id) { statements(first: 3) { nodes { id } } } \
         ... on Query { speaker(id: $id) { statements(first: 1) { nodes { text } } } } }";
    // (The resolvers' own answer to this one depends on which occurrence resolves first.)
    for _ in 0..2 {
        let answer = db
            .schema()
            .answer(request(merged, &json!({ "id": speaker }), &viewer))
            .await;
        assert!(matches!(answer, Answer::Resolved(_)), "compiled: {merged}");
    }
    let aliases: String = (0..47).map(|i| format!(" a{i}: hasNextPage")).collect();
    let wide = format!(
        "query W($id: ID!) {{ speaker(id: $id) {{ statements {{ pageInfo {{ hasPreviousPage hasNextPage startCursor endCursor{aliases} }} }} }} }}"
    );
    resolved_only(&db, &wide, json!({ "id": speaker }), &viewer).await;
    // A fragment that spreads itself is refused by validation, every time, and the
    // service is still there to say so.
    let cycle =
        "query C($id: ID!) { speaker(id: $id) { ...S } } fragment S on Speaker { name ...S }";
    let refused = resolved_only(&db, cycle, json!({ "id": speaker }), &viewer).await;
    assert!(refused["errors"].is_array(), "{refused:#}");
    // A statement whose speaker is deleted: the resolvers report it.
    let statement = text(
        &db,
        "SELECT id::text FROM statement WHERE deleted_at IS NULL ORDER BY id LIMIT 1",
    )
    .await;
    let one = "query One($id: ID!) { statement(id: $id) { id speaker { name } } }";
    compare(&db, one, json!({ "id": statement }), &viewer).await;
    sql(&db, &format!("UPDATE speaker SET deleted_at = now() WHERE id = (SELECT speaker_id FROM statement WHERE id = '{statement}')")).await;
    let gone = resolved_only(&db, one, json!({ "id": statement }), &viewer).await;
    assert!(gone["errors"].is_array(), "{gone:#}");
    // Fields outside the compiled part, directives, and mutations are the resolvers'.
    for query in [
        "query A($id: ID!) { statement(id: $id) { id statedTime } }",
        "query B($id: ID!) { statement(id: $id) { id topics { name } } }",
        "query C($id: ID!, $yes: Boolean!) { statement(id: $id) { id @include(if: $yes) } }",
        "query D($id: ID!) { statement(id: $id) { id } claim(slug: \"x\") { positions { changes } } }",
    ] {
        resolved_only(&db, query, json!({ "id": statement, "yes": true }), &viewer).await;
    }
    // `{ __typename }` alone reads nothing: the resolvers answer it, without SQL, and
    // the metrics say why.
    let outside = || db.compiled_requests_by("outside", Some("__typename alone (nothing to read)"));
    let before = outside();
    let alone = resolved_only(&db, "{ __typename }", json!({}), &viewer).await;
    assert_eq!(alone["data"]["__typename"], "Query");
    assert!(outside() > before);
}

#[tokio::test]
async fn a_compiled_statement_that_fails_leaves_its_document_to_the_resolvers() {
    let (db, speaker) = data().await;
    // Only compiled statements call translate() (for cursors): on new connections, a
    // function of that name ahead of PostgreSQL's fails them, and nothing else.
    sql(
        &db,
        "CREATE FUNCTION public.translate(text, text, text) RETURNS text LANGUAGE plpgsql \
         AS $$ BEGIN RAISE EXCEPTION 'refused' USING ERRCODE = '22023'; END $$",
    )
    .await;
    sql(
        &db,
        "DO $$ BEGIN EXECUTE format('ALTER DATABASE %I SET search_path = public, pg_catalog', \
         current_database()); END $$",
    )
    .await;
    let pool = claimtrack::db::connect(&db.url(), &Default::default())
        .await
        .unwrap();
    let schema = claimtrack::graphql::build_schema(pool, &claimtrack::config::Limits::default());
    let viewer = Viewer::anonymous();
    let variables = json!({ "speaker": speaker, "first": 2 });
    let expected = schema
        .execute(request(&speaker_page(), &variables, &viewer))
        .await;
    let expected = serde_json::to_value(&expected).unwrap();
    assert!(expected["data"]["speaker"]["statements"]["edges"][1]["cursor"].is_string());
    let deferred = || db.compiled_requests("deferred");
    let before = deferred();
    // Learnt; then compiled, failed and answered by the resolvers; then theirs alone
    // (the document demoted: its statement is not tried again).
    for _ in 0..3 {
        let Answer::Resolved(response) = schema
            .answer(request(&speaker_page(), &variables, &viewer))
            .await
        else {
            panic!("a compiled answer from a failing statement");
        };
        assert_eq!(serde_json::to_value(&response).unwrap(), expected);
    }
    assert_eq!(deferred(), before + 1);
}

/// Every order, both directions, and every filter condition, given as variables: on
/// the root list, a speaker's and a claim's, page after page.
const LISTS: &str = r#"
query Lists($speaker: ID!, $claim: ID!, $order: StatementOrder, $filter: StatementFilter,
            $first: Int, $after: String, $last: Int, $before: String) {
  list: statements(filter: $filter, orderBy: $order, first: $first, after: $after, last: $last, before: $before) {
    ...Page
  }
  speaker(id: $speaker) {
    statements(filter: $filter, orderBy: $order, first: $first, after: $after, last: $last, before: $before) {
      ...Page
    }
  }
  claim(id: $claim) {
    statements(filter: $filter, orderBy: $order, first: $first, after: $after, last: $last, before: $before) {
      ...Page
    }
  }
}
fragment Page on StatementConnection {
  totalCount
  pageInfo { hasPreviousPage hasNextPage startCursor endCursor }
  edges { cursor node { id statedOn createdAt speaker { id } stances { stance claim { id } } } }
}
"#;

#[tokio::test]
async fn every_order_direction_and_filter_answers_as_the_resolvers_do() {
    let (db, speaker) = data().await;
    let claim = text(
        &db,
        &format!(
            "SELECT x.claim_id::text FROM stance x JOIN statement s ON s.id = x.statement_id \
             WHERE s.speaker_id = '{speaker}' GROUP BY x.claim_id ORDER BY count(*) DESC, x.claim_id LIMIT 1"
        ),
    )
    .await;
    // Equal dates: three of the speaker's statements on one day.
    sql(&db, &format!(
        "UPDATE statement SET stated_on = '2019-01-01' WHERE id IN \
         (SELECT id FROM statement WHERE speaker_id = '{speaker}' AND deleted_at IS NULL ORDER BY id LIMIT 3)"
    )).await;
    let anonymous = Viewer::anonymous();
    let narrow = json!({ "speakerIds": [speaker] });
    for viewer in [&anonymous, &editor()] {
        for order in [
            "STATED_ON_ASC",
            "STATED_ON_DESC",
            "CREATED_AT_ASC",
            "CREATED_AT_DESC",
        ] {
            // Forward with first/after, then backward with last/before, to the end.
            for (size, cursor, next, more) in [
                ("first", "after", "endCursor", "hasNextPage"),
                ("last", "before", "startCursor", "hasPreviousPage"),
            ] {
                let mut at = Value::Null;
                let mut seen = Vec::new();
                loop {
                    let data = compare(
                        &db,
                        LISTS,
                        json!({
                            "speaker": speaker, "claim": claim, "order": order,
                            "filter": narrow, size: 4, cursor: at,
                        }),
                        viewer,
                    )
                    .await;
                    let page = &data["speaker"]["statements"];
                    assert_eq!(page, &data["list"], "the same statements either way");
                    seen.extend(
                        page["edges"]
                            .as_array()
                            .unwrap()
                            .iter()
                            .map(|e| e["node"]["id"].clone()),
                    );
                    if !page["pageInfo"][more].as_bool().unwrap() {
                        assert_eq!(
                            seen.len() as f64,
                            page["totalCount"].as_f64().unwrap(),
                            "{order} {size}: every statement once"
                        );
                        break;
                    }
                    at = page["pageInfo"][next].clone();
                }
            }
        }
    }
    // Each condition of the filter alone, and some together, on the three lists.
    let one = |sql: String| {
        let db = &db;
        async move { text(db, &sql).await }
    };
    let topic =
        one("SELECT topic_id::text FROM statement_topic ORDER BY topic_id LIMIT 1".into()).await;
    let article = one(format!(
        "SELECT a.article_id::text FROM appearance a JOIN statement s ON s.id = a.statement_id \
         WHERE s.speaker_id = '{speaker}' AND a.deleted_at IS NULL ORDER BY a.id LIMIT 1"
    ))
    .await;
    let speaker_slug = one(format!("SELECT slug FROM speaker WHERE id = '{speaker}'")).await;
    let claim_slug = one(format!("SELECT slug FROM claim WHERE id = '{claim}'")).await;
    let word = one(format!(
        "SELECT split_part(text, ' ', 2) FROM statement WHERE speaker_id = '{speaker}' ORDER BY id LIMIT 1"
    ))
    .await;
    let language = one(format!(
        "SELECT language FROM statement WHERE speaker_id = '{speaker}' ORDER BY id LIMIT 1"
    ))
    .await;
    let filters = [
        json!({ "stance": "SUPPORTS" }),
        json!({ "stance": "OPPOSES", "claimIds": [claim] }),
        json!({ "claimSlugs": [claim_slug], "stance": "SUPPORTS" }),
        json!({ "speakerSlugs": [speaker_slug] }),
        json!({ "topicIds": [topic] }),
        json!({ "articleIds": [article] }),
        json!({ "statedFrom": "2019-01-01", "statedTo": "2019-01-01" }),
        json!({ "statedFrom": "2000-01-01" }),
        json!({ "language": language }),
        json!({ "text": format!("  {word} ") }),
        json!({ "text": "   " }),
        json!({ "verdictBands": ["MIXED", "TRUE", "UNRATED"] }),
        json!({ "verdictBands": [] }),
        json!({ "speakerIds": [], "claimIds": [claim] }),
        json!({ "speakerIds": [speaker], "language": language, "statedTo": "2030-01-01" }),
    ];
    for filter in filters {
        for order in ["STATED_ON_DESC", "CREATED_AT_ASC"] {
            let data = compare(
                &db,
                LISTS,
                json!({ "speaker": speaker, "claim": claim, "order": order, "filter": filter, "first": 3 }),
                &anonymous,
            )
            .await;
            assert!(data["list"]["totalCount"].is_number(), "{filter}");
        }
    }
    // Empty pages, and the last page read backward from its end.
    compare(
        &db,
        LISTS,
        json!({ "speaker": speaker, "claim": claim, "filter": narrow, "last": 0 }),
        &anonymous,
    )
    .await;
    compare(
        &db,
        LISTS,
        json!({ "speaker": speaker, "claim": claim, "filter": { "language": "xx" }, "last": 5 }),
        &anonymous,
    )
    .await;
    // Values the resolvers refuse are theirs to refuse.
    let (speaker_id, claim_id) = (json!(speaker), json!(claim));
    let refused = |variables: Value| {
        let db = &db;
        let anonymous = &anonymous;
        let (speaker, claim) = (speaker_id.clone(), claim_id.clone());
        async move {
            let mut variables = variables;
            variables["speaker"] = speaker;
            variables["claim"] = claim;
            let answer = resolved_only(db, LISTS, variables, anonymous).await;
            assert_eq!(
                answer["errors"][0]["extensions"]["code"], "BAD_USER_INPUT",
                "{answer:#}"
            );
            answer["errors"][0]["extensions"]["field"].clone()
        }
    };
    let by_date = compare(
        &db,
        LISTS,
        json!({ "speaker": speaker, "claim": claim, "filter": narrow, "first": 1 }),
        &anonymous,
    )
    .await;
    let date_cursor = by_date["list"]["pageInfo"]["endCursor"].clone();
    refused(json!({ "order": "CREATED_AT_ASC", "after": date_cursor })).await;
    refused(json!({ "first": 1, "last": 1 })).await;
    refused(json!({ "after": date_cursor, "before": date_cursor })).await;
    refused(json!({ "filter": { "statedFrom": "2020-01-02", "statedTo": "2020-01-01" } })).await;
    refused(json!({ "filter": { "speakerIds": ["not-an-id"] } })).await;
    refused(json!({ "filter": { "text": "w".repeat(1001) } })).await;
}

/// Every field of every object the read model describes is compiled, or listed as
/// answered by the resolvers alone (with the reason); neither both nor neither, and no
/// listing names a field the schema does not have.
#[test]
fn every_field_of_a_compiled_object_is_compiled_or_listed_as_resolver_only() {
    use async_graphql::parser::types::{TypeKind, TypeSystemDefinition};
    use claimtrack::service::model::{self, Object};

    let sdl = claimtrack::graphql::sdl();
    let document = async_graphql::parser::parse_schema(&sdl).expect("the SDL parses");
    let mut faults = Vec::new();
    let mut seen = Vec::new();
    for object in Object::ALL {
        let fields = document
            .definitions
            .iter()
            .find_map(|d| match d {
                TypeSystemDefinition::Type(ty) if ty.node.name.node == object.name() => {
                    match &ty.node.kind {
                        TypeKind::Object(o) => Some(&o.fields),
                        _ => None,
                    }
                }
                _ => None,
            })
            .unwrap_or_else(|| panic!("{} is an object of the schema", object.name()));
        for field in fields {
            let name = field.node.name.node.as_str();
            seen.push((object.name(), name.to_owned()));
            let compiled = model::field(object, name).is_some();
            let listed = model::RESOLVER_ONLY
                .iter()
                .any(|(ty, f, _)| *ty == object.name() && *f == name);
            match (compiled, listed) {
                (true, true) => faults.push(format!("{}.{name}: compiled and listed", object.name())),
                (false, false) => faults.push(format!(
                    "{}.{name}: neither compiled (service::model::field) nor listed in RESOLVER_ONLY",
                    object.name()
                )),
                _ => {}
            }
        }
    }
    for (ty, field, reason) in model::RESOLVER_ONLY {
        assert!(reason.len() > 10, "{ty}.{field} says why");
        if !seen.iter().any(|(t, f)| t == ty && f == field) {
            faults.push(format!(
                "{ty}.{field}: listed, but not a field of the schema"
            ));
        }
    }
    assert!(faults.is_empty(), "{faults:#?}");
    assert!(seen.len() > 80, "only {} fields were read", seen.len());
}

#[tokio::test]
async fn position_histories_answer_as_the_resolvers_do() {
    let (db, _) = data().await;
    let pair = text(
        &db,
        "SELECT s.speaker_id || ' ' || x.claim_id FROM stance x JOIN statement s ON s.id = x.statement_id \
         WHERE s.deleted_at IS NULL GROUP BY s.speaker_id, x.claim_id ORDER BY count(*) DESC, 1 LIMIT 1",
    )
    .await;
    let (speaker, claim) = pair.split_once(' ').unwrap();
    // Positions on one day told apart by their time, one untimed; one reported.
    sql(&db, &format!(
        "UPDATE statement SET stated_on = '2018-01-01', stated_on_precision = 'DAY', \
           stated_time = CASE WHEN id = (SELECT id FROM statement WHERE speaker_id = '{speaker}' ORDER BY id LIMIT 1) THEN NULL \
                              ELSE '12:00'::time - (id::text < '8')::int * interval '1 hour' END, \
           stated_utc_offset_minutes = CASE WHEN id = (SELECT id FROM statement WHERE speaker_id = '{speaker}' ORDER BY id LIMIT 1) \
                                            THEN NULL ELSE 60 END \
         WHERE id IN (SELECT statement_id FROM stance WHERE claim_id = '{claim}') AND speaker_id = '{speaker}'"
    )).await;
    sql(&db, &format!(
        "UPDATE statement SET reported_by_id = (SELECT id FROM speaker WHERE id <> '{speaker}' LIMIT 1) \
         WHERE id = (SELECT s.id FROM statement s JOIN stance x ON x.statement_id = s.id \
                     WHERE x.claim_id = '{claim}' AND s.speaker_id = '{speaker}' ORDER BY s.id DESC LIMIT 1)"
    )).await;
    let slug = text(&db, &format!("SELECT slug FROM claim WHERE id = '{claim}'")).await;
    let other_claim = text(
        &db,
        &format!("SELECT id::text FROM claim WHERE id NOT IN (SELECT x.claim_id FROM stance x JOIN statement s ON s.id = x.statement_id WHERE s.speaker_id = '{speaker}') LIMIT 1"),
    )
    .await;
    let history = r#"
      query History($speaker: ID!, $claim: ID!, $slug: String) {
        positionHistory(speakerId: $speaker, claimId: $claim) {
          __typename stance statedOn statedOnPrecision reported
          statement { id text statedOn speaker { id } }
          speaker { id name } claim { id slug }
        }
        speaker(id: $speaker) {
          bySlug: positionHistory(claimSlug: $slug) { stance statedOn statement { id } }
        }
      }
    "#;
    for viewer in [Viewer::anonymous(), editor()] {
        let data = compare(
            &db,
            history,
            json!({ "speaker": speaker, "claim": claim, "slug": slug }),
            &viewer,
        )
        .await;
        let positions = data["positionHistory"].as_array().unwrap();
        assert!(positions.len() >= 2, "{data:#}");
        assert!(positions.iter().any(|p| p["reported"] == true), "{data:#}");
    }
    // A known pair with no history is an empty list; by id on the speaker too.
    let by_id = r#"query ById($speaker: ID!, $claim: ID!) {
        positionHistory(speakerId: $speaker, claimId: $claim) { stance }
        speaker(id: $speaker) { positionHistory(claimId: $claim) { stance statement { id } } }
    }"#;
    let empty = compare(
        &db,
        by_id,
        json!({ "speaker": speaker, "claim": other_claim }),
        &Viewer::anonymous(),
    )
    .await;
    assert_eq!(empty["positionHistory"], json!([]));
    compare(
        &db,
        by_id,
        json!({ "speaker": speaker, "claim": claim }),
        &Viewer::anonymous(),
    )
    .await;
    // Unknown speakers and claims are the resolvers' NOT_FOUND; bad ids their
    // BAD_USER_INPUT.
    let missing = uuid::Uuid::now_v7().to_string();
    for variables in [
        json!({ "speaker": missing, "claim": claim }),
        json!({ "speaker": speaker, "claim": missing }),
        json!({ "speaker": "nope", "claim": claim }),
    ] {
        let refused = resolved_only(&db, by_id, variables, &Viewer::anonymous()).await;
        assert!(refused["errors"].is_array(), "{refused:#}");
    }
    let unknown_slug = resolved_only(
        &db,
        history,
        json!({ "speaker": speaker, "claim": claim, "slug": "no-such-claim" }),
        &Viewer::anonymous(),
    )
    .await;
    assert!(unknown_slug["errors"].is_array(), "{unknown_slug:#}");
}

const TIMELINE: &str = r#"
query Timeline($filter: TimelineFilter!, $first: Int, $after: String) {
  timeline(filter: $filter, first: $first, after: $after) {
    __typename totalCount
    pageInfo { hasPreviousPage hasNextPage startCursor endCursor }
    edges {
      __typename cursor
      node {
        __typename at kind
        statement { id text statedOn speaker { id name } }
        verdict { id status ratingLabel reviewer { name } }
        link { id relation status targetStatement { id } targetArticle { id } }
        article { id title }
        change {
          __typename days speaker { id } claim { id slug }
          from { stance statedOn statedOnPrecision reported statement { id } }
          to { stance statedOn reported claim { id } speaker { id } }
        }
      }
    }
    nodes { at kind }
  }
}
"#;

#[tokio::test]
async fn timeline_pages_answer_as_the_resolvers_do() {
    let (db, speaker) = data().await;
    // A speaker with a change of position, and the claim it is on.
    let changed = text(
        &db,
        "SELECT s.speaker_id || ' ' || x.claim_id FROM stance x JOIN statement s ON s.id = x.statement_id \
         WHERE s.deleted_at IS NULL GROUP BY s.speaker_id, x.claim_id HAVING count(DISTINCT x.stance) > 1 \
         ORDER BY count(*) DESC, 1 LIMIT 1",
    )
    .await;
    let (changer, claim) = changed.split_once(' ').unwrap();
    let topic = text(
        &db,
        "SELECT topic_id::text FROM claim_topic ORDER BY topic_id LIMIT 1",
    )
    .await;
    let mut kinds_seen = std::collections::BTreeSet::new();
    for viewer in [Viewer::anonymous(), editor()] {
        for filter in [
            json!({ "speakerIds": [speaker] }),
            json!({ "speakerIds": [changer] }),
            json!({ "claimIds": [claim] }),
            json!({ "speakerIds": [speaker, changer], "kinds": ["STATEMENT", "POSITION_CHANGE"] }),
            json!({ "topicIds": [topic], "from": "2000-01-01", "to": "2100-01-01" }),
            json!({ "claimIds": [claim], "kinds": [] }),
        ] {
            let mut after = Value::Null;
            let mut seen = 0;
            loop {
                let data = compare(
                    &db,
                    TIMELINE,
                    json!({ "filter": filter, "first": 7, "after": after }),
                    &viewer,
                )
                .await;
                let page = &data["timeline"];
                for edge in page["edges"].as_array().unwrap() {
                    kinds_seen.insert(edge["node"]["kind"].as_str().unwrap().to_owned());
                    seen += 1;
                }
                if !page["pageInfo"]["hasNextPage"].as_bool().unwrap() {
                    assert_eq!(
                        seen as f64,
                        page["totalCount"].as_f64().unwrap(),
                        "{filter}"
                    );
                    break;
                }
                after = page["pageInfo"]["endCursor"].clone();
            }
        }
    }
    for kind in [
        "STATEMENT",
        "VERDICT_PUBLISHED",
        "FOLLOW_UP",
        "POSITION_CHANGE",
    ] {
        assert!(
            kinds_seen.contains(kind),
            "no {kind} event in {kinds_seen:?}"
        );
    }
    // What the resolvers refuse is theirs to refuse.
    for variables in [
        json!({ "filter": {} }),
        json!({ "filter": { "speakerIds": [] } }),
        json!({ "filter": { "speakerIds": ["nope"] } }),
        json!({ "filter": { "claimIds": [claim], "from": "2020-01-02", "to": "2020-01-01" } }),
        json!({ "filter": { "claimIds": [claim] }, "first": 101 }),
        json!({ "filter": { "claimIds": [claim] }, "after": "bm90IGEgY3Vyc29y" }),
    ] {
        let refused = resolved_only(&db, TIMELINE, variables, &Viewer::anonymous()).await;
        assert_eq!(
            refused["errors"][0]["extensions"]["code"], "BAD_USER_INPUT",
            "{refused:#}"
        );
    }
}

/// A root list's page: every connection field, a few of each node's.
fn list_page(field: &str, filter_type: &str, node: &str) -> String {
    format!(
        r#"query List($filter: {filter_type}, $first: Int, $after: String, $last: Int, $before: String) {{
  {field}(filter: $filter, first: $first, after: $after, last: $last, before: $before) {{
    __typename totalCount
    pageInfo {{ __typename hasPreviousPage hasNextPage startCursor endCursor }}
    edges {{ __typename cursor node {{ {node} }} }}
    nodes {{ id }}
  }}
}}"#
    )
}

#[tokio::test]
async fn root_lists_answer_as_the_resolvers_do_both_ways() {
    let (db, speaker) = data().await;
    // Names that sort and escape awkwardly, and equal names (the id breaks the tie).
    sql(&db, &format!(
        "UPDATE speaker SET name = CASE WHEN id = '{speaker}' THEN 'Zoë \"Quoted\" \\ O''Brien' ELSE 'Same Name' END \
         WHERE id IN (SELECT id FROM speaker ORDER BY id LIMIT 5) OR id = '{speaker}'"
    )).await;
    sql(&db, "UPDATE outlet SET name = 'Ålesund Avis' WHERE id = (SELECT id FROM outlet ORDER BY id LIMIT 1)").await;
    let outlet = text(&db, "SELECT id::text FROM outlet ORDER BY id LIMIT 1").await;
    let topic = text(
        &db,
        "SELECT id::text FROM topic WHERE parent_id IS NULL ORDER BY id LIMIT 1",
    )
    .await;
    // Verdicts on a claim itself, published and not.
    let claim = text(&db, "SELECT id::text FROM claim ORDER BY id LIMIT 1").await;
    sql(&db, &format!(
        "INSERT INTO verdict (id, claim_id, reviewer_id, rating_label, status, published_at) \
         SELECT gen_random_uuid(), '{claim}', (SELECT id FROM outlet ORDER BY id LIMIT 1), label, status::verdict_status, \
                CASE WHEN status = 'PUBLISHED' THEN now() END \
         FROM (VALUES ('Wrong', 'PUBLISHED'), ('Unsure', 'DRAFT')) v(label, status)"
    )).await;
    let lists = [
        (
            "speakers",
            "SpeakerFilter",
            "id name slug kind statements(first: 1) { totalCount }",
            vec![
                json!(null),
                json!({ "kind": "PERSON" }),
                json!({ "name": "same" }),
                json!({ "name": "  " }),
            ],
        ),
        (
            "claims",
            "ClaimFilter",
            "id text slug verdicts { id status }",
            vec![
                json!(null),
                json!({ "topicIds": [topic] }),
                json!({ "text": "the" }),
            ],
        ),
        (
            "verdicts",
            "VerdictFilter",
            "id status ratingLabel publishedAt reviewer { name } statement { id } claim { id }",
            vec![
                json!(null),
                json!({ "status": ["DRAFT", "PUBLISHED"] }),
                json!({ "claimIds": [claim] }),
                json!({ "reviewerIds": [outlet], "statementIds": [] }),
            ],
        ),
        (
            "articles",
            "ArticleFilter",
            "id title url publishedAt language outlet { name }",
            vec![
                json!(null),
                json!({ "outletIds": [outlet] }),
                json!({ "language": "en" }),
                json!({ "publishedFrom": "2000-01-01T00:00:00Z", "publishedTo": "2100-01-01T00:00:00.5+02:00" }),
            ],
        ),
        (
            "topics",
            "TopicFilter",
            "id name slug parentId parent { name } children { name }",
            vec![
                json!(null),
                json!({ "parentId": topic }),
                json!({ "name": "a" }),
            ],
        ),
        (
            "outlets",
            "OutletFilter",
            "id name slug homepage country",
            vec![json!(null), json!({ "name": "å" })],
        ),
    ];
    for (field, filter_type, node, filters) in lists {
        let query = list_page(field, filter_type, node);
        for viewer in [Viewer::anonymous(), editor()] {
            for filter in &filters {
                for (size, cursor, next, more) in [
                    ("first", "after", "endCursor", "hasNextPage"),
                    ("last", "before", "startCursor", "hasPreviousPage"),
                ] {
                    let mut at = Value::Null;
                    for _ in 0..3 {
                        let data = compare(
                            &db,
                            &query,
                            json!({ "filter": filter, size: 7, cursor: at }),
                            &viewer,
                        )
                        .await;
                        let page = &data[field]["pageInfo"];
                        if !page[more].as_bool().unwrap() {
                            break;
                        }
                        at = page[next].clone();
                    }
                }
            }
        }
        // A cursor of another list, and a reversed range, are the resolvers' to refuse.
        let refused = resolved_only(
            &db,
            &query,
            json!({ "after": "eyJvIjoib3RoZXIuaWQiLCJpIjoiMDE4ZjAwMDAtMDAwMC03MDAwLTgwMDAtMDAwMDAwMDAwMDAwIn0" }),
            &Viewer::anonymous(),
        )
        .await;
        assert_eq!(
            refused["errors"][0]["extensions"]["code"], "BAD_USER_INPUT",
            "{field}: {refused:#}"
        );
    }
    // Readers see published verdicts only, editors every one.
    let verdicts = list_page("verdicts", "VerdictFilter", "status");
    let count = |data: Value| data["verdicts"]["totalCount"].as_f64().unwrap();
    let public = count(compare(&db, &verdicts, json!({}), &Viewer::anonymous()).await);
    let all = count(compare(&db, &verdicts, json!({}), &editor()).await);
    assert!(all > public, "{all} {public}");
}

/// Statement by id, with its speaker: a small compiled read.
const STATEMENT_BY_ID: &str =
    "query S($id: ID!) { statement(id: $id) { id text speaker { id name } } }";

/// Has the compiler learn [`STATEMENT_BY_ID`] (the resolvers answer it first).
async fn learn(db: &TestDb, id: &str) {
    let request = request(STATEMENT_BY_ID, &json!({ "id": id }), &Viewer::anonymous());
    db.schema().answer(request).await;
}

/// Compiled answers to `ids`, all requested at once on this thread.
async fn statements_at_once(db: &TestDb, ids: &[String]) -> Vec<Value> {
    let viewer = Viewer::anonymous();
    let answers = ids.iter().map(|id| {
        let request = request(STATEMENT_BY_ID, &json!({ "id": id }), &viewer);
        db.schema().answer(request)
    });
    futures::future::join_all(answers)
        .await
        .into_iter()
        .map(|answer| match answer {
            Answer::Compiled(body) => {
                serde_json::from_str(&body).unwrap_or_else(|e| panic!("{e}: {body}"))
            }
            Answer::Resolved(response) => panic!("not compiled: {:?}", response.errors),
        })
        .collect()
}

/// The ids of the first `n` statements.
async fn statement_ids(db: &TestDb, n: usize) -> Vec<String> {
    let sql = format!(
        "SELECT string_agg(id::text, ',' ORDER BY id) FROM \
         (SELECT id FROM statement WHERE deleted_at IS NULL ORDER BY id LIMIT {n}) s"
    );
    let ids: String = tests::scalar(db.db(), &sql).await;
    ids.split(',').map(str::to_owned).collect()
}

/// Each answer is the statement asked for.
fn each_its_own(ids: &[String], answers: &[Value]) {
    assert_eq!(ids.len(), answers.len());
    for (id, answer) in ids.iter().zip(answers) {
        assert_eq!(answer["data"]["statement"]["id"], json!(id), "{answer}");
    }
}

#[tokio::test]
async fn pipelined_reads_in_flight_together_each_get_their_own_answer() {
    let (db, _) = data().await;
    let ids = statement_ids(&db, 300).await;
    learn(&db, &ids[0]).await;
    // The first reads open the connections (those that find them opening go to the
    // pool).
    statements_at_once(&db, &ids[..2]).await;
    let before = db.pipelined("answered");
    // 300 reads in flight at once on this thread's two pipelined connections, each
    // asking for another statement, three times over.
    for _ in 0..3 {
        each_its_own(&ids, &statements_at_once(&db, &ids).await);
    }
    assert_eq!(db.pipelined("answered") - before, 900);
    assert_eq!(db.pipelined("fallback"), 0);
    // The same as the resolvers, statement for statement.
    let viewer = Viewer::anonymous();
    for id in ids.iter().step_by(37) {
        compare(&db, STATEMENT_BY_ID, json!({ "id": id }), &viewer).await;
    }
}

#[tokio::test]
async fn pipelined_connections_lost_are_opened_again_and_no_read_fails_meanwhile() {
    let (db, _) = data().await;
    let ids = statement_ids(&db, 50).await;
    learn(&db, &ids[0]).await;
    statements_at_once(&db, &ids).await;
    let terminate = format!(
        "SELECT count(pg_terminate_backend(pid))::text FROM pg_stat_activity \
         WHERE datname = current_database() AND application_name LIKE '% {}'",
        claimtrack::db::pipeline::APPLICATION_SUFFIX
    );
    for round in 0..3 {
        let killed: String = tests::scalar(db.db(), &terminate).await;
        assert_eq!(killed, "2", "round {round}: the pipeline's two connections");
        let answered = db.pipelined("answered");
        // Every read is answered (by the pool while the pipeline reconnects).
        for _ in 0..2 {
            each_its_own(&ids, &statements_at_once(&db, &ids).await);
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        // And the pipeline is back.
        assert!(db.pipelined("answered") > answered, "round {round}");
    }
}
