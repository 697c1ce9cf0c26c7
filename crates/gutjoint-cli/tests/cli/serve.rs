//! `gutjoint serve` and `gutjoint keys` as an operator runs them: the real binary on an
//! ephemeral loopback port, jobs through the real pipeline on the bundled GESPIC data, a
//! SIGKILL mid-job and a restart, SIGTERM, keys from the command line, PostgreSQL shared by
//! two servers (when CI provides a server), and the upload page in headless Chromium.

use crate::common::{bin, chromium, repo, temp_dir};
use gutjoint_server::client::{Part, Response};
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running `gutjoint serve`; killed on drop.
pub struct Server {
    pub child: Child,
    pub addr: SocketAddr,
    pub log: PathBuf,
}

impl Server {
    pub fn start(data: &Path, extra: &[&str]) -> Server {
        let log = data.with_extension(format!("log{}", std::process::id() ^ rand_u16()));
        let mut child = Command::new(bin())
            .args(["serve", "--bind", "127.0.0.1:0", "--data-dir"])
            .arg(data)
            .args(extra)
            .current_dir(repo())
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&log).expect("log file"))
            .spawn()
            .expect("start gutjoint serve");
        let stdout = child.stdout.take().expect("stdout");
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line).expect("read");
        let addr = line
            .trim()
            .strip_prefix("listening on http://")
            .unwrap_or_else(|| {
                panic!(
                    "unexpected first line {line:?}; log: {}",
                    std::fs::read_to_string(&log).unwrap_or_default()
                )
            })
            .parse()
            .expect("address");
        Server { child, addr, log }
    }

    pub fn get(&self, path: &str, key: &str) -> Response {
        gutjoint_server::client::authorized(self.addr, "GET", path, key).expect("request")
    }

    pub fn submit(&self, key: &str, parts: &[Part<'_>]) -> Response {
        gutjoint_server::client::submit_job(self.addr, key, parts).expect("request")
    }

    pub fn wait(&self, id: &str, key: &str, until: &[&str], limit: Duration) -> serde_json::Value {
        gutjoint_server::client::wait_for_status(self.addr, id, key, until, limit)
            .unwrap_or_else(|e| panic!("{e}"))
    }

    fn signal(&self, name: &str) {
        let status = Command::new("kill")
            .args([&format!("-{name}"), &self.child.id().to_string()])
            .status()
            .expect("kill");
        assert!(status.success());
    }

    /// SIGTERM, then the exit status.
    pub fn terminate(mut self) -> std::process::ExitStatus {
        self.signal("TERM");
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                return status;
            }
            assert!(Instant::now() < deadline, "no exit after SIGTERM");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn rand_u16() -> u32 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos() & 0xffff)
        .unwrap_or(0)
}

/// `gutjoint keys create`: the key is the last line of stdout.
pub fn create_key(data: &Path, name: &str) -> String {
    let out = Command::new(bin())
        .args(["keys", "create", "--name", name, "--data-dir"])
        .arg(data)
        .output()
        .expect("keys create");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    stdout.lines().last().expect("a key").trim().to_string()
}

pub fn gespic() -> (Vec<u8>, Vec<u8>) {
    let dir = repo().join("examples/data/gespic");
    (
        std::fs::read(dir.join("gespic_genus.tsv")).expect("table"),
        std::fs::read(dir.join("gespic_metadata.tsv")).expect("metadata"),
    )
}

#[test]
fn keys_from_the_command_line() {
    let data = temp_dir("serve-keys");
    let key = create_key(&data, "rheum-lab");
    assert!(key.starts_with("gj_") && key.len() == 67, "{key}");
    let list = Command::new(bin())
        .args(["keys", "list", "--data-dir"])
        .arg(&data)
        .output()
        .expect("list");
    let text = String::from_utf8_lossy(&list.stdout);
    assert!(
        text.starts_with("name\tcreated\trevoked\nrheum-lab\t"),
        "{text}"
    );
    assert!(!text.contains(&key[3..]), "list never shows a key");
    let dup = Command::new(bin())
        .args(["keys", "create", "--name", "rheum-lab", "--data-dir"])
        .arg(&data)
        .output()
        .expect("create");
    assert!(!dup.status.success());
    assert!(String::from_utf8_lossy(&dup.stderr).contains("exists already"));
    let revoke = Command::new(bin())
        .args(["keys", "revoke", "rheum-lab", "--data-dir"])
        .arg(&data)
        .output()
        .expect("revoke");
    assert!(revoke.status.success());
    let stored = std::fs::read_to_string(data.join("keys.json")).expect("keys.json");
    assert!(!stored.contains(&key[3..]), "only the hash is stored");
    assert!(stored.contains("\"revoked_at\": 1"), "{stored}");
}

/// A Chrome DevTools Protocol session over `--remote-debugging-pipe` (JSON messages ended by
/// NUL on fds 3 and 4, connected through two FIFOs by the shell), so no websocket crate and
/// no browser download: Debian's chromium as installed.
struct Browser {
    child: Child,
    to_browser: std::fs::File,
    from_browser: BufReader<std::fs::File>,
    next_id: u64,
    session: Option<String>,
    events: Vec<serde_json::Value>,
}

impl Browser {
    fn launch(browser: &str, dir: &Path) -> Browser {
        let to = dir.join("to-browser");
        let from = dir.join("from-browser");
        for fifo in [&to, &from] {
            let ok = Command::new("mkfifo").arg(fifo).status().expect("mkfifo");
            assert!(ok.success());
        }
        let script = format!(
            "exec {browser} --headless --no-sandbox --disable-gpu --no-first-run \
             --disable-background-networking --disable-component-update --disable-sync \
             --user-data-dir='{}' --window-size=1100,900 --remote-debugging-pipe \
             3<'{}' 4>'{}'",
            dir.join("profile").display(),
            to.display(),
            from.display()
        );
        let child = Command::new("sh")
            .args(["-c", &script])
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(dir.join("chromium.log")).expect("log"))
            .spawn()
            .expect("chromium");
        // The shell opens fd 3 (reading) first, then fd 4 (writing): open ours in that order.
        let to_browser = std::fs::OpenOptions::new()
            .write(true)
            .open(&to)
            .expect("open pipe to chromium");
        let from_browser = BufReader::new(std::fs::File::open(&from).expect("open pipe"));
        Browser {
            child,
            to_browser,
            from_browser,
            next_id: 0,
            session: None,
            events: Vec::new(),
        }
    }

    fn call(&mut self, method: &str, params: serde_json::Value) -> serde_json::Value {
        match self.try_call(method, params) {
            Ok(result) => result,
            Err(error) => panic!("{method}: {error}"),
        }
    }

    /// One CDP command; `Err` carries the protocol's error object.
    fn try_call(
        &mut self,
        method: &str,
        params: serde_json::Value,
    ) -> Result<serde_json::Value, serde_json::Value> {
        use std::io::Write;
        self.next_id += 1;
        let id = self.next_id;
        let mut message = serde_json::json!({"id": id, "method": method, "params": params});
        if let Some(s) = &self.session {
            message["sessionId"] = serde_json::Value::String(s.clone());
        }
        let mut bytes = serde_json::to_vec(&message).expect("json");
        bytes.push(0);
        self.to_browser
            .write_all(&bytes)
            .expect("write to chromium");
        loop {
            let mut buf = Vec::new();
            let n = self
                .from_browser
                .read_until(0, &mut buf)
                .expect("read from chromium");
            assert!(n > 0, "chromium closed the pipe");
            buf.pop();
            let reply: serde_json::Value = serde_json::from_slice(&buf).expect("CDP json");
            if reply["id"].as_u64() == Some(id) {
                if !reply["error"].is_null() {
                    return Err(reply["error"].clone());
                }
                return Ok(reply["result"].clone());
            }
            self.events.push(reply);
        }
    }

    fn eval(&mut self, expression: &str) -> serde_json::Value {
        let r = self.call(
            "Runtime.evaluate",
            serde_json::json!({"expression": expression, "returnByValue": true, "awaitPromise": true}),
        );
        assert!(
            r["exceptionDetails"].is_null(),
            "{expression}: {}",
            r["exceptionDetails"]
        );
        r["result"]["value"].clone()
    }

    /// Polls `expression` until it is truthy. While the page navigates (after a link is
    /// followed), Chromium answers an evaluation with "Inspected target navigated or closed"
    /// or a missing execution context: that is "not yet", so poll again rather than fail.
    fn wait_for(&mut self, expression: &str, limit: Duration) -> serde_json::Value {
        let deadline = Instant::now() + limit;
        loop {
            let reply = self.try_call(
                "Runtime.evaluate",
                serde_json::json!({"expression": expression, "returnByValue": true, "awaitPromise": true}),
            );
            let v = match reply {
                Ok(r) if r["exceptionDetails"].is_null() => r["result"]["value"].clone(),
                Ok(r) => panic!("{expression}: {}", r["exceptionDetails"]),
                Err(e) if is_navigating(&e) => serde_json::Value::Null,
                Err(e) => panic!("Runtime.evaluate {expression}: {e}"),
            };
            if !v.is_null() && v != serde_json::Value::Bool(false) {
                return v;
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {expression}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn key(&mut self, key: &str, code: &str, text: &str) {
        for kind in ["keyDown", "keyUp"] {
            let mut p = serde_json::json!({"type": kind, "key": key, "code": code});
            if kind == "keyDown" && !text.is_empty() {
                p["text"] = serde_json::Value::String(text.into());
            }
            if key == "Enter" {
                p["windowsVirtualKeyCode"] = serde_json::json!(13);
            }
            if key == "Tab" {
                p["windowsVirtualKeyCode"] = serde_json::json!(9);
            }
            self.call("Input.dispatchKeyEvent", p);
        }
    }
}

/// The errors Chromium gives an evaluation that raced a navigation: the old document is gone
/// and the new one has no execution context yet.
fn is_navigating(error: &serde_json::Value) -> bool {
    let message = error["message"].as_str().unwrap_or("");
    [
        "navigated or closed",
        "execution context",
        "Execution context",
    ]
    .iter()
    .any(|m| message.contains(m))
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Standard base64 (RFC 4648) to bytes, for the screenshot CDP returns.
fn base64_decode(text: &str) -> Vec<u8> {
    let value = |c: u8| -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        } as u32)
    };
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    let mut acc = 0u32;
    let mut bits = 0;
    for c in text.bytes() {
        let Some(v) = value(c) else { continue };
        acc = (acc << 6) | v;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    out
}

#[test]
fn base64_by_hand() {
    // RFC 4648 section 10 test vectors.
    assert_eq!(base64_decode("Zm9vYmFy"), b"foobar");
    assert_eq!(base64_decode("Zm9vYg=="), b"foob");
    assert_eq!(base64_decode("Zm8="), b"fo");
}

/// The settings every GESPIC job below uses (fast: 99 permutations).
const GESPIC_CONFIG: &str = r#"{"group": "group", "seed": 7, "permutations": 99, "drugs": ["sulfasalazine"], "classifier": "none"}"#;

fn gespic_parts<'a>(table: &'a [u8], md: &'a [u8], config: &'a str) -> Vec<Part<'a>> {
    vec![
        Part::File {
            name: "table",
            file_name: "gespic_genus.tsv",
            bytes: table,
        },
        Part::File {
            name: "metadata",
            file_name: "gespic_metadata.tsv",
            bytes: md,
        },
        Part::Text {
            name: "config",
            value: config,
        },
    ]
}

/// Removes the run-specific input paths from a results.json (in the inputs and the
/// provenance's parameters, files and command), keeping everything computed and every checksum.
fn without_inputs(mut results: serde_json::Value) -> serde_json::Value {
    if let Some(inputs) = results.get_mut("inputs").and_then(|i| i.as_object_mut()) {
        inputs.remove("table");
        inputs.remove("metadata");
    }
    if let Some(p) = results
        .get_mut("provenance")
        .and_then(|p| p.as_object_mut())
    {
        p.remove("command");
        if let Some(parameters) = p.get_mut("parameters").and_then(|c| c.as_object_mut()) {
            parameters.remove("table");
            parameters.remove("metadata");
        }
        for file in p
            .get_mut("inputs")
            .and_then(|i| i.as_array_mut())
            .into_iter()
            .flatten()
        {
            if let Some(f) = file.as_object_mut() {
                f.remove("path");
            }
        }
    }
    results
}

/// A GESPIC job through the service gives the same results as `gutjoint analyze` with the
/// same settings (the service adds no analysis of its own); the report, results and every
/// table are served; the other key sees none of it; the log holds no key or sample id; SIGTERM
/// stops the server cleanly.
#[test]
fn gespic_job_matches_the_command_line_and_sigterm_stops_cleanly() {
    let data = temp_dir("serve-e2e");
    let key = create_key(&data, "lab-a");
    let other = create_key(&data, "lab-b");
    let server = Server::start(&data, &[]);
    let (table, md) = gespic();
    let r = server.submit(&key, &gespic_parts(&table, &md, GESPIC_CONFIG));
    assert_eq!(r.status, 202, "{}", r.text());
    let id = r.json()["id"].as_str().expect("id").to_string();
    let job = server.wait(&id, &key, &["done", "failed"], Duration::from_secs(300));
    assert_eq!(job["status"], "done", "{job}");

    // The command line on the same files and settings.
    let cli_out = data.join("cli");
    let dir = repo().join("examples/data/gespic");
    let cli = Command::new(bin())
        .arg("analyze")
        .arg(dir.join("gespic_genus.tsv"))
        .arg("--metadata")
        .arg(dir.join("gespic_metadata.tsv"))
        .args([
            "--group",
            "group",
            "--seed",
            "7",
            "--permutations",
            "99",
            "--drugs",
            "sulfasalazine",
            "--classifier",
            "none",
            "--quiet",
            "-o",
        ])
        .arg(&cli_out)
        .output()
        .expect("analyze");
    assert!(
        cli.status.success(),
        "{}",
        String::from_utf8_lossy(&cli.stderr)
    );
    let served: serde_json::Value = server
        .get(&format!("/api/v1/jobs/{id}/results"), &key)
        .json();
    let expected: serde_json::Value =
        serde_json::from_slice(&std::fs::read(cli_out.join("results.json")).expect("results"))
            .expect("json");
    assert_eq!(without_inputs(served), without_inputs(expected));

    let report = server.get(&format!("/api/v1/jobs/{id}/report"), &key);
    assert_eq!(report.status, 200);
    let html = report.text();
    for section in ["data", "composition", "alpha", "beta", "methods"] {
        assert!(
            html.contains(&format!("<section id=\"{section}\"")),
            "no {section} section"
        );
    }
    let tables: Vec<String> = job["tables"]
        .as_array()
        .expect("tables")
        .iter()
        .map(|t| t.as_str().expect("name").to_string())
        .collect();
    assert!(!tables.is_empty());
    for name in &tables {
        let served = server.get(&format!("/api/v1/jobs/{id}/tables/{name}"), &key);
        assert_eq!(served.status, 200, "{name}");
        let cli_table =
            std::fs::read(cli_out.join(format!("tables/{name}.tsv"))).expect("cli table");
        assert_eq!(
            served.body, cli_table,
            "table {name} differs from the command line's"
        );
    }

    // The other key sees nothing.
    assert_eq!(
        server.get(&format!("/api/v1/jobs/{id}"), &other).status,
        404
    );
    assert_eq!(
        server
            .get(&format!("/api/v1/jobs/{id}/results"), &other)
            .status,
        404
    );
    assert_eq!(
        server.get("/api/v1/jobs", &other).json()["jobs"],
        serde_json::json!([])
    );

    let log_path = server.log.clone();
    let status = server.terminate();
    assert!(status.success(), "SIGTERM exit: {status:?}");
    // JSON lines; one per request; no key, no sample id, no metadata value.
    let log = std::fs::read_to_string(log_path).expect("server log");
    assert!(log.lines().count() > 5);
    for line in log.lines() {
        let v: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
        assert!(v["fields"]["message"].is_string(), "{line}");
    }
    assert!(log.contains("\"request\""));
    assert!(log.contains("\"job transition\""));
    for secret in [&key[3..], &other[3..], "P119", "SRR", "Crohn", "Bearer"] {
        assert!(!log.contains(secret), "the log contains {secret}");
    }
}

/// A server killed with SIGKILL while a job runs: started again, it re-queues the job and
/// finishes it; a done job survives restarts.
#[test]
fn sigkill_mid_job_then_restart_finishes_it() {
    let data = temp_dir("serve-kill");
    let key = create_key(&data, "lab-a");
    let (table, md) = gespic();
    // Enough permutations to be caught running (a few seconds).
    let slow = r#"{"group": "group", "seed": 7, "permutations": 999, "classifier": "none"}"#;
    let mut server = Server::start(&data, &[]);
    let r = server.submit(&key, &gespic_parts(&table, &md, slow));
    assert_eq!(r.status, 202, "{}", r.text());
    let id = r.json()["id"].as_str().expect("id").to_string();
    let running = server.wait(
        &id,
        &key,
        &["running", "done", "failed"],
        Duration::from_secs(60),
    );
    assert_eq!(
        running["status"], "running",
        "caught the job running: {running}"
    );
    server.child.kill().expect("SIGKILL");
    server.child.wait().expect("reaped");
    drop(server);
    let again = Server::start(&data, &[]);
    let done = again.wait(&id, &key, &["done", "failed"], Duration::from_secs(600));
    assert_eq!(done["status"], "done", "{done}");
    assert_eq!(
        again.get(&format!("/api/v1/jobs/{id}/report"), &key).status,
        200
    );
    let status = again.terminate();
    assert!(status.success());
    // Done jobs and their files survive a restart.
    let third = Server::start(&data, &[]);
    assert_eq!(
        third.get(&format!("/api/v1/jobs/{id}"), &key).json()["status"],
        "done"
    );
    assert_eq!(
        third
            .get(&format!("/api/v1/jobs/{id}/results"), &key)
            .status,
        200
    );
}

/// Two servers (two "hosts") on one PostgreSQL database and one shared data directory: a job
/// submitted to one is seen, finished and served by the other. Needs a PostgreSQL server:
/// CI starts one and sets GUTJOINT_TEST_POSTGRES and GUTJOINT_REQUIRE_POSTGRES.
#[test]
fn two_servers_share_one_postgres_queue() {
    let Some(url) = std::env::var("GUTJOINT_TEST_POSTGRES").ok() else {
        assert!(
            std::env::var_os("GUTJOINT_REQUIRE_POSTGRES").is_none(),
            "GUTJOINT_REQUIRE_POSTGRES is set but GUTJOINT_TEST_POSTGRES is not"
        );
        eprintln!("skipped: GUTJOINT_TEST_POSTGRES is not set (no PostgreSQL server)");
        return;
    };
    let db = format!("gutjoint_cli_{}", std::process::id());
    let created = Command::new("psql")
        .arg(&url)
        .args(["-qc", &format!("CREATE DATABASE {db}")])
        .output()
        .expect("psql");
    assert!(
        created.status.success(),
        "{}",
        String::from_utf8_lossy(&created.stderr)
    );
    let db_url = gutjoint_server::store::postgres::with_database(&url, &db).expect("url");
    let data = temp_dir("serve-pg");
    let key = create_key(&data, "core-facility");
    let a = Server::start(
        &data,
        &["--database", &db_url, "--node", "host-a", "--workers", "1"],
    );
    let b = Server::start(
        &data,
        &["--database", &db_url, "--node", "host-b", "--workers", "1"],
    );
    let (table, md) = gespic();
    let mut ids = Vec::new();
    for _ in 0..3 {
        let r = a.submit(&key, &gespic_parts(&table, &md, GESPIC_CONFIG));
        assert_eq!(r.status, 202, "{}", r.text());
        ids.push(r.json()["id"].as_str().expect("id").to_string());
    }
    for id in &ids {
        let done = b.wait(id, &key, &["done", "failed"], Duration::from_secs(300));
        assert_eq!(done["status"], "done", "{done}");
        assert_eq!(
            b.get(&format!("/api/v1/jobs/{id}/report"), &key).status,
            200
        );
    }
    let listed = b.get("/api/v1/jobs", &key).json();
    assert_eq!(listed["jobs"].as_array().map(Vec::len), Some(3));
    assert!(a.terminate().success());
    assert!(b.terminate().success());
}

/// The upload page as a person uses it, in headless Chromium: type the key, choose the GESPIC
/// table and metadata, type the group column, Tab to Submit and press Enter, wait for `done`,
/// open the report, see every section rendered with its plots, no console error; a screenshot
/// is kept as target/serve-report.png (not committed).
#[test]
fn upload_page_in_headless_chromium() {
    let Some(browser) = chromium() else {
        return;
    };
    let data = temp_dir("serve-browser");
    let key = create_key(&data.join("service"), "study-nurse");
    let server = Server::start(&data.join("service"), &[]);
    let mut b = Browser::launch(browser, &data);
    let target = b.call(
        "Target.createTarget",
        serde_json::json!({"url": "about:blank"}),
    );
    let session = b.call(
        "Target.attachToTarget",
        serde_json::json!({"targetId": target["targetId"], "flatten": true}),
    );
    b.session = Some(session["sessionId"].as_str().expect("session").to_string());
    b.call("Runtime.enable", serde_json::json!({}));
    b.call("Page.enable", serde_json::json!({}));
    b.call(
        "Page.navigate",
        serde_json::json!({"url": format!("http://{}/", server.addr)}),
    );
    b.wait_for(
        "document.readyState === 'complete' && !!document.getElementById('job-form')",
        Duration::from_secs(30),
    );
    // Readable on a phone: at a 390 × 844 CSS-pixel mobile viewport (an iPhone 12/13/14's)
    // nothing is wider than the screen, so no sideways scrolling, and every control of the
    // form fits across it.
    b.call(
        "Emulation.setDeviceMetricsOverride",
        serde_json::json!({"width": 390, "height": 844, "deviceScaleFactor": 3, "mobile": true}),
    );
    let phone = b.wait_for(
        "window.innerWidth === 390 && ({page: document.documentElement.scrollWidth, \
         widest: Math.max(...Array.from(document.querySelectorAll('#job-form input, #job-form select, #job-form button, #job-form textarea')).map(e => e.getBoundingClientRect().right))})",
        Duration::from_secs(10),
    );
    assert!(
        phone["page"].as_f64().is_some_and(|w| w <= 390.0)
            && phone["widest"]
                .as_f64()
                .is_some_and(|w| w > 0.0 && w <= 390.0),
        "the upload page does not fit a 390 px phone screen: {phone}"
    );
    b.call(
        "Emulation.clearDeviceMetricsOverride",
        serde_json::json!({}),
    );
    // Typed as a person would: focus, then text.
    b.eval("document.getElementById('key').focus()");
    b.call("Input.insertText", serde_json::json!({"text": key}));
    let doc = b.call("DOM.getDocument", serde_json::json!({}));
    let root = doc["root"]["nodeId"].clone();
    let gespic = repo().join("examples/data/gespic");
    for (selector, file) in [
        ("#table", "gespic_genus.tsv"),
        ("#metadata", "gespic_metadata.tsv"),
    ] {
        let node = b.call(
            "DOM.querySelector",
            serde_json::json!({"nodeId": root, "selector": selector}),
        );
        b.call(
            "DOM.setFileInputFiles",
            serde_json::json!({"nodeId": node["nodeId"], "files": [gespic.join(file).display().to_string()]}),
        );
    }
    b.eval("document.getElementById('group').focus()");
    b.call("Input.insertText", serde_json::json!({"text": "group"}));
    b.eval("document.getElementById('seed').focus(); document.getElementById('seed').select()");
    b.call("Input.insertText", serde_json::json!({"text": "7"}));
    b.eval("document.getElementById('permutations').focus(); document.getElementById('permutations').select()");
    b.call("Input.insertText", serde_json::json!({"text": "99"}));
    // Keyboard only: Tab from the last field reaches Submit; Enter submits.
    b.key("Tab", "Tab", "");
    assert_eq!(b.eval("document.activeElement.id"), "submit");
    b.key("Enter", "Enter", "\r");
    let href = b.wait_for(
        "(document.getElementById('report-link') || {}).href || (document.getElementById('error').textContent ? 'error: ' + document.getElementById('error').textContent : null)",
        Duration::from_secs(300),
    );
    let href = href.as_str().expect("href").to_string();
    assert!(href.starts_with("blob:"), "{href}");
    assert!(
        b.eval("document.getElementById('state').textContent")
            .as_str()
            .is_some_and(|s| s.ends_with(": done."))
    );
    // The report, as the link opens it.
    // Following the link may answer "navigated" instead of `true`: both mean it was followed.
    match b.try_call(
        "Runtime.evaluate",
        serde_json::json!({"expression": "location.href = document.getElementById('report-link').href; true", "returnByValue": true}),
    ) {
        Ok(r) => assert!(r["exceptionDetails"].is_null(), "{}", r["exceptionDetails"]),
        Err(e) => assert!(is_navigating(&e), "following the report link: {e}"),
    }
    b.wait_for(
        "location.protocol === 'blob:' && document.readyState === 'complete' && !!document.querySelector('section')",
        Duration::from_secs(30),
    );
    let served = server.get(
        &format!(
            "/api/v1/jobs/{}/report",
            server.get("/api/v1/jobs", &key).json()["jobs"][0]["id"]
                .as_str()
                .expect("id")
        ),
        &key,
    );
    let source = served.text();
    let rendered = b.eval(
        "Array.from(document.querySelectorAll('section[id]')).map(s => ({id: s.id, \
         heading: !!s.querySelector('h2'), text: s.innerText.trim().length, \
         emptyPlots: Array.from(s.querySelectorAll('svg')).filter(v => !v.querySelector('rect, circle, path, line')).length}))",
    );
    let rendered = rendered.as_array().expect("sections").clone();
    let ids: Vec<&str> = rendered
        .iter()
        .map(|s| s["id"].as_str().unwrap_or(""))
        .collect();
    // Every section in the served HTML rendered, with a heading, text and drawn plots.
    let in_source = source.matches("<section id=\"").count();
    assert_eq!(ids.len(), in_source, "rendered {ids:?}");
    for must in ["data", "composition", "alpha", "beta", "methods"] {
        assert!(ids.contains(&must), "no {must} section: {ids:?}");
    }
    for s in &rendered {
        assert!(
            s["heading"] == true && s["text"].as_u64().unwrap_or(0) > 20,
            "{s}"
        );
        assert_eq!(s["emptyPlots"], 0, "{s}");
    }
    let shot = b.call(
        "Page.captureScreenshot",
        serde_json::json!({"format": "png", "captureBeyondViewport": true}),
    );
    let png = base64_decode(shot["data"].as_str().expect("png"));
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    assert!(
        png.len() > 30_000,
        "a blank screenshot: {} bytes",
        png.len()
    );
    std::fs::write(repo().join("target/serve-report.png"), &png).expect("screenshot");
    let problems: Vec<&serde_json::Value> = b
        .events
        .iter()
        .filter(|e| {
            e["method"] == "Runtime.exceptionThrown"
                || (e["method"] == "Runtime.consoleAPICalled" && e["params"]["type"] == "error")
        })
        .collect();
    assert!(problems.is_empty(), "console errors: {problems:?}");
}
