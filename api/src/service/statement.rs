//! statement rules.
