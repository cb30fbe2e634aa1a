//! Masking one 16 KiB line against 1,000 registered secrets: built once
//! against this tree (`credhook::fuzzing::MaskBench`) and once, with
//! `--features old`, against 15821ba's registry (which listed encoders
//! instead of decoding). scripts/bench/mask.sh builds and runs both.
//! Prints `<line> <median ns per mask>` for each line.

use std::time::Instant;

/// xorshift64*: the same secrets and lines in both builds.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn word(&mut self, len: usize, alphabet: &[u8]) -> String {
        (0..len)
            .map(|_| alphabet[(self.next() % alphabet.len() as u64) as usize] as char)
            .collect()
    }
}

const SECRET_CHARS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.~!&<>'/";
const WORD_CHARS: &[u8] = b"abcdefghijklmnopqrstuvwxyz";

fn secrets(rng: &mut Rng) -> Vec<String> {
    (0..1000).map(|_| { let n = 16 + (rng.next() % 25) as usize; rng.word(n, SECRET_CHARS) }).collect()
}

/// A hook's log line of `16 KiB`: prose (`plain`), or a vendor's JSON reply
/// with escapes and quotes (`json`), holding three of the secrets.
fn line(rng: &mut Rng, secrets: &[String], json: bool) -> String {
    let mut out = String::new();
    let mut k = 0;
    while out.len() < 16 * 1024 {
        if out.len() > 4096 * (k + 1) && k < 3 {
            out.push_str(&secrets[(k * 331) % secrets.len()]);
            out.push(' ');
            k += 1;
        }
        let n = 3 + (rng.next() % 8) as usize;
        let w = rng.word(n, WORD_CHARS);
        if json {
            out.push_str(&format!("\"{w}\":\"caf\\u00e9 {w}\\/x\\n\","));
        } else {
            out.push_str(&w);
            out.push(' ');
        }
    }
    out.truncate(16 * 1024);
    out
}

#[cfg(feature = "old")]
fn masker(secrets: &[String]) -> impl FnMut(&str) -> String {
    let mut r = credhook::registry::Registry::default();
    for s in secrets {
        r.register(s);
    }
    move |t| r.mask(t)
}

#[cfg(not(feature = "old"))]
fn masker(secrets: &[String]) -> impl FnMut(&str) -> String {
    let refs: Vec<&str> = secrets.iter().map(String::as_str).collect();
    let mut m = credhook::fuzzing::MaskBench::new(&refs);
    move |t| m.mask(t)
}

fn main() {
    let runs: usize = std::env::var("MASK_RUNS").ok().and_then(|v| v.parse().ok()).unwrap_or(101);
    let mut rng = Rng(0x16_1000_5EC2E75);
    let secrets = secrets(&mut rng);
    let mut mask = masker(&secrets);
    for (name, json) in [("plain", false), ("json", true)] {
        let text = line(&mut rng, &secrets, json);
        let masked = mask(&text);
        assert!(masked.contains("[REDACTED]"), "{name}: the secrets in the line were not masked");
        let mut times: Vec<u128> = (0..runs)
            .map(|_| {
                let t = Instant::now();
                std::hint::black_box(mask(std::hint::black_box(&text)));
                t.elapsed().as_nanos()
            })
            .collect();
        times.sort_unstable();
        println!("{name} {}", times[runs / 2]);
    }
}
