//! The job's schema: `SMIN_<NAME>` / `SMOUT_<NAME>` declarations whose values
//! are schema strings such as `type:string, required:true`.

use crate::core::CoreError;
use crate::core::secrets::classify;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt;

/// A declared type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Kind {
    String,
    Integer,
    Boolean,
    Enum(Vec<String>),
    /// The UUID of another secret; inputs only.
    SecretId,
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Kind::String => f.write_str("string"),
            Kind::Integer => f.write_str("integer"),
            Kind::Boolean => f.write_str("boolean"),
            Kind::SecretId => f.write_str("secret_id"),
            Kind::Enum(members) => write!(f, "enum[{}]", members.join("|")),
        }
    }
}

/// One declared input or output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Field {
    /// `<NAME>` as declared (upper case), without the `SMIN_`/`SMOUT_` prefix.
    pub(crate) name: String,
    pub(crate) kind: Kind,
    pub(crate) required: bool,
}

impl Field {
    /// The name in the secret's API: lower case.
    pub(crate) fn api_name(&self) -> String {
        self.name.to_ascii_lowercase()
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Schema {
    pub(crate) inputs: Vec<Field>,
    pub(crate) outputs: Vec<Field>,
    /// Outputs whose values are not secret (`CREDHOOK_PUBLIC_OUTPUTS`, a job
    /// setting): lower-case names, each a declared output.
    pub(crate) public: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Direction {
    Input,
    Output,
}

impl Direction {
    /// Which kind of declaration `var` names, by its `SMIN_`/`SMOUT_` prefix.
    pub(crate) fn of(var: &str) -> Option<Direction> {
        if var.starts_with("SMIN_") {
            Some(Direction::Input)
        } else if var.starts_with("SMOUT_") {
            Some(Direction::Output)
        } else {
            None
        }
    }

    pub(crate) fn prefix(self) -> &'static str {
        match self {
            Direction::Input => "SMIN_",
            Direction::Output => "SMOUT_",
        }
    }
}

/// Parses a schema string: comma-separated `key:value` attributes, `type`
/// required, `required` optional (`true`/`false`, default `false`); an
/// [`CoreError::Schema`] saying which attribute is wrong.
pub(crate) fn parse_schema_string(s: &str) -> Result<(Kind, bool), CoreError> {
    let mut kind = None;
    let mut required = None;
    for attr in s.split(',') {
        let attr = attr.trim();
        let Some((key, value)) = attr.split_once(':') else {
            return Err(CoreError::Schema(alloc::format!(
                "attribute `{attr}` is not `key:value`; write e.g. `type:string, required:true`"
            )));
        };
        let (key, value) = (key.trim(), value.trim());
        match key {
            "type" if kind.is_none() => kind = Some(parse_kind(value)?),
            "required" if required.is_none() => {
                required = Some(match value {
                    "true" => true,
                    "false" => false,
                    _ => {
                        return Err(CoreError::Schema(alloc::format!(
                            "`required:{value}` must be `required:true` or `required:false`"
                        )));
                    }
                })
            }
            "type" | "required" => return Err(CoreError::Schema(alloc::format!("`{key}` is given twice"))),
            _ => {
                return Err(CoreError::Schema(alloc::format!(
                    "unknown attribute `{key}`; only `type` and `required` are allowed"
                )));
            }
        }
    }
    let kind = kind.ok_or_else(|| {
        CoreError::Schema(String::from(
            "no `type`; add e.g. `type:string` (string, integer, boolean, enum[a|b], secret_id)",
        ))
    })?;
    Ok((kind, required.unwrap_or(false)))
}

fn parse_kind(t: &str) -> Result<Kind, CoreError> {
    Ok(match t {
        "string" => Kind::String,
        "integer" => Kind::Integer,
        "boolean" => Kind::Boolean,
        "secret_id" => Kind::SecretId,
        _ => {
            let Some(body) = t.strip_prefix("enum[").and_then(|r| r.strip_suffix(']')) else {
                return Err(CoreError::Schema(alloc::format!(
                    "unknown type `{t}`; use string, integer, boolean, enum[a|b|c] or secret_id"
                )));
            };
            let members: Vec<String> = body.split('|').map(|m| m.trim().to_string()).collect();
            if let Some(bad) = members.iter().find(|m| !is_enum_member(m)) {
                return Err(CoreError::Schema(alloc::format!(
                    "enum member `{bad}` in `{t}` is empty or has characters outside [A-Za-z0-9_.-]"
                )));
            }
            Kind::Enum(members)
        }
    })
}

fn is_enum_member(m: &str) -> bool {
    !m.is_empty() && m.bytes().all(|b| b.is_ascii_alphanumeric() || b"_.-".contains(&b))
}

/// `[A-Z0-9_]+`: what may follow `SMIN_`/`SMOUT_`.
pub(crate) fn is_valid_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
}

/// Whether `value` is meant as a schema string: one of its attributes has the
/// key `type`. Such a variable is a declaration, valid or broken; any other
/// `SMIN_*` variable is left alone.
fn looks_like_schema(value: &str) -> bool {
    value
        .split(',')
        .any(|a| a.split_once(':').is_some_and(|(k, _)| k.trim() == "type"))
}

/// Parses one declaration; `var` is the full variable name. The error is
/// an [`CoreError::Declaration`] about `var`.
pub(crate) fn parse_declaration(dir: Direction, var: &str, value: &str) -> Result<Field, CoreError> {
    let problem = |what: String| CoreError::Declaration {
        var: var.to_string(),
        what,
    };
    let name = &var[dir.prefix().len()..];
    if !is_valid_name(name) {
        return Err(problem(alloc::format!(
            "the name after `{}` must be upper-case letters, digits and `_`; rename it to `{}{}`",
            dir.prefix(),
            dir.prefix(),
            name.to_ascii_uppercase()
        )));
    }
    let (kind, required) = parse_schema_string(value).map_err(|e| problem(e.to_string()))?;
    if dir == Direction::Output && kind == Kind::SecretId {
        return Err(problem(String::from(
            "`secret_id` is an input type only; declare the output as `type:string`",
        )));
    }
    Ok(Field {
        name: name.to_string(),
        kind,
        required,
    })
}

/// Reads the declarations out of the job's environment. A variable ending in
/// `_VALUE` is a value, never a declaration. The problems are one
/// [`CoreError::Declaration`] each, sorted by variable.
pub(crate) fn from_env<'a>(vars: impl Iterator<Item = (&'a str, &'a str)>) -> (Schema, Vec<CoreError>) {
    let mut schema = Schema::default();
    let mut problems = Vec::new();
    let mut public = None;
    for (var, value) in vars {
        if var == classify::PUBLIC_OUTPUTS {
            public = Some(value);
        }
        let Some(dir) = Direction::of(var) else { continue };
        if var.ends_with("_VALUE") || !looks_like_schema(value) {
            continue;
        }
        match parse_declaration(dir, var, value) {
            Ok(field) => match dir {
                Direction::Input => schema.inputs.push(field),
                Direction::Output => schema.outputs.push(field),
            },
            Err(p) => problems.push(p),
        }
    }
    // The environment's order is arbitrary; sort for stable messages and logs.
    schema.inputs.sort_by(|a, b| a.name.cmp(&b.name));
    schema.outputs.sort_by(|a, b| a.name.cmp(&b.name));
    if let Some(v) = public {
        match declared_public(&schema, v) {
            Ok(names) => schema.public = names,
            Err(e) => problems.push(CoreError::Declaration {
                var: String::from(classify::PUBLIC_OUTPUTS),
                what: e.to_string(),
            }),
        }
    }
    problems.sort_by(|a, b| a.variable().cmp(&b.variable()));
    (schema, problems)
}

/// `CREDHOOK_PUBLIC_OUTPUTS`, each name a declared output.
fn declared_public(schema: &Schema, v: &str) -> Result<Vec<String>, CoreError> {
    let names = classify::parse_public_outputs(v)?;
    let undeclared: Vec<&str> = names
        .iter()
        .filter(|n| schema.output(n).is_none())
        .map(String::as_str)
        .collect();
    if undeclared.is_empty() {
        return Ok(names);
    }
    let known: Vec<String> = schema.outputs.iter().map(Field::api_name).collect();
    Err(CoreError::PublicOutputs(alloc::format!(
        "names {}, which {} not a declared output (outputs: {}); list only declared outputs, without SMOUT_",
        undeclared.join(", "),
        if undeclared.len() == 1 { "is" } else { "are" },
        if known.is_empty() {
            String::from("none")
        } else {
            known.join(", ")
        }
    )))
}

impl Schema {
    pub(crate) fn output(&self, api_name: &str) -> Option<&Field> {
        self.outputs.iter().find(|f| f.name.eq_ignore_ascii_case(api_name))
    }

    /// Whether output `name` (any case, with or without `SMOUT_`) is
    /// declared public.
    pub(crate) fn is_public(&self, name: &str) -> bool {
        classify::is_public(name, &self.public)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    #[test]
    fn schema_strings() {
        assert_eq!(
            parse_schema_string("type:string, required:true"),
            Ok((Kind::String, true))
        );
        assert_eq!(parse_schema_string(" type : integer "), Ok((Kind::Integer, false)));
        assert_eq!(
            parse_schema_string("required:false,type:enum[a|b.c|D-1]"),
            Ok((Kind::Enum(vec!["a".into(), "b.c".into(), "D-1".into()]), false))
        );
        for bad in [
            "required:true",
            "type:str",
            "type:string, required:yes",
            "type:string,,",
            "type:enum[]",
            "type:enum[a||b]",
            "type:enum[a b]",
            "type:string, type:integer",
            "type:string, optional:true",
        ] {
            assert!(parse_schema_string(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn declarations_from_env() {
        let env = [
            ("SMIN_PORT", "type:integer, required:true"),
            ("SMIN_PORT_VALUE", "type:string"),
            ("SM_PORT_VALUE", "5432"),
            ("SMOUT_TOKEN", "type:string,required:true"),
            ("SMIN_NOTE", "just a value"),
            ("SMOUT_bad", "type:string"),
            ("SMOUT_REF", "type:secret_id"),
            ("PATH", "/bin"),
        ];
        let (schema, problems) = from_env(env.iter().map(|(k, v)| (*k, *v)));
        assert_eq!(
            schema.inputs,
            vec![Field {
                name: "PORT".into(),
                kind: Kind::Integer,
                required: true
            }]
        );
        assert_eq!(schema.outputs.len(), 1);
        assert_eq!(schema.outputs[0].api_name(), "token");
        let vars: Vec<&str> = problems.iter().filter_map(CoreError::variable).collect();
        assert_eq!(vars, ["SMOUT_REF", "SMOUT_bad"]);
        assert!(problems[1].to_string().contains("SMOUT_BAD"));
    }
}
