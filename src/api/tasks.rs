//! tasks (being written).
