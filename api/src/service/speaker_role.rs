//! speaker_role rules.
