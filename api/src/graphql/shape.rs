//! Measures of a query document that async-graphql does not limit on its own: how
//! deep its text nests (see `text`), how many aliases it uses, and a complexity in
//! which a list costs its page size times what each item selects, so `first: 100` of
//! a nested connection is priced as the hundred rows it reads. `merge` collects the
//! fields under each response key first, so what is counted is what will run;
//! `depth` limits how deep fields nest, introspection by rules of its own;
//! `inputs` checks every value the document and its variables hand to a field.

pub mod depth;
pub mod inputs;
pub mod merge;
pub mod text;

use std::cell::Cell;
use std::collections::HashSet;

use async_graphql::parser::types::{ExecutableDocument, Field, Selection, SelectionSet};
use async_graphql::{Name, Value, Variables};

use crate::graphql::pagination::DEFAULT_PAGE;

/// Aliased fields anywhere in the document (operations and fragments, as written).
pub fn aliases(document: &ExecutableDocument) -> usize {
    fn in_set(set: &SelectionSet) -> usize {
        set.items
            .iter()
            .map(|item| match &item.node {
                Selection::Field(field) => {
                    usize::from(field.node.alias.is_some()) + in_set(&field.node.selection_set.node)
                }
                Selection::InlineFragment(fragment) => in_set(&fragment.node.selection_set.node),
                Selection::FragmentSpread(_) => 0,
            })
            .sum()
    }
    document
        .operations
        .iter()
        .map(|(_, op)| in_set(&op.node.selection_set.node))
        .chain(
            document
                .fragments
                .values()
                .map(|f| in_set(&f.node.selection_set.node)),
        )
        .sum()
}

/// Most selections [`complexity`] visits, fragments counted where they are spread;
/// a document past it costs more than any limit (fragments spread twice in each of
/// twenty fragments would be a million visits).
const MAX_VISITS: usize = 100_000;

/// Brackets may nest this deep in a query document's text (see [`text::scan`]), or
/// three times the depth limit when that is higher: far below what overflows a
/// worker's stack, far above what real queries need.
pub const MAX_NESTING: usize = 64;

/// The nesting allowed by a depth limit (see [`MAX_NESTING`]).
pub fn max_nesting(max_depth: usize) -> usize {
    MAX_NESTING.max(max_depth.saturating_mul(3))
}

/// The cost of the costliest operation: every field costs 1, and a field with a page
/// (`first`/`last`, or a connection without them: the default page) multiplies what
/// its items select by the page size.
pub fn complexity(document: &ExecutableDocument, variables: &Variables) -> usize {
    let walker = Walker {
        document,
        variables,
        visits: Cell::new(MAX_VISITS),
    };
    document
        .operations
        .iter()
        .map(|(_, op)| walker.cost(&op.node.selection_set.node, &mut HashSet::new()))
        .max()
        .unwrap_or(0)
}

struct Walker<'a> {
    document: &'a ExecutableDocument,
    variables: &'a Variables,
    /// Visits left.
    visits: Cell<usize>,
}

impl Walker<'_> {
    fn cost(&self, set: &SelectionSet, open_fragments: &mut HashSet<Name>) -> usize {
        let mut total = 0usize;
        for item in &set.items {
            // Past the visits allowed, the document costs more than any limit.
            let Some(left) = self.visits.get().checked_sub(1) else {
                return usize::MAX;
            };
            self.visits.set(left);
            let cost = match &item.node {
                Selection::Field(field) => {
                    let children = self.cost(&field.node.selection_set.node, open_fragments);
                    1usize.saturating_add(self.page_size(&field.node).saturating_mul(children))
                }
                Selection::InlineFragment(fragment) => {
                    self.cost(&fragment.node.selection_set.node, open_fragments)
                }
                Selection::FragmentSpread(spread) => {
                    let name = &spread.node.fragment_name.node;
                    // A fragment that spreads itself is invalid and refused by
                    // validation; here it must only not loop.
                    match self.document.fragments.get(name) {
                        Some(fragment) if open_fragments.insert(name.clone()) => {
                            let cost = self.cost(&fragment.node.selection_set.node, open_fragments);
                            open_fragments.remove(name);
                            cost
                        }
                        _ => 0,
                    }
                }
            };
            total = total.saturating_add(cost);
        }
        total
    }

    /// How many items a field returns at most, as far as the document says.
    fn page_size(&self, field: &Field) -> usize {
        let asked = field
            .arguments
            .iter()
            .filter(|(name, _)| matches!(name.node.as_str(), "first" | "last"))
            .filter_map(|(_, value)| {
                let value = value
                    .node
                    .clone()
                    .into_const_with(|name| self.variables.get(&name).cloned().ok_or(()))
                    .ok()?;
                match value {
                    Value::Number(n) => {
                        n.as_u64().map(|n| usize::try_from(n).unwrap_or(usize::MAX))
                    }
                    _ => None,
                }
            })
            .max();
        match asked {
            Some(n) => n,
            None if is_connection(field) => DEFAULT_PAGE,
            None => 1,
        }
    }
}

/// A Relay connection: it selects `edges` or `nodes`.
fn is_connection(field: &Field) -> bool {
    field.selection_set.node.items.iter().any(|item| {
        matches!(&item.node, Selection::Field(f) if matches!(f.node.name.node.as_str(), "edges" | "nodes"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use async_graphql::parser::parse_query;

    fn cost(
        query: &str,
        variables: serde_json::Value,
    ) -> Result<usize, Box<dyn std::error::Error>> {
        let doc = parse_query(query)?;
        Ok(complexity(&doc, &Variables::from_json(variables)))
    }

    #[test]
    fn aliases_are_counted_everywhere() -> Result<(), Box<dyn std::error::Error>> {
        let doc = parse_query(
            "{ a: speakers { b: totalCount } ... on Query { c: claims { totalCount } } ...F } \
             fragment F on Query { d: topics { totalCount } }",
        )?;
        assert_eq!(aliases(&doc), 4);
        Ok(())
    }

    #[test]
    fn scalar_fields_cost_one_each() -> Result<(), Box<dyn std::error::Error>> {
        assert_eq!(
            cost(
                "{ speaker(slug: \"x\") { name slug } }",
                serde_json::json!({})
            )?,
            3
        );
        Ok(())
    }

    #[test]
    fn a_page_multiplies_what_its_items_select() -> Result<(), Box<dyn std::error::Error>> {
        // statements(1) + 50 × (edges(1) + node(1) + text(1)) = 151
        let q = "{ statements(first: 50) { edges { node { text } } } }";
        assert_eq!(cost(q, serde_json::json!({}))?, 151);
        let v = "query($n: Int) { statements(first: $n) { edges { node { text } } } }";
        assert_eq!(cost(v, serde_json::json!({ "n": 100 }))?, 301);
        // Without `first`, a connection is priced at the default page.
        let d = "{ statements { edges { node { text } } } }";
        assert_eq!(cost(d, serde_json::json!({}))?, 1 + DEFAULT_PAGE * 3);
        Ok(())
    }

    #[test]
    fn nested_pages_multiply() -> Result<(), Box<dyn std::error::Error>> {
        let q = "{ speakers(first: 100) { edges { node { statements(first: 100) { edges { node { text } } } } } } }";
        // 1 + 100 × (1 + 1 + (1 + 100 × 3)) = 30301
        assert_eq!(cost(q, serde_json::json!({}))?, 30_301);
        Ok(())
    }

    #[test]
    fn exponential_fragment_spreading_costs_more_than_any_limit()
    -> Result<(), Box<dyn std::error::Error>> {
        let mut q = String::from("{ ...F0 }");
        for i in 0..30 {
            q.push_str(&format!(
                " fragment F{i} on Query {{ ...F{n} ...F{n} }}",
                n = i + 1
            ));
        }
        q.push_str(" fragment F30 on Query { viewer { role } }");
        assert_eq!(cost(&q, serde_json::json!({}))?, usize::MAX);
        Ok(())
    }

    #[test]
    fn fragments_count_where_they_are_spread() -> Result<(), Box<dyn std::error::Error>> {
        let q = "{ statements(first: 10) { edges { node { ...F } } } } fragment F on Statement { text language }";
        assert_eq!(cost(q, serde_json::json!({}))?, 1 + 10 * 4);
        let cyclic = "{ ...A } fragment A on Query { ...B } fragment B on Query { ...A speakers { totalCount } }";
        assert_eq!(cost(cyclic, serde_json::json!({}))?, 2);
        Ok(())
    }
}
