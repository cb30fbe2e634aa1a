//! The hook: the environment it is given, the clock that ends it, the output
//! channel it writes, and what its run amounts to.

pub(crate) mod channel;
pub(crate) mod clock;
pub(crate) mod environment;
pub(crate) mod rollback;
pub(crate) mod verdict;
