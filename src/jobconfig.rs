//! `job_config.json`: the Code Engine job's environment variables, as IBM's
//! providers ship them — `{"job_env_variables":[{"name":…,"value":…},…]}` —
//! and the rules `credhook check` applies to them.

use crate::json::{self, Value};
use crate::schema::{self, Direction};
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

/// The variables of a job config, in file order.
pub fn parse(bytes: &[u8]) -> Result<Vec<(String, String)>, String> {
    let v = json::parse(bytes).map_err(|e| format!("{e}; the file must be JSON"))?;
    let Some(Value::Array(items)) = v.get("job_env_variables") else {
        return Err(String::from(
            "no `job_env_variables` array; the file must look like {\"job_env_variables\":[{\"name\":\"SMIN_…\",\"value\":\"type:string\"}]}",
        ));
    };
    let mut vars = Vec::new();
    for (i, item) in items.iter().enumerate() {
        match (
            item.get("name").and_then(Value::as_str),
            item.get("value").and_then(Value::as_str),
        ) {
            (Some(n), Some(v)) => vars.push((n.to_string(), v.to_string())),
            _ => {
                return Err(format!(
                    "job_env_variables[{i}] needs a string `name` and a string `value`"
                ));
            }
        }
    }
    Ok(vars)
}

/// Every problem with the schema the variables declare, one sentence each,
/// naming the variable and the fix. Empty means the config is good.
pub fn check(vars: &[(String, String)]) -> Vec<String> {
    let mut problems = Vec::new();
    let mut seen: Vec<&str> = Vec::new();
    let mut required_outputs = 0;
    for (name, value) in vars {
        if seen.contains(&name.as_str()) {
            problems.push(format!("{name}: declared more than once; keep one"));
            continue;
        }
        seen.push(name);
        let upper = name.to_ascii_uppercase();
        // Case-insensitive here, so `smin_x` is reported rather than ignored.
        let Some(dir) = Direction::of(&upper) else {
            // IBM's generator takes only `^(SMIN_|SMOUT_)[A-Z0-9_]+$`.
            problems.push(if upper.starts_with("CREDHOOK_") {
                format!(
                    "{name}: only SMIN_/SMOUT_ declarations belong in job_config.json; set credhook's settings on the \
                     job itself (`ibmcloud ce job update --env {name}=…`)"
                )
            } else {
                format!(
                    "{name}: not a declaration; names must start with `SMIN_` (input) or `SMOUT_` (output), \
                     e.g. `SMIN_{}`",
                    upper.trim_start_matches(|c: char| !c.is_ascii_alphanumeric())
                )
            });
            continue;
        };
        if !name.starts_with(dir.prefix()) {
            problems.push(format!(
                "{name}: the prefix must be `{}`; rename it to `{upper}`",
                dir.prefix()
            ));
            continue;
        }
        if upper.ends_with("_VALUE") {
            problems.push(format!(
                "{name}: a name ending in `_VALUE` is read as a value, never a declaration; rename it"
            ));
            continue;
        }
        match schema::parse_declaration(dir, name, value) {
            Ok(field) => {
                if dir == Direction::Output && field.required {
                    required_outputs += 1;
                }
            }
            Err(p) => problems.push(p.to_string()),
        }
    }
    // Two names that differ only in case are the same name in the secret's API.
    for (i, (a, _)) in vars.iter().enumerate() {
        for (b, _) in &vars[i + 1..] {
            if a != b && a.eq_ignore_ascii_case(b) && (a.starts_with("SM") || b.starts_with("SM")) {
                problems.push(format!(
                    "{b}: differs from {a} only in letter case; they would be one name"
                ));
            }
        }
    }
    if required_outputs == 0 {
        problems.push(String::from(
            "no required output: mark at least one SMOUT_ variable `required:true` (the credentials must hold something)",
        ));
    }
    problems
}

/// Shell-quotes `s` with single quotes, so the shell reads it back exactly.
pub fn shell_quote(s: &str) -> String {
    let mut out = String::from("'");
    for c in s.chars() {
        if c == '\'' {
            out.push_str("'\\''");
        } else {
            out.push(c);
        }
    }
    out.push('\'');
    out
}

/// The `--env NAME=VALUE` arguments for `ibmcloud ce job create|update`, one
/// pair per line, every line but the last continued with ` \`.
pub fn ce_flags(vars: &[(String, String)]) -> String {
    let mut out = String::new();
    for (i, (name, value)) in vars.iter().enumerate() {
        out.push_str("--env ");
        out.push_str(&shell_quote(&format!("{name}={value}")));
        out.push_str(if i + 1 < vars.len() { " \\\n" } else { "\n" });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect()
    }

    #[test]
    fn parses_ibm_shape() {
        let v = parse(br#"{"job_env_variables":[{"name":"SMIN_A","value":"type:string"}]}"#).unwrap();
        assert_eq!(v, vars(&[("SMIN_A", "type:string")]));
        assert!(parse(b"{").unwrap_err().contains("malformed JSON"));
        assert!(parse(b"{}").unwrap_err().contains("job_env_variables"));
        assert!(
            parse(br#"{"job_env_variables":[{"name":"X"}]}"#)
                .unwrap_err()
                .contains("[0]")
        );
    }

    #[test]
    fn check_rules() {
        assert!(
            check(&vars(&[
                ("SMOUT_TOKEN", "type:string, required:true"),
                ("SMIN_NOTE", "type:string")
            ]))
            .is_empty()
        );
        let p = check(&vars(&[
            ("smin_port", "type:integer"),
            ("SMIN_BAD", "type:float"),
            ("SMOUT_REF", "type:secret_id"),
            ("SMOUT_A", "type:string"),
            ("SMOUT_A", "type:string"),
            ("SMIN_X_VALUE", "type:string"),
        ]));
        assert!(p[0].starts_with("smin_port: the prefix must be `SMIN_`"), "{p:?}");
        assert!(p[1].contains("unknown type `float`"), "{p:?}");
        assert!(p[2].contains("input type only"), "{p:?}");
        assert!(p[3].contains("more than once"), "{p:?}");
        assert!(p[4].contains("_VALUE"), "{p:?}");
        assert!(p[5].contains("no required output"), "{p:?}");
    }

    #[test]
    fn every_name_must_be_a_declaration() {
        let p = check(&vars(&[
            ("SMOUT_PW", "type:string, required:true"),
            ("MY_SETTING", "type:string"),
            ("CREDHOOK_HOOK_TIMEOUT", "120"),
            ("PATH", "/bin"),
        ]));
        assert_eq!(p.len(), 3, "{p:?}");
        assert!(
            p[0].starts_with("MY_SETTING: not a declaration") && p[0].contains("SMIN_MY_SETTING"),
            "{p:?}"
        );
        assert!(p[1].starts_with("CREDHOOK_HOOK_TIMEOUT: only SMIN_/SMOUT_"), "{p:?}");
        assert!(p[2].starts_with("PATH: not a declaration"), "{p:?}");
    }

    #[test]
    fn flags_quote_for_the_shell() {
        let f = ce_flags(&vars(&[("SMIN_A", "type:string, required:true"), ("X", "it's")]));
        assert_eq!(f, "--env 'SMIN_A=type:string, required:true' \\\n--env 'X=it'\\''s'\n");
    }
}
