//! Floods its log and returns 24 MiB: the log sink must drop the flood and the host must
//! refuse the output (over the 16 MiB output limit, under the memory cap).
guest_support::hostile!("hostile-giant-output", |_| {
    for line in 0..100_000 {
        println!("flooding the host log, line {line}");
    }
    Ok("A".repeat(24 << 20))
});
