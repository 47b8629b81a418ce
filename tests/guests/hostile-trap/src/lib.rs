//! Executes `unreachable` without printing anything first.
guest_support::hostile!("hostile-trap", |_| {
    #[cfg(target_arch = "wasm32")]
    core::arch::wasm32::unreachable();
    #[cfg(not(target_arch = "wasm32"))]
    unreachable!("built for wasm32 only");
});
