//! `credhook-emulator`: run the local IAM + Secrets Manager emulator until
//! interrupted.

use credhook_emulator::{Emulator, Endpoint, Fault, Options};
use std::path::PathBuf;

const HELP: &str = "\
credhook-emulator — a local IBM Cloud IAM + Secrets Manager for trying credhook hooks

Usage: credhook-emulator [options]

  --http                 serve plain HTTP instead of HTTPS with a throwaway CA
  --port N               listen on 127.0.0.1:N (default: any free port)
  --dir DIR              where ca.pem, updates.jsonl and url go (default: ./emulator-data)
  --api-key KEY          an API key IAM accepts (repeatable; default: emulator-api-key)
  --cr-token TOKEN       a compute resource token IAM accepts (repeatable)
  --token-ttl SECONDS    expires_in of issued tokens (default 3600)
  --secrets FILE         secrets to serve: JSON lines, one secret resource each, with an \"id\"
                         (and a \"secret_group_id\"; without one it is \"default\")
  --fault ENDPOINT=F,…   scripted faults for token|secret|task, used one per request:
                         500, 429@2 (Retry-After 2), reset, lost (acted on, reply
                         dropped), redirect:302, stall:5, oversized, malformed,
                         truncated, html

Task updates it accepts are appended to DIR/updates.jsonl and served at
GET /emulator/updates. After a credentials_created update, GET /api/v2/secrets/ID
serves that secret as custom_credentials: credentials_content is the last
payload, versions_total counts them. It prints its URL and CA file, and writes the URL to DIR/url.
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
            other => return Err(format!("unknown argument `{other}`; see --help")),
        }
    }
    if !custom_keys.is_empty() {
        opts.api_keys = custom_keys;
    }
    std::fs::create_dir_all(&opts.dir).map_err(|e| format!("cannot create {}: {e}", opts.dir.display()))?;
    opts.record_file = Some(opts.dir.join("updates.jsonl"));
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
    loop {
        std::thread::park();
    }
}
