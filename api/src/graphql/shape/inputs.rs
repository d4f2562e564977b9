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
//! [`required_variables`] does what async-graphql's variable coercion leaves to
//! execution (or skips): a variable of a non-null type must be given, and not as null.

use async_graphql::Positioned;
use async_graphql::parser::types::{
    DocumentOperations, ExecutableDocument, OperationType, Selection, SelectionSet,
};
use async_graphql::registry::MetaTypeName;
use async_graphql::{Value as ConstValue, Variables};
use async_graphql_value::Value;
use chrono::Datelike;

use crate::error::{ApiError, ApiResult};
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
            OperationType::Subscription => Some(types.subscription()),
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

/// The variables of the operation that will run: one declared non-null (`$id: ID!`)
/// must be given, and not as `null` (GraphQL's CoerceVariableValues). async-graphql
/// finds a missing one only when a field reads it, mid-execution, and lets a `null` one
/// through to a nullable argument; refused here, neither runs. An operation that cannot
/// be chosen is left to validation.
pub fn required_variables(
    document: &ExecutableDocument,
    operation_name: Option<&str>,
    variables: &Variables,
) -> ApiResult<()> {
    let Some((_, operation)) = crate::graphql::chosen_operation(document, operation_name) else {
        return Ok(());
    };
    for definition in &operation.node.variable_definitions {
        let definition = &definition.node;
        if definition.var_type.node.nullable {
            continue;
        }
        let name = definition.name.node.as_str();
        let given = variables.get(name);
        let missing = match given {
            None => definition.default_value.is_none(),
            Some(value) => *value == ConstValue::Null,
        };
        if missing {
            let ty = definition.var_type.node.to_string();
            return Err(ApiError::bad_input(
                format!("${name}"),
                match given {
                    None => format!("variable `${name}` of type `{ty}` is required"),
                    Some(_) => format!("variable `${name}` of type `{ty}` cannot be null"),
                },
            ));
        }
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
    fn a_non_null_variable_must_be_given_and_not_null() {
        let required = |query: &str, name: Option<&str>, variables: serde_json::Value| {
            let doc = parse_query(query).expect("a valid document");
            required_variables(&doc, name, &Variables::from_json(variables)).map_err(|e| match e {
                ApiError::BadInput { field, message } => format!("{field}: {message}"),
                other => panic!("not a bad input: {other:?}"),
            })
        };
        let q = "query($id: ID!, $n: Int) { speaker(id: $id) { name } }";
        assert_eq!(required(q, None, serde_json::json!({ "id": "x" })), Ok(()));
        assert_eq!(
            required(q, None, serde_json::json!({ "id": null })),
            Err("$id: variable `$id` of type `ID!` cannot be null".into())
        );
        assert_eq!(
            required(q, None, serde_json::json!({ "n": 1 })),
            Err("$id: variable `$id` of type `ID!` is required".into())
        );
        // A default stands in for a missing value, not for an explicit null.
        let q = "query($n: Int! = 5) { speakers(first: $n) { totalCount } }";
        assert_eq!(required(q, None, serde_json::json!({})), Ok(()));
        assert!(required(q, None, serde_json::json!({ "n": null })).is_err());
        // Only the operation that runs needs its variables.
        let q = "query A($id: ID!) { speaker(id: $id) { name } } query B { viewer { role } }";
        assert_eq!(required(q, Some("B"), serde_json::json!({})), Ok(()));
        assert!(required(q, Some("A"), serde_json::json!({})).is_err());
        assert_eq!(
            required(q, None, serde_json::json!({})),
            Ok(()),
            "left to validation"
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
