//! The journalist's pages in a real browser (Debian's headless chromium), served by the
//! real binary: on the demo data, the picture shows Trump's SUPPORTS → OPPOSES break on
//! the working-group lane; on a generated data set, the busiest speaker's and claim's
//! pages render; on a phone's width nothing overflows; the picture alone is read as SVG.
//! No page logs an error or asks anything of a host but 127.0.0.1. Screenshots land in
//! `target/screenshots/`.

use sea_orm::{ConnectionTrait, Statement};
use tests::TestDb;
use tests::browser::{self, Options};
use tests::process::{Database, Service, run_command};

/// The picture's lane whose label holds `label`, as a JavaScript expression.
fn lane(label: &str) -> String {
    format!(
        "[...document.querySelectorAll('svg.picture g.lane')].find(g => g.textContent.includes({label:?}))"
    )
}

fn assert_clean(page: &browser::Page) {
    assert!(
        page.errors().is_empty(),
        "console errors: {:#?}",
        page.console
    );
    assert!(
        page.off_host_requests().is_empty(),
        "requests beyond 127.0.0.1: {:#?}",
        page.requests
    );
    assert!(!page.dom.contains("<script"), "a page without scripts");
}

#[tokio::test(flavor = "multi_thread")]
async fn trumps_page_shows_the_break_on_the_working_group_lane() {
    let db = TestDb::new().await;
    claimtrack::demo::load(db.db()).await.expect("demo data");
    let url = db.url();
    tokio::task::spawn_blocking(move || {
        let service = Service::start(&url, &["--no-migrate"]);
        // Waits until the working-group lane has a SUPPORTS mark left of a break and
        // only OPPOSES marks right of it, as laid out by the browser.
        let drawn = format!(
            "(() => {{ const lane = {}; if (!lane) return false; \
               const box = sel => [...lane.querySelectorAll(sel)].map(e => e.getBBox()); \
               const brk = box('path.break'); const sup = box('path.shape.supports'); \
               const opp = box('path.shape.opposes'); \
               if (brk.length !== 1 || !sup.length || !opp.length) return false; \
               const x = brk[0].x; \
               return sup.some(b => b.x + b.width <= x + 1) && opp.every(b => b.x >= x); }})()",
            lane("joint cyber security working group")
        );
        let page = browser::open_with(
            &service.url("/speakers/donald-trump"),
            "speaker-donald-trump",
            &Options {
                window: (1100, 1500),
                ..Options::until(&drawn)
            },
        );
        assert_clean(&page);
        assert!(page.text.contains("Donald Trump"));
        assert!(page.text.contains("President of the United States"));
        assert!(page.text.contains("SUPPORTS → OPPOSES"), "{}", page.text);
        assert!(page.text.contains("Follow-up"));
        assert!(page.screenshot.exists());

        // A phone: the page fits its width (the picture scrolls in its own box); and
        // the keyboard reaches the marks, which are links.
        let phone = browser::open_with(
            &service.url("/speakers/donald-trump"),
            "speaker-donald-trump-phone",
            &Options {
                window: (390, 844),
                ..Options::until(
                    "document.documentElement.scrollWidth <= window.innerWidth && (() => { \
                       const mark = document.querySelector('svg.picture a.mark'); \
                       mark.focus(); return document.activeElement === mark; })()",
                )
            },
        );
        assert_clean(&phone);

        // The picture alone is read as SVG, not as an XML error page.
        let alone = browser::open_with(
            &service.url("/speakers/donald-trump.svg"),
            "speaker-donald-trump-svg",
            &Options::until("document.documentElement.localName === 'svg'"),
        );
        assert!(alone.errors().is_empty(), "{:#?}", alone.console);
        assert!(!alone.dom.contains("parsererror"));
    })
    .await
    .expect("the browser run");
}

#[tokio::test(flavor = "multi_thread")]
async fn generated_pages_render_with_their_verdicts() {
    let db = TestDb::new().await;
    let url = db.url();
    let generated = url.clone();
    tokio::task::spawn_blocking(move || {
        run_command(
            &Database::Url(&generated),
            &["generate", "--statements", "3000", "--seed", "21"],
        )
    })
    .await
    .expect("generate");
    // The speaker with the most published verdicts on their statements, and the claim
    // with the most statements.
    let row = |sql: &str| {
        let db = db.db().clone();
        let sql = sql.to_owned();
        async move {
            db.query_one_raw(Statement::from_string(db.get_database_backend(), sql))
                .await
                .expect("query")
                .expect("a row")
        }
    };
    let busiest = row(
        "SELECT sp.slug, count(*)::bigint AS n FROM verdict v JOIN statement s ON s.id = v.statement_id \
         JOIN speaker sp ON sp.id = s.speaker_id WHERE v.status = 'PUBLISHED' AND v.deleted_at IS NULL \
         AND s.deleted_at IS NULL GROUP BY sp.slug ORDER BY n DESC, sp.slug LIMIT 1",
    )
    .await;
    let speaker: String = busiest.try_get("", "slug").expect("slug");
    let verdicts: i64 = busiest.try_get("", "n").expect("count");
    assert!(verdicts > 0);
    let claim = row(
        "SELECT coalesce(c.slug, c.id::text) AS key FROM claim c JOIN stance st ON st.claim_id = c.id \
         GROUP BY c.id ORDER BY count(*) DESC, c.id LIMIT 1",
    )
    .await;
    let claim: String = claim.try_get("", "key").expect("claim");
    tokio::task::spawn_blocking(move || {
        let service = Service::start(&url, &["--no-migrate"]);
        let page = browser::open_with(
            &service.url(&format!("/speakers/{speaker}")),
            "speaker-generated",
            &Options {
                window: (1100, 1500),
                ..Options::until(
                    "document.querySelectorAll('svg.picture a.verdict').length > 0 && \
                     document.querySelectorAll('svg.picture g.lane').length > 0",
                )
            },
        );
        assert_clean(&page);
        assert!(page.text.contains("Fact-check"));
        // The keyboard brings up a verdict's rating in words.
        let focused = browser::open_with(
            &service.url(&format!("/speakers/{speaker}")),
            "speaker-generated-focus",
            &Options::until(
                "(() => { const v = document.querySelector('svg.picture a.verdict'); v.focus(); \
                   const label = v.querySelector('.focus-label'); \
                   return document.activeElement === v && getComputedStyle(label).display !== 'none' \
                     && label.getBBox().width > 0 && label.textContent.includes('“'); })()",
            ),
        );
        assert_clean(&focused);
        let diamonds = page.dom.matches("class=\"verdict\"").count() as i64;
        assert!(
            diamonds >= verdicts.min(1),
            "{diamonds} diamonds for {verdicts} verdicts"
        );
        let claim_page = browser::open_with(
            &service.url(&format!("/claims/{claim}")),
            "claim-generated",
            &Options::until("document.querySelectorAll('svg.picture g.lane').length > 1"),
        );
        assert_clean(&claim_page);
        assert!(claim_page.text.contains("Where each speaker stands"));
    })
    .await
    .expect("the browser run");
}
