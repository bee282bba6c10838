//! COMMAND DOCS argument trees (being written).
