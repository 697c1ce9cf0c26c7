//! Load benchmark of `gutjoint serve` on loopback (bounded; not a test): starts the given
//! `gutjoint` binary on an ephemeral 127.0.0.1 port with a fresh data directory, submits JOBS
//! small jobs at once (one connection each) and waits until all are done, then sends STATUS
//! status requests over CONN keep-alive connections, and prints throughput, p50/p99 latency,
//! failures, lost jobs and the server's peak memory.
//!
//!   cargo run --release -p gutjoint-server --example serve_load -- target/release/gutjoint \
//!       [--jobs 200] [--status 20000] [--connections 64] [--workers 2]

use gutjoint_server::client::{Client, Part, multipart};
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

fn arg(args: &[String], name: &str, default: usize) -> usize {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn peak_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let Some(binary) = args.get(1).filter(|a| !a.starts_with("--")) else {
        eprintln!(
            "usage: serve_load PATH/TO/gutjoint [--jobs N] [--status N] [--connections N] [--workers N]"
        );
        std::process::exit(2);
    };
    let jobs = arg(&args, "--jobs", 200);
    let status_requests = arg(&args, "--status", 20_000);
    let connections = arg(&args, "--connections", 64).max(1);
    let workers = arg(&args, "--workers", 2);

    let data = std::env::temp_dir().join(format!("gutjoint-load-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&data);
    let key_out = Command::new(binary)
        .args(["keys", "create", "--name", "bench", "--data-dir"])
        .arg(&data)
        .output()
        .expect("keys create");
    let key = String::from_utf8_lossy(&key_out.stdout)
        .lines()
        .last()
        .expect("key")
        .to_string();
    let auth = Arc::new(format!("Bearer {key}"));
    let mut server = Command::new(binary)
        .args(["serve", "--bind", "127.0.0.1:0", "--max-jobs-per-key"])
        .arg((jobs + 1).to_string())
        .args(["--workers", &workers.to_string(), "--data-dir"])
        .arg(&data)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start server");
    let mut line = String::new();
    BufReader::new(server.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("listening line");
    let addr: SocketAddr = line
        .trim()
        .trim_start_matches("listening on http://")
        .parse()
        .expect("address");

    // 1. JOBS small jobs at once: four samples of the bundled GESPIC genus table's shape.
    let table = b"#OTU ID\tS1\tS2\tS3\tS4\nBacteroides\t120\t40\t300\t8\nPrevotella\t3\t90\t0\t150\nFaecalibacterium\t60\t70\t20\t45\nAkkermansia\t0\t5\t12\t1\n".to_vec();
    let metadata = b"sample-id\tgroup\nS1\tAS\nS2\tAS\nS3\thealthy\nS4\thealthy\n".to_vec();
    let (content_type, body) = multipart(&[
        Part::File {
            name: "table",
            file_name: "small.tsv",
            bytes: &table,
        },
        Part::File {
            name: "metadata",
            file_name: "small_md.tsv",
            bytes: &metadata,
        },
        Part::Text {
            name: "config",
            value: r#"{"group": "group", "permutations": 99, "seed": 1}"#,
        },
    ]);
    let body = Arc::new(body);
    let content_type = Arc::new(content_type);
    let started = Instant::now();
    let submitters: Vec<_> = (0..jobs)
        .map(|_| {
            let (auth, body, ct) = (
                Arc::clone(&auth),
                Arc::clone(&body),
                Arc::clone(&content_type),
            );
            std::thread::spawn(move || {
                let t = Instant::now();
                let r = Client::new(addr).send(
                    "POST",
                    "/api/v1/jobs",
                    &[
                        ("Authorization", auth.as_str()),
                        ("Content-Type", ct.as_str()),
                    ],
                    &body,
                );
                let id = r
                    .ok()
                    .filter(|r| r.status == 202)
                    .and_then(|r| r.json()["id"].as_str().map(str::to_string));
                (id, t.elapsed())
            })
        })
        .collect();
    let mut ids = Vec::new();
    let mut submit_latency = Vec::new();
    let mut submit_failures = 0;
    for s in submitters {
        let (id, latency) = s.join().expect("submitter");
        submit_latency.push(latency);
        match id {
            Some(id) => ids.push(id),
            None => submit_failures += 1,
        }
    }
    let submitted_in = started.elapsed();
    let mut client = Client::new(addr);
    let deadline = Instant::now() + Duration::from_secs(1800);
    let (mut done, mut failed, mut lost);
    loop {
        (done, failed, lost) = (0, 0, 0);
        let mut pending = 0;
        for id in &ids {
            match client.send(
                "GET",
                &format!("/api/v1/jobs/{id}"),
                &[("Authorization", auth.as_str())],
                b"",
            ) {
                Ok(r) if r.status == 200 => match r.json()["status"].as_str() {
                    Some("done") => done += 1,
                    Some("failed") => failed += 1,
                    _ => pending += 1,
                },
                _ => lost += 1,
            }
        }
        if pending == 0 || Instant::now() > deadline {
            break;
        }
        std::thread::sleep(Duration::from_millis(250));
    }
    let jobs_in = started.elapsed();
    submit_latency.sort();
    println!("## {jobs} small jobs submitted at once ({workers} workers)");
    println!(
        "submitted: {} accepted, {submit_failures} refused or failed, in {:.2} s",
        ids.len(),
        submitted_in.as_secs_f64()
    );
    println!(
        "submit latency: p50 {:.1} ms, p99 {:.1} ms",
        percentile(&submit_latency, 50.0).as_secs_f64() * 1e3,
        percentile(&submit_latency, 99.0).as_secs_f64() * 1e3
    );
    println!(
        "finished: {done} done, {failed} failed, {lost} lost, all in {:.1} s ({:.2} jobs/s)",
        jobs_in.as_secs_f64(),
        done as f64 / jobs_in.as_secs_f64()
    );

    // 2. STATUS status requests over CONN keep-alive connections.
    let per = status_requests.div_ceil(connections);
    let ids = Arc::new(ids);
    let started = Instant::now();
    let threads: Vec<_> = (0..connections)
        .map(|c| {
            let (auth, ids) = (Arc::clone(&auth), Arc::clone(&ids));
            std::thread::spawn(move || {
                let mut client = Client::new(addr);
                let mut latencies = Vec::with_capacity(per);
                let mut failures = 0usize;
                for i in 0..per {
                    if c * per + i >= status_requests {
                        break;
                    }
                    let id = &ids[(c + i) % ids.len().max(1)];
                    let t = Instant::now();
                    match client.send(
                        "GET",
                        &format!("/api/v1/jobs/{id}"),
                        &[("Authorization", auth.as_str())],
                        b"",
                    ) {
                        Ok(r) if r.status == 200 => latencies.push(t.elapsed()),
                        _ => failures += 1,
                    }
                }
                (latencies, failures)
            })
        })
        .collect();
    let mut latencies = Vec::new();
    let mut failures = 0;
    for t in threads {
        let (l, f) = t.join().expect("client thread");
        latencies.extend(l);
        failures += f;
    }
    let elapsed = started.elapsed();
    latencies.sort();
    println!("## {status_requests} status requests over {connections} keep-alive connections");
    println!(
        "ok: {}, failed: {failures}, in {:.2} s: {:.0} requests/s",
        latencies.len(),
        elapsed.as_secs_f64(),
        latencies.len() as f64 / elapsed.as_secs_f64()
    );
    println!(
        "latency: p50 {:.2} ms, p99 {:.2} ms",
        percentile(&latencies, 50.0).as_secs_f64() * 1e3,
        percentile(&latencies, 99.0).as_secs_f64() * 1e3
    );
    println!(
        "server peak memory (VmHWM): {:.1} MiB",
        peak_kib(server.id()) as f64 / 1024.0
    );
    let _ = Command::new("kill")
        .args(["-TERM", &server.id().to_string()])
        .status();
    let _ = server.wait();
    let _ = std::fs::remove_dir_all(&data);
}
