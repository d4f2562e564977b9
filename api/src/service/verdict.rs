//! verdict rules.
