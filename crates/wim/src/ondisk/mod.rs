//! The raw on-disk structures of a WIM file, each in a module named for it: parsed from and
//! written to bytes, with no I/O of their own. The reader, writer, capture and apply build on
//! these; most callers need only the high-level API at the crate root.

pub mod blob_table;
pub mod dentry;
pub mod header;
pub mod integrity;
pub mod resource;
pub mod security;
