//! Connects to the cloud metadata address: std's `net` makes the component import
//! `wasi:sockets`, which must get it refused at load.
use std::io::Read;

guest_support::hostile!("hostile-sockets", |_| {
    let mut answer = String::new();
    std::net::TcpStream::connect("169.254.169.254:80")
        .and_then(|mut stream| stream.read_to_string(&mut answer))
        .map_err(|error| guest_support::airlock_pdk::sanitizer::PluginError::Internal(error.to_string()))?;
    Ok(answer)
});
