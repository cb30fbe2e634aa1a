//! `credhook new DIR [--name NAME] [--with TOOL]… [--http] [--force]`: writes
//! a provider that passes `credhook check` and runs under `credhook dry-run`
//! as it is written: job_config.json, hook.sh (a stand-in does the vendor's
//! part until its commands are filled in), test.sh, Containerfile, README.md
//! and .gitignore. The templates are the files in templates/provider/,
//! compiled in.

use super::CliError;
use std::ffi::OsString;
use std::format;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::string::{String, ToString};
use std::vec::Vec;
use std::{eprintln, print, vec};

pub(crate) const USAGE: &str = "usage: credhook new DIR [--name NAME] [--with TOOL]… [--http] [--force]";

const HELP: &str = "\
credhook new DIR [--name NAME] [--with TOOL]… [--http] [--force]

Writes a provider into DIR (made if missing) that passes `credhook check` and
runs under `credhook dry-run` as it is: job_config.json, hook.sh, test.sh,
Containerfile, README.md (what to fill in) and .gitignore. Until you write
your vendor's commands into hook.sh, a stand-in marked STAND-IN does their
part, keeping credentials as files in /tmp.

  --with TOOL   a command-line tool the hook calls (repeatable); it goes into
                the image (scripts/image.sh --with TOOL)
  --http        a hook that calls an HTTPS JSON API with `credhook http` and
                `credhook json` instead
  --name NAME   the provider's name: its image, and its error codes' prefix
                (NAME in capitals). Default: DIR's name. A letter, then
                letters, digits, - or _; at most 40
  --force       write into a DIR that is not empty (files of the same names
                are replaced; others are left alone)
";

/// Longest provider name: its error codes (`<NAME>_BAD_CREDENTIALS_ID`)
/// stay within the 64 characters a code may have.
const MAX_NAME: usize = 40;

struct Args {
    dir: PathBuf,
    name: Option<String>,
    tools: Vec<String>,
    http: bool,
    force: bool,
    help: bool,
}

fn parse_args(args: Vec<OsString>) -> Result<Args, CliError> {
    use lexopt::Arg::{Long, Short, Value};
    let mut a = Args {
        dir: PathBuf::new(),
        name: None,
        tools: Vec::new(),
        http: false,
        force: false,
        help: false,
    };
    let mut dir = None;
    let mut parser = lexopt::Parser::from_args(args);
    while let Some(arg) = parser.next().map_err(super::arg_error)? {
        match arg {
            Long("help") | Short('h') => a.help = true,
            Long("http") => a.http = true,
            Long("force") => a.force = true,
            Long("name") => {
                let v = parser
                    .value()
                    .map_err(|_| CliError::Usage(String::from("--name needs a name")))?;
                a.name = Some(super::utf8("--name", v, super::Echo::Value)?);
            }
            Long("with") => {
                let v = parser
                    .value()
                    .map_err(|_| CliError::Usage(String::from("--with needs a command name")))?;
                let tool = super::utf8("--with", v, super::Echo::Value)?;
                check_tool(&tool)?;
                if !a.tools.contains(&tool) {
                    a.tools.push(tool);
                }
            }
            Value(v) if dir.is_none() => dir = Some(PathBuf::from(v)),
            other => return Err(super::arg_error(other.unexpected())),
        }
    }
    match dir {
        Some(d) => a.dir = d,
        None if a.help => {}
        None => {
            return Err(CliError::Usage(String::from(
                "name the directory to write the provider into",
            )));
        }
    }
    Ok(a)
}

/// A `--with` tool: a command name, as `scripts/rootfs.sh --with` takes it.
fn check_tool(tool: &str) -> Result<(), CliError> {
    let ok = tool.len() <= 64
        && tool.starts_with(|c: char| c.is_ascii_alphanumeric())
        && tool
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '+' | '-'));
    if !ok {
        return Err(CliError::Usage(format!(
            "--with `{}`: give a command name (letters, digits, . _ + -), not a path",
            tool.escape_debug()
        )));
    }
    if matches!(tool, "credhook" | "busybox") {
        return Err(CliError::Usage(format!("--with {tool}: the image has it already")));
    }
    Ok(())
}

/// The provider's name (lower-case letters, digits and `-`, starting with a
/// letter): `--name` as given (`_` read as `-`), else DIR's own name with
/// every run of other characters made one `-`.
fn provider_name(given: Option<&str>, dir: &Path) -> Result<String, CliError> {
    if let Some(n) = given {
        let ok = n.len() <= MAX_NAME
            && n.starts_with(|c: char| c.is_ascii_alphabetic())
            && n.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        if !ok {
            return Err(CliError::Failed(format!(
                "--name `{}` must be a letter, then letters, digits, - or _ (at most {MAX_NAME}): \
                 it names the image and, in capitals, prefixes the error codes",
                n.escape_debug()
            )));
        }
        return Ok(n.to_ascii_lowercase().replace('_', "-"));
    }
    // `.` and `..` have no name of their own: the directory's real one.
    let base = match dir.file_name() {
        Some(b) => PathBuf::from(b),
        None => std::fs::canonicalize(dir)
            .ok()
            .and_then(|p| p.file_name().map(PathBuf::from))
            .unwrap_or_default(),
    };
    let base = base.to_string_lossy().to_ascii_lowercase();
    let mut name = String::new();
    for c in base.chars() {
        if c.is_ascii_alphanumeric() {
            name.push(c);
        } else if !name.is_empty() && !name.ends_with('-') {
            name.push('-');
        }
    }
    name.truncate(MAX_NAME);
    let name = name.trim_end_matches('-');
    if !name.starts_with(|c: char| c.is_ascii_alphabetic()) {
        return Err(CliError::Failed(format!(
            "cannot make a provider name from the directory's name `{}`: give --name NAME \
             (a letter, then letters, digits, - or _)",
            base.escape_debug()
        )));
    }
    Ok(name.to_string())
}

/// What the templates are filled in with.
struct Provider {
    name: String,
    tools: Vec<String>,
    http: bool,
}

impl Provider {
    /// The error codes' prefix: the name in capitals, `-` as `_`.
    fn prefix(&self) -> String {
        self.name.to_ascii_uppercase().replace('-', "_")
    }

    /// The base image the Containerfile builds FROM: credhook's, with the
    /// tools. An image name's parts are lower-case letters and digits
    /// joined by `-`, never ending on one: `+` is spelled `p` (`g++` is
    /// `gpp`), other characters join, a trailing one is dropped.
    fn base(&self) -> String {
        if self.tools.is_empty() {
            return String::from("localhost/credhook-base");
        }
        let mut base = String::from("localhost/credhook");
        for t in &self.tools {
            base.push('-');
            for c in t.chars() {
                match c {
                    '+' => base.push('p'),
                    c if c.is_ascii_alphanumeric() => base.push(c.to_ascii_lowercase()),
                    _ if base.ends_with('-') => {}
                    _ => base.push('-'),
                }
            }
            base.truncate(base.trim_end_matches('-').len());
        }
        base
    }

    /// `@@KEY@@` → value, for every template.
    fn vars(&self) -> Vec<(&'static str, String)> {
        let tools = self.tools.join(" ");
        let listed = self.tools.join(", ");
        let with: String = self.tools.iter().map(|t| format!(" --with {t}")).collect();
        let has = |text: String| if self.tools.is_empty() { String::new() } else { text };
        let (input, example) = if self.http {
            ("api_url", "https://api.example.com")
        } else {
            ("server", "db.example.com")
        };
        let mut v = vec![
            ("HELPERS", TEMPLATE_HELPERS.into()),
            ("NAME", self.name.clone()),
            ("PREFIX", self.prefix()),
            ("BASE", self.base()),
            (
                "TOOL",
                self.tools.first().map_or("your-cli", String::as_str).to_string(),
            ),
            ("TOOLS", tools.clone()),
            ("WITH", with.clone()),
            ("INPUT", input.into()),
            ("INPUT_UPPER", input.to_ascii_uppercase()),
            ("INPUT_EXAMPLE", example.into()),
            ("BASE_HAS", has(format!(" with {listed}"))),
            (
                "NEEDS_TOOLS",
                has(format!(
                    ", and {listed} installed here (the image takes it from this machine)"
                )),
            ),
            (
                "BUILD_ARGS",
                has(format!(
                    " \\\n#       --build-arg PACKAGES='<the Debian packages with {listed}>' --build-arg TOOLS='{tools}'"
                )),
            ),
            (
                "FILL_TOOLS",
                has(format!(
                    "It must hold {listed}: the Containerfile's comments say how to build it."
                )),
            ),
            (
                "DEPLOY_WITH",
                has(format!(
                    " \\\n    {} --packages '<the Debian packages with {listed}>'",
                    with.trim()
                )),
            ),
        ];
        v.extend(self.variant_vars());
        v
    }

    /// The README's sentences that differ between the CLI and HTTP hooks.
    fn variant_vars(&self) -> [(&'static str, String); 4] {
        if self.http {
            return [
                ("WHAT", "tokens through your system's HTTPS API".into()),
                (
                    "FILL_HOOK",
                    "set your API's header in `http()`, and its paths and fields in `create`\n   \
                     and `delete` at the end (`/tokens`, `.id`, `.token`, the error reply's\n   \
                     `.message`, the 404 that means \"no such token\")."
                        .into(),
                ),
                (
                    "HTTP_CODES",
                    ",\n`UNREACHABLE` (no reply from the API), `BAD_REPLY` (a reply without the id or\n\
                     the token), `HOOK_ERROR` (`credhook http` refused the hook's own request)"
                        .into(),
                ),
                (
                    "DEPLOY_ALLOW",
                    ", and `--allow-host` to your API's host (`CREDHOOK_HTTP_ALLOW`)".into(),
                ),
            ];
        }
        let tool = self.tools.first().map_or("your tool's", String::as_str);
        [
            (
                "WHAT",
                match self.tools.first() {
                    Some(t) => format!("users on your system with {t}"),
                    None => "users on your system with its command-line tool".into(),
                },
            ),
            (
                "FILL_HOOK",
                format!(
                    "write {tool} commands in `vendor_create` and `vendor_delete`, in place\n   \
                     of the placeholder command below each stand-in line."
                ),
            ),
            ("HTTP_CODES", String::new()),
            ("DEPLOY_ALLOW", String::new()),
        ]
    }

    /// Each file: its name, its text, its mode.
    fn files(&self) -> Vec<(&'static str, String, u32)> {
        let vars = self.vars();
        let fill = |t: &str| render(t, &vars);
        let (config, hook) = if self.http {
            (TEMPLATE_CONFIG_HTTP, TEMPLATE_HOOK_HTTP)
        } else {
            (TEMPLATE_CONFIG_CLI, TEMPLATE_HOOK_CLI)
        };
        vec![
            ("job_config.json", fill(config), 0o644),
            ("hook.sh", fill(hook), 0o755),
            ("test.sh", fill(TEMPLATE_TEST), 0o755),
            ("Containerfile", fill(TEMPLATE_CONTAINERFILE), 0o644),
            ("README.md", fill(TEMPLATE_README), 0o644),
            (".gitignore", fill(TEMPLATE_GITIGNORE), 0o644),
        ]
    }
}

const TEMPLATE_CONFIG_CLI: &str = include_str!("../../templates/provider/job_config-cli.json");
const TEMPLATE_CONFIG_HTTP: &str = include_str!("../../templates/provider/job_config-http.json");
const TEMPLATE_HOOK_CLI: &str = include_str!("../../templates/provider/hook-cli.sh");
const TEMPLATE_HOOK_HTTP: &str = include_str!("../../templates/provider/hook-http.sh");
const TEMPLATE_TEST: &str = include_str!("../../templates/provider/test.sh");
const TEMPLATE_CONTAINERFILE: &str = include_str!("../../templates/provider/Containerfile");
const TEMPLATE_README: &str = include_str!("../../templates/provider/README.md");
const TEMPLATE_GITIGNORE: &str = include_str!("../../templates/provider/gitignore");
/// `fail`, `check_id` and `random`, in both hooks.
const TEMPLATE_HELPERS: &str = include_str!("../../templates/provider/helpers.sh");

/// `template` with each `@@KEY@@` of `vars` replaced.
fn render(template: &str, vars: &[(&str, String)]) -> String {
    let mut out = String::with_capacity(template.len() + 256);
    let mut rest = template;
    while let Some(start) = rest.find("@@") {
        let after = &rest[start + 2..];
        let value = after.find("@@").and_then(|end| {
            vars.iter()
                .find(|(k, _)| *k == &after[..end])
                .map(|(k, v)| (k.len(), v))
        });
        out.push_str(&rest[..start]);
        match value {
            Some((len, v)) => {
                out.push_str(v);
                rest = &after[len + 2..];
            }
            None => {
                out.push_str("@@");
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// Writes `files` into `dir`, which must be missing or empty unless `force`.
/// A file of the same name is replaced (removed first: a symbolic link is
/// not followed), never a directory.
fn write_files(dir: &Path, files: &[(&str, String, u32)], force: bool) -> Result<(), CliError> {
    let shown = dir.display();
    match std::fs::read_dir(dir) {
        Ok(mut entries) => {
            if let (Some(first), false) = (entries.next(), force) {
                let first = first
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .unwrap_or_default();
                return Err(CliError::Failed(format!(
                    "{shown} is not empty (it has `{}`): choose a new directory, or give --force to write \
                     the provider's files into it (files of the same names are replaced)",
                    first.escape_debug()
                )));
            }
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            std::fs::create_dir_all(dir).map_err(|e| CliError::Failed(format!("cannot make {shown}: {e}")))?;
        }
        Err(e) => return Err(CliError::Failed(format!("cannot read {shown}: {e}"))),
    }
    // A directory in a file's place is refused before anything is written:
    // --force must not replace half the files and then stop.
    for (name, _, _) in files {
        let path = dir.join(name);
        if std::fs::symlink_metadata(&path).is_ok_and(|m| m.is_dir()) {
            return Err(CliError::Failed(format!(
                "{} is a directory; move it away",
                path.display()
            )));
        }
    }
    for (name, text, mode) in files {
        let path = dir.join(name);
        if std::fs::symlink_metadata(&path).is_ok() {
            std::fs::remove_file(&path)
                .map_err(|e| CliError::Failed(format!("cannot replace {}: {e}", path.display())))?;
        }
        std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(*mode)
            .open(&path)
            .and_then(|mut f| f.write_all(text.as_bytes()))
            .map_err(|e| CliError::Failed(format!("cannot write {}: {e}", path.display())))?;
    }
    Ok(())
}

/// `credhook new`: parse, name, render, write, say what was written.
pub fn main(args: Vec<OsString>) -> u8 {
    let args = match parse_args(args) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("credhook new: {e}\n{USAGE}");
            return super::EXIT_USAGE;
        }
    };
    if args.help {
        print!("{HELP}");
        return 0;
    }
    let name = match provider_name(args.name.as_deref(), &args.dir) {
        Ok(n) => n,
        Err(e) => {
            eprintln!("credhook new: {e}");
            return super::EXIT_USAGE;
        }
    };
    let p = Provider {
        name,
        tools: args.tools,
        http: args.http,
    };
    if let Err(e) = write_files(&args.dir, &p.files(), args.force) {
        eprintln!("credhook new: {e}");
        return 1;
    }
    print!("{}", summary(&p, &args.dir));
    0
}

/// What was written, and what to do next.
fn summary(p: &Provider, dir: &Path) -> String {
    let (schema, hook) = if p.http {
        (
            "inputs login_secret_id, api_url; outputs token, token_name",
            String::from("create and delete through your API with credhook http"),
        )
    } else {
        (
            "inputs login_secret_id, server; outputs username, password",
            format!(
                "create and delete with {}",
                p.tools.first().map_or("your command-line tool", String::as_str)
            ),
        )
    };
    let dir = shell_word(&dir.display().to_string());
    format!(
        "credhook new: wrote the provider {} in {dir} (error codes {}_*):\n\
         \x20 job_config.json  {schema}\n\
         \x20 hook.sh          {hook}; a STAND-IN does the vendor's part until you replace it\n\
         \x20 test.sh          credhook check, dry-run create and --delete, the image in a container\n\
         \x20 Containerfile    FROM {}, plus hook.sh\n\
         \x20 README.md        what to fill in\n\
         \x20 .gitignore       /login.json (a test login secret)\n\
         next: cd {dir} && ./test.sh   (it needs credhook on PATH)\n",
        p.name,
        p.prefix(),
        p.base(),
    )
}

/// `dir` as one word a shell reads back, for the summary's `cd`: as it is
/// when it is plain, else single-quoted; `./` before a leading `-`, which
/// `cd` would take for an option.
fn shell_word(dir: &str) -> String {
    let dir = if dir.starts_with('-') {
        format!("./{dir}")
    } else {
        dir.to_string()
    };
    let plain = !dir.is_empty()
        && dir
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '/' | '.' | '_' | '-' | '+' | ',' | ':' | '@'));
    if plain {
        dir
    } else {
        crate::core::job::job_config::shell_quote(&dir)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(v: &[&str]) -> Result<Args, String> {
        parse_args(v.iter().map(OsString::from).collect()).map_err(|e| e.to_string())
    }

    #[test]
    fn names_come_from_the_directory_or_name_and_make_valid_prefixes() {
        let from = |d: &str| provider_name(None, Path::new(d));
        assert_eq!(from("/tmp/redis-acl").unwrap(), "redis-acl");
        assert_eq!(from("/tmp/My Provider__v2/").unwrap(), "my-provider-v2");
        assert_eq!(from("p").unwrap(), "p");
        assert!(from("/tmp/2fa").unwrap_err().to_string().contains("give --name"));
        assert!(from("/tmp/---").unwrap_err().to_string().contains("give --name"));
        let long = from(&"a-".repeat(40)).unwrap();
        assert!(long.len() < MAX_NAME && !long.ends_with('-'), "{long}");
        assert_eq!(provider_name(Some("Redis_ACL"), Path::new("x")).unwrap(), "redis-acl");
        for bad in ["2fa", "a b", "a/b", "-x", "é", &"a".repeat(41)] {
            assert!(provider_name(Some(bad), Path::new("x")).is_err(), "{bad}");
        }
        let p = Provider {
            name: "redis-acl".into(),
            tools: vec!["redis-cli".into(), "g++".into()],
            http: false,
        };
        assert_eq!(p.prefix(), "REDIS_ACL");
        assert_eq!(p.base(), "localhost/credhook-redis-cli-gpp");
    }

    #[test]
    fn every_placeholder_is_filled_in_every_variant() {
        for (tools, http) in [(vec![], false), (vec!["redis-cli".to_string()], false), (vec![], true)] {
            let p = Provider {
                name: "my-p".into(),
                tools,
                http,
            };
            for (name, text, _) in p.files() {
                assert!(!text.contains("@@"), "{name} ({http}): {text}");
                assert!(!text.contains("your-cli") || !http, "{name}");
            }
            let hook = &p.files()[1].1;
            assert!(hook.contains("P=MY_P "), "{hook}");
        }
        assert_eq!(render("a @@X@@ @@ b @@Y@@", &[("X", "1".into())]), "a 1 @@ b @@Y@@");
    }

    #[test]
    fn the_summary_s_directory_is_one_shell_word() {
        assert_eq!(shell_word("/tmp/my-p"), "/tmp/my-p");
        assert_eq!(shell_word("-p"), "./-p");
        assert_eq!(shell_word("my p"), "'my p'");
        assert_eq!(shell_word("it's $(x)"), "'it'\\''s $(x)'");
    }

    #[test]
    fn arguments() {
        let a = args(&[
            "/tmp/p",
            "--with",
            "redis-cli",
            "--with=jq",
            "--with",
            "jq",
            "--http",
            "--force",
        ])
        .unwrap();
        assert_eq!(a.tools, ["redis-cli", "jq"]);
        assert!(a.http && a.force && a.dir == Path::new("/tmp/p"));
        assert!(args(&["--help"]).unwrap().help);
        assert!(args(&[]).err().unwrap().contains("name the directory"));
        assert!(args(&["a", "b"]).err().unwrap().contains("unexpected argument `b`"));
        assert!(
            args(&["a", "--with", "/usr/bin/psql"])
                .err()
                .unwrap()
                .contains("not a path")
        );
        assert!(
            args(&["a", "--with", "busybox"])
                .err()
                .unwrap()
                .contains("has it already")
        );
        assert!(args(&["a", "--bogus"]).err().unwrap().contains("--bogus"));
    }
}
