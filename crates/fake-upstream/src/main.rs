//! `airlock-fake-upstream [KEY]`: the fake OpenAI API over plain HTTP on a free port of
//! 127.0.0.1, for scripts that run the real server against it (e.g.
//! `scripts/schemathesis.sh`). Prints `listening on 127.0.0.1:PORT`, then serves until
//! it is interrupted or terminated.

use airlock_fake_upstream::{FakeUpstream, Vendor};

#[tokio::main]
async fn main() {
    let key = std::env::args().nth(1).unwrap_or_else(|| "sk-fake-upstream".to_owned()); // pragma: allowlist secret
    let upstream = FakeUpstream::start(Vendor::OpenAi, &key, None).await;
    println!("listening on {}", upstream.addr());
    let _ = tokio::signal::ctrl_c().await;
}
