//! SQL written as text with its values bound as numbered parameters (`$1`, `$2`, …),
//! for the reads whose statements are put together from parts: the compiled reads,
//! the timeline, position changes and search. A part built with sea-query (a
//! [`Condition`], such as a statement filter's) is written into the same text, its
//! parameters numbered on from those bound before it.

use sea_orm::sea_query::{
    Condition, Expr, PostgresQueryBuilder, QueryBuilder, SelectStatement, SqlWriter,
};
use sea_orm::{DbBackend, Statement, Value};

/// The values bound so far, in parameter order.
#[derive(Debug, Default)]
pub struct Params {
    values: Vec<Value>,
}

impl Params {
    pub fn new() -> Self {
        Self::default()
    }

    /// Parameters bound already: the next one is numbered after them.
    pub fn from_values(values: Vec<Value>) -> Self {
        Self { values }
    }

    /// Binds `value` as the next parameter, and returns its placeholder.
    pub fn bind(&mut self, value: impl Into<Value>) -> String {
        self.values.push(value.into());
        format!("${}", self.values.len())
    }

    /// Writes `condition` as SQL, its values bound as the next parameters.
    pub fn condition(&mut self, condition: Condition) -> String {
        self.expr(&Expr::from(condition))
    }

    /// Writes `expr` as SQL, its values bound as the next parameters.
    pub fn expr(&mut self, expr: &Expr) -> String {
        let mut writer = Writer {
            text: String::new(),
            values: &mut self.values,
        };
        PostgresQueryBuilder.prepare_expr(expr, &mut writer);
        writer.text
    }

    /// Writes `query` as SQL, its values bound as the next parameters.
    pub fn query(&mut self, query: &SelectStatement) -> String {
        let mut writer = Writer {
            text: String::new(),
            values: &mut self.values,
        };
        PostgresQueryBuilder.prepare_select_statement(query, &mut writer);
        writer.text
    }

    /// How many values are bound.
    pub fn len(&self) -> usize {
        self.values.len()
    }

    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    pub fn into_values(self) -> Vec<Value> {
        self.values
    }

    /// `text` with these values, as a PostgreSQL statement.
    pub fn statement(self, text: impl Into<String>) -> Statement {
        Statement::from_sql_and_values(DbBackend::Postgres, text, self.values)
    }
}

/// Writes sea-query's SQL, numbering its parameters after those already bound.
struct Writer<'a> {
    text: String,
    values: &'a mut Vec<Value>,
}

impl std::fmt::Write for Writer<'_> {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        self.text.push_str(s);
        Ok(())
    }
}

impl std::fmt::Display for Writer<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text)
    }
}

impl SqlWriter for Writer<'_> {
    fn push_param<T: QueryBuilder>(&mut self, value: Value, _: &T) {
        self.values.push(value);
        self.text.push('$');
        self.text.push_str(&self.values.len().to_string());
    }

    fn as_writer(&mut self) -> &mut dyn std::fmt::Write {
        self as _
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sea_orm::sea_query::ExprTrait;

    #[test]
    fn a_condition_numbers_its_parameters_after_those_bound_before() {
        let mut params = Params::new();
        assert_eq!(params.bind(7_i64), "$1");
        let text = params.condition(
            Condition::all()
                .add(Expr::cust_with_values(
                    "s.language = $1 AND s.kind = $2",
                    ["en", "QUOTE"],
                ))
                .add(Expr::cust("s.deleted_at IS NULL"))
                .add(Expr::col("n").gt(3)),
        );
        assert_eq!(
            text,
            "(s.language = $2 AND s.kind = $3) AND (s.deleted_at IS NULL) AND \"n\" > $4"
        );
        assert_eq!(params.bind("x"), "$5");
        assert_eq!(params.len(), 5);
        let values = params.into_values();
        assert_eq!(values[1], Value::from("en"));
        assert_eq!(values[3], Value::from(3));
    }

    #[test]
    fn an_empty_condition_holds() {
        let mut params = Params::new();
        assert_eq!(params.condition(Condition::all()), "TRUE");
        assert!(params.is_empty());
    }
}
