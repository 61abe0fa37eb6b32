//! Message input (being written)
