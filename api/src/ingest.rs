//! Bringing data in from outside: [`claimreview`] reads ClaimReview as fact-checkers
//! publish it, [`table`] reads spreadsheets of fact-checks (CSV) through a column
//! mapping.

pub mod claimreview;
pub mod table;

/// A rating as a source gives it. Any part may be missing: many reviewers give a label
/// alone, some a number alone.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Rating {
    pub label: Option<String>,
    pub value: Option<f64>,
    pub best: Option<f64>,
    pub worst: Option<f64>,
}
