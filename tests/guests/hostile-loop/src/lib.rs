//! Spins forever: the CPU budget must stop it and free its worker thread meanwhile.
guest_support::hostile!("hostile-loop", |content| {
    let mut n = content.len() as u64;
    loop {
        n = std::hint::black_box(n.wrapping_mul(6364136223846793005).wrapping_add(1));
    }
});
