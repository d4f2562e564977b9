//! article rules.
