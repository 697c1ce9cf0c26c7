//! A small blocking HTTP/1.1 client over `std::net`, for the service's loopback tests and the
//! load benchmark (so neither needs an HTTP client crate): requests with keep-alive or one
//! connection each, `Content-Length` and chunked responses, multipart bodies.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

/// A response, whole.
#[derive(Debug, Clone)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or(serde_json::Value::Null)
    }
}

/// One part of a multipart/form-data body.
#[derive(Debug, Clone)]
pub enum Part<'a> {
    File {
        name: &'a str,
        file_name: &'a str,
        bytes: &'a [u8],
    },
    Text {
        name: &'a str,
        value: &'a str,
    },
}

/// Builds a multipart/form-data body; returns its content type and bytes.
pub fn multipart(parts: &[Part<'_>]) -> (String, Vec<u8>) {
    let boundary = "gutjoint-boundary-7d3f9a21c4e8";
    let mut body = Vec::new();
    for part in parts {
        body.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
        match part {
            Part::File {
                name,
                file_name,
                bytes,
            } => {
                body.extend_from_slice(
                    format!(
                        "Content-Disposition: form-data; name=\"{name}\"; filename=\"{file_name}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
                    )
                    .as_bytes(),
                );
                body.extend_from_slice(bytes);
            }
            Part::Text { name, value } => {
                body.extend_from_slice(
                    format!("Content-Disposition: form-data; name=\"{name}\"\r\n\r\n").as_bytes(),
                );
                body.extend_from_slice(value.as_bytes());
            }
        }
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

/// A connection to one server, reused between requests (reopened when the server closed it).
#[derive(Debug)]
pub struct Client {
    addr: SocketAddr,
    stream: Option<BufReader<TcpStream>>,
    pub timeout: Duration,
}

impl Client {
    pub fn new(addr: SocketAddr) -> Client {
        Client {
            addr,
            stream: None,
            timeout: Duration::from_secs(30),
        }
    }

    /// Sends one request and reads the whole response.
    pub fn send(
        &mut self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> io::Result<Response> {
        // A kept-alive connection the server closed in the meantime fails on first use:
        // retry once on a fresh one.
        let reused = self.stream.is_some();
        match self.try_send(method, path, headers, body) {
            Ok(r) => Ok(r),
            Err(_) if reused => {
                self.stream = None;
                self.try_send(method, path, headers, body)
            }
            Err(e) => Err(e),
        }
    }

    fn try_send(
        &mut self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> io::Result<Response> {
        if self.stream.is_none() {
            let s = TcpStream::connect_timeout(&self.addr, self.timeout)?;
            s.set_read_timeout(Some(self.timeout))?;
            s.set_nodelay(true)?;
            self.stream = Some(BufReader::new(s));
        }
        let Some(reader) = self.stream.as_mut() else {
            return Err(io::Error::other("no connection"));
        };
        let mut head = format!(
            "{method} {path} HTTP/1.1\r\nHost: {}\r\nContent-Length: {}\r\n",
            self.addr,
            body.len()
        );
        for (name, value) in headers {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        head.push_str("\r\n");
        let stream = reader.get_mut();
        stream.write_all(head.as_bytes())?;
        // The server may refuse before reading the body (413, 431): a failed write of the
        // body is not yet an error, the response says why.
        let _ = stream.write_all(body);
        let response = read_response(reader)?;
        if response
            .header("connection")
            .is_some_and(|v| v.eq_ignore_ascii_case("close"))
        {
            self.stream = None;
        }
        Ok(response)
    }
}

/// One request on a fresh connection.
pub fn request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> io::Result<Response> {
    Client::new(addr).send(method, path, headers, body)
}

/// A request carrying `Authorization: Bearer key`.
pub fn authorized(addr: SocketAddr, method: &str, path: &str, key: &str) -> io::Result<Response> {
    let auth = format!("Bearer {key}");
    request(addr, method, path, &[("Authorization", &auth)], b"")
}

/// `POST /api/v1/jobs` with `key` and the multipart `parts`.
pub fn submit_job(addr: SocketAddr, key: &str, parts: &[Part<'_>]) -> io::Result<Response> {
    let (content_type, body) = multipart(parts);
    let auth = format!("Bearer {key}");
    request(
        addr,
        "POST",
        "/api/v1/jobs",
        &[("Authorization", &auth), ("Content-Type", &content_type)],
        &body,
    )
}

/// Polls job `id` until its status is one of `until`; the job's JSON, or why not.
pub fn wait_for_status(
    addr: SocketAddr,
    id: &str,
    key: &str,
    until: &[&str],
    limit: Duration,
) -> Result<serde_json::Value, String> {
    let deadline = std::time::Instant::now() + limit;
    loop {
        let r = authorized(addr, "GET", &format!("/api/v1/jobs/{id}"), key)
            .map_err(|e| e.to_string())?;
        if r.status != 200 {
            return Err(format!("status {}: {}", r.status, r.text()));
        }
        let job = r.json();
        if until.contains(&job["status"].as_str().unwrap_or("")) {
            return Ok(job);
        }
        if std::time::Instant::now() >= deadline {
            return Err(format!("job did not reach {until:?}: {job}"));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn read_response(reader: &mut BufReader<TcpStream>) -> io::Result<Response> {
    let mut line = String::new();
    if reader.read_line(&mut line)? == 0 {
        return Err(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            "the server closed the connection",
        ));
    }
    let status: u16 = line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| io::Error::other(format!("not an HTTP status line: {line:?}")))?;
    let mut headers = Vec::new();
    loop {
        line.clear();
        reader.read_line(&mut line)?;
        let l = line.trim_end();
        if l.is_empty() {
            break;
        }
        if let Some((n, v)) = l.split_once(':') {
            headers.push((n.trim().to_string(), v.trim().to_string()));
        }
    }
    let find = |name: &str| {
        headers
            .iter()
            .find(|(n, _): &&(String, String)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.clone())
    };
    let mut body = Vec::new();
    if let Some(len) = find("content-length").and_then(|v| v.parse::<usize>().ok()) {
        body.resize(len, 0);
        reader.read_exact(&mut body)?;
    } else if find("transfer-encoding").is_some_and(|v| v.eq_ignore_ascii_case("chunked")) {
        loop {
            line.clear();
            reader.read_line(&mut line)?;
            let size = usize::from_str_radix(line.trim().split(';').next().unwrap_or(""), 16)
                .map_err(|_| io::Error::other("bad chunk size"))?;
            if size == 0 {
                line.clear();
                reader.read_line(&mut line)?;
                break;
            }
            let start = body.len();
            body.resize(start + size, 0);
            reader.read_exact(&mut body[start..])?;
            line.clear();
            reader.read_line(&mut line)?;
        }
    } else if status != 204 && status != 304 {
        reader.read_to_end(&mut body)?;
    }
    Ok(Response {
        status,
        headers,
        body,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multipart_body_by_hand() {
        let (ct, body) = multipart(&[
            Part::Text {
                name: "config",
                value: "{}",
            },
            Part::File {
                name: "table",
                file_name: "t.tsv",
                bytes: b"a\tb",
            },
        ]);
        assert_eq!(
            ct,
            "multipart/form-data; boundary=gutjoint-boundary-7d3f9a21c4e8"
        );
        let text = String::from_utf8(body).expect("utf8");
        assert_eq!(
            text,
            "--gutjoint-boundary-7d3f9a21c4e8\r\nContent-Disposition: form-data; name=\"config\"\r\n\r\n{}\r\n\
             --gutjoint-boundary-7d3f9a21c4e8\r\nContent-Disposition: form-data; name=\"table\"; filename=\"t.tsv\"\r\nContent-Type: application/octet-stream\r\n\r\na\tb\r\n\
             --gutjoint-boundary-7d3f9a21c4e8--\r\n"
        );
    }
}
