//! Real ClaimReview documents (tests/fixtures/claimreview, see its SOURCE.md) read into
//! reviews: every file gives its one review, nothing refused, and the messy fields come
//! out as ClaimTrack needs them.

use std::collections::BTreeMap;
use std::path::PathBuf;

use claimtrack::ingest::claimreview::{Item, PartyKind, Review, read};

fn fixtures() -> BTreeMap<String, Vec<u8>> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/claimreview");
    std::fs::read_dir(&dir)
        .expect("the fixtures")
        .map(|entry| entry.expect("an entry").path())
        .filter(|path| path.extension().is_some_and(|e| e == "json"))
        .map(|path| {
            let name = path
                .file_name()
                .expect("a name")
                .to_string_lossy()
                .into_owned();
            (name, std::fs::read(&path).expect("a fixture"))
        })
        .collect()
}

fn review_of(name: &str, bytes: &[u8]) -> Review {
    let items = read(bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
    assert_eq!(items.len(), 1, "{name}: {items:#?}");
    match items.into_iter().next() {
        Some(Item::Review(review)) => *review,
        other => panic!("{name}: {other:?}"),
    }
}

#[test]
fn every_real_document_gives_one_review_with_a_claim_and_a_rating() {
    let files = fixtures();
    assert_eq!(files.len(), 34);
    for (name, bytes) in &files {
        let review = review_of(name, bytes);
        assert!(!review.claim.trim().is_empty(), "{name}");
        assert!(
            review.rating.label.is_some() || review.rating.value.is_some(),
            "{name}: no rating"
        );
        // Every address kept is absolute.
        for url in review.url.iter().chain(&review.appearances) {
            assert!(
                url.starts_with("https://") || url.starts_with("http://"),
                "{name}: {url}"
            );
        }
    }
}

/// (file, claimant, reviewer, rating label, review day, claim day)
type Expected = (
    &'static str,
    Option<&'static str>,
    Option<&'static str>,
    &'static str,
    Option<&'static str>,
    Option<&'static str>,
);

#[test]
fn the_messy_fields_come_out_as_claimtrack_needs_them() {
    let files = fixtures();
    let cases: [Expected; 10] = [
        // A claimant's name given as an array; an author typed Organization whose
        // address is an author's page is a person, so the reviewer is the site.
        (
            "11-africa_check_raw.json",
            Some("Mzwandile Masina"),
            Some("africacheck.org"),
            "Incorrect",
            Some("2020-03-27"),
            Some("2020-03-18"),
        ),
        // A reporter as author and the outlet as publisher; a scheme-less address.
        (
            "13-aos_fatos_raw.json",
            Some("desinformação"),
            Some("Aos Fatos"),
            "não_é_bem_assim",
            Some("2022-08-11"),
            Some("2022-08-11"),
        ),
        (
            "15-boom_live_raw.json",
            Some("Facebook Page - NoConversion"),
            Some("BOOM"),
            "False",
            Some("2019-04-10"),
            Some("2019-04-10"),
        ),
        // A relative review address and a reporter alone: no reviewer can be told.
        (
            "19-estadao_raw.json",
            Some("Oswaldo Eustáquio"),
            None,
            "Falso",
            None,
            Some("2023-01-24"),
        ),
        // A non-breaking space after the claimant's name.
        (
            "23-india_today_mixed_ld_json_types.json",
            Some("Facebook user"),
            Some("India Today"),
            "Half true",
            Some("2020-10-13"),
            Some("2020-10-12"),
        ),
        (
            "27-newtral_fact_check_index_raw.json",
            Some("Jéssica Albiach"),
            Some("Newtral"),
            "Falso",
            Some("2022-10-08"),
            Some("2022-10-04"),
        ),
        // A claimant without a name.
        (
            "57-tfc_taiwan_missing_page.json",
            None,
            Some("台灣事實查核中心"),
            "證據不足",
            Some("2020-09-30"),
            None,
        ),
        (
            "datacommons-feed-item.json",
            Some("Irmin Suhl"),
            Some("Deutsche Presse-Agentur"),
            "Reker hat diesen Satz nie gesagt. «Völliger Unsinn», heißt es dazu aus der Pressestelle der Stadt Köln.",
            Some("2019-09-20"),
            Some("2019-09-07"),
        ),
        (
            "google-factcheck-api-claim.json",
            Some("FB User-Harshit Pandey"),
            Some("vishvasnews.com"),
            "False",
            Some("2019-06-20"),
            Some("2019-06-20"),
        ),
        (
            "61-uol_confere_raw.json",
            Some("Jair Bolsonaro"),
            Some("UOL Confere"),
            "Falso",
            Some("2022-09-01"),
            Some("2022-09-01"),
        ),
    ];
    for (name, claimant, reviewer, label, published, claimed) in cases {
        let review = review_of(name, &files[name]);
        let got = (
            review.claimant.as_ref().map(|p| p.name.as_str()),
            review.reviewer.as_ref().map(|p| p.name.as_str()),
            review.rating.label.as_deref().unwrap_or_default(),
            review.published.map(|w| w.day().to_string()),
            review.claimed.map(|w| w.day().to_string()),
        );
        assert_eq!(
            got,
            (
                claimant,
                reviewer,
                label,
                published.map(str::to_owned),
                claimed.map(str::to_owned)
            ),
            "{name}"
        );
    }
}

#[test]
fn what_a_document_holds_beyond_claimtrack_is_listed_and_what_is_broken_is_said() {
    let files = fixtures();
    let newtral = review_of(
        "27-newtral_fact_check_index_raw.json",
        &files["27-newtral_fact_check_index_raw.json"],
    );
    let unmapped: Vec<&str> = newtral
        .unmapped
        .iter()
        .map(|p| p.pointer.as_str())
        .collect();
    for pointer in [
        "/postTerms",
        "/sdLicense",
        "/subtitle",
        "/reviewRating/icon",
        "/itemReviewed/name",
        "/itemReviewed/author/affiliation",
    ] {
        assert!(unmapped.contains(&pointer), "{pointer} not in {unmapped:?}");
    }
    let claimant = newtral.claimant.expect("a claimant");
    assert_eq!(claimant.kind, PartyKind::Person);
    assert_eq!(
        claimant.title.as_deref(),
        Some("Presidenta de En Comú Podem en el Parlament de Catalunya")
    );

    let estadao = review_of("19-estadao_raw.json", &files["19-estadao_raw.json"]);
    assert_eq!(estadao.url, None);
    assert_eq!(
        estadao
            .unreadable
            .iter()
            .map(|u| u.at.pointer.as_str())
            .collect::<Vec<_>>(),
        ["/url"]
    );

    let boom = review_of("15-boom_live_raw.json", &files["15-boom_live_raw.json"]);
    assert_eq!((boom.rating.value, boom.rating.best), (Some(1.0), None));
}
