//! The committed SDL (`api/schema.graphql`) is the schema the service serves.

#[test]
fn committed_schema_matches_the_code() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../api/schema.graphql");
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    let current = claimtrack::graphql::sdl();
    assert!(
        committed == current,
        "api/schema.graphql is out of date; regenerate it with `cargo run -q -p claimtrack -- schema > api/schema.graphql`"
    );
}

#[test]
fn schema_has_the_contract_names() {
    let sdl = claimtrack::graphql::sdl();
    for name in [
        "scalar Date",
        "scalar DateTime",
        "type Speaker",
        "type Statement",
        "type StatementConnection",
        "input StatementFilter",
        "input CreateStatementInput",
        "type CreateStatementPayload",
        "totalCount: Int!",
        "hasNextPage: Boolean!",
        "speakerRole: SpeakerRole",
        "claimReview: JSON!",
    ] {
        assert!(sdl.contains(name), "the schema lacks `{name}`");
    }
}
