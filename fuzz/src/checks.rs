//! The fuzz targets' checks live in the crate (`credhook::fuzzing`), where
//! they can see the parsers; `tests/fuzz_corpus.rs` replays the corpus
//! through the same functions on stable Rust.

pub use credhook::fuzzing::{hook_output, replies, schema_strings};
