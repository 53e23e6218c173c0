//! How long the password rule takes: `cargo bench --bench password_check`.
//!
//! The rule runs on every account creation, password change, reset and
//! registration, before any hashing; it must stay well under 5 ms so that
//! it never matters next to argon2's tens of milliseconds. Prints the
//! median and the slowest of many runs for weak, strong and maximum-length
//! passwords (zxcvbn judges at most three pieces of 50 characters; the
//! breach list is a hash set).

use std::time::{Duration, Instant};

use quire::accounts::password::{Known, check};

fn main() {
    let known = Known {
        username: "ada",
        site_title: "Harbour Notes",
    };
    let long = "correct horse battery staple ".repeat(40);
    let long_weak = "password".repeat(128);
    let cases: [(&str, Vec<&str>); 4] = [
        (
            "weak",
            vec![
                "password1234",
                "iloveyou2024!",
                "qwertyuiop12",
                "trustno1trustno1",
                "ada12345678!",
                "Harbour2024!!",
                "P@ssw0rd2024",
                "19.05.1987ab",
            ],
        ),
        (
            "strong",
            vec![
                "correct horse battery staple",
                "Xk9#mQ2v!Lp7",
                "orbit-plumage-gravel-wisdom",
                "velvet anchors hum softly",
            ],
        ),
        ("1024 strong", vec![&long[..1024]]),
        ("1024 weak", vec![long_weak.as_str()]),
    ];
    // The first call builds the breach set and zxcvbn's dictionaries.
    let start = Instant::now();
    let _ = check("warm up the tables", &known);
    println!(
        "first call (builds the tables): {:.2} ms",
        ms(start.elapsed())
    );
    for (name, passwords) in &cases {
        let mut times = Vec::new();
        for _ in 0..200 {
            for password in passwords {
                let start = Instant::now();
                let _ = std::hint::black_box(check(password, &known));
                times.push(start.elapsed());
            }
        }
        times.sort();
        println!(
            "{name:>10}: median {:.3} ms, p99 {:.3} ms, max {:.3} ms ({} checks)",
            ms(times[times.len() / 2]),
            ms(times[times.len() * 99 / 100]),
            ms(times[times.len() - 1]),
            times.len()
        );
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
