//! Search and claim matching through the real schema: full-text search in each
//! statement's language (stemming in English, Russian and German, phrases, exclusions,
//! OR), ranking, highlights, facets, filters, pagination, statements found through
//! claims and headlines, query limits; similar statements and their threshold; a
//! claim's matching statements and attaching them; contradiction candidates from
//! similar text.

use claimtrack::service::search::similar::{self, Strategy};
use sea_orm::ConnectionTrait;
use serde_json::{Value, json};
use tests::TestDb;
use tests::check::sorted;
use tests::fixtures::{claim, outlet, speaker, statement, topic, with_field};

const SEARCH: &str = "query($q: String!, $filter: StatementFilter, $first: Int, $after: String) {
    search(query: $q, filter: $filter, first: $first, after: $after) {
        totalCount
        pageInfo { hasNextPage hasPreviousPage endCursor }
        edges { cursor node { rank highlight statement { id text language } } }
    }
}";

const FACETS: &str = "query($q: String!, $filter: StatementFilter) {
    search(query: $q, filter: $filter) {
        totalCount
        totalCountExact
        facets {
            exact
            speakers { speaker { name } count }
            topics { topic { name } count }
            stances { stance count }
            languages { language count }
            years { year count }
        }
    }
}";

const SIMILAR: &str = "query($text: String, $id: ID, $min: Float, $first: Int) {
    similarStatements(text: $text, statementId: $id, minSimilarity: $min, first: $first) {
        similarity
        statement { id text }
    }
}";

const MATCHING: &str = "query($id: ID!, $min: Float) {
    claim(id: $id) {
        matchingStatements(minSimilarity: $min) { similarity statement { id } }
        statements { totalCount }
    }
}";

const ATTACH: &str = "mutation($input: AttachStatementsToClaimInput!) {
    attachStatementsToClaim(input: $input) {
        claim { id }
        statements { id version stances { stance claim { id } } }
    }
}";

// ---------------------------------------------------------------------------------
// Setup through the mutations

async fn create(db: &TestDb, mutation: &str, field: &str, object: &str, input: Value) -> String {
    db.ok(mutation, json!({ "input": input })).await[field][object]["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// An English article with this headline, from an outlet of its own.
async fn headline(db: &TestDb, title: &str) -> String {
    let outlet = outlet(db, &format!("Outlet of {title}")).await;
    create(
        db,
        "mutation($input: CreateArticleInput!) { createArticle(input: $input) { article { id } } }",
        "createArticle",
        "article",
        json!({ "outletId": outlet, "title": title, "language": "en" }),
    )
    .await
}

/// A statement input: `speaker` said `text` in `language` on `on`.
fn said(speaker: &str, text: &str, language: &str, on: &str) -> Value {
    json!({
        "speakerId": speaker,
        "text": text,
        "kind": "QUOTE",
        "statedOn": on,
        "language": language,
    })
}

/// The ids of every hit of a search (one page of up to 100), best first.
async fn hits(db: &TestDb, q: &str, filter: Value) -> Vec<String> {
    let data = db
        .ok(SEARCH, json!({ "q": q, "filter": filter, "first": 100 }))
        .await;
    data["search"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["statement"]["id"].as_str().unwrap().to_owned())
        .collect()
}

// ---------------------------------------------------------------------------------
// Languages

#[tokio::test]
async fn search_stems_english_words() {
    let db = TestDb::new().await;
    let s = speaker(&db, "Sergei Lavrov").await;
    let group = statement(
        &db,
        said(
            &s,
            "The proposal of a Russia-US cyber security workgroup remains topical.",
            "en",
            "2017-07-24",
        ),
    )
    .await;
    statement(
        &db,
        said(
            &s,
            "Trade talks stalled again in Geneva.",
            "en",
            "2017-07-25",
        ),
    )
    .await;
    assert_eq!(
        hits(&db, "workgroups", json!(null)).await,
        vec![group.clone()]
    );
    assert_eq!(hits(&db, "proposals", json!(null)).await, vec![group]);
    assert!(hits(&db, "negotiations", json!(null)).await.is_empty());
}

#[tokio::test]
async fn search_matches_russian_inflections() {
    let db = TestDb::new().await;
    let s = speaker(&db, "Sergei Lavrov").await;
    let ru = statement(
        &db,
        said(
            &s,
            "Предложения о создании российско-американской рабочей группы по кибербезопасности остаются актуальными.",
            "ru",
            "2017-07-24",
        ),
    )
    .await;
    statement(
        &db,
        said(&s, "The working group met in Moscow.", "en", "2017-07-25"),
    )
    .await;
    // Nominative and genitive plural meet the genitive singular of the text.
    assert_eq!(
        hits(&db, "рабочая группа", json!(null)).await,
        vec![ru.clone()]
    );
    assert_eq!(
        hits(&db, "рабочих групп", json!(null)).await,
        vec![ru.clone()]
    );
    assert_eq!(hits(&db, "кибербезопасность", json!(null)).await, vec![ru]);
}

#[tokio::test]
async fn search_stems_german_compounds_and_honours_the_language_filter() {
    let db = TestDb::new().await;
    let s = speaker(&db, "Olaf Scholz").await;
    let de = statement(
        &db,
        said(
            &s,
            "Die Arbeitsgruppe für Cybersicherheit bleibt auf der Tagesordnung.",
            "de",
            "2021-03-01",
        ),
    )
    .await;
    let en = statement(
        &db,
        said(
            &s,
            "Cyber security stays on the agenda.",
            "en",
            "2021-03-02",
        ),
    )
    .await;
    assert_eq!(
        hits(&db, "Arbeitsgruppen", json!(null)).await,
        vec![de.clone()]
    );
    assert_eq!(
        hits(&db, "Cybersicherheit", json!({ "language": "de" })).await,
        vec![de]
    );
    assert_eq!(
        hits(&db, "agenda", json!({ "language": "en" })).await,
        vec![en]
    );
    assert!(
        hits(&db, "agenda", json!({ "language": "de" }))
            .await
            .is_empty()
    );
}

/// A reading scans only its own configuration's rows: statements and headlines have a
/// GIN index per configuration that `text_search_config` can give them.
#[tokio::test]
async fn every_language_has_a_search_index_of_its_own() {
    let db = TestDb::new().await;
    let configs: Vec<String> = db
        .db()
        .query_all_raw(sea_orm::Statement::from_string(
            sea_orm::DbBackend::Postgres,
            "SELECT DISTINCT text_search_config(tag)::text FROM unnest(ARRAY['en', 'ru', 'de', \
             'fr', 'es', 'pt-BR', 'tr', 'xx', '']) tag ORDER BY 1",
        ))
        .await
        .unwrap()
        .iter()
        .map(|row| row.try_get_by_index::<String>(0).unwrap())
        .collect();
    assert!(configs.contains(&"simple".to_owned()) && configs.len() == 8);
    // Each configuration's GIN index on the document, for live rows of that
    // configuration only.
    let indexes: Vec<(String, String, String)> = db
        .db()
        .query_all_raw(sea_orm::Statement::from_string(
            sea_orm::DbBackend::Postgres,
            "SELECT t.relname::text, pg_get_indexdef(i.indexrelid), pg_get_expr(i.indpred, i.indrelid) \
             FROM pg_index i JOIN pg_class t ON t.oid = i.indrelid \
             WHERE t.relname IN ('statement', 'article') AND i.indpred IS NOT NULL",
        ))
        .await
        .unwrap()
        .iter()
        .map(|row| {
            (
                row.try_get_by_index(0).unwrap(),
                row.try_get_by_index(1).unwrap(),
                row.try_get_by_index(2).unwrap(),
            )
        })
        .collect();
    for config in &configs {
        for table in ["statement", "article"] {
            let predicate = format!(
                "(((search_config)::oid = ('{config}'::regconfig)::oid) AND (deleted_at IS NULL))"
            );
            let found: Vec<&String> = indexes
                .iter()
                .filter(|(t, def, pred)| {
                    t == table && *pred == predicate && def.contains("USING gin (search_doc)")
                })
                .map(|(_, def, _)| def)
                .collect();
            assert_eq!(found.len(), 1, "{table} in {config}: {found:?}");
        }
    }
}

// ---------------------------------------------------------------------------------
// Web-search syntax

async fn cyber_statements(db: &TestDb) -> (String, String) {
    let s = speaker(db, "Donald Trump").await;
    let unit = statement(
        db,
        said(
            &s,
            "Putin and I discussed forming an impenetrable cyber security unit.",
            "en",
            "2017-07-09",
        ),
    )
    .await;
    let border = statement(
        db,
        said(
            &s,
            "Security at the border matters more than cyber threats.",
            "en",
            "2017-07-10",
        ),
    )
    .await;
    (unit, border)
}

#[tokio::test]
async fn search_phrases_need_adjacent_words() {
    let db = TestDb::new().await;
    let (unit, border) = cyber_statements(&db).await;
    assert_eq!(
        hits(&db, "\"cyber security\"", json!(null)).await,
        vec![unit.clone()]
    );
    assert_eq!(
        sorted(hits(&db, "cyber security", json!(null)).await),
        sorted(vec![unit, border])
    );
}

#[tokio::test]
async fn search_exclusions_and_or() {
    let db = TestDb::new().await;
    let (unit, border) = cyber_statements(&db).await;
    assert_eq!(
        hits(&db, "security -border", json!(null)).await,
        vec![unit.clone()]
    );
    assert_eq!(
        sorted(hits(&db, "impenetrable OR border", json!(null)).await),
        sorted(vec![unit, border])
    );
    assert!(
        hits(&db, "impenetrable border", json!(null))
            .await
            .is_empty()
    );
}

#[tokio::test]
async fn search_reads_malformed_syntax_without_errors() {
    let db = TestDb::new().await;
    let (unit, _) = cyber_statements(&db).await;
    for q in [
        "\"unclosed phrase",
        "-",
        "OR",
        "((( ]]] &&& !!",
        "security -",
        "\"\"",
        "   ",
        ":* <-> |",
        "-security",
        "the",
    ] {
        let response = db.exec(SEARCH, json!({ "q": q, "first": 5 })).await;
        assert!(response.get("errors").is_none(), "{q}: {response:#}");
    }
    // An unclosed phrase is read as a phrase.
    assert_eq!(hits(&db, "\"cyber security", json!(null)).await, vec![unit]);
    // Only exclusions, or only stop words: nothing to look for, nothing found.
    assert!(hits(&db, "-security", json!(null)).await.is_empty());
    assert!(hits(&db, "the", json!(null)).await.is_empty());
}

#[tokio::test]
async fn search_refuses_an_over_long_query_and_writes_nothing() {
    let db = TestDb::new().await;
    cyber_statements(&db).await;
    let before = db.counts().await;
    let err = db
        .err(SEARCH, json!({ "q": "security ".repeat(112), "first": 5 }))
        .await;
    assert_eq!(err["extensions"]["code"], "BAD_USER_INPUT");
    assert_eq!(err["extensions"]["field"], "query");
    assert_eq!(db.counts().await, before);
    // 1,000 characters exactly are fine.
    let fine = format!("{}{}", "security ".repeat(111), "c");
    assert_eq!(fine.chars().count(), 1000);
    db.ok(SEARCH, json!({ "q": fine, "first": 5 })).await;
}

// ---------------------------------------------------------------------------------
// Ranking and highlights

#[tokio::test]
async fn search_ranks_text_matches_by_density_above_venue_matches() {
    let db = TestDb::new().await;
    let s = speaker(&db, "Donald Trump").await;
    let twice = statement(
        &db,
        said(
            &s,
            "The ceasefire holds, and the ceasefire was agreed in Hamburg.",
            "en",
            "2017-07-07",
        ),
    )
    .await;
    let once = statement(
        &db,
        said(
            &s,
            "A ceasefire was mentioned among many other things discussed at length.",
            "en",
            "2017-07-08",
        ),
    )
    .await;
    let venue = statement(
        &db,
        with_field(
            said(&s, "It can happen, and it did.", "en", "2017-07-09"),
            "venue",
            json!("Ceasefire summit"),
        ),
    )
    .await;
    let data = db
        .ok(SEARCH, json!({ "q": "ceasefire", "first": 10 }))
        .await;
    let edges = data["search"]["edges"].as_array().unwrap();
    let ids: Vec<&str> = edges
        .iter()
        .map(|e| e["node"]["statement"]["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, vec![twice.as_str(), once.as_str(), venue.as_str()]);
    let ranks: Vec<f64> = edges
        .iter()
        .map(|e| e["node"]["rank"].as_f64().unwrap())
        .collect();
    assert!(
        ranks[0] > ranks[1] && ranks[1] > ranks[2] && ranks[2] > 0.0,
        "{ranks:?}"
    );
}

#[tokio::test]
async fn search_highlights_matched_words_in_escaped_text() {
    let db = TestDb::new().await;
    let s = speaker(&db, "A Minister").await;
    statement(
        &db,
        said(
            &s,
            "Taxes & duties <b>will</b> fall, the minister said about tariffs and more tariffs.",
            "en",
            "2020-01-01",
        ),
    )
    .await;
    let data = db.ok(SEARCH, json!({ "q": "tariff", "first": 5 })).await;
    let highlight = data["search"]["edges"][0]["node"]["highlight"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(highlight.contains("<mark>tariffs</mark>"), "{highlight}");
    assert_eq!(highlight.matches("<mark>").count(), 2, "{highlight}");
    assert!(highlight.contains("&amp;"), "{highlight}");
    assert!(highlight.contains("&lt;b&gt;will&lt;/b&gt;"), "{highlight}");
    assert!(!highlight.contains("<b>"), "{highlight}");
}

// ---------------------------------------------------------------------------------
// Facets and filters

struct Inflation {
    alice: String,
    bob: String,
    claim: String,
    economy: String,
    alice_2017: String,
    alice_2018: String,
    bob_2018: String,
}

async fn inflation(db: &TestDb) -> Inflation {
    let alice = speaker(db, "Alice Adams").await;
    let bob = speaker(db, "Bob Braun").await;
    let claim = claim(db, "Inflation is falling").await;
    let economy = topic(db, "Economy").await;
    let stance = |s: &str| json!([{ "claimId": claim, "stance": s }]);
    let alice_2017 = statement(
        db,
        with_field(
            with_field(
                said(&alice, "Inflation is falling fast.", "en", "2017-03-01"),
                "stances",
                stance("SUPPORTS"),
            ),
            "topicIds",
            json!([economy]),
        ),
    )
    .await;
    let alice_2018 = statement(
        db,
        with_field(
            with_field(
                said(&alice, "Inflation keeps rising again.", "en", "2018-05-01"),
                "stances",
                stance("OPPOSES"),
            ),
            "topicIds",
            json!([economy]),
        ),
    )
    .await;
    let bob_2018 = statement(
        db,
        with_field(
            said(&bob, "Die Inflation sinkt deutlich.", "de", "2018-06-01"),
            "stances",
            stance("SUPPORTS"),
        ),
    )
    .await;
    statement(
        db,
        said(&bob, "Football is a beautiful game.", "en", "2018-07-01"),
    )
    .await;
    Inflation {
        alice,
        bob,
        claim,
        economy,
        alice_2017,
        alice_2018,
        bob_2018,
    }
}

#[tokio::test]
async fn search_facets_count_hits_by_speaker_topic_stance_language_and_year() {
    let db = TestDb::new().await;
    inflation(&db).await;
    let data = db.ok(FACETS, json!({ "q": "inflation" })).await;
    let search = &data["search"];
    // Asked with the facets or alone, the count is the same; a few hits are counted
    // exactly, and the answer says so.
    assert_eq!(search["totalCount"], 3);
    assert_eq!(search["totalCountExact"], true);
    assert_eq!(search["facets"]["exact"], true);
    let alone = db.ok(SEARCH, json!({ "q": "inflation" })).await;
    assert_eq!(alone["search"]["totalCount"], 3);
    let facets = &search["facets"];
    assert_eq!(
        facets["speakers"],
        json!([
            { "speaker": { "name": "Alice Adams" }, "count": 2 },
            { "speaker": { "name": "Bob Braun" }, "count": 1 },
        ])
    );
    assert_eq!(
        facets["topics"],
        json!([{ "topic": { "name": "Economy" }, "count": 2 }])
    );
    assert_eq!(
        facets["stances"],
        json!([{ "stance": "SUPPORTS", "count": 2 }, { "stance": "OPPOSES", "count": 1 }])
    );
    assert_eq!(
        facets["languages"],
        json!([{ "language": "en", "count": 2 }, { "language": "de", "count": 1 }])
    );
    assert_eq!(
        facets["years"],
        json!([{ "year": 2017, "count": 1 }, { "year": 2018, "count": 2 }])
    );
    // Facets follow the filter.
    let data = db
        .ok(
            FACETS,
            json!({ "q": "inflation", "filter": { "language": "de" } }),
        )
        .await;
    assert_eq!(data["search"]["totalCount"], 1);
    assert_eq!(
        data["search"]["facets"]["speakers"],
        json!([{ "speaker": { "name": "Bob Braun" }, "count": 1 }])
    );
}

/// Inserts `n` English statements of `speaker` saying `text` (and filler), one per
/// table page (`fillfactor` 10, long rows), so that the table has about `n` pages.
/// A search's facets are estimated from a sample, and their estimated cost passed
/// PostgreSQL's `jit_above_cost`: compiling cost 62 ms of a 416 ms answer. The
/// service's sessions turn JIT off, even where the database's defaults turn it on for
/// every statement.
#[tokio::test]
async fn the_services_sessions_never_compile_statements_just_in_time() {
    let db = TestDb::new().await;
    let name: String = tests::scalar(db.db(), "SELECT current_database()::text").await;
    db.db()
        .execute_unprepared(&format!(
            "ALTER DATABASE {name} SET jit = on; ALTER DATABASE {name} SET jit_above_cost = 0"
        ))
        .await
        .unwrap();
    let fresh = claimtrack::db::connect(&db.url(), &claimtrack::config::DbArgs::default())
        .await
        .unwrap();
    let above: String = tests::scalar(&fresh, "SHOW jit_above_cost").await;
    let jit: String = tests::scalar(&fresh, "SHOW jit").await;
    // The database's default reached the session; `jit` did not.
    assert_eq!((above.as_str(), jit.as_str()), ("0", "off"));
    fresh.close().await.ok();
}

async fn many_statements(db: &TestDb, speaker: &str, text: &str, n: usize) {
    db.db()
        .execute_unprepared(&format!(
            "ALTER TABLE statement SET (fillfactor = 10); \
             INSERT INTO statement (id, speaker_id, text, kind, stated_on, language) \
             SELECT gen_random_uuid(), '{speaker}', '{text} ' || i || ' ' || repeat('filler ', 100), \
                    'QUOTE', DATE '2019-01-01' + i % 700, 'en' \
             FROM generate_series(1, {n}) i"
        ))
        .await
        .unwrap();
}

#[tokio::test]
async fn search_counts_beyond_the_exact_bound_are_estimated_and_say_so() {
    let db = TestDb::new().await;
    let alice = speaker(&db, "Alice Adams").await;
    // More hits than are counted exactly, in a table of more pages than are sampled.
    let n = claimtrack::service::search::EXACT_UP_TO * 3;
    many_statements(&db, &alice, "Tariffs rose again", n).await;
    statement(
        &db,
        said(&alice, "Tariffs are a rare word here.", "en", "2020-01-01"),
    )
    .await;
    let data = db.ok(FACETS, json!({ "q": "tariffs" })).await;
    let search = &data["search"];
    assert_eq!(search["totalCountExact"], false);
    assert_eq!(search["facets"]["exact"], false);
    // An estimate from a third of the table: within a fifth of the truth, and never
    // below the hits counted exactly (1,000).
    let total = search["totalCount"].as_f64().unwrap();
    let truth = (n + 1) as f64;
    assert!(
        (total - truth).abs() < truth / 5.0,
        "estimated {total} of {truth}"
    );
    let english = search["facets"]["languages"][0]["count"].as_f64().unwrap();
    assert!(
        (english - truth).abs() < truth / 5.0,
        "estimated {english} of {truth}"
    );
    assert_eq!(search["facets"]["languages"][0]["language"], "en");
    let speaker = &search["facets"]["speakers"][0];
    assert_eq!(speaker["speaker"]["name"], "Alice Adams");
    // A narrow search in the same table is exact.
    let data = db.ok(FACETS, json!({ "q": "rare" })).await;
    assert_eq!(data["search"]["totalCount"], 1);
    assert_eq!(data["search"]["totalCountExact"], true);
    assert_eq!(data["search"]["facets"]["exact"], true);
}

#[tokio::test]
async fn search_counts_of_a_table_smaller_than_the_sample_stay_exact() {
    let db = TestDb::new().await;
    let alice = speaker(&db, "Alice Adams").await;
    // More hits than the exact bound, in a table the sample takes whole.
    let n = claimtrack::service::search::EXACT_UP_TO + 200;
    db.db()
        .execute_unprepared(&format!(
            "INSERT INTO statement (id, speaker_id, text, kind, stated_on, language) \
             SELECT gen_random_uuid(), '{alice}', 'Tariffs rose again ' || i, 'QUOTE', \
                    DATE '2019-01-01', 'en' FROM generate_series(1, {n}) i"
        ))
        .await
        .unwrap();
    let data = db.ok(FACETS, json!({ "q": "tariffs" })).await;
    assert_eq!(data["search"]["totalCount"], n);
    assert_eq!(data["search"]["totalCountExact"], true);
    assert_eq!(data["search"]["facets"]["exact"], true);
    assert_eq!(
        data["search"]["facets"]["years"],
        json!([{ "year": 2019, "count": n }])
    );
}

#[tokio::test]
async fn search_combines_with_the_statement_filter() {
    let db = TestDb::new().await;
    let f = inflation(&db).await;
    assert_eq!(
        hits(
            &db,
            "inflation",
            json!({ "speakerIds": [f.alice], "statedFrom": "2018-01-01" })
        )
        .await,
        vec![f.alice_2018.clone()]
    );
    assert_eq!(
        sorted(
            hits(
                &db,
                "inflation",
                json!({ "claimIds": [f.claim], "stance": "SUPPORTS" })
            )
            .await
        ),
        sorted(vec![f.alice_2017.clone(), f.bob_2018.clone()])
    );
    assert_eq!(
        sorted(
            hits(
                &db,
                "inflation",
                json!({ "topicIds": [f.economy], "language": "en" })
            )
            .await
        ),
        sorted(vec![f.alice_2017.clone(), f.alice_2018.clone()])
    );
    assert_eq!(
        hits(
            &db,
            "inflation",
            json!({ "speakerIds": [f.bob], "statedTo": "2018-01-01" })
        )
        .await,
        Vec::<String>::new()
    );
    // A verdict band: a published FALSE (1 on a 1–5 scale) on Alice's 2017 statement.
    let reviewer = outlet(&db, "Checkers").await;
    create(
        &db,
        "mutation($input: CreateVerdictInput!) { createVerdict(input: $input) { verdict { id } } }",
        "createVerdict",
        "verdict",
        json!({
            "statementId": f.alice_2017, "reviewerId": reviewer, "ratingLabel": "False",
            "ratingValue": 1, "bestRating": 5, "worstRating": 1,
            "status": "PUBLISHED", "publishedAt": "2017-04-01T00:00:00Z",
        }),
    )
    .await;
    assert_eq!(
        hits(&db, "inflation", json!({ "verdictBands": ["FALSE"] })).await,
        vec![f.alice_2017.clone()]
    );
    assert!(
        hits(
            &db,
            "inflation",
            json!({ "verdictBands": ["TRUE", "MIXED"] })
        )
        .await
        .is_empty()
    );
    // The same band filter serves the statement list.
    let data = db
        .ok(
            "query { statements(filter: { verdictBands: [FALSE] }) { totalCount nodes { id } } }",
            json!({}),
        )
        .await;
    assert_eq!(data["statements"]["nodes"], json!([{ "id": f.alice_2017 }]));
}

#[tokio::test]
async fn search_pages_every_hit_exactly_once_in_rank_order() {
    let db = TestDb::new().await;
    let s = speaker(&db, "Budget Speaker").await;
    let mut all = Vec::new();
    for n in 0..23 {
        // Three rank levels, with ties inside each.
        let text = format!(
            "The budget rose{} in district {n}.",
            " and the budget grew".repeat(n % 3)
        );
        all.push(statement(&db, said(&s, &text, "en", "2019-01-01")).await);
    }
    let mut seen: Vec<(f64, String)> = Vec::new();
    let mut after: Option<String> = None;
    let mut pages = 0;
    loop {
        let data = db
            .ok(SEARCH, json!({ "q": "budget", "first": 5, "after": after }))
            .await;
        let search = &data["search"];
        assert_eq!(search["totalCount"], 23);
        assert_eq!(search["pageInfo"]["hasPreviousPage"], after.is_some());
        for e in search["edges"].as_array().unwrap() {
            seen.push((
                e["node"]["rank"].as_f64().unwrap(),
                e["node"]["statement"]["id"].as_str().unwrap().to_owned(),
            ));
        }
        pages += 1;
        if search["pageInfo"]["hasNextPage"] == false {
            break;
        }
        after = Some(search["pageInfo"]["endCursor"].as_str().unwrap().to_owned());
    }
    assert_eq!(pages, 5);
    let ids: Vec<String> = seen.iter().map(|(_, id)| id.clone()).collect();
    assert_eq!(sorted(ids), sorted(all));
    assert_best_first("budget", &seen);
    let levels: std::collections::BTreeSet<String> =
        seen.iter().map(|(r, _)| r.to_string()).collect();
    assert_eq!(levels.len(), 3);
}

const PAGE_OF_IDS: &str = "query($q: String!, $first: Int, $after: String) {
    search(query: $q, first: $first, after: $after) {
        pageInfo { hasNextPage endCursor }
        edges { node { statement { id } } }
    }
}";

/// The search page statements and walks of rank levels a [`recording_schema`] ran,
/// in order.
type PageStatements = std::sync::Arc<std::sync::Mutex<Vec<String>>>;

/// Whether `sql` is a search page's own statement (rather than a walk of its levels).
fn is_page(sql: &str) -> bool {
    sql.contains("arms AS")
}

/// A schema on a connection of its own that records the search page statements and
/// walks it runs.
async fn recording_schema(db: &TestDb) -> (claimtrack::graphql::AppSchema, PageStatements) {
    recording_schema_with_pool(db, claimtrack::config::DbArgs::default().db_pool_size).await
}

async fn recording_schema_with_pool(
    db: &TestDb,
    pool_size: u32,
) -> (claimtrack::graphql::AppSchema, PageStatements) {
    let args = claimtrack::config::DbArgs {
        db_pool_size: pool_size,
        ..Default::default()
    };
    let mut conn = claimtrack::db::connect(&db.url(), &args).await.unwrap();
    let recorded = PageStatements::default();
    let seen = recorded.clone();
    conn.set_metric_callback(move |info| {
        let sql = &info.statement.sql;
        if is_page(sql) || sql.contains("walked (arm") {
            seen.lock().unwrap().push(info.statement.sql.clone());
        }
    });
    let schema = claimtrack::graphql::build_schema(conn, &claimtrack::config::Limits::default());
    (schema, recorded)
}

/// A page of ids for `q` through `schema`, and the page's end cursor; the search page
/// statements it ran.
async fn ids_page(
    schema: &claimtrack::graphql::AppSchema,
    recorded: &PageStatements,
    q: &str,
    first: usize,
    after: Option<&str>,
) -> (Vec<String>, String, Vec<String>) {
    let before = recorded.lock().unwrap().len();
    let request = async_graphql::Request::new(PAGE_OF_IDS)
        .variables(async_graphql::Variables::from_json(
            json!({ "q": q, "first": first, "after": after }),
        ))
        .data(claimtrack::auth::Viewer::trusted());
    let response = serde_json::to_value(schema.execute(request).await).unwrap();
    assert!(response.get("errors").is_none(), "{response:#}");
    let search = &response["data"]["search"];
    let ids = search["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["statement"]["id"].as_str().unwrap().to_owned())
        .collect();
    let cursor = search["pageInfo"]["endCursor"].as_str().unwrap().to_owned();
    let ran = recorded.lock().unwrap()[before..]
        .iter()
        .filter(|sql| is_page(sql))
        .cloned()
        .collect();
    (ids, cursor, ran)
}

#[tokio::test]
async fn later_pages_read_each_arms_best_and_stay_exact_when_statements_arrive() {
    let db = TestDb::new().await;
    let s = speaker(&db, "Budget Speaker").await;
    for n in 0..12 {
        statement(
            &db,
            said(
                &s,
                &format!("The budget rose in district {n}."),
                "en",
                "2019-01-01",
            ),
        )
        .await;
    }
    let (schema, recorded) = recording_schema(&db).await;
    let whole = |first| ids_page(&schema, &recorded, "budget", first, None);
    let all = whole(100).await.0;
    let (first_page, cursor, _) = ids_page(&schema, &recorded, "budget", 3, None).await;
    assert_eq!(first_page, all[..3]);
    // Nothing changed: the next page comes from each arm's best, in one statement.
    let (next, _, ran) = ids_page(&schema, &recorded, "budget", 3, Some(&cursor)).await;
    assert_eq!(next, all[3..6]);
    assert_eq!(ran.len(), 1);
    // Ten statements now rank above the cursor: each arm's best no longer reaches the
    // page, which is read again from every match, and is still the one after the cursor.
    for n in 0..10 {
        statement(
            &db,
            said(
                &s,
                &format!("Budget, budget and the budget again, {n}."),
                "en",
                "2019-02-01",
            ),
        )
        .await;
    }
    let now = whole(100).await.0;
    assert_eq!(now.len(), 22);
    let at = now.iter().position(|id| *id == first_page[2]).unwrap();
    assert_eq!(at, 12, "the new statements rank first");
    let (next, _, ran) = ids_page(&schema, &recorded, "budget", 3, Some(&cursor)).await;
    assert_eq!(next, now[at + 1..at + 4]);
    assert_eq!(ran.len(), 2);
}

/// Asserts that the hits of `q` come best rank first, ties by id.
fn assert_best_first(q: &str, hits: &[(f64, String)]) {
    for pair in hits.windows(2) {
        assert!(
            pair[0].0 > pair[1].0 || (pair[0].0 == pair[1].0 && pair[0].1 < pair[1].1),
            "{q}: {pair:?}"
        );
    }
}

/// The (rank, id) sequence of a search, page by page (`first` hits a page).
async fn ranking(db: &TestDb, q: &str, filter: Value, first: usize) -> Vec<(f64, String)> {
    let mut seen = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let data = db
            .ok(
                SEARCH,
                json!({ "q": q, "filter": filter, "first": first, "after": after }),
            )
            .await;
        let search = &data["search"];
        for e in search["edges"].as_array().unwrap() {
            seen.push((
                e["node"]["rank"].as_f64().unwrap(),
                e["node"]["statement"]["id"].as_str().unwrap().to_owned(),
            ));
        }
        if search["pageInfo"]["hasNextPage"] == false {
            return seen;
        }
        after = Some(search["pageInfo"]["endCursor"].as_str().unwrap().to_owned());
    }
}

#[tokio::test]
async fn search_pages_agree_with_the_whole_ranking_across_claims_and_headlines() {
    let db = TestDb::new().await;
    let anna = speaker(&db, "Anna").await;
    let boris = speaker(&db, "Boris").await;
    let subsidies = claim(&db, "Farm subsidies must end").await;
    let article = headline(&db, "The farm subsidies debate").await;
    let mut all = Vec::new();
    for n in 0..24 {
        let who = if n % 2 == 0 { &anna } else { &boris };
        // Some say it themselves (at three densities), some only take a stance on the
        // claim, some were only reported under the headline, some several of these;
        // a few say "wheat", which the second query excludes.
        let own = match n % 4 {
            0 => "Farm subsidies feed us.".to_owned(),
            1 => "Farm subsidies, farm subsidies and more farm subsidies.".to_owned(),
            2 if n % 3 == 0 => format!("We grow wheat in field {n}."),
            _ => format!("Nothing to add on day {n}."),
        };
        let mut input = said(who, &own, "en", "2020-01-01");
        if n % 3 != 1 {
            input = with_field(
                input,
                "stances",
                json!([{ "claimId": subsidies, "stance": "OPPOSES" }]),
            );
        }
        if n % 5 < 2 {
            input = with_field(
                input,
                "appearances",
                json!([{ "articleId": article, "first": true }]),
            );
        }
        all.push(statement(&db, input).await);
    }
    for (q, filter) in [
        ("farm subsidies", json!(null)),
        ("subsidies -wheat", json!(null)),
        ("farm OR subsidies", json!({ "speakerIds": [boris] })),
    ] {
        let whole = ranking(&db, q, filter.clone(), 100).await;
        assert!(whole.len() > 8, "{q}: {whole:?}");
        assert_best_first(q, &whole);
        // Every first page is the head of the whole ranking, and paging through gives
        // the whole ranking again.
        for first in [1, 2, 3, 5, 7] {
            assert_eq!(
                ranking(&db, q, filter.clone(), first).await,
                whole,
                "{q}, {first} a page"
            );
        }
        let ids: Vec<String> = whole.iter().map(|(_, id)| id.clone()).collect();
        assert!(ids.iter().all(|id| all.contains(id)));
    }
    // The exclusion removes the statements that say "wheat", however they were found.
    let excluded = ranking(&db, "subsidies -wheat", json!(null), 100).await;
    let with_wheat = ranking(&db, "subsidies", json!(null), 100).await;
    assert!(excluded.len() < with_wheat.len());
}

#[tokio::test]
async fn claims_and_headlines_sharing_a_rank_are_walked_and_pages_stay_exact() {
    let db = TestDb::new().await;
    let anna = speaker(&db, "Anna").await;
    // Thirty claims of one template rank alike; one says it twice and ranks above them.
    let mut claims = Vec::new();
    for n in 0..30 {
        claims.push(claim(&db, &format!("Farm subsidies must end, case {n}")).await);
    }
    let louder = claim(&db, "Farm subsidies, farm subsidies must end").await;
    let headlines = [
        headline(&db, "The farm subsidies debate").await,
        headline(&db, "Another farm subsidies debate").await,
    ];
    let mut all = Vec::new();
    for n in 0..60 {
        // Most only take a stance (two per claim); every seventh says "wheat", which a
        // query below excludes; every fifth is German, which a filter below leaves out;
        // every eleventh is also reported under a headline; three take the louder claim.
        let text = match n % 7 {
            0 => format!("We grow wheat in field {n}."),
            _ => format!("Nothing to add on day {n}."),
        };
        let language = if n % 5 == 0 { "de" } else { "en" };
        let on = if n < 57 { &claims[n / 2] } else { &louder };
        let mut input = with_field(
            said(&anna, &text, language, "2020-01-01"),
            "stances",
            json!([{ "claimId": on, "stance": "OPPOSES" }]),
        );
        if n % 11 == 0 {
            input = with_field(
                input,
                "appearances",
                json!([{ "articleId": headlines[n % 2], "first": true }]),
            );
        }
        all.push(statement(&db, input).await);
    }
    for (q, filter) in [
        ("farm subsidies", json!(null)),
        ("subsidies -wheat", json!(null)),
        ("farm subsidies", json!({ "language": "en" })),
        ("subsidies debate", json!(null)),
    ] {
        // A page of 100 reads every match (no level holds that many).
        let whole = ranking(&db, q, filter.clone(), 100).await;
        assert!(whole.len() >= 6, "{q}: {whole:?}");
        assert_best_first(q, &whole);
        for first in [1, 4, 9, 25] {
            assert_eq!(
                ranking(&db, q, filter.clone(), first).await,
                whole,
                "{q} {filter}, {first} a page"
            );
        }
    }
    // The louder claim's three statements come first, then the rest by id.
    let whole = ranking(&db, "farm subsidies", json!(null), 100).await;
    assert_eq!(whole.len(), 60);
    let mut rest = all[..57].to_vec();
    rest.sort();
    let expected: Vec<&String> = all[57..].iter().chain(rest.iter()).collect();
    let got: Vec<&String> = whole.iter().map(|(_, id)| id).collect();
    assert_eq!(got, expected);
    // A first page walks the claims' two rank levels (the louder claim, then the
    // thirty), and the headlines' one, in one statement before the page's own.
    let (schema, recorded) = recording_schema(&db).await;
    let (page, _, ran) = ids_page(&schema, &recorded, "farm subsidies", 5, None).await;
    assert_eq!(
        page,
        got[..5].iter().map(|id| (*id).clone()).collect::<Vec<_>>()
    );
    let walks_then_page = recorded.lock().unwrap().clone();
    assert_eq!(walks_then_page.len(), 2, "{walks_then_page:#?}");
    let walks = &walks_then_page[0];
    assert_eq!(walks.matches("link.claim_id = ANY(").count(), 2, "{walks}");
    assert_eq!(
        walks.matches("link.article_id = ANY(").count(),
        1,
        "{walks}"
    );
    // The page binds what the walks found: it neither walks nor ranks claims again,
    // the walks having found more than the page needs.
    assert_eq!(ran, walks_then_page[1..]);
    assert!(!ran[0].contains("= ANY("), "{}", ran[0]);
    assert!(!ran[0].contains("FROM claim"), "{}", ran[0]);
    assert!(!ran[0].contains("FROM article"), "{}", ran[0]);
    // The statements' own words were ranked on the pool's second connection while
    // the levels were read and walked, and come into the page's statement ranked.
    assert!(
        !ran[0].contains("ts_rank(statement.search_doc"),
        "{}",
        ran[0]
    );
    // Without "wheat", the headlines lead to five statements, fewer than a page of five
    // needs (six, to tell whether more follow): that arm reads every headline's links,
    // while the claims' walks still suffice.
    let (no_wheat, _, ran) = ids_page(&schema, &recorded, "subsidies -wheat", 5, None).await;
    assert_eq!(
        no_wheat,
        ranking(&db, "subsidies -wheat", json!(null), 100).await[..5]
            .iter()
            .map(|(_, id)| id.clone())
            .collect::<Vec<_>>()
    );
    assert!(ran[0].contains("FROM article a"), "{}", ran[0]);
    assert!(!ran[0].contains("FROM claim"), "{}", ran[0]);
    assert!(
        !ran[0].contains("ts_rank(statement.search_doc"),
        "{}",
        ran[0]
    );
    // A pool too small to lend a second connection ranks them in the page's own
    // statement, to the same page.
    let (schema, recorded) = recording_schema_with_pool(&db, 1).await;
    let (alone, _, ran) = ids_page(&schema, &recorded, "farm subsidies", 5, None).await;
    assert_eq!(alone, page);
    assert_eq!(recorded.lock().unwrap().len(), 2);
    assert!(
        ran[0].contains("ts_rank(statement.search_doc"),
        "{}",
        ran[0]
    );
}

/// How many statements `c` sees.
async fn statement_count(c: &impl ConnectionTrait) -> i64 {
    tests::scalar(c, "SELECT count(*) FROM statement").await
}

/// A search's second connection reads what its first one sees: a statement that
/// arrives after the search began is in neither.
#[tokio::test]
async fn a_searchs_second_connection_reads_in_its_snapshot() {
    use sea_orm::TransactionTrait;
    let db = TestDb::new().await;
    let s = speaker(&db, "Olaf Scholz").await;
    statement(&db, said(&s, "The budget holds.", "en", "2021-03-01")).await;
    let txn = db
        .db()
        .begin_with_config(
            Some(sea_orm::IsolationLevel::RepeatableRead),
            Some(sea_orm::AccessMode::ReadOnly),
        )
        .await
        .unwrap();
    assert_eq!(statement_count(&txn).await, 1);
    statement(&db, said(&s, "The budget grows.", "en", "2021-03-02")).await;
    let beside = claimtrack::service::search::sharing_snapshot(db.db(), &txn)
        .await
        .unwrap();
    assert_eq!(statement_count(&beside).await, 1);
    assert_eq!(statement_count(db.db()).await, 2);
    beside.commit().await.unwrap();
    txn.commit().await.unwrap();
}

#[tokio::test]
async fn search_refuses_a_cursor_of_another_list() {
    let db = TestDb::new().await;
    cyber_statements(&db).await;
    let data = db
        .ok(
            "query { statements(first: 1) { pageInfo { endCursor } } }",
            json!({}),
        )
        .await;
    let cursor = data["statements"]["pageInfo"]["endCursor"].clone();
    let err = db
        .err(SEARCH, json!({ "q": "security", "after": cursor }))
        .await;
    assert_eq!(err["extensions"]["code"], "BAD_USER_INPUT");
    assert_eq!(err["extensions"]["field"], "after");
}

#[tokio::test]
async fn search_finds_statements_through_claims_and_headlines() {
    let db = TestDb::new().await;
    let s = speaker(&db, "A Senator").await;
    let wage = claim(&db, "The minimum wage will double by 2030").await;
    let through_claim = statement(
        &db,
        with_field(
            said(
                &s,
                "We will make it happen, believe me.",
                "en",
                "2022-01-01",
            ),
            "stances",
            json!([{ "claimId": wage, "stance": "SUPPORTS" }]),
        ),
    )
    .await;
    let article = headline(&db, "Senate debates farm subsidies").await;
    let through_title = statement(
        &db,
        with_field(
            said(&s, "It is a good day for farmers.", "en", "2022-02-01"),
            "appearances",
            json!([{ "articleId": article, "first": true }]),
        ),
    )
    .await;
    assert_eq!(
        hits(&db, "minimum wage", json!(null)).await,
        vec![through_claim]
    );
    // What the query excludes, the statement's own text must not say.
    assert!(
        hits(&db, "minimum wage -believe", json!(null))
            .await
            .is_empty()
    );
    assert!(
        hits(&db, "subsidies -farmers", json!(null))
            .await
            .is_empty()
    );
    // The headline is read in its language: "subsidy" finds "subsidies".
    let data = db.ok(SEARCH, json!({ "q": "subsidy" })).await;
    let edge = &data["search"]["edges"][0]["node"];
    assert_eq!(edge["statement"]["id"], json!(through_title));
    assert_eq!(edge["highlight"], "It is a good day for farmers.");
    assert_eq!(data["search"]["totalCount"], 1);
}

#[tokio::test]
async fn search_filters_statements_found_through_claims_and_headlines() {
    let db = TestDb::new().await;
    let anna = speaker(&db, "Anna").await;
    let boris = speaker(&db, "Boris").await;
    let wage = claim(&db, "The minimum wage will double by 2030").await;
    let stance = json!([{ "claimId": wage, "stance": "SUPPORTS" }]);
    let anna_wage = statement(
        &db,
        with_field(
            said(&anna, "We will make it happen.", "en", "2022-01-01"),
            "stances",
            stance.clone(),
        ),
    )
    .await;
    let boris_wage = statement(
        &db,
        with_field(
            said(&boris, "Wir schaffen das.", "de", "2022-01-02"),
            "stances",
            stance,
        ),
    )
    .await;
    let article = headline(&db, "Senate debates farm subsidies").await;
    let appearance = json!([{ "articleId": article, "first": true }]);
    let anna_farm = statement(
        &db,
        with_field(
            said(&anna, "It is a good day for farmers.", "en", "2022-02-01"),
            "appearances",
            appearance.clone(),
        ),
    )
    .await;
    let boris_farm = statement(
        &db,
        with_field(
            said(&boris, "Ein guter Tag für die Bauern.", "de", "2022-02-02"),
            "appearances",
            appearance,
        ),
    )
    .await;
    assert_eq!(
        sorted(hits(&db, "minimum wage", json!(null)).await),
        sorted(vec![anna_wage.clone(), boris_wage.clone()])
    );
    // The filter narrows what claims and headlines find, in the page, the count and
    // the facets alike.
    assert_eq!(
        hits(&db, "minimum wage", json!({ "speakerIds": [boris] })).await,
        vec![boris_wage.clone()]
    );
    assert_eq!(
        hits(&db, "subsidies", json!({ "language": "de" })).await,
        vec![boris_farm.clone()]
    );
    assert_eq!(
        hits(&db, "subsidies", json!({ "statedTo": "2022-02-01" })).await,
        vec![anna_farm.clone()]
    );
    let data = db
        .ok(
            FACETS,
            json!({ "q": "subsidies OR wage", "filter": { "speakerIds": [anna] } }),
        )
        .await;
    assert_eq!(data["search"]["totalCount"], 2);
    assert_eq!(
        data["search"]["facets"]["speakers"],
        json!([{ "speaker": { "name": "Anna" }, "count": 2 }])
    );
    // A deleted statement is found no more, however it was found.
    db.ok(
        "mutation($id: ID!) { deleteStatement(input: {id: $id, version: 1}) { deletedId } }",
        json!({ "id": anna_wage }),
    )
    .await;
    assert_eq!(
        hits(&db, "minimum wage", json!(null)).await,
        vec![boris_wage]
    );
    assert_eq!(
        sorted(hits(&db, "subsidies", json!(null)).await),
        sorted(vec![anna_farm, boris_farm])
    );
}

// ---------------------------------------------------------------------------------
// Similar statements

async fn tax_statements(db: &TestDb) -> [String; 4] {
    let a = speaker(db, "Anna").await;
    let b = speaker(db, "Boris").await;
    let same = statement(
        db,
        said(
            &b,
            "We will cut taxes for working families next year.",
            "en",
            "2020-01-01",
        ),
    )
    .await;
    let negated = statement(
        db,
        said(
            &a,
            "We will not cut taxes for working families next year!",
            "en",
            "2020-02-01",
        ),
    )
    .await;
    let shorter = statement(
        db,
        said(&a, "We will cut taxes for families.", "en", "2020-03-01"),
    )
    .await;
    let other = statement(
        db,
        said(
            &b,
            "The weather in Hamburg was pleasant.",
            "en",
            "2020-04-01",
        ),
    )
    .await;
    [same, negated, shorter, other]
}

fn similar_ids(data: &Value) -> Vec<(String, f64)> {
    data["similarStatements"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["statement"]["id"].as_str().unwrap().to_owned(),
                s["similarity"].as_f64().unwrap(),
            )
        })
        .collect()
}

#[tokio::test]
async fn similar_statements_respect_the_threshold_most_similar_first() {
    let db = TestDb::new().await;
    let [same, negated, shorter, other] = tax_statements(&db).await;
    let text = "We  will cut taxes for working   families next year.";
    let found = similar_ids(&db.ok(SIMILAR, json!({ "text": text, "min": 0.5 })).await);
    let ids: Vec<&str> = found.iter().map(|(id, _)| id.as_str()).collect();
    assert_eq!(ids[..2], [same.as_str(), negated.as_str()]);
    assert!(!ids.contains(&other.as_str()));
    assert!((found[0].1 - 1.0).abs() < 1e-6, "{found:?}");
    for pair in found.windows(2) {
        assert!(pair[0].1 >= pair[1].1, "{found:?}");
    }
    assert!(found.iter().all(|(_, s)| *s >= 0.5), "{found:?}");
    // A higher threshold leaves only the repeat.
    let strict = similar_ids(&db.ok(SIMILAR, json!({ "text": text, "min": 0.95 })).await);
    assert_eq!(strict.len(), 1);
    assert_eq!(strict[0].0, same);
    // The shorter one sits between the two thresholds.
    let loose = similar_ids(&db.ok(SIMILAR, json!({ "text": text, "min": 0.3 })).await);
    let shorter_at = loose.iter().find(|(id, _)| *id == shorter).unwrap().1;
    assert!((0.3..0.95).contains(&shorter_at), "{loose:?}");
    // `first` caps the list.
    let one = similar_ids(
        &db.ok(SIMILAR, json!({ "text": text, "min": 0.3, "first": 1 }))
            .await,
    );
    assert_eq!(one.len(), 1);
}

#[tokio::test]
async fn similar_statements_of_a_statement_leave_it_out() {
    let db = TestDb::new().await;
    let [same, negated, _, _] = tax_statements(&db).await;
    let found = similar_ids(&db.ok(SIMILAR, json!({ "id": negated, "min": 0.8 })).await);
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].0, same);
}

/// Similar statements through the signature bands: (id, similarity), best first.
async fn by_bands(db: &TestDb, text: &str, except: Option<&str>, min: f64) -> Vec<(String, f64)> {
    by(db, Strategy::Bands, text, except, min).await
}

async fn by(
    db: &TestDb,
    strategy: Strategy,
    text: &str,
    except: Option<&str>,
    min: f64,
) -> Vec<(String, f64)> {
    let except = except.map(|id| id.parse().unwrap());
    similar::similar_by(db.db(), strategy, text, except, min, 20)
        .await
        .unwrap()
        .into_iter()
        .map(|s| (s.statement.id.to_string(), f64::from(s.similarity)))
        .collect()
}

/// Rows of `statement_text_band` for a statement, and how many bands its text has.
async fn bands_of(db: &TestDb, id: &str) -> (i64, i64) {
    let row = db
        .db()
        .query_one_raw(sea_orm::Statement::from_string(
            sea_orm::DbBackend::Postgres,
            format!(
                "SELECT (SELECT count(*) FROM statement_text_band WHERE statement_id = s.id), \
                        cardinality(statement_text_bands(s.text))::bigint FROM statement s WHERE s.id = '{id}'"
            ),
        ))
        .await
        .unwrap()
        .unwrap();
    (
        row.try_get_by_index(0).unwrap(),
        row.try_get_by_index(1).unwrap(),
    )
}

/// Listed bands that are not a live statement's current ones, and current bands of
/// live statements that are not listed: both 0 when the triggers kept up.
async fn band_drift(db: &TestDb) -> (i64, i64) {
    let row = db
        .db()
        .query_one_raw(sea_orm::Statement::from_string(
            sea_orm::DbBackend::Postgres,
            "WITH want AS (SELECT DISTINCT b.band, s.id FROM statement s, \
                           unnest(statement_text_bands(s.text)) b(band) WHERE s.deleted_at IS NULL) \
             SELECT (SELECT count(*) FROM statement_text_band t WHERE NOT EXISTS \
                       (SELECT 1 FROM want w WHERE w.band = t.band AND w.id = t.statement_id)), \
                    (SELECT count(*) FROM want w WHERE NOT EXISTS \
                       (SELECT 1 FROM statement_text_band t WHERE t.band = w.band AND t.statement_id = w.id))"
                .to_owned(),
        ))
        .await
        .unwrap()
        .unwrap();
    (
        row.try_get_by_index(0).unwrap(),
        row.try_get_by_index(1).unwrap(),
    )
}

#[tokio::test]
async fn a_small_collection_is_searched_exactly_a_large_one_by_bands() {
    let db = TestDb::new().await;
    tax_statements(&db).await;
    assert_eq!(Strategy::choose(db.db()).await.unwrap(), Strategy::Trigrams);
    // What the planner believes of the table decides, as it would after ANALYZE.
    db.db()
        .execute_unprepared(&format!(
            "UPDATE pg_class SET reltuples = {} WHERE oid = 'statement'::regclass",
            similar::EXACT_UP_TO + 1
        ))
        .await
        .unwrap();
    assert_eq!(Strategy::choose(db.db()).await.unwrap(), Strategy::Bands);
}

#[tokio::test]
async fn similar_statements_through_bands_are_near_duplicates_ranked_exactly() {
    let db = TestDb::new().await;
    let [same, negated, shorter, other] = tax_statements(&db).await;
    let text = "We will cut taxes for working families next year.";
    let found = by_bands(&db, text, None, 0.5).await;
    let ids: Vec<&str> = found.iter().map(|(id, _)| id.as_str()).collect();
    assert_eq!(ids[..2], [same.as_str(), negated.as_str()], "{found:?}");
    assert!(!ids.contains(&other.as_str()), "{found:?}");
    assert!((found[0].1 - 1.0).abs() < 1e-6, "{found:?}");
    assert!(found.iter().all(|(_, s)| *s >= 0.5), "{found:?}");
    for pair in found.windows(2) {
        assert!(pair[0].1 >= pair[1].1, "{found:?}");
    }
    // Where the bands find a statement, its similarity is the exact one.
    let exact = by(&db, Strategy::Trigrams, text, None, 0.3).await;
    for (id, similarity) in &found {
        let (_, expected) = exact.iter().find(|(e, _)| e == id).unwrap();
        assert!((similarity - expected).abs() < 1e-6, "{found:?} {exact:?}");
    }
    // Near-duplicates are found by both ways alike.
    assert_eq!(
        found_ids(&by_bands(&db, text, None, 0.8).await),
        found_ids(&by(&db, Strategy::Trigrams, text, None, 0.8).await)
    );
    // The statement asked about is left out; the threshold holds.
    let of_negated = by_bands(&db, text, Some(&negated), 0.5).await;
    assert!(!found_ids(&of_negated).contains(&negated), "{of_negated:?}");
    assert!(found_ids(&of_negated).contains(&same), "{of_negated:?}");
    assert!(
        by_bands(&db, text, None, 0.95)
            .await
            .iter()
            .all(|(id, _)| *id == same)
    );
    assert_eq!(
        found_ids(&by_bands(&db, text, None, 0.95).await),
        vec![same]
    );
    assert!(!found_ids(&by_bands(&db, text, None, 0.95).await).contains(&shorter));
}

fn found_ids(found: &[(String, f64)]) -> Vec<String> {
    found.iter().map(|(id, _)| id.clone()).collect()
}

#[tokio::test]
async fn signature_bands_follow_text_edits_and_deletes() {
    let db = TestDb::new().await;
    let [same, negated, _, other] = tax_statements(&db).await;
    let text = "We will cut taxes for working families next year.";
    for id in [&same, &negated, &other] {
        let (rows, bands) = bands_of(&db, id).await;
        assert_eq!(rows, bands, "every band of {id} is listed");
        assert_eq!(bands, 20);
    }
    const UPDATE: &str = "mutation($input: UpdateStatementInput!) { updateStatement(input: $input) { statement { id } } }";
    // An edit that keeps the text keeps the bands.
    db.ok(
        UPDATE,
        json!({ "input": { "id": other, "version": 1, "context": "At a rally" } }),
    )
    .await;
    assert_eq!(bands_of(&db, &other).await, (20, 20));
    // New text, new bands: the edited statement is found by its new text only.
    db.ok(
        UPDATE,
        json!({ "input": { "id": other, "version": 2, "text": "We will cut taxes for all working families next year." } }),
    )
    .await;
    assert_eq!(bands_of(&db, &other).await, (20, 20));
    assert!(found_ids(&by_bands(&db, text, None, 0.7).await).contains(&other));
    assert!(
        found_ids(&by_bands(&db, "The weather in Hamburg was pleasant.", None, 0.7).await)
            .is_empty()
    );
    // A deleted statement leaves the bands and is found no more.
    db.ok(
        "mutation($input: DeleteInput!) { deleteStatement(input: $input) { deletedId } }",
        json!({ "input": { "id": negated, "version": 1 } }),
    )
    .await;
    assert_eq!(bands_of(&db, &negated).await, (0, 20));
    assert!(!found_ids(&by_bands(&db, text, None, 0.5).await).contains(&negated));
    assert!(!found_ids(&by(&db, Strategy::Trigrams, text, None, 0.5).await).contains(&negated));
    // Across the whole table, exactly the live statements' current bands are listed.
    assert_eq!(band_drift(&db).await, (0, 0));
}

#[tokio::test]
async fn similar_statements_refuse_bad_arguments() {
    let db = TestDb::new().await;
    let [same, ..] = tax_statements(&db).await;
    let before = db.counts().await;
    for (vars, code, field) in [
        (json!({}), "BAD_USER_INPUT", "text"),
        (
            json!({ "text": "taxes", "id": same }),
            "BAD_USER_INPUT",
            "text",
        ),
        (json!({ "text": "   " }), "BAD_USER_INPUT", "text"),
        (
            json!({ "text": "taxes", "min": 0.1 }),
            "BAD_USER_INPUT",
            "minSimilarity",
        ),
        (
            json!({ "text": "taxes", "min": 1.5 }),
            "BAD_USER_INPUT",
            "minSimilarity",
        ),
        (
            json!({ "text": "taxes", "first": 101 }),
            "BAD_USER_INPUT",
            "first",
        ),
        (
            json!({ "id": "not-an-id" }),
            "BAD_USER_INPUT",
            "statementId",
        ),
        (
            json!({ "id": "01900000-0000-7000-8000-000000000000" }),
            "NOT_FOUND",
            "statementId",
        ),
    ] {
        let err = db.err(SIMILAR, vars.clone()).await;
        assert_eq!(err["extensions"]["code"], code, "{vars}: {err}");
        assert_eq!(err["extensions"]["field"], field, "{vars}: {err}");
    }
    assert_eq!(db.counts().await, before);
}

// ---------------------------------------------------------------------------------
// Claim matching

struct Matching {
    claim: String,
    lookalike: String,
    attached: String,
    unrelated: String,
}

async fn matching(db: &TestDb) -> Matching {
    let s = speaker(db, "Sergei Lavrov").await;
    let t = speaker(db, "Donald Trump").await;
    let claim = claim(
        db,
        "Russia and the U.S. will set up a joint cyber security working group",
    )
    .await;
    let lookalike = statement(
        db,
        said(
            &s,
            "The proposals to set up a Russia–U.S. working group on cyber security remain topical.",
            "en",
            "2017-07-24",
        ),
    )
    .await;
    let attached = statement(
        db,
        with_field(
            said(
                &s,
                "Russia and the U.S. will set up a joint cyber security working group, they agreed.",
                "en",
                "2017-07-07",
            ),
            "stances",
            json!([{ "claimId": claim, "stance": "SUPPORTS" }]),
        ),
    )
    .await;
    let unrelated = statement(
        db,
        said(
            &t,
            "Putin & I discussed forming an impenetrable Cyber Security unit so that election hacking, \
             & many other negative things, will be guarded and safe.",
            "en",
            "2017-07-09",
        ),
    )
    .await;
    Matching {
        claim,
        lookalike,
        attached,
        unrelated,
    }
}

#[tokio::test]
async fn claim_matching_statements_are_untied_lookalikes_and_attach_in_one_mutation() {
    let db = TestDb::new().await;
    let m = matching(&db).await;
    let data = db.ok(MATCHING, json!({ "id": m.claim, "min": 0.5 })).await;
    let listed: Vec<&str> = data["claim"]["matchingStatements"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["statement"]["id"].as_str().unwrap())
        .collect();
    assert_eq!(listed, vec![m.lookalike.as_str()]);
    assert!(!listed.contains(&m.attached.as_str()) && !listed.contains(&m.unrelated.as_str()));
    // A lower threshold reaches further, still leaving out the attached statement.
    let data = db.ok(MATCHING, json!({ "id": m.claim, "min": 0.3 })).await;
    let loose: Vec<&str> = data["claim"]["matchingStatements"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["statement"]["id"].as_str().unwrap())
        .collect();
    assert!(!loose.contains(&m.attached.as_str()));

    let revisions = db.count("revision").await;
    let data = db
        .ok(
            ATTACH,
            json!({ "input": { "claimId": m.claim, "statementIds": [m.lookalike], "stance": "SUPPORTS" } }),
        )
        .await;
    let payload = &data["attachStatementsToClaim"];
    assert_eq!(payload["claim"]["id"], json!(m.claim));
    assert_eq!(payload["statements"][0]["id"], json!(m.lookalike));
    assert_eq!(payload["statements"][0]["version"], 2);
    assert_eq!(
        payload["statements"][0]["stances"],
        json!([{ "stance": "SUPPORTS", "claim": { "id": m.claim } }])
    );
    assert_eq!(db.count("revision").await, revisions + 1);
    let data = db.ok(MATCHING, json!({ "id": m.claim, "min": 0.5 })).await;
    assert_eq!(data["claim"]["matchingStatements"], json!([]));
    assert_eq!(data["claim"]["statements"]["totalCount"], 2);
}

/// A claim's matching statements the given way: (id, similarity), best first.
async fn matching_by(db: &TestDb, strategy: Strategy, claim: &str, min: f64) -> Vec<(String, f64)> {
    use sea_orm::EntityTrait;
    let claim = entity::claim::Entity::find_by_id(claim.parse::<uuid::Uuid>().unwrap())
        .one(db.db())
        .await
        .unwrap()
        .unwrap();
    similar::matching_by(db.db(), strategy, &claim, min, 20)
        .await
        .unwrap()
        .into_iter()
        .map(|s| (s.statement.id.to_string(), f64::from(s.similarity)))
        .collect()
}

#[tokio::test]
async fn claim_matching_through_words_finds_what_the_trigrams_find() {
    let db = TestDb::new().await;
    let m = matching(&db).await;
    let s = speaker(&db, "Maria Zakharova").await;
    // Every word of the claim, and every word but one: found by the strict tiers.
    let verbatim = statement(
        &db,
        said(
            &s,
            "Russia and the U.S. will set up a joint cyber security working group, as agreed.",
            "en",
            "2017-07-25",
        ),
    )
    .await;
    let all_but_one = statement(
        &db,
        said(
            &s,
            "Russia and the U.S. will set up a cyber security working group soon.",
            "en",
            "2017-07-26",
        ),
    )
    .await;
    for min in [0.5, 0.8] {
        let exact = matching_by(&db, Strategy::Trigrams, &m.claim, min).await;
        let words = matching_by(&db, Strategy::Bands, &m.claim, min).await;
        assert_eq!(words, exact, "at {min}");
    }
    let words = matching_by(&db, Strategy::Bands, &m.claim, 0.5).await;
    let ids: Vec<&str> = words.iter().map(|(id, _)| id.as_str()).collect();
    // The verbatim statement first; the paraphrase lacking three of the claim's words
    // is found through its rarest words; the attached one never.
    assert_eq!(ids[0], verbatim);
    assert!(ids.contains(&all_but_one.as_str()) && ids.contains(&m.lookalike.as_str()));
    assert!(!ids.contains(&m.attached.as_str()));
    assert!(words.iter().all(|(_, similarity)| *similarity >= 0.5));
}

#[tokio::test]
async fn attach_statements_to_claim_refuses_bad_input_and_writes_nothing() {
    let db = TestDb::new().await;
    let m = matching(&db).await;
    let before = db.counts().await;
    let unknown = "01900000-0000-7000-8000-000000000000";
    for (claim, ids, code, field) in [
        (&m.claim, json!([]), "BAD_USER_INPUT", "input.statementIds"),
        (
            &m.claim,
            json!([m.lookalike, m.lookalike]),
            "BAD_USER_INPUT",
            "input.statementIds[1]",
        ),
        // The first statement would be attached, the second already is: neither is.
        (
            &m.claim,
            json!([m.lookalike, m.attached]),
            "BAD_USER_INPUT",
            "input.statementIds[1]",
        ),
        (
            &m.claim,
            json!([m.unrelated, unknown]),
            "NOT_FOUND",
            "input.statementIds[1]",
        ),
        (
            &m.claim,
            json!(["nope"]),
            "BAD_USER_INPUT",
            "input.statementIds[0]",
        ),
        (
            &unknown.to_owned(),
            json!([m.lookalike]),
            "NOT_FOUND",
            "input.claimId",
        ),
    ] {
        let err = db
            .err(
                ATTACH,
                json!({ "input": { "claimId": claim, "statementIds": ids, "stance": "SUPPORTS" } }),
            )
            .await;
        assert_eq!(err["extensions"]["code"], code, "{ids}: {err}");
        assert_eq!(err["extensions"]["field"], field, "{ids}: {err}");
    }
    assert_eq!(db.counts().await, before);
}

// ---------------------------------------------------------------------------------
// Contradiction candidates from similar text

const CANDIDATES: &str = "{
    contradictionCandidates(first: 100) {
        totalCount
        nodes { status relation note source { id } targetStatement { id } }
    }
}";

#[tokio::test]
async fn similar_text_with_opposite_stances_is_a_contradiction_candidate() {
    let db = TestDb::new().await;
    let p = speaker(&db, "Paula").await;
    let q = speaker(&db, "Quentin").await;
    let cut = claim(&db, "Taxes will be cut next year").await;
    let lower = claim(&db, "The government will lower taxes in the coming year").await;
    let earlier = statement(
        &db,
        with_field(
            said(
                &p,
                "We will cut taxes for working families next year.",
                "en",
                "2020-01-01",
            ),
            "stances",
            json!([{ "claimId": cut, "stance": "SUPPORTS" }]),
        ),
    )
    .await;
    let later = statement(
        &db,
        with_field(
            said(
                &p,
                "We will not cut taxes for working families next year.",
                "en",
                "2020-06-01",
            ),
            "stances",
            json!([{ "claimId": lower, "stance": "OPPOSES" }]),
        ),
    )
    .await;
    // Another speaker saying it, and the same speaker saying something else, are not.
    statement(
        &db,
        with_field(
            said(
                &q,
                "We will not cut taxes for working families next year.",
                "en",
                "2020-07-01",
            ),
            "stances",
            json!([{ "claimId": cut, "stance": "OPPOSES" }]),
        ),
    )
    .await;
    statement(
        &db,
        with_field(
            said(
                &p,
                "The weather was nice at the seaside.",
                "en",
                "2020-08-01",
            ),
            "stances",
            json!([{ "claimId": lower, "stance": "OPPOSES" }]),
        ),
    )
    .await;
    let data = db.ok(CANDIDATES, json!({})).await;
    let conn = &data["contradictionCandidates"];
    assert_eq!(conn["totalCount"], 1, "{conn:#}");
    let link = &conn["nodes"][0];
    assert_eq!(link["status"], "SUGGESTED");
    assert_eq!(link["relation"], "REVERSES");
    assert_eq!(link["source"]["id"], json!(earlier));
    assert_eq!(link["targetStatement"]["id"], json!(later));
    assert!(link["note"].as_str().unwrap().contains("similar"), "{link}");

    // Once the later text says something else, the suggestion is withdrawn.
    let version = db
        .ok(
            "query($id: ID!) { statement(id: $id) { version } }",
            json!({ "id": later }),
        )
        .await["statement"]["version"]
        .clone();
    db.ok(
        "mutation($input: UpdateStatementInput!) { updateStatement(input: $input) { statement { id } } }",
        json!({ "input": { "id": later, "version": version, "text": "Hamburg was lovely in July." } }),
    )
    .await;
    let data = db.ok(CANDIDATES, json!({})).await;
    assert_eq!(data["contradictionCandidates"]["totalCount"], 0);
}
