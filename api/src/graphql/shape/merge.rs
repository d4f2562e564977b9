//! Fields merged under one response key run once. async-graphql resolves every field
//! of a selection set as written and merges the answers afterwards, so a field
//! repeated a thousand times (or spread a thousand times through fragments) runs a
//! thousand times. GraphQL's own execution collects the fields of a selection set by
//! response key first; this does the same to the document, before validation and
//! before its cost is counted:
//!
//! - inline fragments without a type condition, or on the type they sit in, and
//!   fragment spreads on that type, are replaced by their selections (a fragment that
//!   is part of a cycle stays a spread, for validation to refuse);
//! - fields with the same response key, name, arguments and directives become one, whose
//!   selection set holds what each of them selected; repeated spreads of a fragment,
//!   and inline fragments on the same type with the same directives, likewise;
//! - fragments spread nowhere any more are dropped (one that was spread nowhere before
//!   stays, for validation to refuse).
//!
//! Fields under one key that differ (in their directives, say) still run apart: at
//! most [`MAX_FIELDS_PER_KEY`] of them, counting those reached through fragments.
//! Fragments may nest [`MAX_FRAGMENT_DEPTH`] deep, and the merged document may hold
//! [`MAX_SELECTIONS`] selections: expanding fragments could otherwise make a small
//! document exponentially large.

use std::collections::{HashMap, HashSet};

use async_graphql::Name;
use async_graphql::Positioned;
use async_graphql::parser::types::{
    Directive, DocumentOperations, ExecutableDocument, Field, FragmentDefinition, OperationType,
    Selection, SelectionSet,
};
use async_graphql_value::Value;

use crate::graphql::types::Types;

/// Most fields under one response key in one selection set, once identical ones are
/// merged: `@include`/`@skip` pairs need two or three.
pub const MAX_FIELDS_PER_KEY: usize = 8;
/// Deepest chain of fragments spreading fragments.
pub const MAX_FRAGMENT_DEPTH: usize = 32;
/// Most selections the merged document may hold (the largest real documents hold a
/// few hundred).
pub const MAX_SELECTIONS: usize = 10_000;

/// Why a document cannot be merged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MergeFault {
    TooManyUnderOneKey { key: String, count: usize },
    FragmentsTooDeep,
    TooLarge,
}

impl std::fmt::Display for MergeFault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::TooManyUnderOneKey { key, count } => write!(
                f,
                "`{key}` is selected {count} times in one selection set with different \
                 arguments or directives; at most {MAX_FIELDS_PER_KEY} are allowed"
            ),
            Self::FragmentsTooDeep => write!(
                f,
                "fragments spread fragments more than {MAX_FRAGMENT_DEPTH} deep"
            ),
            Self::TooLarge => write!(
                f,
                "the query selects more than {MAX_SELECTIONS} fields once its fragments \
                 are expanded"
            ),
        }
    }
}

/// Merges the fields of every selection set of `document` in place.
pub fn merge(document: &mut ExecutableDocument, types: &Types) -> Result<(), MergeFault> {
    let reachable_before = reachable_fragments(document);
    let mut merger = Merger {
        fragments: document.fragments.clone(),
        types,
        budget: MAX_SELECTIONS,
        stack: Vec::new(),
    };
    let mut operations: Vec<&mut Positioned<_>> = match &mut document.operations {
        DocumentOperations::Single(op) => vec![op],
        DocumentOperations::Multiple(ops) => ops.values_mut().collect(),
    };
    for operation in &mut operations {
        let root = match operation.node.ty {
            OperationType::Query => Some(types.query()),
            OperationType::Mutation => Some(types.mutation()),
            OperationType::Subscription => Some(types.subscription()),
        };
        let set = std::mem::take(&mut operation.node.selection_set.node);
        operation.node.selection_set.node = merger.set(set, root.as_deref())?;
    }
    for fragment in document.fragments.values_mut() {
        let on = fragment.node.type_condition.node.on.node.to_string();
        let set = std::mem::take(&mut fragment.node.selection_set.node);
        fragment.node.selection_set.node = merger.set(set, Some(&on))?;
    }
    let reachable_after = reachable_fragments(document);
    document
        .fragments
        .retain(|name, _| !reachable_before.contains(name) || reachable_after.contains(name));
    check_keys(document)
}

/// Refuses a merged document where a selection set holds more than
/// [`MAX_FIELDS_PER_KEY`] fields under one response key, counting those reached
/// through the fragments it still holds (a fragment spread twice with different
/// directives counts twice).
fn check_keys(document: &ExecutableDocument) -> Result<(), MergeFault> {
    let mut visits = MAX_SELECTIONS * 4;
    let mut pending: Vec<&SelectionSet> = document
        .operations
        .iter()
        .map(|(_, op)| &op.node.selection_set.node)
        .chain(
            document
                .fragments
                .values()
                .map(|f| &f.node.selection_set.node),
        )
        .collect();
    while let Some(set) = pending.pop() {
        let mut counts: HashMap<&Name, usize> = HashMap::new();
        count_keys(document, set, &mut counts, &mut Vec::new(), &mut visits)?;
        if let Some((key, count)) = counts.into_iter().find(|(_, n)| *n > MAX_FIELDS_PER_KEY) {
            return Err(MergeFault::TooManyUnderOneKey {
                key: key.to_string(),
                count,
            });
        }
        for item in &set.items {
            match &item.node {
                Selection::Field(field) => pending.push(&field.node.selection_set.node),
                Selection::InlineFragment(fragment) => {
                    pending.push(&fragment.node.selection_set.node)
                }
                Selection::FragmentSpread(_) => {}
            }
        }
    }
    Ok(())
}

/// Counts the fields of a set by response key, through its fragments.
fn count_keys<'d>(
    document: &'d ExecutableDocument,
    set: &'d SelectionSet,
    counts: &mut HashMap<&'d Name, usize>,
    open: &mut Vec<&'d Name>,
    visits: &mut usize,
) -> Result<(), MergeFault> {
    for item in &set.items {
        *visits = visits.checked_sub(1).ok_or(MergeFault::TooLarge)?;
        match &item.node {
            Selection::Field(field) => {
                *counts.entry(&field.node.response_key().node).or_default() += 1;
            }
            Selection::InlineFragment(fragment) => {
                count_keys(
                    document,
                    &fragment.node.selection_set.node,
                    counts,
                    open,
                    visits,
                )?;
            }
            Selection::FragmentSpread(spread) => {
                let name = &spread.node.fragment_name.node;
                if open.contains(&name) {
                    continue;
                }
                if open.len() >= MAX_FRAGMENT_DEPTH {
                    return Err(MergeFault::FragmentsTooDeep);
                }
                if let Some(fragment) = document.fragments.get(name) {
                    open.push(name);
                    count_keys(
                        document,
                        &fragment.node.selection_set.node,
                        counts,
                        open,
                        visits,
                    )?;
                    open.pop();
                }
            }
        }
    }
    Ok(())
}

struct Merger<'a> {
    /// The fragments as written, to expand.
    fragments: HashMap<Name, Positioned<FragmentDefinition>>,
    types: &'a Types,
    /// Selections the merged document may still take.
    budget: usize,
    /// Fragments being expanded, innermost last.
    stack: Vec<Name>,
}

impl Merger<'_> {
    /// One selection set of the type `parent` (unknown: `None`), merged.
    fn set(&mut self, set: SelectionSet, parent: Option<&str>) -> Result<SelectionSet, MergeFault> {
        let mut flat = Vec::with_capacity(set.items.len());
        self.flatten(set.items, parent, &mut flat, &mut HashSet::new())?;
        let mut merged: Vec<Positioned<Selection>> = Vec::with_capacity(flat.len());
        let mut by_key: HashMap<Name, Vec<usize>> = HashMap::new();
        for item in flat {
            let pos = item.pos;
            match item.node {
                Selection::Field(field) => {
                    let key = field.node.response_key().node.clone();
                    let same = by_key.get(&key).and_then(|at| {
                        at.iter().copied().find(|&i| {
                            matches!(&merged[i].node, Selection::Field(f) if same_field(&f.node, &field.node))
                        })
                    });
                    match same {
                        Some(i) => {
                            if let Selection::Field(into) = &mut merged[i].node {
                                into.node
                                    .selection_set
                                    .node
                                    .items
                                    .extend(field.node.selection_set.node.items);
                            }
                        }
                        None => {
                            by_key.entry(key).or_default().push(merged.len());
                            merged.push(Positioned::new(Selection::Field(field), pos));
                        }
                    }
                }
                Selection::FragmentSpread(spread) => {
                    let repeated = merged.iter().any(|s| {
                        matches!(&s.node, Selection::FragmentSpread(o)
                            if o.node.fragment_name.node == spread.node.fragment_name.node
                                && same_directives(&o.node.directives, &spread.node.directives))
                    });
                    if !repeated {
                        merged.push(Positioned::new(Selection::FragmentSpread(spread), pos));
                    }
                }
                Selection::InlineFragment(fragment) => {
                    let on = |f: &async_graphql::parser::types::InlineFragment| {
                        f.type_condition.as_ref().map(|t| t.node.on.node.clone())
                    };
                    let same = merged.iter_mut().find_map(|s| match &mut s.node {
                        Selection::InlineFragment(o)
                            if on(&o.node) == on(&fragment.node)
                                && same_directives(
                                    &o.node.directives,
                                    &fragment.node.directives,
                                ) =>
                        {
                            Some(o)
                        }
                        _ => None,
                    });
                    match same {
                        Some(into) => into
                            .node
                            .selection_set
                            .node
                            .items
                            .extend(fragment.node.selection_set.node.items),
                        None => {
                            merged.push(Positioned::new(Selection::InlineFragment(fragment), pos))
                        }
                    }
                }
            }
        }
        for item in &mut merged {
            match &mut item.node {
                Selection::Field(field) => {
                    let ty = parent
                        .and_then(|p| self.types.field_type(p, field.node.name.node.as_str()))
                        .map(str::to_owned);
                    let set = std::mem::take(&mut field.node.selection_set.node);
                    field.node.selection_set.node = self.set(set, ty.as_deref())?;
                }
                Selection::InlineFragment(fragment) => {
                    let ty = fragment
                        .node
                        .type_condition
                        .as_ref()
                        .map(|t| t.node.on.node.to_string())
                        .or_else(|| parent.map(str::to_owned));
                    let set = std::mem::take(&mut fragment.node.selection_set.node);
                    fragment.node.selection_set.node = self.set(set, ty.as_deref())?;
                }
                Selection::FragmentSpread(_) => {}
            }
        }
        Ok(SelectionSet { items: merged })
    }

    /// Appends `items` to `out`, replacing the fragments that apply to `parent` itself
    /// by their selections. A fragment already expanded into `out` is not expanded
    /// again: its fields would merge with the ones it gave the first time.
    fn flatten(
        &mut self,
        items: Vec<Positioned<Selection>>,
        parent: Option<&str>,
        out: &mut Vec<Positioned<Selection>>,
        expanded: &mut HashSet<Name>,
    ) -> Result<(), MergeFault> {
        for item in items {
            self.budget = self.budget.checked_sub(1).ok_or(MergeFault::TooLarge)?;
            match &item.node {
                Selection::InlineFragment(fragment)
                    if fragment.node.directives.is_empty()
                        && fragment
                            .node
                            .type_condition
                            .as_ref()
                            .is_none_or(|t| Some(t.node.on.node.as_str()) == parent) =>
                {
                    let Selection::InlineFragment(fragment) = item.node else {
                        continue;
                    };
                    self.flatten(
                        fragment.node.selection_set.node.items,
                        parent,
                        out,
                        expanded,
                    )?;
                }
                Selection::FragmentSpread(spread) if spread.node.directives.is_empty() => {
                    let name = spread.node.fragment_name.node.clone();
                    let expandable = self.fragments.get(&name).filter(|f| {
                        Some(f.node.type_condition.node.on.node.as_str()) == parent
                            && !self.stack.contains(&name)
                    });
                    let Some(fragment) = expandable else {
                        out.push(item);
                        continue;
                    };
                    if !expanded.insert(name.clone()) {
                        continue;
                    }
                    if self.stack.len() >= MAX_FRAGMENT_DEPTH {
                        return Err(MergeFault::FragmentsTooDeep);
                    }
                    let items = fragment.node.selection_set.node.items.clone();
                    self.stack.push(name);
                    self.flatten(items, parent, out, expanded)?;
                    self.stack.pop();
                }
                _ => out.push(item),
            }
        }
        Ok(())
    }
}

/// Whether two fields under one response key ask the same thing.
fn same_field(a: &Field, b: &Field) -> bool {
    a.name.node == b.name.node
        && same_arguments(&a.arguments, &b.arguments)
        && same_directives(&a.directives, &b.directives)
}

/// The same arguments, in any order.
fn same_arguments(
    a: &[(Positioned<Name>, Positioned<Value>)],
    b: &[(Positioned<Name>, Positioned<Value>)],
) -> bool {
    a.len() == b.len()
        && a.iter().all(|(name, value)| {
            b.iter()
                .any(|(other, v)| other.node == name.node && v.node == value.node)
        })
}

/// The same directives with the same arguments, in the same order.
fn same_directives(a: &[Positioned<Directive>], b: &[Positioned<Directive>]) -> bool {
    a.len() == b.len()
        && a.iter().zip(b).all(|(a, b)| {
            a.node.name.node == b.node.name.node
                && same_arguments(&a.node.arguments, &b.node.arguments)
        })
}

/// The fragments spread by the operations, directly or through other fragments.
fn reachable_fragments(document: &ExecutableDocument) -> HashSet<Name> {
    let mut reached = HashSet::new();
    let mut pending: Vec<&SelectionSet> = document
        .operations
        .iter()
        .map(|(_, op)| &op.node.selection_set.node)
        .collect();
    while let Some(set) = pending.pop() {
        for item in &set.items {
            match &item.node {
                Selection::Field(field) => pending.push(&field.node.selection_set.node),
                Selection::InlineFragment(fragment) => {
                    pending.push(&fragment.node.selection_set.node)
                }
                Selection::FragmentSpread(spread) => {
                    let name = &spread.node.fragment_name.node;
                    if reached.insert(name.clone())
                        && let Some(fragment) = document.fragments.get(name)
                    {
                        pending.push(&fragment.node.selection_set.node);
                    }
                }
            }
        }
    }
    reached
}

#[cfg(test)]
mod tests {
    use super::*;
    use async_graphql::parser::parse_query;

    /// The fields a document's (single) operation selects, as `key(child …)` text.
    fn merged(query: &str) -> Result<String, MergeFault> {
        let mut doc = parse_query(query).expect("a valid document");
        merge(&mut doc, &Types::of_schema())?;
        let (_, op) = doc.operations.iter().next().expect("an operation");
        Ok(render(&op.node.selection_set.node))
    }

    fn render(set: &SelectionSet) -> String {
        set.items
            .iter()
            .map(|item| match &item.node {
                Selection::Field(f) if f.node.selection_set.node.items.is_empty() => {
                    f.node.response_key().node.to_string()
                }
                Selection::Field(f) => format!(
                    "{}({})",
                    f.node.response_key().node,
                    render(&f.node.selection_set.node)
                ),
                Selection::FragmentSpread(s) => format!("...{}", s.node.fragment_name.node),
                Selection::InlineFragment(i) => format!(
                    "...on {}({})",
                    i.node
                        .type_condition
                        .as_ref()
                        .map(|t| t.node.on.node.to_string())
                        .unwrap_or_default(),
                    render(&i.node.selection_set.node)
                ),
            })
            .collect::<Vec<_>>()
            .join(" ")
    }

    #[test]
    fn repeated_fields_become_one_with_every_selection() {
        let q = "{ speaker(slug: \"a\") { name } speaker(slug: \"a\") { slug name } }";
        assert_eq!(merged(q), Ok("speaker(name slug)".into()));
        let many = format!("{{ {} }}", "viewer { role } ".repeat(900));
        assert_eq!(merged(&many), Ok("viewer(role)".into()));
    }

    #[test]
    fn fragments_on_the_same_type_are_expanded_and_merged() {
        let q = "{ ...A ...A ... on Query { ...A viewer { keyName } } } \
                 fragment A on Query { viewer { role } }";
        assert_eq!(merged(q), Ok("viewer(role keyName)".into()));
        let nested =
            "{ speaker(slug: \"a\") { ...S ... { name } } } fragment S on Speaker { name slug }";
        assert_eq!(merged(nested), Ok("speaker(name slug)".into()));
    }

    #[test]
    fn different_arguments_and_aliases_stay_apart() {
        let q = "{ a: speaker(slug: \"a\") { name } b: speaker(slug: \"a\") { name } \
                 speaker(slug: \"x\") { name } speaker(slug: \"y\") { name } }";
        assert_eq!(
            merged(q),
            Ok("a(name) b(name) speaker(name) speaker(name)".into())
        );
    }

    #[test]
    fn too_many_variants_under_one_key_are_refused() {
        let q = format!(
            "query($s: ID!) {{ {} }}",
            (0..9)
                .map(|i| format!(
                    "scorecard(speakerId: $s) @include(if: {}) {{ statements }}",
                    i % 2 == 0 || i < 100
                ))
                .collect::<Vec<_>>()
                .join(" ")
        );
        // Identical directives merge, so only the different ones count.
        assert!(merged(&q).is_ok());
        let variants = format!(
            "query({}) {{ {} }}",
            (0..9)
                .map(|i| format!("$v{i}: Boolean!"))
                .collect::<Vec<_>>()
                .join(" "),
            (0..9)
                .map(|i| format!(
                    "scorecard(speakerId: \"x\") @include(if: $v{i}) {{ statements }}"
                ))
                .collect::<Vec<_>>()
                .join(" ")
        );
        assert!(matches!(
            merged(&variants),
            Err(MergeFault::TooManyUnderOneKey { count: 9, .. })
        ));
    }

    #[test]
    fn exponential_fragments_are_bounded() {
        let mut q = String::from("{ ...F0 }");
        for i in 0..20 {
            q.push_str(&format!(
                " fragment F{i} on Query {{ ...F{n} ... on Query {{ ...F{n} }} viewer {{ role }} }}",
                n = i + 1
            ));
        }
        q.push_str(" fragment F20 on Query { viewer { keyName } }");
        // Repeated spreads merge, so the expansion stays small.
        assert_eq!(merged(&q), Ok("viewer(keyName role)".into()));
    }

    #[test]
    fn cycles_stay_for_validation_and_deep_chains_are_refused() {
        let cycle =
            "{ ...A } fragment A on Query { ...B viewer { role } } fragment B on Query { ...A }";
        assert_eq!(merged(cycle), Ok("...A viewer(role)".into()));
        let mut chain = String::from("{ ...F0 }");
        for i in 0..40 {
            chain.push_str(&format!(" fragment F{i} on Query {{ ...F{} }}", i + 1));
        }
        chain.push_str(" fragment F40 on Query { viewer { role } }");
        assert_eq!(merged(&chain), Err(MergeFault::FragmentsTooDeep));
    }

    #[test]
    fn fragments_no_longer_spread_are_dropped_and_unused_ones_kept() {
        let mut doc = parse_query(
            "{ ...A } fragment A on Query { viewer { role } } fragment Unused on Query { viewer { role } }",
        )
        .expect("valid");
        merge(&mut doc, &Types::of_schema()).expect("merged");
        assert!(!doc.fragments.contains_key("A"));
        assert!(doc.fragments.contains_key("Unused"));
    }
}
