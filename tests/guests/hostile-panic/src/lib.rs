//! Panics: the caller must see the guest's message, the host must not notice.
guest_support::hostile!("hostile-panic", |content| {
    panic!("hostile guest gave up on {} bytes", content.len());
});
