//! Bringing data in from outside: [`claimreview`] reads ClaimReview as fact-checkers
//! publish it, [`table`] reads spreadsheets of fact-checks (CSV) through a column
//! mapping.

pub mod claimreview;
pub mod table;
