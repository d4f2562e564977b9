//! The one check every value a request hands to a field goes through, before either
//! executor runs it: arguments written in the document, variables, input objects and
//! lists at any depth, `JSON` values (their keys too), directive arguments. Each
//! string must be plain text ([`validate::plain`]: no NUL, which PostgreSQL cannot
//! store, no other control characters but tabs and line breaks), and each `DateTime`
//! must lie in [`validate::YEARS`]. A value that fails is refused with
//! `BAD_USER_INPUT` naming it as a path from the argument (`input.stances[1].note`),
//! so a lookup, a search and a write fail the same way, and nothing reaches the
//! database.
//!
//! Values of the wrong type are left to validation, which names them better.

use async_graphql::Positioned;
use async_graphql::parser::types::{
    DocumentOperations, ExecutableDocument, OperationType, Selection, SelectionSet,
};
use async_graphql::registry::MetaTypeName;
use async_graphql::{Value as ConstValue, Variables};
use async_graphql_value::Value;
use chrono::Datelike;

use crate::error::ApiResult;
use crate::graphql::types::Types;
use crate::service::validate;

/// Checks every value of every operation and fragment of `document`.
pub fn check(document: &ExecutableDocument, variables: &Variables, types: &Types) -> ApiResult<()> {
    let checker = Checker { variables, types };
    let operations: Vec<_> = match &document.operations {
        DocumentOperations::Single(op) => vec![op],
        DocumentOperations::Multiple(ops) => ops.values().collect(),
    };
    for operation in operations {
        let root = match operation.node.ty {
            OperationType::Query => Some(types.query()),
            OperationType::Mutation => Some(types.mutation()),
            OperationType::Subscription => None,
        };
        for definition in &operation.node.variable_definitions {
            if let Some(default) = &definition.node.default_value {
                let ty = definition.node.var_type.node.to_string();
                checker.constant(
                    &format!("${}", definition.node.name.node),
                    &default.node,
                    Some(&ty),
                )?;
            }
        }
        checker.directives(&operation.node.directives)?;
        checker.set(&operation.node.selection_set.node, root.as_deref())?;
    }
    for fragment in document.fragments.values() {
        checker.directives(&fragment.node.directives)?;
        let on = fragment.node.type_condition.node.on.node.as_str();
        checker.set(&fragment.node.selection_set.node, Some(on))?;
    }
    Ok(())
}

struct Checker<'a> {
    variables: &'a Variables,
    types: &'a Types,
}

impl Checker<'_> {
    fn set(&self, set: &SelectionSet, parent: Option<&str>) -> ApiResult<()> {
        for item in &set.items {
            match &item.node {
                Selection::Field(field) => {
                    let name = field.node.name.node.as_str();
                    let meta = parent.and_then(|p| self.types.field(p, name));
                    for (argument, value) in &field.node.arguments {
                        let declared = meta
                            .and_then(|m| m.args.get(argument.node.as_str()))
                            .map(|a| a.ty.as_str());
                        self.value(argument.node.as_str(), &value.node, declared)?;
                    }
                    self.directives(&field.node.directives)?;
                    let child = parent.and_then(|p| self.types.field_type(p, name));
                    self.set(&field.node.selection_set.node, child)?;
                }
                Selection::InlineFragment(fragment) => {
                    self.directives(&fragment.node.directives)?;
                    let on = fragment
                        .node
                        .type_condition
                        .as_ref()
                        .map(|t| t.node.on.node.as_str())
                        .or(parent);
                    self.set(&fragment.node.selection_set.node, on)?;
                }
                Selection::FragmentSpread(spread) => self.directives(&spread.node.directives)?,
            }
        }
        Ok(())
    }

    fn directives(
        &self,
        directives: &[Positioned<async_graphql::parser::types::Directive>],
    ) -> ApiResult<()> {
        for directive in directives {
            for (argument, value) in &directive.node.arguments {
                self.value(argument.node.as_str(), &value.node, None)?;
            }
        }
        Ok(())
    }

    /// A value as written, its variables replaced by theirs (a variable the request
    /// does not give is left to validation).
    fn value(&self, path: &str, value: &Value, declared: Option<&str>) -> ApiResult<()> {
        let Ok(value) = value
            .clone()
            .into_const_with(|name| self.variables.get(&name).cloned().ok_or(()))
        else {
            return Ok(());
        };
        self.constant(path, &value, declared)
    }

    fn constant(&self, path: &str, value: &ConstValue, declared: Option<&str>) -> ApiResult<()> {
        let named = declared.map(MetaTypeName::concrete_typename);
        match value {
            ConstValue::String(s) => {
                validate::plain(path, s)?;
                if named == Some("DateTime") {
                    date_time(path, s)?;
                }
            }
            ConstValue::List(items) => {
                let inner = declared.map(|ty| match MetaTypeName::create(ty) {
                    MetaTypeName::NonNull(ty) => match MetaTypeName::create(ty) {
                        MetaTypeName::List(inner) => inner,
                        _ => ty,
                    },
                    MetaTypeName::List(inner) | MetaTypeName::Named(inner) => inner,
                });
                for (i, item) in items.iter().enumerate() {
                    self.constant(&format!("{path}[{i}]"), item, inner)?;
                }
            }
            ConstValue::Object(fields) => {
                for (key, item) in fields {
                    let field = format!("{path}.{key}");
                    validate::plain(&field, key.as_str())?;
                    let ty = named
                        .and_then(|ty| self.types.input_field(ty, key.as_str()))
                        .map(|f| f.ty.as_str());
                    self.constant(&field, item, ty)?;
                }
            }
            _ => {}
        }
        Ok(())
    }
}

/// An instant in the years [`validate::YEARS`]. A string that is no RFC 3339 instant
/// is left to the scalar, which says so.
fn date_time(path: &str, value: &str) -> ApiResult<()> {
    match chrono::DateTime::parse_from_rfc3339(value) {
        Ok(at) => validate::year(path, at.year()),
        Err(_) => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ApiError;
    use async_graphql::parser::parse_query;

    fn checked(query: &str, variables: serde_json::Value) -> Result<(), String> {
        let doc = parse_query(query).expect("a valid document");
        check(&doc, &Variables::from_json(variables), &Types::of_schema()).map_err(|e| match e {
            ApiError::BadInput { field, .. } => field,
            other => panic!("not a bad input: {other:?}"),
        })
    }

    #[test]
    fn a_nul_anywhere_is_refused_naming_its_place() {
        let json = serde_json::json!({});
        assert_eq!(
            checked("{ claim(slug: \"a\\u0000b\") { slug } }", json.clone()),
            Err("slug".into())
        );
        assert_eq!(
            checked(
                "query($q: String!) { search(query: $q) { totalCount } }",
                serde_json::json!({ "q": "x\u{0}" })
            ),
            Err("query".into())
        );
        assert_eq!(
            checked(
                "mutation($i: CreateStatementInput!) { createStatement(input: $i) { statement { id } } }",
                serde_json::json!({ "i": { "speakerId": "x", "text": "ok",
                    "stances": [{ "claimId": "c", "stance": "SUPPORTS" }, { "claimId": "c\u{7}", "stance": "SUPPORTS" }] } })
            ),
            Err("input.stances[1].claimId".into())
        );
        assert_eq!(
            checked(
                "{ speakers @include(if: true) { totalCount } ...F } fragment F on Query { speaker(slug: \"\\u0001\") { id } }",
                json
            ),
            Err("slug".into())
        );
    }

    #[test]
    fn text_may_hold_tabs_line_breaks_and_any_script() {
        assert_eq!(
            checked(
                "query($q: String!) { search(query: $q) { totalCount } }",
                serde_json::json!({ "q": "Сергей\tЛавров\r\n«рабочая группа» 🙂" })
            ),
            Ok(())
        );
    }

    #[test]
    fn instants_lie_in_four_digit_years_after_999() {
        let q = "mutation($a: DateTime) { createArticle(input: { outletId: \"o\", title: \"t\", publishedAt: $a }) { article { id } } }";
        assert_eq!(
            checked(q, serde_json::json!({ "a": "0000-01-01T00:00:00Z" })),
            Err("input.publishedAt".into())
        );
        assert_eq!(
            checked(q, serde_json::json!({ "a": "2017-07-24T10:00:00+03:00" })),
            Ok(())
        );
    }
}
