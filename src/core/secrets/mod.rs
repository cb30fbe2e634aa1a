//! Secrets: the zeroizing types, the registry that masks them, and the
//! secrets credhook reads for the hook (referenced inputs, the previous
//! version).

pub(crate) mod classify;
pub(crate) mod previous;
pub(crate) mod referenced;
pub(crate) mod registry;
pub(crate) mod secret;
pub(crate) mod views;
