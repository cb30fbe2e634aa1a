//! A misbehaving hook: every way it can go wrong ends as a `failed` task with
//! the right code and a description that tells the user what to fix.

mod support;

use std::time::{Duration, Instant};
use support::*;

struct Case {
    name: &'static str,
    hook: &'static str,
    code: &'static str,
    /// Fragments the description must contain.
    says: &'static [&'static str],
}

const CASES: &[Case] = &[
    Case {
        name: "non-zero exit",
        hook: "echo 'cannot reach db' >&2; exit 3",
        code: "ERR10004",
        says: &["exited with status 3", "cannot reach db"],
    },
    Case {
        name: "death by signal",
        hook: "kill -SEGV $$",
        code: "ERR10004",
        says: &["killed by signal 11"],
    },
    Case {
        name: "hang past the timeout",
        hook: "echo 'connecting to db.internal:5432' >&2; sleep 30",
        code: "ERR10005",
        says: &[
            "within 1 s",
            "CREDHOOK_HOOK_TIMEOUT",
            "its last error line: connecting to db.internal:5432",
        ],
    },
    Case {
        name: "hang, TERM ignored, child holding fd 3 and stdout",
        hook: "trap '' TERM; (trap '' TERM; sleep 30) & sleep 30",
        code: "ERR10005",
        says: &["within 1 s"],
    },
    Case {
        name: "more than 1 MiB on the output channel",
        hook: "head -c 2000000 /dev/zero | tr '\\0' 'x' > \"$CREDHOOK_OUTPUT\"",
        code: "ERR10006",
        says: &["more than 1048576 bytes"],
    },
    Case {
        name: "non-UTF-8 on the output channel",
        hook: "printf 'id=c-1\\nusername=\\377\\376\\n' > \"$CREDHOOK_OUTPUT\"",
        code: "ERR10006",
        says: &["line 2", "not valid UTF-8"],
    },
    Case {
        name: "exit 0 with no output",
        hook: "exit 0",
        code: "ERR10006",
        says: &["wrote no `id`", "id=<credentials id>"],
    },
    Case {
        name: "missing id",
        hook: "printf 'username=u-1\\npassword=p-123456\\n' > \"$CREDHOOK_OUTPUT\"",
        code: "ERR10006",
        says: &["wrote no `id`"],
    },
    Case {
        name: "duplicate name",
        hook: "printf 'id=c\\nusername=a\\nUSERNAME=b\\n' > \"$CREDHOOK_OUTPUT\"",
        code: "ERR10006",
        says: &["line 3", "written twice"],
    },
    Case {
        name: "unknown name",
        hook: "printf 'id=c\\nusername=a\\npassword=p-1234567\\nhost=db.internal\\n' > \"$CREDHOOK_OUTPUT\"",
        code: "ERR10006",
        says: &["`host` is not an output of the schema", "declare SMOUT_HOST"],
    },
    Case {
        name: "wrong type",
        hook: "printf 'id=c\\nusername=a\\npassword=p-1234567\\nadmin=maybe\\n' > \"$CREDHOOK_OUTPUT\"",
        code: "ERR10006",
        says: &["`admin` must be `true` or `false`"],
    },
    Case {
        name: "garbage line",
        hook: "echo 'Connected to database' > \"$CREDHOOK_OUTPUT\"",
        code: "ERR10006",
        says: &["line 1 is neither", "send it to stderr"],
    },
    Case {
        name: "unclosed multi-line value",
        hook: "printf 'id=c\\nusername<<END\\nabc\\n' > \"$CREDHOOK_OUTPUT\"",
        code: "ERR10006",
        says: &["never closed"],
    },
    Case {
        name: "bad interpreter",
        hook: "#!/nonexistent/interpreter",
        code: "ERR10003",
        says: &["could not be started", "#! line"],
    },
];

#[test]
fn each_misbehaviour_fails_the_task_with_the_right_code() {
    let mut failures = Vec::new();
    for case in CASES {
        let mut w = World::new();
        declare_outputs(&mut w);
        w.set("CREDHOOK_HOOK_TIMEOUT", "1");
        if let Some(shebang) = case.hook.strip_prefix("#!") {
            w.hook_file("hook.sh", &format!("#!{shebang}\nexit 0\n"));
        } else {
            w.hook(case.hook);
        }
        let started = Instant::now();
        let r = w.run();
        let took = started.elapsed();
        if r.code != 1 || r.updates.len() != 1 {
            failures.push(format!("{}: expected exit 1 and one update\n{r}", case.name));
            continue;
        }
        let Some((code, description)) = r.update().error() else {
            failures.push(format!("{}: not a failed update\n{r}", case.name));
            continue;
        };
        if code != case.code || !case.says.iter().all(|s| description.contains(s)) {
            failures.push(format!("{}: got {code}: {description}", case.name));
        }
        // 1 s timeout + 5 s TERM→KILL grace + 1 s pipe drain, with room.
        if took > Duration::from_secs(15) {
            failures.push(format!("{}: took {took:?}", case.name));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn a_missing_or_non_executable_hook() {
    let mut w = World::new();
    w.set("CREDHOOK_HOOK", "/nonexistent/hook");
    let d = w.run().failed_with("ERR10003");
    assert!(
        d.contains("`/nonexistent/hook` could not be started") && d.contains("No such file"),
        "{d}"
    );

    let mut w = World::new();
    w.hook("exit 0");
    std::fs::set_permissions(
        w.dir.join("hook.sh"),
        std::os::unix::fs::PermissionsExt::from_mode(0o644),
    )
    .unwrap();
    let d = w.run().failed_with("ERR10003");
    assert!(d.contains("Permission denied") && d.contains("executable"), "{d}");
}

#[test]
fn a_flood_of_output_keeps_memory_bounded() {
    let mut w = World::new();
    declare_outputs(&mut w);
    // ~40 MB on stdout and stderr, then a valid result.
    w.hook(&format!(
        "head -c 20000000 /dev/zero | tr '\\0' 'y' | fold -w 100 &\nhead -c 20000000 /dev/zero | tr '\\0' 'z' >&2\nwait\n{RECORDING_CREATE}"
    ));
    let r = w.run();
    r.assert_code(0);
    let last = r.log_lines().pop().unwrap();
    let rss: u64 = field(&last, "max_rss_kib").parse().unwrap();
    // The static binary peaks near 6 MiB here; the debug glibc build near 8.
    assert!(rss < 12 * 1024, "credhook's peak RSS was {rss} KiB for a 40 MB flood");
    assert!(r.log_has("hook log lines dropped"), "{r}");
    assert!(r.stderr.len() < 1024 * 1024, "the log holds {} bytes", r.stderr.len());
}

#[test]
fn a_channel_of_tiny_secret_values_keeps_memory_bounded() {
    let mut w = World::new();
    declare_outputs(&mut w);
    // Just under the 2 MiB of output credhook keeps (so that it is read as
    // JSON): 290,000 4-letter upper-case JSON strings, each a secret. With
    // every base64 form of each kept, credhook peaked near 140 MB.
    w.hook(
        r#"case $1 in
create)
    { echo id=tiny-1
      awk 'BEGIN { a = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"; printf "password=["
        for (i = 0; i < 290000; i++) { s = ""; n = i
          for (k = 0; k < 4; k++) { s = s substr(a, n % 26 + 1, 1); n = int(n / 26) }
          printf "%s\"%s\"", (i ? "," : ""), s }
        print "]" }'
    } > "$CREDHOOK_OUTPUT" ;;
delete) exit 0 ;;
esac"#,
    );
    let r = w.run();
    r.failed_with("ERR10006");
    let last = r.log_lines().pop().unwrap();
    let rss: u64 = field(&last, "max_rss_kib").parse().unwrap();
    // The debug glibc build peaks near 60 MiB here.
    assert!(
        rss < 96 * 1024,
        "credhook's peak RSS was {rss} KiB for 290,000 tiny secrets"
    );
    assert!(r.log_has("rollback done"), "{r}");
}

#[test]
fn non_utf8_log_lines_are_logged_lossily() {
    let mut w = World::new();
    declare_outputs(&mut w);
    w.hook(&format!("printf 'bad \\377 byte\\n'\n{RECORDING_CREATE}"));
    let r = w.run();
    r.assert_code(0);
    assert!(r.log_has("bad \u{FFFD} byte"), "{r}");
}

#[test]
fn long_error_messages_are_cut_and_secrets_masked() {
    let mut w = World::new();
    declare_outputs(&mut w);
    w.hook(&format!(
        "printf 'error_message=login with key {API_KEY} failed: %s\\n' \"$(head -c 3000 /dev/zero | tr '\\0' 'e')\" > \"$CREDHOOK_OUTPUT\"; exit 1"
    ));
    let r = w.run();
    let d = r.failed_with("ERR10004");
    assert_eq!(d.chars().count(), 1024);
    assert!(d.starts_with("login with key [REDACTED] failed: eee"), "{d}");
}

#[test]
fn stop_before_a_token_exits_2_without_running_the_hook() {
    let mut w = World::new();
    declare_outputs(&mut w);
    w.emu.fault(
        credhook_emulator::Endpoint::Token,
        credhook_emulator::Fault::Stall(Duration::from_secs(3)),
    );
    w.set("CREDHOOK_HTTP_TIMEOUT", "10").hook(RECORDING_CREATE);
    // Stop it once it is talking to IAM.
    let r = w.run_and_signal("-TERM", || !w.emu.calls().is_empty());
    r.assert_code(2);
    assert!(r.updates.is_empty());
    assert!(w.hook_calls().is_empty());
    assert_eq!(
        w.calls_to(credhook_emulator::Endpoint::Token),
        1,
        "retried after the stop"
    );
}

#[test]
fn a_flood_of_blank_lines_counts_against_the_cap() {
    let mut w = World::new();
    declare_outputs(&mut w);
    // 5 MB of empty lines on stdout and on stderr.
    w.hook(&format!(
        "head -c 5000000 /dev/zero | tr '\\0' '\\n'\nhead -c 5000000 /dev/zero | tr '\\0' '\\n' >&2\n{RECORDING_CREATE}"
    ));
    let r = w.run();
    r.assert_code(0);
    let last = r.log_lines().pop().unwrap();
    let rss: u64 = field(&last, "max_rss_kib").parse().unwrap();
    // The static binary peaks near 6 MiB; the debug glibc build near 8.
    assert!(
        rss < 12 * 1024,
        "credhook's peak RSS was {rss} KiB for 10 MB of blank lines"
    );
    assert!(r.log_has("hook log lines dropped"), "no drop reported");
    assert!(
        r.stderr.len() < 4 * 1024 * 1024,
        "the log holds {} bytes",
        r.stderr.len()
    );
}

#[test]
fn the_rollback_deletes_every_id_like_line_and_its_sentence_survives_the_cut() {
    // The output breaks the protocol (so error_message is ignored) ...
    let mut w = World::new();
    declare_outputs(&mut w);
    w.hook(
        r#"echo "$1 ${SM_CREDENTIALS_ID:-}" >> "$TEST_DIR/calls"
if [ "$1" = create ]; then
  printf 'id = c-1\n id=c-2\nID=c-3\nusername<<EOF\nnever closed\nid=c-4\n' > "$CREDHOOK_OUTPUT"
  exit 1
fi"#,
    );
    let r = w.run();
    r.failed_with("ERR10004");
    assert_eq!(
        w.hook_calls(),
        ["create ", "delete c-1", "delete c-2", "delete c-3", "delete c-4"],
        "{r}"
    );
    // ... or keeps it, with a message long enough to be cut.
    let mut w = World::new();
    declare_outputs(&mut w);
    w.hook(
        r#"echo "$1 ${SM_CREDENTIALS_ID:-}" >> "$TEST_DIR/calls"
if [ "$1" = create ]; then
  printf 'error_message=%s\n' "$(head -c 3000 /dev/zero | tr '\0' 'e')" > "$CREDHOOK_OUTPUT"
  printf 'id=c-3\n' >> "$CREDHOOK_OUTPUT"
  exit 1
fi
[ "$SM_CREDENTIALS_ID" = c-3 ] && exit 1
exit 0"#,
    );
    let r = w.run();
    let d = r.failed_with("ERR10004");
    assert_eq!(w.hook_calls(), ["create ", "delete c-3"], "{r}");
    assert!(
        d.ends_with("e… Deleting the credentials it had created (c-3) failed too; delete them by hand."),
        "{d}"
    );
    assert!(d.starts_with("eeee"), "{d}");
}

/// Every catchable signal whose default would end credhook silently is a
/// stop: the hook's whole group is ended, its credentials rolled back, and
/// the task reported `failed` with ERR10007.
#[test]
fn every_terminating_signal_is_a_stop() {
    let rt = format!("-{}", libc_sigrtmin() + 2);
    let signals = [
        "-HUP",
        "-USR1",
        "-USR2",
        "-ALRM",
        "-QUIT",
        "-VTALRM",
        "-PROF",
        "-XCPU",
        "-XFSZ",
        "-IO",
        "-PWR",
        rt.as_str(),
    ];
    let mut failures = Vec::new();
    for signal in signals {
        let mut w = World::new();
        declare_outputs(&mut w);
        w.hook(
            r#"echo "$1 ${SM_CREDENTIALS_ID:-}" >> "$TEST_DIR/calls"
[ "$1" = delete ] && exit 0
printf 'id=cred-sig\n' > "$CREDHOOK_OUTPUT"
sleep 30 &
echo $! > "$TEST_DIR/child"
touch "$TEST_DIR/ready"
wait"#,
        );
        let ready = w.dir.join("ready");
        let r = w.run_and_signal(signal, || ready.exists());
        let outcome = (r.code, r.update().error().map(|e| e.0));
        if outcome != (1, Some("ERR10007".to_string())) {
            failures.push(format!("{signal}: {outcome:?}\n{r}"));
            continue;
        }
        if let Some(name) = signal.strip_prefix('-').filter(|n| n.parse::<i32>().is_err())
            && !r.log_has(&format!("\"signal\":\"SIG{name}\""))
        {
            failures.push(format!("{signal}: the log does not name the signal\n{r}"));
        }
        if w.hook_calls() != ["create ", "delete cred-sig"] {
            failures.push(format!("{signal}: hook calls {:?}", w.hook_calls()));
        }
        let child: i32 = w.file("child").trim().parse().unwrap();
        if !is_gone(child) {
            failures.push(format!("{signal}: the hook's child survived"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// SIGRTMIN as the C library of the binary under test sees it: glibc 34,
/// musl 35. `kill -<n>` with the larger is a real-time signal in both.
fn libc_sigrtmin() -> i32 {
    35
}
