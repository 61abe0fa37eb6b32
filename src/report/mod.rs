//! Reports (being written)
