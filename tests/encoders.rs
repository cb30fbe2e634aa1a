//! A property test over encoders: random secrets (ASCII, non-ASCII, quotes,
//! `&<>`, backslashes, white space), each printed by the encoders hooks and
//! vendors use, through the hook's stdout, stderr, an error message, and as
//! an output value, on success and failure paths. No 4-character fragment of
//! a secret may reach a log line or a task description, read as written and
//! read back through this test's own decoders (JSON, shell, percent,
//! base64). The same runs show the credentials id, the secret id and a
//! declared-public output unmasked.
//!
//! The encoders run for real where the tool is installed (python3, jq, php,
//! bash, busybox ash, dash, zsh, coreutils base64; CI installs them all);
//! Go's `encoding/json` is simulated byte for byte (`go_json`). A missing
//! tool is skipped with a note, except in CI.

mod support;

use std::process::Command;
use support::*;

/// A small deterministic generator (xorshift64*).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[(self.next() % items.len() as u64) as usize]
    }
}

const LETTERS: &str = "ABCDEFGHJKLMNPQRSTVWXYZabcdefghijkmnpqrstuvwxyz23456789";
const SPECIAL: &[&str] = &[
    "é", "ü", "ß", "中", "😀", "'", "\"", "&", "<", ">", "\\", " ", "\t", "/", "$", "%", "+", "=", "`", "!",
];

/// A secret of 12 to 20 characters: letters and digits, with a special
/// character at least every third place.
fn secret(rng: &mut Rng) -> String {
    let letters: Vec<char> = LETTERS.chars().collect();
    let len = 12 + (rng.next() % 9) as usize;
    let mut s = String::new();
    for i in 0..len {
        if i % 3 == 1 || rng.next().is_multiple_of(4) {
            let special: &&str = rng.pick(SPECIAL);
            s.push_str(special);
        } else {
            s.push(*rng.pick(&letters));
        }
    }
    s
}

/// Whether `tool` is installed; outside CI a missing one is skipped.
fn have(tool: &str) -> bool {
    let found = Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        assert!(std::env::var_os("CI").is_none(), "{tool} is missing: CI installs it");
        eprintln!("note: {tool} is not installed; its encoder is skipped");
    }
    found
}

/// What `program args…` prints for `S=<secret>` in its environment
/// (stdout and stderr), without the final newline.
fn tool(program: &str, args: &[&str], s: &str, lang: &str) -> String {
    let out = Command::new(program)
        .args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("LANG", lang)
        .env("S", s)
        .output()
        .unwrap_or_else(|e| panic!("{program}: {e}"));
    assert!(out.status.success(), "{program} {args:?}: {out:?}");
    let mut text = String::from_utf8_lossy(&out.stdout).into_owned();
    text.push_str(&String::from_utf8_lossy(&out.stderr));
    text.trim_end_matches('\n').to_string()
}

/// Go's `encoding/json` (`json.Marshal`), byte for byte: `"` and `\`
/// escaped, `\n` `\r` `\t` short, other control characters and `<`, `>`,
/// `&`, U+2028, U+2029 as `\u00XX`/`\u20XX`; everything else as is.
fn go_json(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '<' | '>' | '&' | '\u{2028}' | '\u{2029}' => out.push_str(&format!("\\u{:04x}", c as u32)),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Every printed form of `s`, each named by its encoder.
fn encodings(s: &str, user: &str) -> Vec<(String, String)> {
    let mut e: Vec<(String, String)> = vec![("go encoding/json (simulated)".into(), go_json(s))];
    let py = |code: &str| tool("python3", &["-c", code], s, "C.UTF-8");
    if have("python3") {
        e.push((
            "python json.dumps".into(),
            py("import json,os;print(json.dumps(os.environ['S']))"),
        ));
        e.push((
            "python json.dumps ensure_ascii=False".into(),
            py("import json,os;print(json.dumps(os.environ['S'],ensure_ascii=False))"),
        ));
        e.push((
            "percent-encoding (urllib quote)".into(),
            py("import urllib.parse as u,os;print(u.quote(os.environ['S'],safe=''))"),
        ));
        e.push((
            "form encoding (urllib quote_plus)".into(),
            py("import urllib.parse as u,os;print(u.quote_plus(os.environ['S']))"),
        ));
    }
    if have("jq") {
        e.push(("jq".into(), tool("jq", &["-n", "env.S"], s, "C.UTF-8")));
        e.push(("jq -a".into(), tool("jq", &["-an", "env.S"], s, "C.UTF-8")));
    }
    if have("php") {
        e.push((
            "php json_encode".into(),
            tool("php", &["-r", "echo json_encode(getenv('S'));"], s, "C.UTF-8"),
        ));
    }
    for (name, sh) in [
        ("bash", "bash"),
        ("busybox ash", "busybox"),
        ("dash", "dash"),
        ("zsh", "zsh"),
    ] {
        let shell = sh.split(' ').next().unwrap_or(sh);
        if !have(shell) {
            continue;
        }
        let mut args: Vec<&str> = if sh == "busybox" { vec!["ash"] } else { vec![] };
        args.extend(["-c", "set -x; : \"$S\""]);
        e.push((format!("{name} set -x"), tool(sh, &args, s, "C.UTF-8")));
        let mut args: Vec<&str> = if sh == "busybox" { vec!["ash"] } else { vec![] };
        args.extend(["-c", "export -p | grep ' S='"]);
        e.push((format!("{name} export -p"), tool(sh, &args, s, "C.UTF-8")));
    }
    if have("bash") {
        for lang in ["C.UTF-8", "C"] {
            e.push((
                format!("bash printf %q ({lang})"),
                tool("bash", &["-c", "printf %q \"$S\""], s, lang),
            ));
        }
        e.push((
            "bash declare -p".into(),
            tool("bash", &["-c", "declare -p S"], s, "C.UTF-8"),
        ));
    }
    if have("zsh") {
        e.push((
            "zsh printf %q".into(),
            tool("zsh", &["-c", "printf %q \"$S\""], s, "C.UTF-8"),
        ));
    }
    if have("base64") {
        e.push((
            "base64".into(),
            tool("sh", &["-c", "printf %s \"$S\" | base64 -w0"], s, "C"),
        ));
        e.push((
            "base64 with a newline".into(),
            tool("sh", &["-c", "printf '%s\\n' \"$S\" | base64 -w0"], s, "C"),
        ));
        let basic = tool(
            "sh",
            &["-c", &format!("printf '{user}:%s' \"$S\" | base64 -w0")],
            s,
            "C",
        );
        e.push(("Basic auth".into(), format!("Authorization: Basic {basic}")));
        let url = basic.replace('+', "-").replace('/', "_");
        e.push(("URL-safe base64".into(), url.trim_end_matches('=').to_string()));
    }
    e
}

// --- The test's own decoders: an oracle written apart from credhook's. ---

fn json_unescape(t: &str) -> String {
    let c: Vec<char> = t.chars().collect();
    let mut out = String::new();
    let mut i = 0;
    while i < c.len() {
        if c[i] == '\\' && i + 1 < c.len() {
            let hex = |at: usize| -> Option<u32> {
                let h: String = c.get(at..at + 4)?.iter().collect();
                u32::from_str_radix(&h, 16).ok()
            };
            match c[i + 1] {
                'n' => out.push('\n'),
                't' => out.push('\t'),
                'r' => out.push('\r'),
                'u' => match hex(i + 2) {
                    Some(hi @ 0xD800..0xDC00) if c.get(i + 6) == Some(&'\\') => {
                        let lo = hex(i + 8).unwrap_or(0);
                        out.push(
                            char::from_u32(0x10000 + ((hi - 0xD800) << 10) + (lo.wrapping_sub(0xDC00) & 0x3ff))
                                .unwrap_or('?'),
                        );
                        i += 12;
                        continue;
                    }
                    Some(v) => {
                        out.push(char::from_u32(v).unwrap_or('?'));
                        i += 6;
                        continue;
                    }
                    None => out.push('u'),
                },
                other => out.push(other),
            }
            i += 2;
        } else {
            out.push(c[i]);
            i += 1;
        }
    }
    out
}

fn shell_unquote(t: &str) -> String {
    let b = t.as_bytes();
    let mut out: Vec<u8> = Vec::new();
    let (mut i, mut q) = (0, 0u8);
    while i < b.len() {
        let c = b[i];
        match (q, c) {
            (0, b'\'') | (0, b'"') => q = c,
            (0, b'$') if b.get(i + 1) == Some(&b'\'') => {
                q = b'$';
                i += 1;
            }
            (0, b'\\') | (b'"', b'\\') | (b'$', b'\\') if i + 1 < b.len() => {
                i += 1;
                let e = b[i];
                if q == b'$' && e.is_ascii_digit() {
                    let n = b[i..].iter().take(3).take_while(|d| (b'0'..=b'7').contains(d)).count();
                    let v = std::str::from_utf8(&b[i..i + n])
                        .ok()
                        .and_then(|o| u8::from_str_radix(o, 8).ok());
                    out.push(v.unwrap_or(b'?'));
                    i += n;
                    continue;
                }
                out.push(match (q, e) {
                    (b'$', b'n') => b'\n',
                    (b'$', b't') => b'\t',
                    _ => e,
                });
            }
            (b'\'', b'\'') | (b'"', b'"') | (b'$', b'\'') => q = 0,
            _ => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn percent_decode(t: &str, plus: bool) -> String {
    let b = t.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let hex = b
            .get(i + 1..i + 3)
            .and_then(|h| u8::from_str_radix(std::str::from_utf8(h).ok()?, 16).ok());
        match (b[i], hex) {
            (b'%', Some(v)) => {
                out.push(v);
                i += 3;
                continue;
            }
            (b'+', _) if plus => out.push(b' '),
            (c, _) => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Each run of base64 characters in `t`, decoded from each of its first
/// four characters, in both alphabets.
fn base64_runs(t: &str) -> Vec<String> {
    let mut out = Vec::new();
    let is_b64 = |c: char| c.is_ascii_alphanumeric() || "+/-_".contains(c);
    for run in t.split(|c: char| !is_b64(c)).filter(|r| r.len() >= 4) {
        for skip in 0..4.min(run.len()) {
            let mut bytes = Vec::new();
            let (mut acc, mut bits) = (0u32, 0);
            for c in run[skip..].chars() {
                let v = match c {
                    'A'..='Z' => c as u32 - 'A' as u32,
                    'a'..='z' => c as u32 - 'a' as u32 + 26,
                    '0'..='9' => c as u32 - '0' as u32 + 52,
                    '+' | '-' => 62,
                    _ => 63,
                };
                acc = acc << 6 | v;
                bits += 6;
                if bits >= 8 {
                    bits -= 8;
                    bytes.push((acc >> bits) as u8);
                }
            }
            out.push(String::from_utf8_lossy(&bytes).into_owned());
        }
    }
    out
}

/// `t` as written and as each decoder reads it back.
fn readings(t: &str) -> Vec<String> {
    let mut r = vec![
        t.to_string(),
        json_unescape(t),
        shell_unquote(t),
        percent_decode(t, false),
        percent_decode(t, true),
    ];
    r.push(json_unescape(&shell_unquote(t)));
    r.extend(base64_runs(t));
    r
}

/// Every text an operator reads: each string in each JSON log line, stdout,
/// each task description.
fn texts(r: &Run) -> Vec<String> {
    fn strings(v: &miniserde::json::Value, out: &mut Vec<String>) {
        use miniserde::json::Value;
        match v {
            Value::String(s) => out.push(s.clone()),
            Value::Object(o) => o.values().for_each(|m| strings(m, out)),
            Value::Array(a) => a.iter().for_each(|m| strings(m, out)),
            _ => {}
        }
    }
    let mut out = Vec::new();
    r.log_lines().iter().for_each(|l| strings(l, &mut out));
    out.push(r.stdout.clone());
    out.extend(r.updates.iter().filter_map(|u| u.error()).map(|(_, d)| d));
    out
}

fn assert_no_fragment(r: &Run, s: &str, how: &str) {
    let chars: Vec<char> = s.chars().collect();
    let frags: Vec<String> = chars.windows(4).map(|w| w.iter().collect()).collect();
    for t in texts(r) {
        for reading in readings(&t) {
            if let Some(f) = frags.iter().find(|f| reading.contains(f.as_str())) {
                panic!("{how}: fragment {f:?} of secret {s:?} in {t:?} (read as {reading:?})\n{r}");
            }
        }
    }
}

const LOGIN_ID: &str = "a1b2c3d4-0000-4000-8000-0000000e4c0d";

/// `printed` (one encoding a line) goes to the hook's stdout and stderr;
/// `how` picks the source of the secret and the path.
fn world(s: &str, printed: &str, how: &str) -> World {
    let mut w = World::new();
    std::fs::write(w.dir.join("printed"), printed).unwrap();
    std::fs::write(w.dir.join("secret"), s).unwrap();
    w.set("SMOUT_USERNAME", "type:string, required:true")
        .set("SMOUT_PASSWORD", "type:string")
        .set("CREDHOOK_PUBLIC_OUTPUTS", "USERNAME")
        .set("CREDHOOK_HOOK_TIMEOUT", "10");
    let tail = match how {
        // A referenced secret, the hook failing with every form in its error message.
        "referenced" => {
            w.emu.add_secret(
                LOGIN_ID,
                &format!(
                    r#"{{"secret_type":"arbitrary","payload":{},"secret_group_id":"default"}}"#,
                    go_json(s)
                ),
            );
            w.set("SMIN_LOGIN", "type:secret_id, required:true")
                .set("SM_LOGIN_VALUE", LOGIN_ID);
            r#"printf 'error_code=E_VENDOR\nerror_message=vendor said %s\n' "$(tr '\n' ' ' < "$TEST_DIR/printed")" >&3; exit 1"#
        }
        // An output value, on the success path.
        "output" => {
            r#"printf 'id=cred-e4c0d\nusername=svc-user\npassword<<EOF\n%s\nEOF\n' "$(cat "$TEST_DIR/secret")" >&3; exit 0"#
        }
        // An output value, then a failure described by the last stderr line.
        _ => {
            r#"printf 'password<<EOF\n%s\nEOF\n' "$(cat "$TEST_DIR/secret")" >&3; tr '\n' ' ' < "$TEST_DIR/printed" >&2; exit 3"#
        }
    };
    w.hook(&format!(
        "cat \"$TEST_DIR/printed\"\ncat \"$TEST_DIR/printed\" >&2\necho \"made cred-e4c0d for svc-user in $SM_SECRET_ID\"\n{tail}"
    ));
    w
}

#[test]
fn no_fragment_of_a_secret_survives_any_encoder_on_any_path() {
    let mut rng = Rng(0x5EC2_E75A_1DE5_0016);
    let users = ["u", "us", "usr"];
    for n in 0..4 {
        let s = secret(&mut rng);
        let forms = encodings(&s, users[n % 3]);
        let mut printed = String::new();
        for (name, form) in &forms {
            assert!(!form.is_empty(), "{name} printed nothing for {s:?}");
            printed.push_str(form);
            printed.push('\n');
        }
        for how in ["referenced", "output", "output, failed"] {
            let w = world(&s, &printed, how);
            let r = w.run();
            let names: Vec<&str> = forms.iter().map(|(n, _)| n.as_str()).collect();
            assert_no_fragment(&r, &s, &format!("{how}, printed by {names:?}"));
            // Metadata and the declared-public output stay readable.
            assert!(
                r.log_has("made cred-e4c0d for svc-user in 0f9a2b1c-1111-4222-8333-944455556666"),
                "{r}"
            );
            let last = r.log_lines().pop().unwrap();
            if how == "output" {
                r.assert_code(0);
                assert_eq!(field(&last, "credentials_id"), "cred-e4c0d", "{r}");
            } else {
                r.assert_code(1);
            }
            let first = &r.log_lines()[0];
            assert_eq!(field(first, "secret_id"), SECRET_ID, "{r}");
        }
    }
}

/// The test's decoders read back what the encoders print (else the
/// property above would prove nothing).
#[test]
fn the_oracle_reads_each_encoding_back() {
    let mut rng = Rng(7);
    let s = secret(&mut rng);
    for (name, form) in encodings(&s, "us") {
        let back = readings(&form);
        let whole = back.iter().any(|r| r.contains(&s));
        // Basic auth and URL-safe base64 carry the secret at an offset.
        let part = back
            .iter()
            .any(|r| r.contains(&s[s.char_indices().nth(2).unwrap().0..]));
        assert!(whole || part, "{name}: {form:?} reads back as none of {back:?}");
    }
}
