//! Allocates until something stops it: the memory cap must, with a clear error.
guest_support::hostile!("hostile-memory-bomb", |_| {
    let mut hoard: Vec<Vec<u8>> = Vec::new();
    loop {
        hoard.push(vec![1u8; 1 << 20]);
        std::hint::black_box(&hoard);
    }
});
