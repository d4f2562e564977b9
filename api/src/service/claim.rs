//! claim rules.
