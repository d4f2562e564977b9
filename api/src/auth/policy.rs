//! The one table that says which role each root field needs, and [`admit`], which
//! enforces it (with the document limits async-graphql lacks: document size, the
//! nesting of its text, aliases, a complexity where lists cost their page size and
//! merged fields count once, and the check of every value it hands a field) before
//! validation, so a refused request runs no SQL and learns nothing about the data.
//! The authorization-matrix test walks the same table.
//!
//! Records that are not published (draft verdicts, suggested links) are filtered where
//! they are read, with [`super::Viewer::sees_unpublished`].

use std::collections::HashSet;
use std::sync::Arc;

use async_graphql::parser::types::{
    DocumentOperations, ExecutableDocument, OperationType, Selection, SelectionSet,
};
use async_graphql::{Positioned, Request, ServerError, ServerResult, Variables};

use super::{Role, Viewer};
use crate::error::ApiError;
use crate::graphql::shape;
use crate::graphql::types::Types;

/// The root type a field hangs off.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Root {
    Query,
    Mutation,
    Subscription,
}

use Role::{Admin, Anonymous, Editor, Reader};
use Root::{Mutation, Query, Subscription};

/// Every root field and the least role that may use it. A field missing here needs
/// ADMIN (deny by default); a test checks that every field of the schema is listed.
pub const RULES: &[(Root, &str, Role)] = &[
    // Published data: anyone (or any key, when anonymous reading is off).
    (Query, "speaker", Anonymous),
    (Query, "speakers", Anonymous),
    (Query, "speakerRole", Anonymous),
    (Query, "outlet", Anonymous),
    (Query, "outlets", Anonymous),
    (Query, "article", Anonymous),
    (Query, "articles", Anonymous),
    (Query, "claim", Anonymous),
    (Query, "claims", Anonymous),
    (Query, "topic", Anonymous),
    (Query, "topics", Anonymous),
    (Query, "statement", Anonymous),
    (Query, "statements", Anonymous),
    (Query, "verdict", Anonymous),
    (Query, "verdicts", Anonymous),
    (Query, "link", Anonymous),
    (Query, "positionHistory", Anonymous),
    (Query, "positionChanges", Anonymous),
    (Query, "scorecard", Anonymous),
    (Query, "timeline", Anonymous),
    (Query, "search", Anonymous),
    (Query, "similarStatements", Anonymous),
    (Query, "viewer", Anonymous),
    (Query, "events", Anonymous),
    // A key's own watchlists.
    (Query, "watchlists", Reader),
    (Query, "watchlist", Reader),
    (Mutation, "createWatchlist", Reader),
    (Mutation, "addToWatchlist", Reader),
    (Mutation, "removeFromWatchlist", Reader),
    (Mutation, "deleteWatchlist", Reader),
    // Webhooks.
    (Query, "webhooks", Admin),
    (Query, "deliveries", Admin),
    (Mutation, "createWebhook", Admin),
    (Mutation, "deleteWebhook", Admin),
    (Mutation, "redeliver", Admin),
    // Live.
    (Subscription, "statementAdded", Anonymous),
    (Subscription, "verdictPublished", Anonymous),
    (Subscription, "positionChanged", Anonymous),
    (Subscription, "timelineEvent", Anonymous),
    (Subscription, "watchlistEvent", Reader),
    // Work in progress: machine suggestions and the audit trail.
    (Query, "contradictionCandidates", Editor),
    (Query, "revisions", Editor),
    (Query, "apiKeys", Admin),
    // Writes.
    (Mutation, "createSpeaker", Editor),
    (Mutation, "updateSpeaker", Editor),
    (Mutation, "deleteSpeaker", Editor),
    (Mutation, "createSpeakerRole", Editor),
    (Mutation, "updateSpeakerRole", Editor),
    (Mutation, "deleteSpeakerRole", Editor),
    (Mutation, "createOutlet", Editor),
    (Mutation, "updateOutlet", Editor),
    (Mutation, "deleteOutlet", Editor),
    (Mutation, "createArticle", Editor),
    (Mutation, "updateArticle", Editor),
    (Mutation, "deleteArticle", Editor),
    (Mutation, "createClaim", Editor),
    (Mutation, "updateClaim", Editor),
    (Mutation, "deleteClaim", Editor),
    (Mutation, "createTopic", Editor),
    (Mutation, "updateTopic", Editor),
    (Mutation, "deleteTopic", Editor),
    (Mutation, "createStatement", Editor),
    (Mutation, "updateStatement", Editor),
    (Mutation, "deleteStatement", Editor),
    (Mutation, "addAppearance", Editor),
    (Mutation, "attachStatementsToClaim", Editor),
    (Mutation, "createVerdict", Editor),
    (Mutation, "updateVerdict", Editor),
    (Mutation, "publishVerdict", Editor),
    (Mutation, "deleteVerdict", Editor),
    (Mutation, "createLink", Editor),
    (Mutation, "confirmLink", Editor),
    (Mutation, "dismissLink", Editor),
    (Mutation, "deleteLink", Editor),
    // Keys.
    (Mutation, "createApiKey", Admin),
    (Mutation, "revokeApiKey", Admin),
    (Mutation, "purgeRecord", Admin),
    (Mutation, "importClaimReview", Editor),
];

/// Introspection fields: governed by the schema's introspection switch, not by roles.
const INTROSPECTION: &[&str] = &["__schema", "__type", "__typename"];

/// The least role a root field needs.
pub fn required(root: Root, field: &str, anonymous_read: bool) -> Role {
    if INTROSPECTION.contains(&field) {
        return Anonymous;
    }
    let role = RULES
        .iter()
        .find(|(r, name, _)| *r == root && *name == field)
        .map_or(Admin, |(_, _, role)| *role);
    // `viewer` stays open so a client can always ask who it is.
    if role == Anonymous && !anonymous_read && field != "viewer" {
        Role::Reader
    } else {
        role
    }
}

/// What [`admit`] enforces besides the table.
#[derive(Clone)]
pub struct PolicyConfig {
    pub anonymous_read: bool,
    pub max_document_bytes: usize,
    /// How deep brackets may nest in a document's text.
    pub max_nesting: usize,
    /// How deep data fields may nest (introspection: see [`shape::depth`]).
    pub max_depth: usize,
    pub max_aliases: usize,
    pub max_complexity: usize,
    /// The root fields the schema has.
    pub roots: RootFields,
    /// The schema's types, for merging fields and checking values.
    pub types: Arc<Types>,
}

/// The names of the schema's root fields.
#[derive(Debug, Clone, Default)]
pub struct RootFields {
    pub query: HashSet<String>,
    pub mutation: HashSet<String>,
    pub subscription: HashSet<String>,
}

/// Admits a request or refuses it, before validation: the document's size and
/// nesting, then (once parsed) its fields are merged by response key (see
/// [`shape::merge`]); the merged document, which is what runs, replaces the request's
/// (so it is parsed once) and is measured: its aliases, its complexity, the roles its
/// root fields need against the viewer's, and the values it hands its fields.
pub fn admit(config: &PolicyConfig, request: &mut Request, viewer: &Viewer) -> ServerResult<()> {
    check_text(config, &request.query)?;
    let mut document = async_graphql::parser::parse_query(&request.query)?;
    shape::merge::merge(&mut document, &config.types)
        .map_err(|fault| refusal("BAD_USER_INPUT", fault.to_string()))?;
    admit_shape(config, &document)?;
    admit_request(
        config,
        &document,
        request.operation_name.as_deref(),
        &request.variables,
        viewer,
    )?;
    request.set_parsed_query(document);
    Ok(())
}

/// [`admit`] for a request whose document was admitted before (a compiled one: the
/// same text, parsed and merged once, whose size, nesting, depth and aliases passed
/// when it was learnt and cannot have changed): what depends on the request — its
/// complexity with these variables, the roles against this viewer, the values it
/// hands its fields.
pub fn admit_parsed(
    config: &PolicyConfig,
    request: &Request,
    document: &ExecutableDocument,
    viewer: &Viewer,
) -> ServerResult<()> {
    admit_request(
        config,
        document,
        request.operation_name.as_deref(),
        &request.variables,
        viewer,
    )
}

/// The document's text: its length, then how deep it nests (before the parser, whose
/// recursion a deep document would overflow, reads it).
fn check_text(config: &PolicyConfig, query: &str) -> ServerResult<()> {
    if query.len() > config.max_document_bytes {
        return Err(refusal(
            "BAD_USER_INPUT",
            format!(
                "the query document is longer than {} bytes",
                config.max_document_bytes
            ),
        ));
    }
    shape::text::scan(query, config.max_nesting)
        .map_err(|fault| refusal("BAD_USER_INPUT", fault.to_string()))
}

/// The checks of the document alone: its depth and its aliases.
fn admit_shape(config: &PolicyConfig, document: &ExecutableDocument) -> ServerResult<()> {
    shape::depth::check(document, config.max_depth)
        .map_err(|fault| refusal("BAD_USER_INPUT", fault.to_string()))?;
    let aliases = shape::aliases(document);
    if aliases > config.max_aliases {
        return Err(refusal(
            "BAD_USER_INPUT",
            format!(
                "the query uses {aliases} aliases; at most {} are allowed",
                config.max_aliases
            ),
        ));
    }
    Ok(())
}

/// The checks of one request of a document: its complexity with its variables, the
/// roles its root fields need against the viewer's, the values it hands its fields.
fn admit_request(
    config: &PolicyConfig,
    document: &ExecutableDocument,
    operation_name: Option<&str>,
    variables: &Variables,
    viewer: &Viewer,
) -> ServerResult<()> {
    let cost = shape::complexity(document, variables);
    if cost > config.max_complexity {
        return Err(refusal(
            "BAD_USER_INPUT",
            format!(
                "the query's complexity is {cost}; at most {} is allowed (a list \
                 field costs its page size times its fields)",
                config.max_complexity
            ),
        ));
    }
    // A field the schema lacks is left to validation, which names it as the client's
    // mistake.
    let exists = |root: Root, field: &str| match root {
        Root::Query => config.roots.query.contains(field),
        Root::Mutation => config.roots.mutation.contains(field),
        Root::Subscription => config.roots.subscription.contains(field),
    };
    check(
        document,
        operation_name,
        viewer,
        config.anonymous_read,
        exists,
    )?;
    shape::inputs::check(document, variables, &config.types).map_err(|e| rejected(&e))?;
    shape::inputs::required_variables(document, operation_name, variables).map_err(|e| rejected(&e))
}

/// A refusal for an error of the service's own (with its code and field).
pub fn rejected(error: &ApiError) -> ServerError {
    let mut refused = ServerError::new(error.to_string(), None);
    error.annotate(&mut refused);
    refused
}

/// Refuses the document when the operation that will run (all of them when that is
/// not known yet) touches a root field the viewer's role does not reach. Fields for
/// which `exists` says no are skipped: validation refuses them.
pub fn check(
    document: &ExecutableDocument,
    operation_name: Option<&str>,
    viewer: &Viewer,
    anonymous_read: bool,
    exists: impl Fn(Root, &str) -> bool,
) -> ServerResult<()> {
    for (name, operation) in document.operations.iter() {
        let chosen = match (&document.operations, operation_name) {
            (DocumentOperations::Single(_), _) | (_, None) => true,
            (DocumentOperations::Multiple(_), Some(wanted)) => {
                name.is_some_and(|n| n.as_str() == wanted)
            }
        };
        if !chosen {
            continue;
        }
        let root = match operation.node.ty {
            OperationType::Query => Root::Query,
            OperationType::Mutation => Root::Mutation,
            OperationType::Subscription => Root::Subscription,
        };
        let mut fields = HashSet::new();
        root_fields(
            document,
            &operation.node.selection_set,
            &mut fields,
            &mut HashSet::new(),
        );
        for field in fields.iter().filter(|f| exists(root, f.as_str())) {
            let needed = required(root, field, anonymous_read);
            if viewer.role < needed {
                return Err(denial(viewer, needed));
            }
        }
    }
    Ok(())
}

/// The error for a caller below the role an operation needs. It names the role, never
/// the data, so a denial does not tell whether a record exists.
fn denial(viewer: &Viewer, needed: Role) -> ServerError {
    if viewer.role == Role::Anonymous {
        refusal(
            "UNAUTHENTICATED",
            format!(
                "this operation needs an API key with role {} (Authorization: Bearer <key>)",
                needed.name()
            ),
        )
    } else {
        refusal(
            "FORBIDDEN",
            format!(
                "this operation needs role {}; this key has role {}",
                needed.name(),
                viewer.role.name()
            ),
        )
    }
}

pub fn refusal(code: &str, message: String) -> ServerError {
    let mut error = ServerError::new(message, None);
    error
        .extensions
        .get_or_insert_with(Default::default)
        .set("code", code);
    error
}

/// Names of the fields selected at the root, through fragments of any depth.
fn root_fields(
    document: &ExecutableDocument,
    set: &Positioned<SelectionSet>,
    out: &mut HashSet<String>,
    seen_fragments: &mut HashSet<String>,
) {
    for item in &set.node.items {
        match &item.node {
            Selection::Field(field) => {
                out.insert(field.node.name.node.to_string());
            }
            Selection::InlineFragment(fragment) => {
                root_fields(document, &fragment.node.selection_set, out, seen_fragments);
            }
            Selection::FragmentSpread(spread) => {
                let name = spread.node.fragment_name.node.to_string();
                if !seen_fragments.insert(name.clone()) {
                    continue;
                }
                if let Some(fragment) = document.fragments.get(name.as_str()) {
                    root_fields(document, &fragment.node.selection_set, out, seen_fragments);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use async_graphql::parser::parse_query;

    fn editor() -> Viewer {
        Viewer {
            role: Role::Editor,
            key: None,
        }
    }

    fn code(result: ServerResult<()>) -> Option<String> {
        result.err().map(|e| {
            e.extensions
                .and_then(|x| x.get("code").cloned())
                .map(|v| v.to_string().trim_matches('"').to_owned())
                .unwrap_or_default()
        })
    }

    #[test]
    fn a_write_hidden_in_a_fragment_is_still_found() -> Result<(), Box<dyn std::error::Error>> {
        let doc = parse_query(
            "mutation { ...A } fragment A on Mutation { ... on Mutation { ...B } } \
             fragment B on Mutation { createApiKey(input: {}) { secret } }",
        )?;
        assert_eq!(
            code(check(&doc, None, &editor(), true, |_, _| true)).as_deref(),
            Some("FORBIDDEN")
        );
        assert_eq!(
            code(check(&doc, None, &Viewer::anonymous(), true, |_, _| true)).as_deref(),
            Some("UNAUTHENTICATED")
        );
        assert_eq!(
            code(check(&doc, None, &Viewer::trusted(), true, |_, _| true)),
            None
        );
        Ok(())
    }

    #[test]
    fn only_the_chosen_operation_counts() -> Result<(), Box<dyn std::error::Error>> {
        let doc = parse_query(
            "query Read { speakers { totalCount } } mutation Write { deleteSpeaker(input: {}) { id } }",
        )?;
        let anonymous = Viewer::anonymous();
        assert_eq!(
            code(check(&doc, Some("Read"), &anonymous, true, |_, _| true)),
            None
        );
        assert!(code(check(&doc, Some("Write"), &anonymous, true, |_, _| true)).is_some());
        // Without a name every operation is checked: the run would fail anyway.
        assert!(code(check(&doc, None, &anonymous, true, |_, _| true)).is_some());
        Ok(())
    }

    #[test]
    fn fragment_cycles_terminate() -> Result<(), Box<dyn std::error::Error>> {
        let doc = parse_query(
            "query { ...A } fragment A on Query { ...B speakers { totalCount } } \
             fragment B on Query { ...A }",
        )?;
        assert_eq!(
            code(check(&doc, None, &Viewer::anonymous(), true, |_, _| true)),
            None
        );
        Ok(())
    }

    #[test]
    fn reads_need_a_key_when_anonymous_reading_is_off() -> Result<(), Box<dyn std::error::Error>> {
        let doc = parse_query("{ speakers { totalCount } }")?;
        assert_eq!(
            code(check(&doc, None, &Viewer::anonymous(), false, |_, _| true)).as_deref(),
            Some("UNAUTHENTICATED")
        );
        let viewer_only = parse_query("{ viewer { role } __typename }")?;
        assert_eq!(
            code(check(
                &viewer_only,
                None,
                &Viewer::anonymous(),
                false,
                |_, _| true
            )),
            None
        );
        Ok(())
    }

    #[test]
    fn unknown_root_fields_need_admin() {
        assert_eq!(
            required(Root::Mutation, "dropEverything", true),
            Role::Admin
        );
        assert_eq!(required(Root::Query, "somethingNew", true), Role::Admin);
    }
}
