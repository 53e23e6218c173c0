//! A running `quire serve` on a fixture site, and an HTTP client that keeps
//! cookies, for API tests over a real socket.

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;

use super::Site;

/// Passwords of the test users (long enough, not common).
pub const ADMIN_PASSWORD: &str = "admin pass phrase 1";
pub const BOB_PASSWORD: &str = "bob pass phrase 22";
pub const CAROL_PASSWORD: &str = "carol pass phrase 333";

/// `quire serve --bind 127.0.0.1:0` on a site, killed on drop.
pub struct Server {
    child: Child,
    pub url: String,
    pub site: Site,
    log: Arc<Mutex<String>>,
}

impl Server {
    /// The basic fixture with users `ada` (admin), `bob` and `carol` (authors).
    pub fn start() -> Self {
        Self::start_with(Site::fixture("basic"), "")
    }

    /// `site` with the three users and `server_config` lines in `[server]`.
    pub fn start_with(site: Site, server_config: &str) -> Self {
        if !server_config.is_empty() {
            let config = site.read("config.toml");
            site.write(
                "config.toml",
                format!("{config}\n[server]\n{server_config}\n"),
            );
        }
        for (name, role, password) in [
            ("ada", "admin", ADMIN_PASSWORD),
            ("bob", "author", BOB_PASSWORD),
            ("carol", "author", CAROL_PASSWORD),
        ] {
            add_user(&site, name, role, password);
        }
        Self::launch(site)
    }

    /// Starts the server on `site` as it is, on loopback.
    pub fn launch(site: Site) -> Self {
        Self::launch_on(site, "127.0.0.1:0")
    }

    /// Starts the server on `site` as it is, listening on `bind`.
    pub fn launch_on(site: Site, bind: &str) -> Self {
        Self::launch_with(site, &["--bind", bind])
    }

    /// Starts `quire serve ARGS` on `site` as it is (ARGS must bind).
    pub fn launch_with(site: Site, args: &[&str]) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_quire"))
            .arg("serve")
            .args(args)
            .current_dir(site.root())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start quire serve");
        let stderr = child.stderr.take().unwrap();
        let log = Arc::new(Mutex::new(String::new()));
        let (tx, rx) = std::sync::mpsc::channel();
        let sink = log.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                if let Some(rest) = line.strip_prefix("quire is serving ") {
                    let url = rest.split('/').take(3).collect::<Vec<_>>().join("/");
                    let url = url.replace("//localhost:", "//127.0.0.1:");
                    let _ = tx.send(url);
                }
                let mut log = sink.lock().unwrap();
                log.push_str(&line);
                log.push('\n');
            }
        });
        let url = rx
            .recv_timeout(Duration::from_secs(60))
            .unwrap_or_else(|_| panic!("the server did not start:\n{}", log.lock().unwrap()));
        Self {
            child,
            url,
            site,
            log,
        }
    }

    /// Everything the server logged so far.
    /// The server's process id (for reading its memory use).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn log(&self) -> String {
        self.log.lock().unwrap().clone()
    }

    /// A fresh client with an empty cookie jar.
    pub fn client(&self) -> Client {
        Client::new(&self.url)
    }

    /// A client logged in as `user` (CSRF token remembered).
    pub fn login(&self, user: &str) -> Client {
        let password = match user {
            "ada" => ADMIN_PASSWORD,
            "bob" => BOB_PASSWORD,
            "carol" => CAROL_PASSWORD,
            other => panic!("no test password for {other}"),
        };
        let mut client = self.client();
        let response = client.post_json(
            "/api/v1/session",
            &serde_json::json!({ "username": user, "password": password }),
        );
        response.assert_status(200);
        client.csrf = Some(response.json["csrf_token"].as_str().unwrap().to_string());
        client
    }

    /// Sends SIGTERM and waits for a clean exit.
    pub fn stop(mut self) -> std::process::ExitStatus {
        let pid = self.child.id().to_string();
        Command::new("kill").args(["-TERM", &pid]).status().unwrap();
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "the server did not stop on SIGTERM"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `quire user add NAME --role ROLE --password-stdin` in `site`.
pub fn add_user(site: &Site, name: &str, role: &str, password: &str) {
    let args = ["user", "add", name, "--role", role, "--password-stdin"];
    let run = super::run_quire_with_stdin(site.root(), &args, &format!("{password}\n"));
    assert!(run.code == 0, "user add {name}: {}", run.stderr);
}

/// An HTTP response, read whole.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub text: String,
    pub json: Value,
}

impl Reply {
    #[track_caller]
    pub fn assert_status(&self, status: u16) -> &Self {
        assert_eq!(
            self.status, status,
            "unexpected status; body: {}",
            self.text
        );
        self
    }

    /// Asserts the error envelope's status, code and message.
    #[track_caller]
    pub fn assert_error(&self, status: u16, code: &str, message: &str) -> &Self {
        self.assert_status(status);
        assert_eq!(self.json["error"]["code"], code, "body: {}", self.text);
        assert_eq!(
            self.json["error"]["message"], message,
            "body: {}",
            self.text
        );
        self
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// A cookie-keeping client bound to one server.
pub struct Client {
    agent: ureq::Agent,
    base: String,
    /// Sent as `X-CSRF-Token` on unsafe requests when set.
    pub csrf: Option<String>,
}

impl Client {
    pub fn new(base: &str) -> Self {
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .max_redirects(0)
            .timeout_global(Some(Duration::from_secs(60)))
            .build()
            .new_agent();
        Self {
            agent,
            base: base.to_string(),
            csrf: None,
        }
    }

    /// The session cookie's value, if any.
    pub fn session_cookie(&self) -> Option<String> {
        let jar = self.agent.cookie_jar_lock();
        let cookie = jar
            .iter()
            .find(|c| c.name() == "quire")
            .map(|c| c.value().to_string());
        jar.release();
        cookie
    }

    /// Replaces the session cookie (to replay an old one).
    pub fn set_session_cookie(&self, value: &str) {
        let mut jar = self.agent.cookie_jar_lock();
        let uri: ureq::http::Uri = self.base.parse().unwrap();
        let cookie = ureq::Cookie::parse(format!("quire={value}; Path=/"), &uri).unwrap();
        jar.insert(cookie, &uri).unwrap();
        jar.release();
    }

    fn finish(response: Result<ureq::http::Response<ureq::Body>, ureq::Error>) -> Reply {
        let mut response = response.expect("request failed");
        let status = response.status().as_u16();
        let headers = response
            .headers()
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or("").to_string()))
            .collect();
        let text = response
            .body_mut()
            .with_config()
            .limit(64 * 1024 * 1024)
            .read_to_string()
            .unwrap_or_default();
        let json = serde_json::from_str(&text).unwrap_or(Value::Null);
        Reply {
            status,
            headers,
            text,
            json,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub fn get(&self, path: &str) -> Reply {
        Self::finish(self.agent.get(&self.url(path)).call())
    }

    /// A GET whose body is binary: status, `Content-Type` and bytes.
    pub fn get_bytes(&self, path: &str) -> (u16, String, Vec<u8>) {
        let mut response = self
            .agent
            .get(&self.url(path))
            .call()
            .expect("request failed");
        let content_type = response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        let bytes = response
            .body_mut()
            .with_config()
            .limit(64 * 1024 * 1024)
            .read_to_vec()
            .unwrap_or_default();
        (response.status().as_u16(), content_type, bytes)
    }

    /// A GET with extra headers (such as `Host` or `X-Forwarded-For`).
    pub fn get_with(&self, path: &str, headers: &[(&str, &str)]) -> Reply {
        let mut request = ureq::http::Request::builder()
            .method("GET")
            .uri(self.url(path));
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        Self::finish(self.agent.run(request.body(()).unwrap()))
    }

    /// A request with a body, the CSRF header and optional extra headers.
    pub fn send(
        &self,
        method: &str,
        path: &str,
        content_type: Option<&str>,
        body: &[u8],
        headers: &[(&str, &str)],
    ) -> Reply {
        let mut request = ureq::http::Request::builder()
            .method(method)
            .uri(self.url(path));
        if let Some(token) = &self.csrf {
            request = request.header("X-CSRF-Token", token);
        }
        if let Some(content_type) = content_type {
            request = request.header("Content-Type", content_type);
        }
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let request = request.body(body.to_vec()).unwrap();
        Self::finish(self.agent.run(request))
    }

    pub fn post_json(&self, path: &str, body: &Value) -> Reply {
        self.send(
            "POST",
            path,
            Some("application/json"),
            body.to_string().as_bytes(),
            &[],
        )
    }

    pub fn put_json(&self, path: &str, body: &Value, if_match: Option<&str>) -> Reply {
        let headers: Vec<(&str, &str)> = if_match.map(|r| ("If-Match", r)).into_iter().collect();
        self.send(
            "PUT",
            path,
            Some("application/json"),
            body.to_string().as_bytes(),
            &headers,
        )
    }

    pub fn patch_json(&self, path: &str, body: &Value) -> Reply {
        self.send(
            "PATCH",
            path,
            Some("application/json"),
            body.to_string().as_bytes(),
            &[],
        )
    }

    pub fn delete(&self, path: &str) -> Reply {
        self.send("DELETE", path, None, b"", &[])
    }

    /// An HTML form post (urlencoded), without the CSRF header.
    pub fn post_form(&self, path: &str, fields: &[(&str, &str)]) -> Reply {
        let body: String = fields
            .iter()
            .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
            .collect::<Vec<_>>()
            .join("&");
        let request = ureq::http::Request::builder()
            .method("POST")
            .uri(self.url(path))
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(body.into_bytes())
            .unwrap();
        Self::finish(self.agent.run(request))
    }

    /// Logs in through the HTML form, as a browser would.
    pub fn form_login(&self, user: &str, password: &str) -> Reply {
        let page = self.get("/admin/login");
        let token = csrf_in(&page.text);
        self.post_form(
            "/admin/login",
            &[
                ("username", user),
                ("password", password),
                ("csrf_token", &token),
                ("next", "/admin/"),
            ],
        )
    }

    /// Sends only a request head announcing `length` bytes of body (with
    /// the session cookie and CSRF token) and reads the response: for limits
    /// that must hold before the body is read.
    pub fn announce_body(
        &self,
        method: &str,
        path: &str,
        content_type: &str,
        length: usize,
    ) -> Reply {
        use std::io::Read;
        let address = self.base.trim_start_matches("http://");
        let mut stream = std::net::TcpStream::connect(address).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .unwrap();
        let head = self.raw_head(
            method,
            path,
            &format!(
                "Content-Type: {content_type}\r\nContent-Length: {length}\r\nConnection: close\r\n"
            ),
        );
        stream.write_all(head.as_bytes()).unwrap();
        let mut raw = Vec::new();
        let _ = stream.read_to_end(&mut raw);
        let text = String::from_utf8_lossy(&raw).into_owned();
        let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
        let status = head
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| panic!("no response: {text}"));
        let headers = head
            .lines()
            .skip(1)
            .filter_map(|l| l.split_once(": "))
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let body = if head
            .to_ascii_lowercase()
            .contains("transfer-encoding: chunked")
        {
            body.split("\r\n").nth(1).unwrap_or("").to_string()
        } else {
            body.to_string()
        };
        Reply {
            status,
            headers,
            json: serde_json::from_str(&body).unwrap_or(Value::Null),
            text: body,
        }
    }

    /// A request head with the session cookie and CSRF token, for raw
    /// socket tests.
    fn raw_head(&self, method: &str, path: &str, extra: &str) -> String {
        let address = self.base.trim_start_matches("http://");
        let mut head = format!("{method} {path} HTTP/1.1\r\nHost: {address}\r\n{extra}");
        if let Some(cookie) = self.session_cookie() {
            head.push_str(&format!("Cookie: quire={cookie}\r\n"));
        }
        if let Some(token) = &self.csrf {
            head.push_str(&format!("X-CSRF-Token: {token}\r\n"));
        }
        head.push_str("\r\n");
        head
    }

    /// Sends a request whose body follows its head only after `delay`
    /// (as a slow client or network would), reads the response, then sends
    /// `GET /api/v1/me` on the same connection. Returns both statuses; the
    /// second is 0 when the server had closed the connection.
    pub fn late_body_then_reuse(
        &self,
        method: &str,
        path: &str,
        body: &[u8],
        delay: Duration,
    ) -> (u16, u16) {
        use std::io::Read;
        let address = self.base.trim_start_matches("http://");
        let stream = std::net::TcpStream::connect(address).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .unwrap();
        let mut writer = stream.try_clone().unwrap();
        let head = self.raw_head(
            method,
            path,
            &format!(
                "Content-Type: application/json\r\nContent-Length: {}\r\n",
                body.len()
            ),
        );
        writer.write_all(head.as_bytes()).unwrap();
        std::thread::sleep(delay);
        writer.write_all(body).unwrap();
        let mut reader = BufReader::new(stream);
        let mut length = 0;
        let mut first = 0;
        loop {
            let mut line = String::new();
            reader.read_line(&mut line).unwrap();
            if first == 0 {
                first = line
                    .split(' ')
                    .nth(1)
                    .and_then(|s| s.parse().ok())
                    .unwrap_or(0);
            }
            if let Some((name, value)) = line.trim_end().split_once(": ")
                && name.eq_ignore_ascii_case("content-length")
            {
                length = value.parse().unwrap();
            }
            if line == "\r\n" || line.is_empty() {
                break;
            }
        }
        let mut rest = vec![0; length];
        reader.read_exact(&mut rest).unwrap();
        // The server may have closed its end; a failed write shows as 0.
        let again = self.raw_head("GET", "/api/v1/me", "Connection: close\r\n");
        if writer.write_all(again.as_bytes()).is_err() {
            return (first, 0);
        }
        let mut raw = String::new();
        let _ = reader.read_to_string(&mut raw);
        let second = raw
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        (first, second)
    }

    /// A multipart upload with one `file` field.
    pub fn upload(&self, method: &str, path: &str, file_name: &str, bytes: &[u8]) -> Reply {
        let boundary = "quire-test-boundary-7d3f";
        let mut body = Vec::new();
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{file_name}\"\r\nContent-Type: image/jpeg\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(bytes);
        body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
        self.send(
            method,
            path,
            Some(&format!("multipart/form-data; boundary={boundary}")),
            &body,
            &[],
        )
    }
}

/// The CSRF token a page carries in its `<meta name="csrf-token">`.
pub fn csrf_in(html: &str) -> String {
    html.split("name=\"csrf-token\" content=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap_or_else(|| panic!("no CSRF token in the page:\n{html}"))
        .to_string()
}

/// Percent-encodes a form value.
fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}
