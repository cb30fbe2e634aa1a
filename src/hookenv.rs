//! Which of the job's variables the hook inherits.

use crate::schema::Schema;

/// Whether variable `name` passes from the job's environment to the hook.
/// Removed: the API key, every `CREDHOOK_*` setting, every `SMOUT_*`
/// declaration, every input's `SM_<NAME>_VALUE`/`SMIN_<NAME>_VALUE`, and the
/// declared `SMIN_<NAME>` itself (credhook sets it to the value).
pub fn passes(name: &str, schema: &Schema) -> bool {
    if name == "SM_ACCESS_APIKEY" || name.starts_with("CREDHOOK_") || name.starts_with("SMOUT_") {
        return false;
    }
    if name.starts_with("SMIN_") && name.ends_with("_VALUE") {
        return false;
    }
    !schema.inputs.iter().any(|f| {
        let n = f.name.as_str();
        name.strip_prefix("SMIN_").is_some_and(|rest| rest == n)
            || name
                .strip_prefix("SM_")
                .and_then(|r| r.strip_suffix("_VALUE"))
                .is_some_and(|rest| rest == n)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::from_env;

    #[test]
    fn scrubbed() {
        let env = [("SMIN_DB", "type:string"), ("SMOUT_PW", "type:string")];
        let (schema, _) = from_env(env.iter().map(|(k, v)| (*k, *v)));
        for gone in [
            "SM_ACCESS_APIKEY",
            "CREDHOOK_HOOK",
            "CREDHOOK_IAM_TOKEN",
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
        ] {
            assert!(passes(kept, &schema), "{kept}");
        }
    }
}
