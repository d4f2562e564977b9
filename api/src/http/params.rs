//! The parameters of a GraphQL-over-HTTP request, read from a POST body's JSON object
//! or a GET query string and checked for their types: `query` a string (required),
//! `operationName` a string, `variables` and `extensions` maps. A request with a
//! parameter of another type is not a GraphQL request at all: 400 before the schema
//! sees it. `null` (in JSON) and the empty string (in a query string) are the same as
//! leaving an optional parameter out; other names are ignored. A `query` that does not
//! parse is still a request, and the schema answers it; a blank one asks for nothing
//! and is refused as missing, as it always was.

use actix_web::http::StatusCode;
use async_graphql::{Extensions, Request, Variables};
use serde_json::{Map, Value};

use super::Refusal;

/// One request from the JSON object of a POST body.
pub fn from_json(mut params: Map<String, Value>) -> Result<Request, Refusal> {
    let query = match params.remove("query") {
        None | Some(Value::Null) => return Err(no_query()),
        Some(Value::String(query)) if query.trim().is_empty() => return Err(no_query()),
        Some(Value::String(query)) => query,
        Some(other) => return Err(wrong_type("query", "a string", &other)),
    };
    let operation_name = match params.remove("operationName") {
        None | Some(Value::Null) => None,
        Some(Value::String(name)) => Some(name),
        Some(other) => return Err(wrong_type("operationName", "a string", &other)),
    };
    let variables = match params.remove("variables") {
        None | Some(Value::Null) => Variables::default(),
        Some(map @ Value::Object(_)) => {
            serde_json::from_value(map).map_err(|e| invalid("variables", &e))?
        }
        Some(other) => return Err(wrong_type("variables", "a map (a JSON object)", &other)),
    };
    let extensions = match params.remove("extensions") {
        None | Some(Value::Null) => Extensions::default(),
        Some(map @ Value::Object(_)) => {
            serde_json::from_value(map).map_err(|e| invalid("extensions", &e))?
        }
        Some(other) => return Err(wrong_type("extensions", "a map (a JSON object)", &other)),
    };
    Ok(request(query, operation_name, variables, extensions))
}

/// One request from a GET query string (`application/x-www-form-urlencoded`), whose
/// `variables` and `extensions` are JSON text.
pub fn from_query_string(query_string: &str) -> Result<Request, Refusal> {
    let mut query = None;
    let mut operation_name = None;
    let mut variables = None;
    let mut extensions = None;
    for (name, value) in url::form_urlencoded::parse(query_string.as_bytes()) {
        let slot = match name.as_ref() {
            "query" => &mut query,
            "operationName" => &mut operation_name,
            "variables" => &mut variables,
            "extensions" => &mut extensions,
            _ => continue,
        };
        if slot.replace(value.into_owned()).is_some() {
            return Err(bad(format!(
                "the `{name}` parameter is given more than once"
            )));
        }
    }
    let query = query
        .filter(|q| !q.trim().is_empty())
        .ok_or_else(no_query)?;
    let variables = match json_parameter("variables", variables)? {
        Some(map) => serde_json::from_value(map).map_err(|e| invalid("variables", &e))?,
        None => Variables::default(),
    };
    let extensions = match json_parameter("extensions", extensions)? {
        Some(map) => serde_json::from_value(map).map_err(|e| invalid("extensions", &e))?,
        None => Extensions::default(),
    };
    Ok(request(query, operation_name, variables, extensions))
}

/// A JSON map sent as text; `None` for an empty or `null` one.
fn json_parameter(name: &str, text: Option<String>) -> Result<Option<Value>, Refusal> {
    let Some(text) = text.filter(|t| !t.trim().is_empty()) else {
        return Ok(None);
    };
    match serde_json::from_str::<Value>(&text) {
        Ok(Value::Null) => Ok(None),
        Ok(map @ Value::Object(_)) => Ok(Some(map)),
        Ok(other) => Err(wrong_type(name, "a map (a JSON object)", &other)),
        Err(e) => Err(bad(format!("the `{name}` parameter is not JSON: {e}"))),
    }
}

fn request(
    query: String,
    operation_name: Option<String>,
    variables: Variables,
    extensions: Extensions,
) -> Request {
    let mut request = Request::new(query).variables(variables);
    // An empty name is no name.
    request.operation_name = operation_name.filter(|name| !name.is_empty());
    request.extensions = extensions;
    request
}

fn bad(message: String) -> Refusal {
    Refusal::bad(StatusCode::BAD_REQUEST, message)
}

fn no_query() -> Refusal {
    bad("the request has no `query`".to_owned())
}

fn wrong_type(name: &str, expected: &str, value: &Value) -> Refusal {
    let sent = crate::ingest::claimreview::kind_of(value);
    bad(format!("`{name}` must be {expected}, not {sent}"))
}

fn invalid(name: &str, error: &serde_json::Error) -> Refusal {
    bad(format!("`{name}` cannot be read: {error}"))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn post(body: Value) -> Result<Request, String> {
        match body {
            Value::Object(map) => from_json(map).map_err(|r| r.message),
            _ => Err("not an object".into()),
        }
    }

    #[test]
    fn a_post_body_needs_a_string_query() {
        assert_eq!(
            post(json!({})).err().as_deref(),
            Some("the request has no `query`")
        );
        assert_eq!(
            post(json!({ "query": null })).err().as_deref(),
            Some("the request has no `query`")
        );
        assert_eq!(
            post(json!({ "query": ["{ a }"] })).err().as_deref(),
            Some("`query` must be a string, not an array")
        );
        assert_eq!(
            post(json!({ "query": " " })).err().as_deref(),
            Some("the request has no `query`")
        );
        // A document that does not parse is still one: the schema refuses it.
        assert_eq!(
            post(json!({ "query": "{" })).map(|r| r.query),
            Ok("{".to_owned())
        );
    }

    #[test]
    fn optional_parameters_are_null_or_of_their_type() {
        let request = post(json!({
            "query": "query Q($a: Int) { a }",
            "operationName": "Q",
            "variables": { "a": 1 },
            "extensions": { "trace": true },
            "other": 7,
        }))
        .expect("a request");
        assert_eq!(request.operation_name.as_deref(), Some("Q"));
        assert_eq!(request.variables.len(), 1);
        assert!(request.extensions.0.contains_key("trace"));
        let request = post(json!({
            "query": "{ a }",
            "operationName": null,
            "variables": null,
            "extensions": null,
        }))
        .expect("a request");
        assert_eq!(request.operation_name, None);
        for (name, value) in [
            ("operationName", json!(0)),
            ("operationName", json!({})),
            ("variables", json!("{}")),
            ("variables", json!([1])),
            ("variables", json!(false)),
            ("extensions", json!("x")),
            ("extensions", json!(0)),
        ] {
            let refused = post(json!({ "query": "{ a }", name: value })).expect_err(name);
            assert!(
                refused.starts_with(&format!("`{name}` must be")),
                "{refused}"
            );
        }
    }

    #[test]
    fn a_query_string_carries_json_variables() {
        let request = from_query_string(
            "query=query%20Q(%24id%3A%20ID!)%7Ba%7D&variables=%7B%22id%22%3A%22x%22%7D&operationName=Q",
        )
        .expect("a request");
        assert_eq!(request.query, "query Q($id: ID!){a}");
        assert_eq!(request.operation_name.as_deref(), Some("Q"));
        assert_eq!(request.variables.len(), 1);
        let request = from_query_string("query=%7Ba%7D&variables=&extensions=&operationName=")
            .expect("a request");
        assert!(request.variables.is_empty());
        assert_eq!(request.operation_name, None);
    }

    #[test]
    fn a_query_string_without_query_or_with_bad_json_is_refused() {
        let refused = |qs: &str| from_query_string(qs).expect_err(qs).message;
        assert_eq!(refused(""), "the request has no `query`");
        assert_eq!(refused("query=+"), "the request has no `query`");
        assert_eq!(refused("variables=%7B%7D"), "the request has no `query`");
        assert!(refused("query=%7Ba%7D&variables=%5B1%5D").contains("must be a map"));
        assert!(refused("query=%7Ba%7D&variables=%22s%22").contains("must be a map"));
        assert!(refused("query=%7Ba%7D&extensions=7").contains("must be a map"));
        assert!(refused("query=%7Ba%7D&variables=%7B").contains("not JSON"));
        assert!(refused("query=%7Ba%7D&query=%7Bb%7D").contains("more than once"));
    }
}
