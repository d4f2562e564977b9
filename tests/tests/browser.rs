//! The service's pages in a real browser (headless chromium, see `tests::browser`),
//! with every host but 127.0.0.1 unreachable: GraphiQL works from the binary alone.

use std::time::Instant;

use tests::TestDb;
use tests::browser::{self, Options};
use tests::process::Service;

/// Polled until the docs explorer shows the `Query` type's fields, which takes the
/// introspection request to /graphql: opens `Query` from the explorer's root types
/// once they are listed (clicking again is harmless).
const QUERY_TYPE_DOCUMENTED: &str = r#"(() => {
  const explorer = document.querySelector('.graphiql-doc-explorer');
  if (!explorer) return false;
  const fields = [...explorer.querySelectorAll('.graphiql-doc-explorer-field-name')];
  if (fields.some(f => f.textContent === 'speakers')) return true;
  const query = [...explorer.querySelectorAll('a.graphiql-doc-explorer-type-name')]
    .find(a => a.textContent === 'Query');
  if (query) query.click();
  return false;
})()"#;

#[tokio::test(flavor = "multi_thread")]
async fn graphiql_works_offline_with_the_schema_and_the_readme_examples() {
    let db = TestDb::new().await;
    let url = db.url();
    let (page, took) = tokio::task::spawn_blocking(move || {
        // Default limits: GraphiQL's introspection query is admitted as it is.
        let service = Service::start(&url, &[]);
        let started = Instant::now();
        let page = browser::open_with(
            &service.url("/"),
            "graphiql",
            &Options::until(QUERY_TYPE_DOCUMENTED),
        );
        (page, started.elapsed())
    })
    .await
    .expect("the browser run");
    eprintln!("GraphiQL loaded and documented its schema in {took:?}");

    // GraphiQL rendered: its editors are in the DOM.
    assert!(page.dom.contains("graphiql-container"), "{}", page.dom);
    assert!(page.dom.contains("graphiql-query-editor"), "{}", page.dom);
    assert!(page.dom.contains("CodeMirror"), "{}", page.dom);

    // The docs explorer is open on load and shows the schema from introspection: the
    // root type `Query` (opened from the root types) and its fields.
    let explorer = page
        .dom
        .split_once("graphiql-doc-explorer-title")
        .and_then(|(_, rest)| rest.split_once("graphiql-sessions"))
        .map(|(explorer, _)| explorer)
        .expect("the docs explorer, before the editors");
    assert!(explorer.starts_with("\">Query</"), "{explorer}");
    for field in ["speakers", "positionHistory", "timeline"] {
        assert!(explorer.contains(&format!(">{field}</a>")), "{explorer}");
    }

    // The README's examples are tabs, each titled after its section; the first is open.
    assert!(
        page.text
            .contains("DidDonaldTrumpsPositionOnTheRussiaUSCyberSecurityWorkingGroupChange"),
        "{}",
        page.text
    );
    assert!(page.text.contains("HowDidThisSpeakersPositionChange"));
    assert!(page.text.contains("# Did Donald Trump's position on"));
    assert!(!page.text.contains("<untitled>"), "{}", page.text);

    assert!(page.console.is_empty(), "console: {:#?}", page.console);
    assert!(
        page.requests
            .iter()
            .any(|u| u.ends_with("/graphql") && u.starts_with("http://127.0.0.1:")),
        "GraphiQL asked the service for its schema: {:#?}",
        page.requests
    );
    assert!(
        page.off_host_requests().is_empty(),
        "requests off 127.0.0.1: {:#?}",
        page.requests
    );
    let png = std::fs::read(&page.screenshot).expect("a screenshot");
    assert!(png.starts_with(b"\x89PNG") && png.len() > 10_000);
}

/// The harness itself: what a page asks of other hosts never comes, and the test sees
/// the requests and the failures.
#[test]
fn a_page_that_needs_the_internet_fails_visibly() {
    // A name that never resolves, an address kept for documentation (RFC 5737), a
    // frame from another site (a process of its own) and a worker asking for more.
    let worker = "fetch('http://example.invalid/from-worker')";
    let page = browser::open(
        &format!(
            "data:text/html,<img%20src=http://example.invalid/a.png>\
             <img%20src=http://192.0.2.1/b.png>\
             <iframe%20src=http://example.invalid/frame></iframe>\
             <script>console.error('seen');new%20Worker('data:text/javascript,{}')</script>",
            worker.replace(' ', "%20").replace('\'', "%22")
        ),
        "harness-offline",
    );
    let mut off_host = page.off_host_requests();
    off_host.sort();
    assert_eq!(
        off_host,
        [
            "http://192.0.2.1/b.png",
            "http://example.invalid/a.png",
            "http://example.invalid/frame",
            "http://example.invalid/from-worker",
        ],
        "{:#?}",
        page.requests
    );
    let errors: Vec<String> = page.errors().iter().map(|m| m.text.clone()).collect();
    assert!(errors.contains(&"seen".to_owned()), "{errors:#?}");
    for url in ["http://example.invalid/a.png", "http://192.0.2.1/b.png"] {
        assert!(
            page.errors().iter().any(|m| m.url.as_deref() == Some(url)),
            "no error for {url}: {:#?}",
            page.console
        );
    }
    assert!(page.screenshot.exists());
}
