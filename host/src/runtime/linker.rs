//! The per-world linkers and the state each call's `Store` carries.
//!
//! A linker defines exactly the imports its world allows (see `world.rs`), so a
//! component cannot link against anything else even if it slipped past the check.
//! The WASI interfaces a Rust guest's std needs are served from a [`WasiCtx`] built with
//! no authority: no environment variables, no arguments, no stdin, no preopened
//! directories; stdout and stderr go to the plugin's [`CallLog`].
//! A provider's linker adds `wasi:http`, whose every outgoing request is handed to the
//! store's egress hooks ([`CallHooks`]); a store built without hooks refuses them all.

use wasmtime::component::{HasData, Linker, ResourceTable};
use wasmtime::{Engine, Store, UpdateDeadline};
use wasmtime_wasi::cli::{WasiCli, WasiCliView};
use wasmtime_wasi::clocks::{WasiClocks, WasiClocksView};
use wasmtime_wasi::random::{WasiRandom, WasiRandomView};
use wasmtime_wasi::{WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView};

use wasmtime_wasi_http::{WasiHttpCtx, WasiHttpCtxView, WasiHttpHooks, WasiHttpView};

use super::egress::CallHooks;
use super::engine::EPOCH_TICK;
use super::guest_log::CallLog;
use super::limits::{GuestLimiter, LimitExceeded, Limits};

/// Everything one call's store holds.
pub struct GuestState {
    /// Built on the guest's first WASI call: guests that import no WASI (the bundled
    /// plugins) never pay for it.
    wasi: Option<WasiCtx>,
    log: CallLog,
    table: ResourceTable,
    limiter: GuestLimiter,
    cpu_ticks: u64,
    http: HttpState,
}

/// `wasi:http` state: the context and the egress hooks (none for a sanitizer).
struct HttpState {
    ctx: WasiHttpCtx,
    hooks: Result<CallHooks, NoEgress>,
}

/// The hooks of a store that may not send anything.
struct NoEgress;

impl WasiHttpHooks for NoEgress {
    fn send_request(
        &mut self,
        _request: http::Request<wasmtime_wasi_http::WasiBody>,
        _options: Option<wasmtime_wasi_http::RequestOptions>,
        _fut: Box<dyn Future<Output = Result<(), wasmtime_wasi_http::Error>> + Send>,
    ) -> Box<
        dyn Future<
                Output = Result<
                    (
                        http::Response<wasmtime_wasi_http::WasiBody>,
                        Box<dyn Future<Output = Result<(), wasmtime_wasi_http::Error>> + Send>,
                    ),
                    wasmtime_wasi_http::Error,
                >,
            > + Send,
    > {
        Box::new(async { Err(wasmtime_wasi_http::Error::HttpRequestDenied) })
    }
}

impl GuestState {
    /// The egress hooks of this store, if it has any.
    pub fn http_hooks(&self) -> Option<&CallHooks> {
        self.http.hooks.as_ref().ok()
    }
}

impl WasiHttpView for GuestState {
    fn http(&mut self) -> WasiHttpCtxView<'_> {
        let hooks: &mut dyn WasiHttpHooks = match &mut self.http.hooks {
            Ok(hooks) => hooks,
            Err(none) => none,
        };
        WasiHttpCtxView { ctx: &mut self.http.ctx, table: &mut self.table, hooks }
    }
}

impl WasiView for GuestState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        let log = &self.log;
        let wasi =
            self.wasi.get_or_insert_with(|| WasiCtxBuilder::new().stdout(log.stdout()).stderr(log.stderr()).build());
        WasiCtxView { ctx: wasi, table: &mut self.table }
    }
}

/// A fresh store for one call (or one stream) under `limits`, logging to `log`, sending
/// HTTP through `hooks` (none: every request is refused).
///
/// The CPU budget is metered by the epoch callback: every tick the guest is running it
/// yields its worker thread, and past the budget it traps with [`LimitExceeded::Cpu`].
pub fn new_store(engine: &Engine, limits: &Limits, log: &CallLog, hooks: Option<CallHooks>) -> Store<GuestState> {
    let state = GuestState {
        wasi: None,
        log: log.clone(),
        table: ResourceTable::new(),
        limiter: GuestLimiter::new(limits),
        cpu_ticks: 0,
        http: HttpState { ctx: WasiHttpCtx::new(), hooks: hooks.ok_or(NoEgress) },
    };
    let mut store = Store::new(engine, state);
    store.limiter(|state| &mut state.limiter);
    let limit_ms = limits.cpu_ms;
    let budget_ticks = (u128::from(limit_ms) * 1000 / EPOCH_TICK.as_micros().max(1)).max(1);
    store.set_epoch_deadline(1);
    store.epoch_deadline_callback(move |mut context| {
        let used = &mut context.data_mut().cpu_ticks;
        *used += 1;
        if u128::from(*used) > budget_ticks {
            Err(wasmtime::Error::new(LimitExceeded::Cpu { limit_ms }))
        } else {
            Ok(UpdateDeadline::Yield(1))
        }
    });
    store
}

/// Gives the next call on a long-lived store (a stream's `push`) a fresh CPU budget.
pub fn reset_cpu_budget(store: &mut Store<GuestState>) {
    store.data_mut().cpu_ticks = 0;
    store.set_epoch_deadline(1);
}

/// The linker for the `sanitizer` world: std's WASI, served empty, and nothing else.
///
/// # Errors
///
/// Only if wasmtime rejects a definition (a bug).
pub fn sanitizer_linker(engine: &Engine) -> anyhow::Result<Linker<GuestState>> {
    let mut linker = Linker::new(engine);
    add_std_interfaces(&mut linker).map_err(anyhow::Error::from)?;
    Ok(linker)
}

/// The linker for the `provider` world: std's WASI, served empty, plus `wasi:http`
/// (`types` and `outgoing-handler`) through the store's egress hooks.
///
/// # Errors
///
/// Only if wasmtime rejects a definition (a bug).
pub fn provider_linker(engine: &Engine) -> anyhow::Result<Linker<GuestState>> {
    let mut linker = Linker::new(engine);
    add_std_interfaces(&mut linker).map_err(anyhow::Error::from)?;
    wasmtime_wasi_http::p2::add_only_http_to_linker_async(&mut linker).map_err(anyhow::Error::from)?;
    Ok(linker)
}

struct HasIo;

impl HasData for HasIo {
    type Data<'a> = &'a mut ResourceTable;
}

/// Adds the interfaces listed as `STD_INTERFACES` in `world.rs`.
fn add_std_interfaces(linker: &mut Linker<GuestState>) -> wasmtime::Result<()> {
    use wasmtime_wasi::p2::bindings::{cli, clocks, random};
    use wasmtime_wasi_io::bindings::wasi::io;
    type T = GuestState;

    io::error::add_to_linker::<T, HasIo>(linker, |state| &mut state.table)?;
    io::poll::add_to_linker::<T, HasIo>(linker, |state| &mut state.table)?;
    io::streams::add_to_linker::<T, HasIo>(linker, |state| &mut state.table)?;
    clocks::wall_clock::add_to_linker::<T, WasiClocks>(linker, T::clocks)?;
    clocks::monotonic_clock::add_to_linker::<T, WasiClocks>(linker, T::clocks)?;
    random::random::add_to_linker::<T, WasiRandom>(linker, T::random)?;
    random::insecure::add_to_linker::<T, WasiRandom>(linker, T::random)?;
    random::insecure_seed::add_to_linker::<T, WasiRandom>(linker, T::random)?;
    cli::exit::add_to_linker::<T, WasiCli>(linker, T::cli)?;
    cli::environment::add_to_linker::<T, WasiCli>(linker, T::cli)?;
    cli::stdin::add_to_linker::<T, WasiCli>(linker, T::cli)?;
    cli::stdout::add_to_linker::<T, WasiCli>(linker, T::cli)?;
    cli::stderr::add_to_linker::<T, WasiCli>(linker, T::cli)?;
    cli::terminal_input::add_to_linker::<T, WasiCli>(linker, T::cli)?;
    cli::terminal_output::add_to_linker::<T, WasiCli>(linker, T::cli)?;
    cli::terminal_stdin::add_to_linker::<T, WasiCli>(linker, T::cli)?;
    cli::terminal_stdout::add_to_linker::<T, WasiCli>(linker, T::cli)?;
    cli::terminal_stderr::add_to_linker::<T, WasiCli>(linker, T::cli)?;
    // `airlock:plugin/types` holds only types; the instance exists so it links.
    linker.instance(&format!("airlock:plugin/types@{}", super::world::WIT_VERSION))?;
    Ok(())
}
