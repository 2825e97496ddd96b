//! classify (being written).
