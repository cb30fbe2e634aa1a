//! `credhook-emulator`: run the local IAM + Secrets Manager emulator until
//! interrupted.

use credhook_emulator::{Emulator, Endpoint, Fault, Options, Outage};
use std::path::PathBuf;

const HELP: &str = "\
credhook-emulator — a local IBM Cloud IAM + Secrets Manager for trying credhook hooks

Usage: credhook-emulator [options]

  --http                 serve plain HTTP instead of HTTPS with a throwaway CA
  --port N               listen on 127.0.0.1:N (default: any free port)
  --dir DIR              where ca.pem, updates.jsonl, requests.jsonl and url go
                         (default: ./emulator-data)
  --api-key KEY          an API key IAM accepts (repeatable; default: emulator-api-key)
  --cr-token TOKEN       a compute resource token IAM accepts (repeatable)
  --token-ttl SECONDS    expires_in of issued tokens (default 3600)
  --secrets FILE         secrets to serve: JSON lines, one secret resource each, with an \"id\"
                         (and a \"secret_group_id\"; without one it is \"default\")
  --fault ENDPOINT=F,…   scripted faults for token|secret|task, used one per request:
                         500, 429@2 (Retry-After 2), reset, lost (acted on, reply
                         dropped), redirect:302, stall:5, oversized, malformed,
                         truncated, html
  --down ENDPOINT=SECONDS[:STATUS]
                         an outage: ENDPOINT answers STATUS (default 503; 502, 504,
                         429 with Retry-After 1, any 400-599, or reset: the
                         connection closes without a reply) for SECONDS from its
                         first request, then serves normally. ENDPOINT: token (IAM),
                         secret (secret reads), task (task updates), sm (secret and
                         task together). Repeatable, e.g. --down task=30 --down secret=30:502
  --rate-limit N         serve at most N Secrets Manager requests (secret reads and
                         task updates; IAM token calls do not count) in any 1-second
                         sliding window, across all callers; the others get a 429
                         with Retry-After (whole seconds until a slot frees: 1).
                         Refused requests do not count

A scripted --fault comes first, then --down, then --rate-limit.
Task updates it accepts are appended to DIR/updates.jsonl and served at
GET /emulator/updates; every request and its answer is appended to
DIR/requests.jsonl ({\"at_ms\",\"endpoint\",\"method\",\"path\",\"status\",\"answer\"}).
Each record line is written whole. It prints its URL and CA file, and writes
the URL to DIR/url.
After a credentials_created update, GET /api/v2/secrets/ID serves that
secret as custom_credentials: credentials_content is the last payload,
versions_total counts them.
";

fn main() {
    if let Err(e) = real_main() {
        eprintln!("credhook-emulator: {e}");
        std::process::exit(2);
    }
}

fn real_main() -> Result<(), String> {
    let mut args = std::env::args().skip(1);
    let mut opts = Options::new("emulator-data");
    let mut custom_keys = Vec::new();
    let mut secrets_file = None;
    let mut faults = Vec::new();
    while let Some(arg) = args.next() {
        let mut value = |name: &str| args.next().ok_or_else(|| format!("{name} needs a value; see --help"));
        match arg.as_str() {
            "--help" | "-h" => {
                print!("{HELP}");
                return Ok(());
            }
            "--http" => opts.tls = false,
            "--port" => {
                opts.port = value("--port")?
                    .parse()
                    .map_err(|_| "--port takes a number from 0 to 65535")?
            }
            "--dir" => opts.dir = PathBuf::from(value("--dir")?),
            "--api-key" => custom_keys.push(value("--api-key")?),
            "--cr-token" => opts.cr_tokens.push(value("--cr-token")?),
            "--token-ttl" => opts.token_ttl = value("--token-ttl")?.parse().map_err(|_| "--token-ttl takes seconds")?,
            "--secrets" => secrets_file = Some(value("--secrets")?),
            "--fault" => {
                let spec = value("--fault")?;
                let (ep, list) = spec.split_once('=').ok_or("--fault takes ENDPOINT=FAULT[,FAULT…]")?;
                let ep =
                    Endpoint::parse(ep).ok_or_else(|| format!("unknown endpoint `{ep}`; use token, secret or task"))?;
                for f in list.split(',') {
                    faults.push((
                        ep,
                        Fault::parse(f).ok_or_else(|| format!("unknown fault `{f}`; see --help"))?,
                    ));
                }
            }
            "--down" => opts.outages.push(Outage::parse(&value("--down")?)?),
            "--rate-limit" => {
                opts.rate_limit = Some(
                    value("--rate-limit")?
                        .parse()
                        .ok()
                        .filter(|n| *n > 0)
                        .ok_or("--rate-limit takes a number of requests per second, at least 1")?,
                )
            }
            other => return Err(format!("unknown argument `{other}`; see --help")),
        }
    }
    if !custom_keys.is_empty() {
        opts.api_keys = custom_keys;
    }
    std::fs::create_dir_all(&opts.dir).map_err(|e| format!("cannot create {}: {e}", opts.dir.display()))?;
    opts.record_file = Some(opts.dir.join("updates.jsonl"));
    opts.request_file = Some(opts.dir.join("requests.jsonl"));
    let dir = opts.dir.clone();
    let emu = Emulator::start(opts).map_err(|e| format!("cannot start: {e}"))?;
    if let Some(path) = secrets_file {
        let text = std::fs::read_to_string(&path).map_err(|e| format!("cannot read {path}: {e}"))?;
        for (no, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
            let v: miniserde::json::Value =
                miniserde::json::from_str(line).map_err(|_| format!("{path}:{}: not a JSON object", no + 1))?;
            let id = match &v {
                miniserde::json::Value::Object(o) => match o.get("id") {
                    Some(miniserde::json::Value::String(id)) => id.clone(),
                    _ => {
                        return Err(format!("{path}:{}: the secret has no string \"id\"", no + 1));
                    }
                },
                _ => return Err(format!("{path}:{}: not a JSON object", no + 1)),
            };
            emu.add_secret(&id, line);
        }
    }
    for (ep, f) in faults {
        emu.fault(ep, f);
    }
    std::fs::write(dir.join("url"), emu.url()).map_err(|e| format!("cannot write {}: {e}", dir.display()))?;
    println!("credhook-emulator listening on {}", emu.url());
    if let Some(ca) = emu.ca_file() {
        println!("CA file (CREDHOOK_CA_FILE): {}", ca.display());
    }
    println!("task updates: {}", dir.join("updates.jsonl").display());
    println!("requests: {}", dir.join("requests.jsonl").display());
    loop {
        std::thread::park();
    }
}
