//! `credhook ce-flags [FILE]`: the `--env` arguments for `ibmcloud ce job`.

use super::load;
use crate::jobconfig;

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
