//! The committed SDL (`api/schema.graphql`) is the schema the service serves, and
//! everything in that schema is described for the people who read it in GraphiQL.

use async_graphql::Positioned;
use async_graphql::parser::types::{
    FieldDefinition, InputValueDefinition, TypeKind, TypeSystemDefinition,
};

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

/// Scalars and directives the GraphQL specification defines: described by the spec.
const BUILT_IN_SCALARS: &[&str] = &["String", "Int", "Float", "Boolean", "ID"];
const BUILT_IN_DIRECTIVES: &[&str] = &["include", "skip", "deprecated", "specifiedBy", "oneOf"];

/// The shortest description that can say anything (units, defaults, who may see it).
const SHORTEST_DESCRIPTION: usize = 15;

/// Words that carry nothing when a description restates a name ("The id.").
const FILLER_WORDS: &[&str] = &["the", "a", "an", "of", "its", "it", "is", "this", "s"];

/// The lower-case words of a name or a text: camelCase, PascalCase and SCREAMING_CASE
/// split, punctuation dropped.
fn words(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for token in text.split(|c: char| !c.is_ascii_alphanumeric()) {
        let mut word = String::new();
        let mut previous_lower = false;
        for c in token.chars() {
            if c.is_ascii_uppercase() && previous_lower && !word.is_empty() {
                out.push(std::mem::take(&mut word));
            }
            previous_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
            word.push(c.to_ascii_lowercase());
        }
        if !word.is_empty() {
            out.push(word);
        }
    }
    out
}

/// Why a description does not do (missing, too short, the name restated), if it does not.
fn fault(description: Option<&str>, owner: &str, name: &str) -> Option<String> {
    let Some(text) = description.map(str::trim).filter(|t| !t.is_empty()) else {
        return Some("no description".into());
    };
    let length = text.chars().count();
    if length < SHORTEST_DESCRIPTION {
        return Some(format!(
            "description `{text}` is {length} characters; say more (at least {SHORTEST_DESCRIPTION})"
        ));
    }
    let known: Vec<String> = words(owner).into_iter().chain(words(name)).collect();
    let restated = words(text)
        .iter()
        .filter(|w| !FILLER_WORDS.contains(&w.as_str()))
        .all(|w| known.contains(w));
    restated.then(|| format!("description `{text}` only restates the name"))
}

/// The elements of a schema whose description does not do, each with why.
#[derive(Default)]
struct Audit {
    faults: Vec<(String, String)>,
}

impl Audit {
    fn check(
        &mut self,
        path: String,
        description: Option<&Positioned<String>>,
        owner: &str,
        name: &str,
    ) {
        if let Some(why) = fault(description.map(|d| d.node.as_str()), owner, name) {
            self.faults.push((path, why));
        }
    }

    fn arguments(&mut self, path: &str, arguments: &[Positioned<InputValueDefinition>]) {
        for argument in arguments {
            let argument = &argument.node;
            let name = argument.name.node.as_str();
            self.check(
                format!("{path}({name}:)"),
                argument.description.as_ref(),
                "",
                name,
            );
        }
    }

    fn fields(&mut self, type_name: &str, fields: &[Positioned<FieldDefinition>]) {
        for field in fields {
            let field = &field.node;
            let name = field.name.node.as_str();
            let path = format!("{type_name}.{name}");
            self.check(path.clone(), field.description.as_ref(), type_name, name);
            self.arguments(&path, &field.arguments);
        }
    }

    fn input_fields(&mut self, type_name: &str, fields: &[Positioned<InputValueDefinition>]) {
        for field in fields {
            let field = &field.node;
            let name = field.name.node.as_str();
            self.check(
                format!("{type_name}.{name}"),
                field.description.as_ref(),
                type_name,
                name,
            );
        }
    }
}

/// Every element of the public schema in `sdl` whose description is missing or does not
/// do, as `Type`, `Type.field`, `Type.field(argument:)`, `Input.field`, `Enum.VALUE` or
/// `@directive(argument:)`, with why: types of every kind (the roots included), their
/// fields and arguments, input fields, enum values, custom scalars and directives. The
/// built-in scalars and directives and the introspection types are the specification's.
fn undescribed(sdl: &str) -> Vec<(String, String)> {
    let document = async_graphql::parser::parse_schema(sdl).expect("the SDL parses");
    let mut audit = Audit::default();
    let mut types = 0;
    for definition in &document.definitions {
        match definition {
            TypeSystemDefinition::Schema(_) => {}
            TypeSystemDefinition::Directive(directive) => {
                let directive = &directive.node;
                let name = directive.name.node.as_str();
                if !BUILT_IN_DIRECTIVES.contains(&name) {
                    audit.check(format!("@{name}"), directive.description.as_ref(), "", name);
                    audit.arguments(&format!("@{name}"), &directive.arguments);
                }
            }
            TypeSystemDefinition::Type(ty) => {
                let ty = &ty.node;
                let name = ty.name.node.as_str();
                if name.starts_with("__") || BUILT_IN_SCALARS.contains(&name) {
                    continue;
                }
                types += 1;
                audit.check(name.to_owned(), ty.description.as_ref(), "", name);
                match &ty.kind {
                    TypeKind::Scalar | TypeKind::Union(_) => {}
                    TypeKind::Object(object) => audit.fields(name, &object.fields),
                    TypeKind::Interface(interface) => audit.fields(name, &interface.fields),
                    TypeKind::InputObject(input) => audit.input_fields(name, &input.fields),
                    TypeKind::Enum(values) => {
                        for value in &values.values {
                            let value = &value.node;
                            let value_name = value.value.node.as_str();
                            audit.check(
                                format!("{name}.{value_name}"),
                                value.description.as_ref(),
                                name,
                                value_name,
                            );
                        }
                    }
                }
            }
        }
    }
    assert!(
        types > 50,
        "only {types} types were read from the SDL; the walk is broken"
    );
    audit.faults
}

#[test]
fn every_type_field_argument_and_enum_value_is_described() {
    let missing = undescribed(&claimtrack::graphql::sdl());
    assert!(
        missing.is_empty(),
        "{} schema elements lack a useful description (say what it is, its unit or format, \
         its default, what null or an empty list means, who may see or call it):\n  {}",
        missing.len(),
        missing
            .iter()
            .map(|(path, why)| format!("{path}: {why}"))
            .collect::<Vec<_>>()
            .join("\n  ")
    );
}

#[test]
fn the_description_check_catches_missing_short_and_restated_descriptions() {
    let sdl = r#"
        "A checkable proposition, independent of who says it."
        type Claim {
            id: ID!
            "The text."
            text: String!
            "The claim's slug slug."
            slug: String
            "Statements that take a stance on this claim, oldest first."
            statements(
                "Page size, 20 by default, at most 100."
                first: Int
                after: String
            ): [String!]!
        }
        "How a statement bears on a claim."
        enum Stance { SUPPORTS "The statement argues against the claim." OPPOSES }
        "Narrows a list of claims; all given conditions must hold."
        input ClaimFilter { topicIds: [ID!] }
        scalar Date
    "#;
    // Pad with described types so the walk's sanity check holds.
    let padding: String = (0..60)
        .map(|i| format!("\"Padding type number {i}, described.\" scalar Pad{i}\n"))
        .collect();
    let found = undescribed(&format!("{sdl}{padding}"));
    let paths: Vec<&str> = found.iter().map(|(path, _)| path.as_str()).collect();
    assert_eq!(
        paths,
        [
            "Claim.id",
            "Claim.text",
            "Claim.slug",
            "Claim.statements(after:)",
            "Stance.SUPPORTS",
            "ClaimFilter.topicIds",
            "Date",
        ],
        "{found:#?}"
    );
}
