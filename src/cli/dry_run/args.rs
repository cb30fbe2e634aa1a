//! `credhook dry-run`'s command line, parsed once into typed values (pure:
//! reading a `--secret` file is the caller's).

use super::super::{CliError, Echo};
use std::ffi::OsString;
use std::format;
use std::string::{String, ToString};
use std::vec::Vec;

pub(crate) const USAGE: &str = "\
usage: credhook dry-run [--config FILE] [--input NAME=VALUE]… [--secret NAME=@FILE|NAME=-]…
                        [--keep | --delete ID]

Runs the hook as `credhook run` would, with no Secrets Manager: its create,
checked against the schema and printed with values masked, then its delete of
the new id (unless --keep). The hook gets the same environment as in a run,
placeholder SM_* metadata, and the directory of this credhook first on PATH.

  --config FILE          the job's job_config.json (default ./job_config.json)
  --input NAME=VALUE     an input's value (NAME as declared, without SMIN_)
  --secret NAME=@FILE    resolve the secret_id input NAME from FILE, a secret as
                         GET /api/v2/secrets/{id} returns it (e.g.
                         {\"secret_type\":\"arbitrary\",\"payload\":\"…\"}), exactly as
                         run resolves it; NAME=- reads it from stdin. Other
                         secret_id inputs are passed to the hook unresolved
  --keep                 keep the new credentials; prints the command that deletes them
  --delete ID            run only the delete of credentials ID
  --help                 this help

The hook is CREDHOOK_HOOK, or hook.sh beside the config when that is unset.
Results go to stdout, the hook's log and problems to stderr. Exit 0 when the
create (and delete) succeeded, 1 when the hook failed or broke the schema,
2 for a command line that cannot be used.";

/// Where a `--secret` comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum SecretSource {
    File(String),
    Stdin,
}

#[derive(Debug, Default)]
pub(crate) struct Args {
    pub(crate) config: Option<String>,
    /// `(NAME, value)`, NAME upper-cased without `SMIN_`.
    pub(crate) inputs: Vec<(String, String)>,
    /// `(NAME, source)`, NAME as for inputs.
    pub(crate) secrets: Vec<(String, SecretSource)>,
    pub(crate) keep: bool,
    pub(crate) delete: Option<String>,
    pub(crate) help: bool,
}

pub(crate) fn parse_args(args: Vec<OsString>) -> Result<Args, CliError> {
    use lexopt::Arg::{Long, Short};
    let mut a = Args::default();
    let mut parser = lexopt::Parser::from_args(args);
    while let Some(arg) = parser.next().map_err(super::super::arg_error)? {
        match arg {
            Long("help") | Short('h') => a.help = true,
            Long("keep") => a.keep = true,
            Long("config") => {
                let v = parser
                    .value()
                    .map_err(|_| CliError::Usage(String::from("--config needs a file")))?;
                a.config = Some(super::super::utf8("--config file", v, Echo::Value)?);
            }
            Long("input") => {
                let v = parser
                    .value()
                    .map_err(|_| CliError::Usage(String::from("--input needs name=value")))?;
                // The value may be a secret: never echoed.
                let pair = super::super::utf8("an --input", v, Echo::Never)?;
                a.inputs.push(input_arg(&pair)?);
            }
            Long("secret") => {
                let v = parser
                    .value()
                    .map_err(|_| CliError::Usage(String::from("--secret needs NAME=@FILE or NAME=-")))?;
                let arg = super::super::utf8("--secret", v, Echo::Value)?;
                a.secrets.push(secret_arg(&arg)?);
            }
            Long("delete") => {
                let v = parser
                    .value()
                    .map_err(|_| CliError::Usage(String::from("--delete needs the credentials ID")))?;
                a.delete = Some(delete_arg(super::super::utf8("--delete ID", v, Echo::Value)?)?);
            }
            other => return Err(super::super::arg_error(other.unexpected())),
        }
    }
    given_once(&a)?;
    if a.keep && a.delete.is_some() {
        return Err(CliError::Usage(String::from(
            "--keep and --delete cannot go together: --delete runs only a delete",
        )));
    }
    Ok(a)
}

/// Each input given once, by `--input` or by `--secret`: a second value
/// would silently replace the first.
fn given_once(a: &Args) -> Result<(), CliError> {
    let names = a.inputs.iter().map(|(n, _)| n).chain(a.secrets.iter().map(|(n, _)| n));
    for (i, name) in names.clone().enumerate() {
        if names.clone().take(i).any(|earlier| earlier == name) {
            return Err(CliError::Usage(format!(
                "the input `{}` is given twice (by --input or --secret): give each input once",
                name.to_ascii_lowercase()
            )));
        }
    }
    Ok(())
}

/// An input's name as `--input` and `--secret` take it: declared without
/// `SMIN_` (the prefix, in any case, is stripped once: `SMIN_SMIN_X` is input
/// `SMIN_X`), upper-cased.
fn input_name(name: &str, flag: &str) -> Result<String, CliError> {
    let name = match name.get(..5) {
        Some(p) if p.eq_ignore_ascii_case("SMIN_") => &name[5..],
        _ => name,
    };
    let upper = name.to_ascii_uppercase();
    if !crate::core::job::schema::is_valid_name(&upper) {
        return Err(CliError::Usage(format!(
            "{flag} name `{}` must be letters, digits and `_`",
            name.escape_debug()
        )));
    }
    Ok(upper)
}

/// `--input name=value`.
fn input_arg(pair: &str) -> Result<(String, String), CliError> {
    let (name, value) = pair.split_once('=').ok_or_else(|| {
        CliError::Usage(String::from(
            "an --input is not name=value; write e.g. --input port=5432",
        ))
    })?;
    Ok((input_name(name, "--input")?, value.to_string()))
}

/// `--secret NAME=@FILE` or `NAME=-`.
fn secret_arg(arg: &str) -> Result<(String, SecretSource), CliError> {
    let fix = "write --secret NAME=@FILE (a file holding the secret as GET /api/v2/secrets/{id} returns it) or NAME=- (from stdin)";
    let (name, source) = arg
        .split_once('=')
        .ok_or_else(|| CliError::Usage(format!("--secret `{}` is not NAME=@FILE; {fix}", arg.escape_debug())))?;
    let source = match source {
        "-" => SecretSource::Stdin,
        s => match s.strip_prefix('@') {
            Some(path) if !path.is_empty() => SecretSource::File(path.to_string()),
            _ => {
                return Err(CliError::Usage(format!(
                    "--secret {name}=…: the value must be @FILE or -; {fix}"
                )));
            }
        },
    };
    Ok((input_name(name, "--secret")?, source))
}

/// `--delete ID`: an id a hook could have written and could be given back.
fn delete_arg(id: String) -> Result<String, CliError> {
    let id = id.trim().to_string();
    if id.is_empty() || id.chars().any(char::is_control) {
        return Err(CliError::Usage(String::from(
            "--delete needs the credentials ID the create printed (not empty, no control characters)",
        )));
    }
    Ok(id)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::ffi::OsStringExt;

    fn args(v: &[&[u8]]) -> Vec<OsString> {
        v.iter().map(|b| OsString::from_vec(b.to_vec())).collect()
    }

    #[test]
    fn inputs_strip_the_prefix_once() {
        assert_eq!(input_arg("SMIN_SMIN_X=1").unwrap(), ("SMIN_X".into(), "1".into()));
        assert_eq!(input_arg("smin_port=5").unwrap(), ("PORT".into(), "5".into()));
        assert_eq!(input_arg("port=a=b").unwrap(), ("PORT".into(), "a=b".into()));
        assert!(input_arg("novalue").unwrap_err().to_string().contains("not name=value"));
        assert!(
            input_arg("bad name=x")
                .unwrap_err()
                .to_string()
                .contains("letters, digits")
        );
    }

    #[test]
    fn non_utf8_arguments_are_errors_that_do_not_echo_values() {
        let e = parse_args(args(&[b"--input", b"pw=s3cr\xffet"]))
            .err()
            .unwrap()
            .to_string();
        assert!(e.contains("not valid UTF-8") && !e.contains("s3cr"), "{e}");
        let e = parse_args(args(&[b"--config", b"\xff.json"]))
            .err()
            .unwrap()
            .to_string();
        assert!(e.contains("not valid UTF-8"), "{e}");
        let a = parse_args(args(&[b"--config=x.json", b"--keep", b"--input", b"a=1"])).unwrap();
        assert!(a.keep && a.config.as_deref() == Some("x.json") && a.inputs.len() == 1);
        assert!(
            parse_args(args(&[b"--bogus"]))
                .err()
                .unwrap()
                .to_string()
                .contains("--bogus")
        );
    }

    #[test]
    fn secrets_delete_and_help() {
        let a = parse_args(args(&[
            b"--secret",
            b"login_secret_id=@admin.json",
            b"--secret",
            b"SMIN_CA=-",
        ]))
        .unwrap();
        assert_eq!(
            a.secrets,
            [
                ("LOGIN_SECRET_ID".into(), SecretSource::File("admin.json".into())),
                ("CA".into(), SecretSource::Stdin)
            ]
        );
        for bad in [&b"login"[..], b"login=admin.json", b"login=@", b"bad name=@f"] {
            assert!(parse_args(args(&[b"--secret", bad])).is_err(), "{bad:?}");
        }
        let a = parse_args(args(&[b"--delete", b" c-1 "])).unwrap();
        assert_eq!(a.delete.as_deref(), Some("c-1"));
        assert!(parse_args(args(&[b"--delete", b"c\x001"])).is_err());
        assert!(
            parse_args(args(&[b"--delete", b"c-1", b"--keep"]))
                .unwrap_err()
                .to_string()
                .contains("cannot go together")
        );
        assert!(parse_args(args(&[b"--help"])).unwrap().help);
        assert!(parse_args(args(&[b"-h"])).unwrap().help);
    }

    #[test]
    fn an_input_is_given_once() {
        for twice in [
            &[&b"--secret"[..], b"login=@a.json", b"--secret", b"LOGIN=@b.json"][..],
            &[
                b"--secret",
                b"login=@a.json",
                b"--input",
                b"login=0f9a2b1c-1111-4222-8333-944455556666",
            ],
            &[b"--input", b"team=a", b"--input", b"smin_team=b"],
        ] {
            let e = parse_args(args(twice)).unwrap_err().to_string();
            assert!(e.contains("is given twice"), "{e}");
        }
        assert!(parse_args(args(&[b"--secret", b"a=@x", b"--secret", b"b=@x", b"--input", b"c=1"])).is_ok());
    }
}
