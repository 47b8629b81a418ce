//! What the tests that run the `airlock` binary share.

use std::process::ChildStderr;
use std::sync::{Arc, Mutex};

/// Reads `airlock serve`'s log until the line saying where it listens; the rest of the
/// log keeps flowing into `log`.
pub fn serving_address(stderr: ChildStderr, log: Arc<Mutex<String>>) -> String {
    use std::io::BufRead;
    let (found, address) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stderr).lines().map_while(Result::ok) {
            if let Some(rest) = line.split("address=").nth(1).filter(|_| line.contains("airlock is serving")) {
                let _ = found.send(rest.split_whitespace().next().unwrap_or_default().to_owned());
            }
            log.lock().expect("log").push_str(&(line + "\n"));
        }
    });
    address.recv_timeout(std::time::Duration::from_secs(120)).unwrap_or_default()
}
