//! Whole-tree statistics and validation.
