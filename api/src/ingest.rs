//! Bringing data in from outside: [`claimreview`] reads ClaimReview as fact-checkers
//! publish it.

pub mod claimreview;
