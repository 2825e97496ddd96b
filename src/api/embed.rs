//! embed (being written).
