//! Input values: found in the environment and checked against their schema.

use crate::core::CoreError;
use crate::core::job::schema::{Field, Kind, Schema};
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

/// One input and its value, ready for the hook.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Input {
    pub(crate) field: Field,
    /// The value as the hook will see it (booleans lower-cased); `None` when
    /// the input has no value.
    pub(crate) value: Option<String>,
}

/// The value of input `SMIN_<NAME>`: `SM_<NAME>_VALUE`, else
/// `SMIN_<NAME>_VALUE`; an empty value is no value.
pub(crate) fn lookup<'a>(name: &str, get: impl Fn(&str) -> Option<&'a str>) -> Option<&'a str> {
    let primary = format!("SM_{name}_VALUE");
    let fallback = format!("SMIN_{name}_VALUE");
    get(&primary)
        .filter(|v| !v.is_empty())
        .or_else(|| get(&fallback).filter(|v| !v.is_empty()))
}

/// Validates every declared input. Each problem names the input, the
/// variable to set or what it must hold ([`CoreError::InputRequired`],
/// [`CoreError::Input`]).
pub(crate) fn validate<'a>(
    schema: &Schema,
    get: impl Fn(&str) -> Option<&'a str>,
) -> Result<Vec<Input>, Vec<CoreError>> {
    let mut inputs = Vec::new();
    let mut problems = Vec::new();
    for field in &schema.inputs {
        let value = lookup(&field.name, &get);
        match value {
            None if field.required => problems.push(CoreError::InputRequired {
                input: field.api_name(),
                var: field.name.clone(),
            }),
            None => inputs.push(Input {
                field: field.clone(),
                value: None,
            }),
            Some(v) => match check_value(&field.kind, v) {
                Ok(v) => inputs.push(Input {
                    field: field.clone(),
                    value: Some(v),
                }),
                Err(why) => problems.push(CoreError::Input {
                    input: field.api_name(),
                    error: alloc::boxed::Box::new(why),
                }),
            },
        }
    }
    if problems.is_empty() { Ok(inputs) } else { Err(problems) }
}

/// One referenced secret to read for the hook, and the `secret_id` inputs
/// (indexes into the inputs) that name it.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct SecretToRead {
    pub(crate) id: String,
    pub(crate) inputs: Vec<usize>,
}

/// The referenced secrets a task reads, in the order their inputs are
/// declared: one read per distinct secret id among the `secret_id` inputs
/// that have a value and that `resolve` chooses (`run`: all of them unless
/// `CREDHOOK_RESOLVE_SECRETS=false`; `dry-run`: those its `--secret` names).
/// Two inputs naming one secret share its one read.
pub(crate) fn secrets_to_read(inputs: &[Input], resolve: impl Fn(&Input) -> bool) -> Vec<SecretToRead> {
    let mut reads: Vec<SecretToRead> = Vec::new();
    for (i, input) in inputs.iter().enumerate() {
        let Some(id) = input
            .value
            .as_ref()
            .filter(|_| input.field.kind == Kind::SecretId && resolve(input))
        else {
            continue;
        };
        match reads.iter_mut().find(|r| &r.id == id) {
            Some(r) => r.inputs.push(i),
            None => reads.push(SecretToRead {
                id: id.clone(),
                inputs: alloc::vec![i],
            }),
        }
    }
    reads
}

/// Checks a value against its type; returns it as the hook should see it,
/// or an [`CoreError::InputValue`] saying what it must be.
pub(crate) fn check_value(kind: &Kind, v: &str) -> Result<String, CoreError> {
    let expected = match kind {
        Kind::String => return Ok(v.to_string()),
        Kind::Integer if parse_integer(v).is_some() => return Ok(v.to_string()),
        Kind::Integer => String::from("a whole number that fits in 64 bits"),
        Kind::Boolean => match parse_boolean(v) {
            Some(b) => return Ok(if b { "true" } else { "false" }.to_string()),
            None => String::from("`true` or `false`"),
        },
        Kind::Enum(members) if members.iter().any(|m| m == v) => return Ok(v.to_string()),
        Kind::Enum(members) => format!("one of {}", members.join(", ")),
        Kind::SecretId if is_uuid(v) => return Ok(v.to_string()),
        Kind::SecretId => String::from("the ID (a UUID like 0b5571f7-21e6-42b7-91c5-3f5ac9793a46) of a secret"),
    };
    Err(CoreError::InputValue { expected, got: clip(v) })
}

/// Optional sign and decimal digits that fit in 64 bits.
pub(crate) fn parse_integer(v: &str) -> Option<i64> {
    let digits = v.strip_prefix(['+', '-']).unwrap_or(v);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    v.parse::<i64>().ok()
}

/// `true` or `false`, any letter case.
pub(crate) fn parse_boolean(v: &str) -> Option<bool> {
    if v.eq_ignore_ascii_case("true") {
        Some(true)
    } else if v.eq_ignore_ascii_case("false") {
        Some(false)
    } else {
        None
    }
}

/// 8-4-4-4-12 hexadecimal digits.
pub(crate) fn is_uuid(v: &str) -> bool {
    let b = v.as_bytes();
    b.len() == 36
        && b.iter().enumerate().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => *c == b'-',
            _ => c.is_ascii_hexdigit(),
        })
}

/// At most 64 characters of a bad value, for a message.
fn clip(v: &str) -> String {
    match v.char_indices().nth(64) {
        Some((i, _)) => format!("{}…", &v[..i]),
        None => v.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::job::schema::from_env;
    use alloc::vec;

    fn env_get<'a>(env: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<&'a str> {
        move |k| env.iter().find(|(n, _)| *n == k).map(|(_, v)| *v)
    }

    #[test]
    fn values_primary_then_fallback() {
        let env = [
            ("SM_A_VALUE", ""),
            ("SMIN_A_VALUE", "x"),
            ("SM_B_VALUE", "y"),
            ("SMIN_B_VALUE", "z"),
        ];
        assert_eq!(lookup("A", env_get(&env)), Some("x"));
        assert_eq!(lookup("B", env_get(&env)), Some("y"));
        assert_eq!(lookup("C", env_get(&env)), None);
    }

    #[test]
    fn types() {
        assert!(check_value(&Kind::Integer, "-9223372036854775808").is_ok());
        assert!(check_value(&Kind::Integer, "+12").is_ok());
        for bad in ["9223372036854775808", "1.0", "", "+", "0x1", " 1", "1e3"] {
            assert!(check_value(&Kind::Integer, bad).is_err(), "{bad}");
        }
        assert_eq!(check_value(&Kind::Boolean, "TRUE"), Ok("true".into()));
        assert!(check_value(&Kind::Boolean, "yes").is_err());
        let e = Kind::Enum(vec!["a".into(), "b".into()]);
        assert!(check_value(&e, "b").is_ok());
        assert_eq!(
            check_value(&e, "c").map_err(|e| e.to_string()),
            Err("must be one of a, b, got `c`".into())
        );
        assert!(check_value(&Kind::SecretId, "0b5571f7-21e6-42b7-91c5-3f5ac9793a46").is_ok());
        assert!(check_value(&Kind::SecretId, "0b5571f7-21e6-42b7-91c5-3f5ac9793a4").is_err());
        assert!(check_value(&Kind::SecretId, "0b5571f7x21e6-42b7-91c5-3f5ac9793a46").is_err());
    }

    #[test]
    fn validate_names_every_problem() {
        let env = [
            ("SMIN_PORT", "type:integer, required:true"),
            ("SMIN_MODE", "type:enum[ro|rw]"),
            ("SMIN_NOTE", "type:string"),
            ("SM_MODE_VALUE", "admin"),
        ];
        let (schema, _) = from_env(env.iter().map(|(k, v)| (*k, *v)));
        let problems: Vec<String> = validate(&schema, env_get(&env))
            .unwrap_err()
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(
            problems,
            vec![
                "input `mode` must be one of ro, rw, got `admin`".to_string(),
                "input `port` is required but has no value; set SM_PORT_VALUE".to_string(),
            ]
        );
    }

    #[test]
    fn a_secret_named_twice_is_read_once() {
        let env = [
            ("SMIN_A", "type:secret_id"),
            ("SMIN_B", "type:secret_id"),
            ("SMIN_C", "type:secret_id"),
            ("SMIN_D", "type:string"),
            ("SM_A_VALUE", "0f9a2b1c-1111-4222-8333-944455556666"),
            ("SM_B_VALUE", "0f9a2b1c-1111-4222-8333-944455556666"),
            ("SM_C_VALUE", "1f9a2b1c-1111-4222-8333-944455556666"),
            ("SM_D_VALUE", "0f9a2b1c-1111-4222-8333-944455556666"),
        ];
        let (schema, _) = crate::core::job::schema::from_env(env.iter().copied());
        let inputs = validate(&schema, env_get(&env)).unwrap();
        let reads = secrets_to_read(&inputs, |_| true);
        assert_eq!(reads.len(), 2);
        assert_eq!(reads[0].inputs.len(), 2);
        assert_eq!(reads[1].id, "1f9a2b1c-1111-4222-8333-944455556666");
        assert!(secrets_to_read(&inputs, |_| false).is_empty());
    }
}
