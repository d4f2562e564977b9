//! Real GraphQL clients against a default `claimtrack serve`: graphql-js 16 and 17
//! introspect it with every combination of `getIntrospectionQuery`'s options (what
//! GraphiQL, Apollo's tools and code generators send) and build a client schema that
//! is the served SDL; an introspection query that re-expands types is still refused.

use std::process::Command;

use serde_json::{Value, json};
use tests::TestDb;
use tests::process::Service;

/// `node` and the client packages of `tests/js` (`npm ci --prefix tests/js`).
fn node_script(script: &str) -> Command {
    let js = tests::workspace_dir().join("tests").join("js");
    assert!(
        Command::new("node").arg("--version").output().is_ok(),
        "these tests run real JavaScript clients: install Node.js (Debian's `nodejs`)"
    );
    assert!(
        js.join("node_modules").is_dir(),
        "the JavaScript clients are not installed: run `npm ci --prefix tests/js`"
    );
    let mut command = Command::new("node");
    command.arg(js.join(script));
    command
}

#[tokio::test(flavor = "multi_thread")]
async fn graphql_js_builds_a_client_schema_from_a_default_server() {
    let db = TestDb::new().await;
    let url = db.url();
    let output = tokio::task::spawn_blocking(move || {
        // Default limits: no flag raises the depth.
        let service = Service::start(&url, &["--no-migrate"]);
        node_script("introspect.mjs")
            .arg(service.url(""))
            .output()
            .expect("run node")
    })
    .await
    .expect("the client run");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let lines: Vec<Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect();
    let failures: Vec<&Value> = lines.iter().filter(|l| l["ok"] == false).collect();
    assert!(
        failures.is_empty(),
        "{} introspection queries failed, e.g. {:#}\n{}",
        failures.len(),
        failures[0],
        String::from_utf8_lossy(&output.stderr)
    );
    let summary = lines.last().expect("a summary line");
    // Two libraries × (64 option combinations + typeDepth 3..=9).
    assert_eq!(summary["ran"], 2 * (64 + 7), "{stdout}");
    assert_eq!(summary["failed"], 0);
    assert!(output.status.success());
    let same_as_sdl = lines.iter().filter(|l| l["sameAsSdl"] == true).count();
    assert_eq!(
        same_as_sdl,
        2 * (1 + 7),
        "every full introspection equals the SDL"
    );
    eprintln!("{}", summary);
    let types = lines[0]["types"].as_u64().expect("a type count");
    assert!(types > 80, "{types} types");
}

#[tokio::test]
async fn an_introspection_query_that_re_expands_types_is_refused() {
    let db = TestDb::new().await;
    for query in [
        "{ __type(name: \"Query\") { fields { type { fields { type { fields { name } } } } } } }",
        "{ __schema { types { fields { type { ofType { fields { name } } } } } } }",
        "{ __schema { types { possibleTypes { interfaces { name } } } } }",
    ] {
        let error = db.err(query, json!({})).await;
        assert_eq!(error["extensions"]["code"], "BAD_USER_INPUT", "{query}");
        let message = error["message"].as_str().unwrap_or_default();
        assert!(message.contains("nested too deep"), "{message}");
    }
    // Deeper type references than graphql-js's default typeDepth are refused too.
    let mut type_ref = String::from("name");
    for _ in 0..11 {
        type_ref = format!("name ofType {{ {type_ref} }}");
    }
    let deep = format!("{{ __schema {{ types {{ fields {{ type {{ {type_ref} }} }} }} }} }}");
    let error = db.err(&deep, json!({})).await;
    assert!(
        error["message"]
            .as_str()
            .is_some_and(|m| m.contains("introspection query is nested too deep")),
        "{error}"
    );
    // What a documentation browser asks of one type is answered.
    let one_type = db
        .ok(
            "{ __type(name: \"Statement\") { name fields { name type { kind name ofType { kind name ofType { kind name } } } } } }",
            json!({}),
        )
        .await;
    assert!(
        one_type["__type"]["fields"]
            .as_array()
            .is_some_and(|f| f.iter().any(|f| f["name"] == "statedOn"))
    );
}

#[tokio::test]
async fn the_data_depth_limit_still_holds_beside_introspection() {
    let db = TestDb::new().await;
    // 13 levels of data fields under the default limit of 12, sent with introspection.
    let query = "{ __schema { queryType { name } } speakers(first: 1) { edges { node { \
                 statements(first: 1) { edges { node { speaker { statements(first: 1) { edges { \
                 node { stances { claim { slug } } } } } } } } } } } } }";
    let error = db.err(query, json!({})).await;
    assert_eq!(error["extensions"]["code"], "BAD_USER_INPUT");
    assert!(
        error["message"]
            .as_str()
            .is_some_and(|m| m.contains("is nested too deep: 13 levels")),
        "{error}"
    );
}
