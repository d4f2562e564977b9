//! How deep a document's fields nest, fragments counted where they are spread, with
//! introspection measured by rules of its own.
//!
//! The data schema's depth limit is low (12 by default) because every level of it can
//! be a page of rows. Introspection is different: the query that graphql-js builds
//! (`getIntrospectionQuery`, sent by GraphiQL, code generators, Apollo and IDE plugins)
//! nests 15 levels to spell out wrapped types like `[Statement!]!`, but every level
//! below `__schema { types }` is a single object or a short list read from memory. What
//! makes an introspection query abusive is not its depth but re-expanding types:
//! `__type { fields { type { fields { type { fields … } } } } }` lists every field of
//! every field's type, multiplying at each turn. So inside `__schema` and `__type`:
//!
//! - the depth may reach [`INTROSPECTION_MAX_DEPTH`] (what graphql-js sends with its
//!   default `typeDepth`), or the data limit when that is higher;
//! - a type's members ([`MEMBERS`]: `fields`, `inputFields`, `interfaces`,
//!   `possibleTypes`, `enumValues`) may be listed once on any path. Every standard
//!   client lists them once (`types { fields { args { type { ofType … } } } }`), and
//!   follows `type`/`ofType` only for `kind` and `name`.

use std::cell::Cell;
use std::collections::HashSet;

use async_graphql::Name;
use async_graphql::parser::types::{ExecutableDocument, Selection, SelectionSet};

/// The depth graphql-js's standard introspection query reaches with its default
/// `typeDepth` of 9 (`__schema` 1, `types` 2, `fields` 3, `args` 4, `type` 5, nine
/// levels of `ofType` and the scalar leaf under the last).
pub const INTROSPECTION_MAX_DEPTH: usize = 15;

/// The introspection fields that list a type's members.
pub const MEMBERS: [&str; 5] = [
    "fields",
    "inputFields",
    "interfaces",
    "possibleTypes",
    "enumValues",
];

/// The root fields that enter introspection.
const ENTRIES: [&str; 2] = ["__schema", "__type"];

/// Most selections one check visits, fragments counted where they are spread; past
/// it the document counts as too deep (fragments spread twice in each of twenty
/// fragments would be a million visits).
const MAX_VISITS: usize = 100_000;

/// Why a document nests too deep.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DepthFault {
    /// Data fields nest `depth` levels; `limit` are allowed.
    #[error("the query is nested too deep: {depth} levels of fields; at most {limit} are allowed")]
    TooDeep { depth: usize, limit: usize },
    /// An introspection query nests `depth` levels; `limit` are allowed.
    #[error(
        "the introspection query is nested too deep: {depth} levels; at most {limit} are \
         allowed (graphql-js's getIntrospectionQuery with its default typeDepth fits)"
    )]
    IntrospectionTooDeep { depth: usize, limit: usize },
    /// An introspection query lists a type's members inside a type's members.
    #[error(
        "the introspection query is nested too deep: it lists a type's members inside a \
         type's members ({path}); list fields, inputFields, interfaces, possibleTypes and \
         enumValues once on a path, and follow `type` and `ofType` for `kind` and `name` only"
    )]
    MembersNested { path: String },
    /// The document spreads fragments into more selections than are ever visited.
    #[error(
        "the query is nested too deep: its fragments spread into more than {MAX_VISITS} selections"
    )]
    TooManySelections,
}

/// Checks every operation of `document`: data fields nest at most `max_depth` levels,
/// introspection by the rules of this module.
pub fn check(document: &ExecutableDocument, max_depth: usize) -> Result<(), DepthFault> {
    let walker = Walker {
        document,
        max_depth,
        introspection_depth: INTROSPECTION_MAX_DEPTH.max(max_depth),
        visits: Cell::new(MAX_VISITS),
    };
    for (_, operation) in document.operations.iter() {
        walker.walk(
            &operation.node.selection_set.node,
            &mut Path::default(),
            &mut HashSet::new(),
        )?;
    }
    Ok(())
}

/// Where the walk is: its depth, and within introspection the member lists above.
#[derive(Default)]
struct Path {
    depth: usize,
    introspection: bool,
    members: Vec<String>,
}

struct Walker<'a> {
    document: &'a ExecutableDocument,
    max_depth: usize,
    introspection_depth: usize,
    visits: Cell<usize>,
}

impl Walker<'_> {
    fn walk(
        &self,
        set: &SelectionSet,
        path: &mut Path,
        open_fragments: &mut HashSet<Name>,
    ) -> Result<(), DepthFault> {
        for item in &set.items {
            let left = self
                .visits
                .get()
                .checked_sub(1)
                .ok_or(DepthFault::TooManySelections)?;
            self.visits.set(left);
            match &item.node {
                Selection::Field(field) => {
                    let name = field.node.name.node.as_str();
                    let entered = !path.introspection && ENTRIES.contains(&name);
                    let member = path.introspection && MEMBERS.contains(&name);
                    path.depth += 1;
                    path.introspection |= entered;
                    if member {
                        path.members.push(name.to_owned());
                    }
                    let checked = self.check_level(path).and_then(|()| {
                        self.walk(&field.node.selection_set.node, path, open_fragments)
                    });
                    if member {
                        path.members.pop();
                    }
                    if entered {
                        path.introspection = false;
                    }
                    path.depth -= 1;
                    checked?;
                }
                Selection::InlineFragment(fragment) => {
                    self.walk(&fragment.node.selection_set.node, path, open_fragments)?;
                }
                Selection::FragmentSpread(spread) => {
                    let name = &spread.node.fragment_name.node;
                    // A fragment that spreads itself is invalid and refused by
                    // validation; here it must only not loop.
                    if let Some(fragment) = self.document.fragments.get(name)
                        && open_fragments.insert(name.clone())
                    {
                        let walked =
                            self.walk(&fragment.node.selection_set.node, path, open_fragments);
                        open_fragments.remove(name);
                        walked?;
                    }
                }
            }
        }
        Ok(())
    }

    fn check_level(&self, path: &Path) -> Result<(), DepthFault> {
        if !path.introspection {
            return match path.depth > self.max_depth {
                true => Err(DepthFault::TooDeep {
                    depth: path.depth,
                    limit: self.max_depth,
                }),
                false => Ok(()),
            };
        }
        if path.members.len() > 1 {
            return Err(DepthFault::MembersNested {
                path: path.members.join(" → "),
            });
        }
        match path.depth > self.introspection_depth {
            true => Err(DepthFault::IntrospectionTooDeep {
                depth: path.depth,
                limit: self.introspection_depth,
            }),
            false => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use async_graphql::parser::parse_query;

    fn checked(query: &str, max_depth: usize) -> Result<(), Box<dyn std::error::Error>> {
        Ok(check(&parse_query(query)?, max_depth)?)
    }

    fn fault(query: &str, max_depth: usize) -> Option<DepthFault> {
        check(&parse_query(query).ok()?, max_depth).err()
    }

    /// `ofType` nested `levels` deep under a type reference, as graphql-js's
    /// `TypeRef` fragment spells it.
    fn type_ref(levels: usize) -> String {
        let mut inner = String::from("kind name");
        for _ in 0..levels {
            inner = format!("kind name ofType {{ {inner} }}");
        }
        inner
    }

    #[test]
    fn depth_counts_fields_with_their_leaf() -> Result<(), Box<dyn std::error::Error>> {
        checked("{ a { b { c } } }", 3)?;
        assert_eq!(
            fault("{ a { b { c } } }", 2),
            Some(DepthFault::TooDeep { depth: 3, limit: 2 })
        );
        Ok(())
    }

    #[test]
    fn fragments_count_where_they_are_spread() -> Result<(), Box<dyn std::error::Error>> {
        let q = "{ a { ...F } } fragment F on A { b { ... on B { c } } }";
        checked(q, 3)?;
        assert!(matches!(fault(q, 2), Some(DepthFault::TooDeep { .. })));
        let cyclic = "{ ...A } fragment A on Query { ...B } fragment B on Query { ...A x }";
        checked(cyclic, 1)?;
        Ok(())
    }

    #[test]
    fn the_standard_introspection_depth_fits_under_a_low_data_limit()
    -> Result<(), Box<dyn std::error::Error>> {
        // __schema types fields args type + 9 × ofType + leaf = 15.
        let q = format!(
            "{{ __schema {{ types {{ fields {{ args {{ type {{ {} }} }} }} }} }} }}",
            type_ref(9)
        );
        checked(&q, 12)?;
        let deeper = format!(
            "{{ __schema {{ types {{ fields {{ args {{ type {{ {} }} }} }} }} }} }}",
            type_ref(10)
        );
        assert_eq!(
            fault(&deeper, 12),
            Some(DepthFault::IntrospectionTooDeep {
                depth: 16,
                limit: 15
            })
        );
        // A higher data limit raises introspection's too.
        checked(&deeper, 16)?;
        Ok(())
    }

    #[test]
    fn members_listed_inside_members_are_refused() {
        for q in [
            "{ __type(name: \"Query\") { fields { type { fields { name } } } } }",
            "{ __schema { types { fields { type { ofType { fields { name } } } } } } }",
            "{ __schema { types { interfaces { possibleTypes { name } } } } }",
            "{ __type(name: \"A\") { ...T } } fragment T on __Type { fields { type { ...U } } } \
             fragment U on __Type { enumValues { name } }",
        ] {
            assert!(
                matches!(fault(q, 12), Some(DepthFault::MembersNested { .. })),
                "{q}"
            );
        }
    }

    #[test]
    fn introspection_rules_do_not_leak_into_data_fields() -> Result<(), Box<dyn std::error::Error>>
    {
        // A data field named like a member is not one; and the data limit still holds
        // next to an introspection field.
        checked("{ fields { fields { fields { x } } } }", 4)?;
        let q = "{ __typename __schema { types { name } } a { b { c { d } } } }";
        assert!(matches!(
            fault(q, 3),
            Some(DepthFault::TooDeep { depth: 4, .. })
        ));
        Ok(())
    }

    #[test]
    fn exponential_fragment_spreading_is_refused() {
        let mut q = String::from("{ ...F0 }");
        for i in 0..30 {
            q.push_str(&format!(
                " fragment F{i} on Query {{ ...F{n} ...F{n} }}",
                n = i + 1
            ));
        }
        q.push_str(" fragment F30 on Query { viewer { role } }");
        assert_eq!(fault(&q, 12), Some(DepthFault::TooManySelections));
    }
}
