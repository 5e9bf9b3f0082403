//! Partitioned disk images.
