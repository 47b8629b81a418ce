//! Reads a host file: std's `fs` makes the component import `wasi:filesystem`, which
//! must get it refused at load.
guest_support::hostile!("hostile-filesystem", |_| {
    std::fs::read_to_string("/etc/passwd").map_err(|error| airlock_pdk_error(error.to_string()))
});

fn airlock_pdk_error(message: String) -> guest_support::airlock_pdk::sanitizer::PluginError {
    guest_support::airlock_pdk::sanitizer::PluginError::Internal(message)
}
