//! `credhook ce-flags [FILE]`: the `--env` arguments for `ibmcloud ce job`.

use super::{EXIT_USAGE, file_arg, load};
use crate::jobconfig;
use std::ffi::OsString;
use std::vec::Vec;

/// `credhook ce-flags [FILE]`: the `--env` arguments, shell-quoted.
pub fn ce_flags(path: &str) -> u8 {
    match load(path) {
        Ok(vars) => {
            std::print!("{}", jobconfig::ce_flags(&vars));
            0
        }
        Err(e) => {
            std::eprintln!("credhook: {e}");
            1
        }
    }
}

/// `credhook ce-flags [FILE]` from its arguments.
pub fn main(args: Vec<OsString>) -> u8 {
    match file_arg(args) {
        Ok(path) => ce_flags(&path),
        Err(e) => {
            std::eprintln!("credhook ce-flags: {e}; usage: credhook ce-flags [FILE]");
            EXIT_USAGE
        }
    }
}
