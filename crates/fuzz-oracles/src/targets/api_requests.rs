//! The `api_requests` target: request decoding at the API edge, against a real server.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::LazyLock;
use std::time::Duration;

use crate::Input;
use airlock::config::Config;
use airlock::server::Server;
use serde_json::{Value, json};

const MISSING_PROVIDER: &str = "fuzz-missing";
const BOUNDARY: &str = "fuzzboundary";

/// A data directory of this process's own (a store left by an older build could not be
/// opened by this one), sharing one compiled-code cache with the other runs. Directories
/// of processes that are gone are removed.
fn data_dir() -> std::path::PathBuf {
    let root = std::env::temp_dir().join("airlock-fuzz-api");
    let cache = root.join("code-cache");
    std::fs::create_dir_all(&cache).expect("creating the fuzz data directory");
    for entry in std::fs::read_dir(&root).into_iter().flatten().flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if let Some(pid) = name.strip_prefix("run-")
            && !std::path::Path::new("/proc").join(pid).exists()
        {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
    let dir = root.join(format!("run-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("creating the fuzz data directory");
    #[cfg(unix)]
    std::os::unix::fs::symlink(&cache, dir.join("code-cache")).expect("linking the code cache");
    dir
}

/// The server's configuration: a scratch data directory, a small instance pool, and
/// every bundled provider allowed no host at all.
fn config() -> Config {
    let data_dir = data_dir();
    let no_hosts = json!({ "hosts": [] });
    let mut value = json!({
        "listen": "127.0.0.1:0",
        "data_dir": data_dir,
        "shutdown_grace_secs": 1,
        "engine": { "max_instances": 64, "max_memory_mib": 64 },
        "providers": {
            "openai": no_hosts, "anthropic": no_hosts, "gemini": no_hosts, "openai-compatible": no_hosts,
        },
        // Newer hosts have a control-plane listener: keep it off fixed ports.
        "gateway": { "admin_listen": "127.0.0.1:0", "anonymous": true },
    });
    match serde_json::from_value(value.clone()) {
        Ok(config) => config,
        Err(_) => {
            value.as_object_mut().expect("an object").remove("gateway");
            serde_json::from_value(value).expect("the fuzz server's configuration is valid")
        }
    }
}

/// The server's address; it runs on its own thread for the whole fuzzing session.
static SERVER: LazyLock<SocketAddr> = LazyLock::new(|| {
    let (sender, receiver) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("a tokio runtime");
        runtime.block_on(async {
            let server = Server::bind(&config()).await.expect("the fuzz server starts");
            sender.send(server.local_addr().expect("a local address")).expect("the fuzzer waits");
            server.run(std::future::pending()).await.expect("the fuzz server runs");
        });
    });
    receiver.recv_timeout(Duration::from_secs(600)).expect("the fuzz server started")
});

/// Renames every provider a JSON generation body names to one that is not loaded.
fn without_providers(body: &[u8]) -> Option<Vec<u8>> {
    let mut value: Value = serde_json::from_slice(body).ok()?;
    let object = value.as_object_mut()?;
    let mut changed = false;
    if let Some(provider) = object.get_mut("provider").filter(|p| p.is_string()) {
        *provider = json!(MISSING_PROVIDER);
        changed = true;
    }
    if let Some(Value::Array(models)) = object.get_mut("variant_models") {
        for model in models.iter_mut().filter_map(Value::as_object_mut) {
            if model.get("provider").is_some_and(Value::is_string) {
                model.insert("provider".into(), json!(MISSING_PROVIDER));
                changed = true;
            }
        }
    }
    changed.then(|| serde_json::to_vec(&value).expect("a JSON value serializes"))
}

struct Response {
    status: u16,
    head: String,
    body: Vec<u8>,
}

fn send(path: &str, content_type: &str, body: &[u8]) -> Response {
    let mut stream = TcpStream::connect(*SERVER).expect("connecting to the fuzz server");
    // A hang is a finding: a generation that cannot reach its upstream must end quickly.
    stream.set_read_timeout(Some(Duration::from_secs(60))).expect("a read timeout");
    let head = format!(
        "POST {path} HTTP/1.1\r\nhost: fuzz\r\ncontent-type: {content_type}\r\ncontent-length: {}\r\n\
         connection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).and_then(|()| stream.write_all(body)).expect("sending the request");
    let mut answer = Vec::new();
    if let Err(error) = stream.read_to_end(&mut answer) {
        panic!("no complete answer to {path}: {error} (after {} bytes)", answer.len());
    }
    let split = answer.windows(4).position(|w| w == b"\r\n\r\n").expect("a response head");
    let head = String::from_utf8_lossy(&answer[..split]).into_owned();
    let status = head.split(' ').nth(1).and_then(|s| s.parse().ok()).expect("a status code");
    Response { status, head, body: answer[split + 4..].to_vec() }
}

fn check(path: &str, body: &[u8], response: &Response) {
    let shown = String::from_utf8_lossy(body);
    assert!(response.status != 500, "500 for {path} with {shown:?}: {}", String::from_utf8_lossy(&response.body));
    if response.status < 400 {
        return;
    }
    // Errors are small JSON documents with a content-length, never chunked.
    assert!(!response.head.to_ascii_lowercase().contains("chunked"), "{}", response.head);
    let error: Value = serde_json::from_slice(&response.body).unwrap_or_else(|e| {
        panic!("{} for {path} is not JSON ({e}): {:?}", response.status, String::from_utf8_lossy(&response.body))
    });
    let fields = &error["error"];
    for field in ["type", "message", "request_id"] {
        assert!(fields[field].is_string(), "error without `{field}`: {error} for {shown:?}");
    }
    let message = fields["message"].as_str().unwrap_or_default();
    for internal in ["wasmtime", "panicked", "/src/", "RUST_BACKTRACE"] {
        // Errors may quote the request (an unknown field, a bad value): only what the
        // request did not say is a leak.
        let quoted = body.windows(internal.len()).any(|w| w == internal.as_bytes());
        assert!(quoted || !message.contains(internal), "an internal detail ({internal}) in an error: {message}");
    }
    // A source location (`file.rs:123`); a JSON path such as `messages[0].rs: unknown
    // field` quotes the request and is no leak.
    let source_location = message.match_indices(".rs:").any(|(at, _)| {
        message[at + 4..].starts_with(|c: char| c.is_ascii_digit())
            && message[..at].ends_with(|c: char| c.is_ascii_alphanumeric() || c == '_')
    });
    assert!(!source_location, "a source location in an error: {message}");
}

/// Request decoding at the API edge: bodies of `POST /v1/generations` (JSON and
/// multipart: images base64-decoded and checked, stack, variants, update), of
/// `POST /v1/providers/{name}/generate` (the messages and image parts that become the
/// provider world's WIT request) and of `POST /v1/sanitize` (which crosses the WIT
/// boundary into the bundled sanitizer components).
///
/// The target starts a real server (`airlock::server::Server`, every bundled plugin,
/// egress denied to every provider so nothing ever leaves the machine) on a loopback
/// port once, then sends each input as one request body over HTTP/1.1.
///
/// Oracles: no 500 and no hang; every error is the API's JSON error shape
/// (`{"error": {"type", "message", "request_id"}}`) and names nothing internal.
///
/// Flag bits 0-1 pick the route and encoding. JSON bodies that name a provider have
/// it renamed to one that is not loaded (so a valid body ends in a 400 after every
/// check ran, instead of starting a generation); multipart bodies are sent as they
/// are, and a generation they start fails at the egress gate and is read to its end.
pub fn api_requests(data: &[u8]) {
    let input = Input::new(data);
    let body = input.payload;
    let (path, content_type, body) = match input.flags & 3 {
        0 => {
            let renamed = without_providers(body);
            ("/v1/generations", "application/json".to_owned(), renamed.unwrap_or_else(|| body.to_vec()))
        }
        1 => ("/v1/generations", format!("multipart/form-data; boundary={BOUNDARY}"), body.to_vec()),
        2 => ("/v1/providers/fuzz-missing/generate", "application/json".to_owned(), body.to_vec()),
        _ => ("/v1/sanitize", "application/json".to_owned(), body.to_vec()),
    };
    let response = send(path, &content_type, &body);
    check(path, &body, &response);
}
