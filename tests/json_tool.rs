//! `credhook json get|out|build`: the real binary, real pipes, and the real
//! hook output parser of `credhook run` for what `json out` writes.

mod support;

use std::os::unix::ffi::OsStrExt;
use std::process::Command;
use support::World;

struct Out {
    code: i32,
    stdout: String,
    stderr: String,
}

impl std::fmt::Debug for Out {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "exit {}\n--- stdout\n{}\n--- stderr\n{}",
            self.code, self.stdout, self.stderr
        )
    }
}

fn json_cmd<S: AsRef<std::ffi::OsStr>>(args: &[S], env: &[(&str, &str)], stdin: &[u8]) -> Out {
    let mut cmd = Command::new(support::credhook_bin());
    cmd.arg("json").args(args).env_clear().envs(env.iter().copied());
    let out = support::output_with_stdin(&mut cmd, stdin);
    Out {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn json(args: &[&str], stdin: &str) -> Out {
    json_cmd(args, &[], stdin.as_bytes())
}

const DOC: &str = r#"{
  "token_id": "tok-1",
  "access_token": "eyJ0eXAi.secret-part",
  "expires_in": 3600, "refreshable": false, "scope": null,
  "cert": "-----BEGIN CERTIFICATE-----\nMIIB\nEOF\n-----END CERTIFICATE-----\n",
  "webhook_subscription": {"id": "PW1", "delivery_method": {"secret": "whsec \"q\" \u00e9"}},
  "list": [{"a": 1}, [true, null], "x"],
  "key.with.dots": "dotted", "": "empty key"
}"#;

#[test]
fn get_prints_strings_raw_and_the_rest_as_compact_json() {
    for (path, want) in [
        (".token_id", "tok-1\n"),
        (".expires_in", "3600\n"),
        (".refreshable", "false\n"),
        (".scope", "null\n"),
        (
            ".cert",
            "-----BEGIN CERTIFICATE-----\nMIIB\nEOF\n-----END CERTIFICATE-----\n\n",
        ),
        (".webhook_subscription.delivery_method.secret", "whsec \"q\" é\n"),
        (
            ".webhook_subscription.delivery_method",
            "{\"secret\":\"whsec \\\"q\\\" é\"}\n",
        ),
        (".list", "[{\"a\":1},[true,null],\"x\"]\n"),
        (".list[0].a", "1\n"),
        (".list[1][0]", "true\n"),
        (".list[-1]", "x\n"),
        (".\"key.with.dots\"", "dotted\n"),
        (".[\"\"]", "empty key\n"),
    ] {
        let out = json(&["get", path], DOC);
        assert_eq!((out.code, out.stdout.as_str()), (0, want), "{path}: {out:?}");
    }
    let out = json(&["get", "."], "[1, {\"b\" : \"c\"}]");
    assert_eq!(out.stdout, "[1,{\"b\":\"c\"}]\n");
    let out = json(&["get", "--json", ".webhook_subscription.delivery_method.secret"], DOC);
    assert_eq!(out.stdout, "\"whsec \\\"q\\\" é\"\n", "{out:?}");
    let out = json(&["get", ".token_id", "--json"], DOC);
    assert_eq!(out.stdout, "\"tok-1\"\n", "{out:?}");
}

#[test]
fn get_of_a_missing_path_exits_1_and_prints_nothing() {
    for path in [
        ".nope",
        ".list[3]",
        ".token_id.x",
        ".list.a",
        ".webhook_subscription.id.x",
    ] {
        let out = json(&["get", path], DOC);
        assert_eq!((out.code, out.stdout.as_str()), (1, ""), "{path}: {out:?}");
        assert!(out.stderr.contains("is not in the input"), "{out:?}");
    }
}

#[test]
fn invalid_json_exits_2_naming_the_offset_never_the_input() {
    for (input, offset) in [
        ("{\"password\": \"hunter2-secret\",}", "byte 30"),
        ("", "byte 0"),
        ("{\"a\": 1} trailing-secret", "byte 9"),
        ("{\"a\": \"unterminated hunter2-secret", "byte 34"),
    ] {
        let out = json(&["get", ".a"], input);
        assert_eq!(out.code, 2, "{input}: {out:?}");
        assert!(
            out.stderr.contains("stdin is not valid JSON") && out.stderr.contains(offset),
            "{out:?}"
        );
        assert!(!out.stderr.contains("secret"), "{out:?}");
    }
    let out = json_cmd(&["get", ".a"], &[], b"{\"a\": \"\xff\"}");
    assert_eq!(out.code, 2, "{out:?}");
    assert!(out.stderr.contains("invalid UTF-8 in a string"), "{out:?}");
    let deep = "[".repeat(100_000);
    assert_eq!(json(&["get", "."], &deep).code, 2);
    let huge = format!("\"{}\"", "x".repeat(1 << 20));
    let out = json(&["get", "."], &huge);
    assert_eq!(out.code, 2, "{:?}", out.stderr);
    assert!(out.stderr.contains("more than 1048576 bytes"), "{:?}", out.stderr);
}

#[test]
fn out_prints_hook_output_lines_all_or_nothing() {
    let out = json(
        &[
            "out",
            "id=.token_id",
            "access_token=.access_token",
            "expires_in=.expires_in",
            "cert=.cert",
            "opt?=.nope",
        ],
        DOC,
    );
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(
        out.stdout,
        "id=tok-1\naccess_token=eyJ0eXAi.secret-part\nexpires_in=3600\n\
         cert<<EOF_1\n-----BEGIN CERTIFICATE-----\nMIIB\nEOF\n-----END CERTIFICATE-----\n\nEOF_1\n"
    );
    let out = json(&["out", "id=.token_id", "a=.missing", "b=.list[9]", "c?=.gone"], DOC);
    assert_eq!((out.code, out.stdout.as_str()), (1, ""), "{out:?}");
    assert!(out.stderr.contains("a (.missing), b (.list[9])"), "{out:?}");
    for (spec, says) in [
        ("bad-name=.a", "not a valid output name"),
        ("noequals", "is not NAME=PATH"),
        ("x=a", "a path starts with `.`"),
    ] {
        let out = json(&["out", spec], DOC);
        assert_eq!(out.code, 2, "{spec}: {out:?}");
        assert!(out.stderr.contains(says), "{spec}: {out:?}");
    }
    let out = json(&["out", "v=.v"], "{\"v\":\"line\\r\\nbreak\"}");
    assert_eq!((out.code, out.stdout.as_str()), (2, ""), "{out:?}");
    assert!(out.stderr.contains("carriage return"), "{out:?}");
}

/// A directory holding `credhook`, for the hook's PATH (as `/bin/credhook` in the image).
fn path_with_credhook(w: &World) -> String {
    let bin = w.dir.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let _ = std::os::unix::fs::symlink(support::credhook_bin(), bin.join("credhook"));
    format!("{}:/usr/bin:/bin", bin.display())
}

#[test]
fn out_values_round_trip_through_the_real_hook_output_parser() {
    let mut w = World::new();
    let path = path_with_credhook(&w);
    w.set("PATH", &path)
        .set("SMOUT_ACCESS_TOKEN", "type:string, required:true")
        .set("SMOUT_CERT", "type:string, required:true")
        .set("SMOUT_EXPIRES_IN", "type:integer")
        .set("SMOUT_TRICKY", "type:string")
        .secret("eyJ0eXAi.secret-part");
    std::fs::write(
        w.dir.join("reply.json"),
        r#"{"token_id":"tok-1","access_token":"eyJ0eXAi.secret-part","expires_in":3600,
            "cert":"-----BEGIN CERTIFICATE-----\nMIIB\nEOF\nEOF_1\n-----END CERTIFICATE-----\n",
            "tricky":"a=b<<c # d \t\u00e9"}"#,
    )
    .unwrap();
    w.hook(
        r#"[ "$1" = create ] || exit 0
reply=$(cat "$TEST_DIR/reply.json")
printf %s "$reply" | credhook json out id=.token_id access_token=.access_token cert=.cert \
  expires_in=.expires_in tricky=.tricky >&3"#,
    );
    let run = w.run();
    run.assert_code(0);
    let v = run.update().json();
    let creds = match &v {
        miniserde::json::Value::Object(o) => o.get("credentials").cloned().unwrap(),
        _ => panic!("{run}"),
    };
    assert_eq!(support::field(&creds, "id"), "tok-1");
    let payload = match &creds {
        miniserde::json::Value::Object(o) => o.get("payload").cloned().unwrap(),
        _ => panic!(),
    };
    assert_eq!(support::field(&payload, "access_token"), "eyJ0eXAi.secret-part");
    assert_eq!(
        support::field(&payload, "cert"),
        "-----BEGIN CERTIFICATE-----\nMIIB\nEOF\nEOF_1\n-----END CERTIFICATE-----\n"
    );
    assert_eq!(support::field(&payload, "expires_in"), "3600");
    assert_eq!(support::field(&payload, "tricky"), "a=b<<c # d \té");
}

#[test]
fn build_makes_one_compact_object_from_the_environment() {
    let env = [
        ("SMIN_USERNAME", "svc \"bot\"\n"),
        ("SMIN_EXPIRES_IN_SECONDS", "21600"),
        ("SMIN_REFRESHABLE", "true"),
        ("SMIN_DESCRIPTION", ""),
        ("PASSWORD", "p@ss-w0rd-secret"),
    ];
    let out = json_cmd(
        &[
            "build",
            "username={{SMIN_USERNAME}}",
            "expires_in:={{SMIN_EXPIRES_IN_SECONDS}}",
            "refreshable?:={{SMIN_REFRESHABLE}}",
            "description?={{SMIN_DESCRIPTION}}",
            "audience?={{SMIN_AUDIENCE}}",
            "scope=applied-permissions/user",
            "password={{PASSWORD}}",
            "extra:={\"list\": [1, \"two\"]}",
            "-dash=ok",
        ],
        &env,
        b"",
    );
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(
        out.stdout,
        "{\"username\":\"svc \\\"bot\\\"\\n\",\"expires_in\":21600,\"refreshable\":true,\
         \"scope\":\"applied-permissions/user\",\"password\":\"p@ss-w0rd-secret\",\
         \"extra\":{\"list\":[1,\"two\"]},\"-dash\":\"ok\"}\n"
    );
    let out = json_cmd(&["build"], &[], b"");
    assert_eq!(out.stdout, "{}\n");
}

#[test]
fn build_errors_name_the_key_and_the_fix_never_the_value() {
    let env = [("NOT_JSON", "p@ss-w0rd-secret"), ("EMPTY", "")];
    for (field, says) in [
        (
            "expires_in:={{NOT_JSON}}",
            "key `expires_in`: the `:=` value is not JSON (malformed JSON at byte 0",
        ),
        ("n:=12 34", "byte 3"),
        (
            "password={{NOPE}}",
            "`{{NOPE}}` names the environment variable NOPE, which is unset or empty",
        ),
        ("password={{EMPTY}}", "EMPTY"),
        ("noequals", "has no `=`"),
    ] {
        let out = json_cmd(&["build", field], &env, b"");
        assert_eq!((out.code, out.stdout.as_str()), (2, ""), "{field}: {out:?}");
        assert!(out.stderr.contains(says), "{field}: {out:?}");
        assert!(!out.stderr.contains("p@ss"), "{out:?}");
    }
    let out = json_cmd(&["build", "a=1", "a=2"], &env, b"");
    assert_eq!(out.code, 2, "{out:?}");
}

#[test]
fn non_utf8_arguments_and_usage_errors_exit_2() {
    let bad = std::ffi::OsStr::from_bytes(b".a\xff");
    for args in [
        vec![std::ffi::OsStr::new("get"), bad],
        vec![std::ffi::OsStr::new("out"), std::ffi::OsStr::from_bytes(b"x=.\xff")],
        vec![std::ffi::OsStr::new("build"), std::ffi::OsStr::from_bytes(b"k=\xff")],
        vec![std::ffi::OsStr::from_bytes(b"\xff")],
    ] {
        let out = json_cmd(&args, &[], b"{}");
        assert_eq!(out.code, 2, "{args:?}: {out:?}");
        assert!(out.stderr.contains("not valid UTF-8"), "{out:?}");
    }
    for (args, says) in [
        (vec![], "a subcommand is missing"),
        (vec!["frob"], "unknown subcommand `frob`"),
        (vec!["get"], "`get` takes one PATH"),
        (vec!["get", ".a", ".b"], "`get` takes one PATH"),
        (vec!["out"], "at least one NAME=PATH"),
        (
            vec!["--json", "out", "a=.a"],
            "--json applies to `credhook json get` only",
        ),
        (vec!["get", "--bogus", ".a"], "--bogus"),
        (vec!["get", "a"], "a path starts with `.`"),
    ] {
        let out = json(&args, "{}");
        assert_eq!(out.code, 2, "{args:?}: {out:?}");
        assert!(out.stderr.contains(says), "{args:?}: {out:?}");
    }
    let out = json(&["--help"], "");
    assert_eq!(out.code, 0);
    assert!(out.stdout.contains("credhook json build FIELD"));
}
