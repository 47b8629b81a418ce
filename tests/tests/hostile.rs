//! Hostile guests against the sandbox: each must fail its own call with a clear error,
//! within its budget, while calls running alongside succeed.

use std::collections::BTreeMap;
use std::sync::Arc;

use airlock::runtime::{
    CallError, EngineConfig, Failure, LimitExceeded, Limits, LoadError, LoadedPlugin, PluginSettings, Runtime,
    SanitizeRequest, SanitizerPlugin, Stage, Verdict,
};
use airlock_tests::guests;

/// Tight limits so the tests run fast; the defaults are larger.
const TEST_LIMITS: Limits = Limits { memory_mib: 32, cpu_ms: 300, wall_ms: 10_000, output_mib: 16, log_kib: 16 };

fn runtime() -> Runtime {
    Runtime::new(&EngineConfig::default(), None).expect("runtime")
}

async fn load(runtime: &Runtime, path: &str, limits: Limits) -> Result<LoadedPlugin, LoadError> {
    let bytes = std::fs::read(path).expect("guest component");
    runtime.load(&bytes, path, |_: &str| PluginSettings { limits, options: BTreeMap::new() }).await
}

async fn sanitizer(runtime: &Runtime, path: &str) -> Arc<SanitizerPlugin> {
    load(runtime, path, TEST_LIMITS).await.expect("guest loads").sanitizer().expect("a sanitizer").clone()
}

fn request() -> SanitizeRequest {
    SanitizeRequest { stage: Stage::Output, content_type: "text/plain".into(), options: BTreeMap::new() }
}

async fn failure_of(plugin: &SanitizerPlugin) -> CallError {
    plugin.sanitize("hello", &request()).await.expect_err("the hostile call must fail")
}

/// Runs `hostile` while 20 calls to the no-op guest run alongside; all of those must pass.
async fn contained(runtime: &Runtime, hostile: &str) -> CallError {
    let hostile = sanitizer(runtime, hostile).await;
    let noop = sanitizer(runtime, guests::NOOP).await;
    let bystanders = async {
        let mut passed = 0;
        for _ in 0..20 {
            let verdict = noop.sanitize("bystander", &request()).await.expect("a bystander call fails");
            assert_eq!(verdict, Verdict::Pass);
            passed += 1;
            tokio::task::yield_now().await;
        }
        passed
    };
    let (error, passed) = tokio::join!(failure_of(&hostile), bystanders);
    assert_eq!(passed, 20);
    // The host is unharmed: the same plugin serves (and fails) again, the bystander too.
    assert_eq!(failure_of(&hostile).await.failure, error.failure);
    assert_eq!(noop.sanitize("after", &request()).await.expect("noop after"), Verdict::Pass);
    error
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn infinite_loop_is_stopped_at_its_cpu_budget() {
    let error = contained(&runtime(), guests::HOSTILE_LOOP).await;
    assert_eq!(error.failure, Failure::Limit(LimitExceeded::Cpu { limit_ms: 300 }));
    assert_eq!(error.to_string(), "plugin `hostile-loop` exceeded its CPU budget of 300 ms");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn memory_bomb_is_stopped_at_its_memory_cap() {
    let error = contained(&runtime(), guests::HOSTILE_MEMORY_BOMB).await;
    assert_eq!(error.failure, Failure::Limit(LimitExceeded::Memory { limit_mib: 32 }));
    assert_eq!(error.to_string(), "plugin `hostile-memory-bomb` exceeded its memory limit of 32 MiB");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn panic_fails_the_call_with_the_guest_message() {
    let error = contained(&runtime(), guests::HOSTILE_PANIC).await;
    assert_eq!(error.failure, Failure::Panic("hostile guest gave up on 5 bytes".into()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trap_fails_the_call() {
    let error = contained(&runtime(), guests::HOSTILE_TRAP).await;
    let Failure::Trap(message) = &error.failure else { panic!("expected a trap, got {error}") };
    assert!(message.contains("unreachable"), "{message}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stack_overflow_fails_the_call() {
    let error = contained(&runtime(), guests::HOSTILE_STACK_OVERFLOW).await;
    assert_eq!(error.failure, Failure::StackOverflow);
    assert_eq!(error.to_string(), "plugin `hostile-stack-overflow` overflowed its stack");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn giant_output_is_refused_and_its_log_flood_dropped() {
    let runtime = runtime();
    let limits = Limits { memory_mib: 64, cpu_ms: 5_000, ..TEST_LIMITS };
    let plugin = load(&runtime, guests::HOSTILE_GIANT_OUTPUT, limits)
        .await
        .expect("loads")
        .sanitizer()
        .expect("a sanitizer")
        .clone();
    let error = failure_of(&plugin).await;
    assert_eq!(error.failure, Failure::OutputTooLarge { size: 24 << 20, limit: 16 << 20 });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn streaming_calls_are_bounded_too() {
    let runtime = runtime();
    let hostile = sanitizer(&runtime, guests::HOSTILE_LOOP).await;
    let mut session = hostile.session(&request()).await.expect("the session opens");
    let error = session.push("chunk").await.expect_err("the push must fail");
    assert_eq!(error.failure, Failure::Limit(LimitExceeded::Cpu { limit_ms: 300 }));

    let noop = sanitizer(&runtime, guests::NOOP).await;
    let mut session = noop.session(&request()).await.expect("the session opens");
    assert_eq!(session.push("a").await.expect("push"), "a");
    assert_eq!(session.push("b").await.expect("push"), "b");
    assert_eq!(session.finish().await.expect("finish").tail, "");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn environment_arguments_and_stdin_are_empty() {
    // SAFETY: this test binary's other tests do not read the environment concurrently.
    unsafe { std::env::set_var("OPENAI_API_KEY", "sk-host-secret-that-must-not-leak-000000") };
    let plugin = sanitizer(&runtime(), guests::HOSTILE_ENVIRONMENT).await;
    let Verdict::Rewritten { text, .. } = plugin.sanitize("x", &request()).await.expect("call") else {
        panic!("the guest reports what it saw")
    };
    assert_eq!(text, "variables=\narguments=\nstdin=\"\" (0)\n");
}

/// Asserts that loading `guest` is refused with an error naming each of `imports`.
async fn refused_naming(guest: &str, imports: &[&str]) {
    let error = load(&runtime(), guest, TEST_LIMITS).await.err().expect("the component must be refused");
    let LoadError::World(world_error) = &error else { panic!("refused for the wrong reason: {error}") };
    let message = world_error.to_string();
    for import in imports {
        assert!(message.contains(import), "`{import}` not named in: {message}");
    }
}

#[tokio::test]
async fn filesystem_import_is_refused_at_load() {
    refused_naming(guests::HOSTILE_FILESYSTEM, &["wasi:filesystem/types", "wasi:filesystem/preopens"]).await;
}

#[tokio::test]
async fn sockets_import_is_refused_at_load() {
    refused_naming(guests::HOSTILE_SOCKETS, &["wasi:sockets/tcp", "wasi:sockets/ip-name-lookup"]).await;
}

#[tokio::test]
async fn http_and_unknown_imports_are_refused_for_a_sanitizer() {
    refused_naming(guests::HOSTILE_FORBIDDEN_IMPORTS, &["wasi:http/outgoing-handler", "evil:host/keys"]).await;
}
