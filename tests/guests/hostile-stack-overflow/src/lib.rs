//! Recurses without end on the wasm stack (scalar arguments only, so no frame lives in
//! linear memory): the engine's stack limit must trap it.
fn descend(n: u64) -> u64 {
    if n == 3 {
        return n;
    }
    (descend(n.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407)).wrapping_mul(n)) ^ (n >> 7)
}

guest_support::hostile!("hostile-stack-overflow", |content| Ok(descend(content.len() as u64 + 11).to_string()));
