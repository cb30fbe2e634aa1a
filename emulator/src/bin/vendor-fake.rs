//! `vendor-fake`: serve one vendor API fake (emulator/src/vendors/) until
//! killed, for scripts/bench.sh and for trying an example provider by hand.

use credhook_emulator::vendors::{Vendor, VendorFake};
use std::path::PathBuf;

const HELP: &str = "\
vendor-fake — an HTTPS fake of a vendor API the example providers call

Usage: vendor-fake VENDOR --admin CREDENTIAL [--dir DIR] [--port N]

  VENDOR             jfrog | iam | pagerduty | gitlab | slack
  --admin CREDENTIAL the admin token (jfrog, gitlab), REST API key (pagerduty),
                     API key (iam) or the app's client secret (slack) the fake accepts
  --dir DIR          where <vendor>-ca.pem and url go (default: ./vendor-fake)
  --port N           listen on 127.0.0.1:N (default: any free port)

It prints its URL and CA file, writes the URL to DIR/url, and serves until killed.
For slack it also prints the client id and writes a first refresh token to
DIR/slack-refresh-token (mode 0600); each refresh token is good for one exchange.
";

fn main() {
    if let Err(e) = real_main() {
        eprintln!("vendor-fake: {e}");
        std::process::exit(2);
    }
}

fn real_main() -> Result<(), String> {
    let mut args = std::env::args().skip(1);
    let (mut vendor, mut admin, mut dir, mut port) = (None, None, PathBuf::from("vendor-fake"), 0u16);
    while let Some(arg) = args.next() {
        let mut value = |name: &str| args.next().ok_or_else(|| format!("{name} needs a value; see --help"));
        match arg.as_str() {
            "--help" | "-h" => {
                print!("{HELP}");
                return Ok(());
            }
            "--admin" => admin = Some(value("--admin")?),
            "--dir" => dir = PathBuf::from(value("--dir")?),
            "--port" => {
                port = value("--port")?
                    .parse()
                    .map_err(|_| "--port needs a number from 0 to 65535".to_string())?
            }
            other => match Vendor::parse(other) {
                Some(v) if vendor.is_none() => vendor = Some(v),
                _ => return Err(format!("unexpected argument {other:?}; see --help")),
            },
        }
    }
    let vendor = vendor.ok_or("name a vendor: jfrog, iam, pagerduty, gitlab or slack")?;
    let admin = admin.ok_or("--admin is required")?;
    let fake = VendorFake::start_on(vendor, &dir, &admin, port).map_err(|e| e.to_string())?;
    std::fs::write(dir.join("url"), fake.url()).map_err(|e| e.to_string())?;
    println!("{} (CA: {})", fake.url(), fake.ca_file().display());
    if vendor == Vendor::Slack {
        use std::io::Write;
        use std::os::unix::fs::OpenOptionsExt;
        let path = dir.join("slack-refresh-token");
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&path)
            .map_err(|e| e.to_string())?;
        f.write_all(fake.slack_refresh_token().as_bytes())
            .map_err(|e| e.to_string())?;
        println!(
            "client id {}; first refresh token in {} (API base: {}/api)",
            credhook_emulator::vendors::SLACK_CLIENT_ID,
            path.display(),
            fake.url()
        );
    }
    loop {
        std::thread::park();
    }
}
