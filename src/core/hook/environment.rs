//! Which of the job's variables the hook inherits.

use crate::core::CoreError;
use crate::core::job::schema::Schema;

/// Whether variable `name` passes from the job's environment to the hook.
/// Removed: the API key, every `CREDHOOK_*` setting but
/// `CREDHOOK_HTTP_ALLOW` (the hook's `credhook http` obeys it), every
/// `SMOUT_*` declaration, every input's `SM_<NAME>_VALUE`/`SMIN_<NAME>_VALUE`,
/// and the declared `SMIN_<NAME>` itself (credhook sets it to the value).
/// The `CREDHOOK_PREVIOUS*` variables the hook gets are credhook's own,
/// never the job's.
pub(crate) fn passes(name: &str, schema: &Schema) -> bool {
    if name == "SM_ACCESS_APIKEY"
        || (name.starts_with("CREDHOOK_") && name != crate::core::net::http_allow::SETTING)
        || name.starts_with("SMOUT_")
    {
        return false;
    }
    if name.starts_with("SMIN_") && name.ends_with("_VALUE") {
        return false;
    }
    // The declared inputs are sorted by name: a lookup, not a scan, so a job
    // with thousands of inputs is set up in linear-logarithmic time.
    let declared = |n: &str| schema.inputs.binary_search_by(|f| f.name.as_str().cmp(n)).is_ok();
    !(name.strip_prefix("SMIN_").is_some_and(declared)
        || name
            .strip_prefix("SM_")
            .and_then(|r| r.strip_suffix("_VALUE"))
            .is_some_and(declared))
}

/// Longest `NAME=value` the kernel passes to a program (`MAX_ARG_STRLEN`,
/// 32 pages), its terminating NUL included.
pub(crate) const MAX_VAR_BYTES: usize = 128 * 1024;
/// Most bytes of resolved secret variables given to the hook in all; the
/// kernel's limit for the whole environment and arguments is about 2 MiB.
pub(crate) const MAX_RESOLVED_BYTES: usize = 1024 * 1024;

/// Whether `var=value` can be handed to the hook: no NUL (it would end the
/// value) and short enough for the kernel. Checked before the hook runs, so
/// that a secret that cannot be passed fails the task (ERR10002) instead of
/// the hook's start.
pub(crate) fn check_value(var: &str, value: &str) -> Result<(), CoreError> {
    if value.contains('\0') {
        return Err(CoreError::HookVarNul(var.into()));
    }
    let bytes = var.len() + 1 + value.len() + 1;
    if bytes > MAX_VAR_BYTES {
        return Err(CoreError::HookVarTooLong { var: var.into(), bytes });
    }
    Ok(())
}

/// The resolved variables together stay within [`MAX_RESOLVED_BYTES`].
pub(crate) fn check_total<'a>(vars: impl IntoIterator<Item = (&'a str, &'a str)>) -> Result<(), CoreError> {
    let total: usize = vars.into_iter().map(|(k, v)| k.len() + v.len() + 2).sum();
    if total > MAX_RESOLVED_BYTES {
        return Err(CoreError::HookEnvTooLarge(total));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::job::schema::from_env;
    use alloc::string::ToString;

    #[test]
    fn values_the_hook_can_be_given() {
        assert!(check_value("SMIN_DB_PASSWORD", "p").is_ok());
        let e = check_value("SMIN_DB_PASSWORD", "a\0b").unwrap_err().to_string();
        assert!(e.contains("`SMIN_DB_PASSWORD` holds a NUL"), "{e}");
        let big = "x".repeat(MAX_VAR_BYTES);
        assert!(
            check_value("SMIN_DB_DATA", &big)
                .unwrap_err()
                .to_string()
                .contains("more than the 131072")
        );
        let half = "x".repeat(MAX_RESOLVED_BYTES / 2);
        assert!(check_total([("A", half.as_str())]).is_ok());
        assert!(check_total([("A", half.as_str()), ("B", half.as_str())]).is_err());
    }

    #[test]
    fn scrubbed() {
        let env = [("SMIN_DB", "type:string"), ("SMOUT_PW", "type:string")];
        let (schema, _) = from_env(env.iter().map(|(k, v)| (*k, *v)));
        for gone in [
            "SM_ACCESS_APIKEY",
            "CREDHOOK_HOOK",
            "CREDHOOK_IAM_TOKEN",
            "CREDHOOK_PREVIOUS",
            "CREDHOOK_PREVIOUS_TOKEN",
            "CREDHOOK_SECRET_GROUPS",
            "CREDHOOK_HTTP_ALLOWED",
            "SMOUT_PW",
            "SMIN_DB",
            "SM_DB_VALUE",
            "SMIN_DB_VALUE",
            "SMIN_OTHER_VALUE",
        ] {
            assert!(!passes(gone, &schema), "{gone}");
        }
        for kept in [
            "PATH",
            "SM_SECRET_ID",
            "SM_ACTION",
            "SM_CREDENTIALS_ID",
            "SMIN_NOTE",
            "SM_OTHER_VALUE",
            "CREDHOOK_HTTP_ALLOW",
        ] {
            assert!(passes(kept, &schema), "{kept}");
        }
    }
}
