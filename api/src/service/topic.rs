//! topic rules.
