//! Damage calculator: reads JSON lines on stdin, one request each, and prints one JSON line per
//! request with the 16 damage rolls, or `{"error": ...}` for a line it cannot use.
//!
//! ```text
//! echo '{"attacker":{"species":"Garchomp","nature":"Jolly","evs":{"atk":252}},
//!        "defender":{"species":"Corviknight"},"move":"Earthquake","field":{}}' \
//!   | cargo run -p lounge-pokemon --example calc
//! ```
//! (each request on one line).

use std::io::{self, BufRead, Write};

use lounge_pokemon::calc::{CalcRequest, run};

fn main() -> io::Result<()> {
    let mut input = io::stdin().lock();
    let mut out = io::stdout().lock();
    let mut raw = Vec::new();
    let mut n = 0;
    loop {
        raw.clear();
        if input.read_until(b'\n', &mut raw)? == 0 {
            return Ok(());
        }
        n += 1;
        let answer = match std::str::from_utf8(&raw) {
            Err(_) => error_line(n, "bad request: not UTF-8"),
            Ok(line) if line.trim().is_empty() => continue,
            Ok(line) => match serde_json::from_str::<CalcRequest>(line) {
                Err(e) => error_line(n, &format!("bad request: {e}")),
                Ok(req) => match run(&req) {
                    Ok(res) => serde_json::to_string(&res).expect("result serializes"),
                    Err(e) => error_line(n, &e.to_string()),
                },
            },
        };
        writeln!(out, "{answer}")?;
    }
}

fn error_line(line: usize, message: &str) -> String {
    serde_json::json!({ "line": line, "error": message }).to_string()
}
