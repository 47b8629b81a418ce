//! Which world a component targets, and whether its imports stay within that world.
//!
//! This is the load-time half of invariant 3 ("no filesystem, no environment, no host
//! state"): a component is classified by what it exports, and every import it declares
//! is checked against the short list its world allows.
//! A component asking for anything else — `wasi:filesystem`, `wasi:sockets`, `wasi:http`
//! for a sanitizer, an interface we have never heard of — is refused before it is ever
//! instantiated, with an error that names each offending import.
//! The linker (see `linker.rs`) is the second half: it defines exactly these interfaces
//! and nothing more, so even a check missed here could not link.

use std::fmt;

use wasmtime::Engine;
use wasmtime::component::Component;
use wasmtime::component::types::{ComponentExtern, ComponentItem};

/// The version of the WIT package `airlock:plugin` this host speaks (`wit/plugin.wit`).
pub const WIT_VERSION: &str = "0.2.0";

/// The interface a sanitizer exports.
pub const SANITIZER_EXPORT: &str = "airlock:plugin/sanitizer-api";
/// The interface a provider exports.
pub const PROVIDER_EXPORT: &str = "airlock:plugin/provider-api";

/// WASI interfaces a Rust guest's standard library pulls in; all are served without
/// authority (empty environment and arguments, no stdin, output to the plugin log).
const STD_INTERFACES: &[&str] = &[
    "wasi:cli/environment",
    "wasi:cli/exit",
    "wasi:cli/stdin",
    "wasi:cli/stdout",
    "wasi:cli/stderr",
    "wasi:cli/terminal-input",
    "wasi:cli/terminal-output",
    "wasi:cli/terminal-stdin",
    "wasi:cli/terminal-stdout",
    "wasi:cli/terminal-stderr",
    "wasi:io/error",
    "wasi:io/poll",
    "wasi:io/streams",
    "wasi:clocks/wall-clock",
    "wasi:clocks/monotonic-clock",
    "wasi:random/random",
    "wasi:random/insecure",
    "wasi:random/insecure-seed",
    "airlock:plugin/types",
];

/// What a provider may add: outgoing HTTP, through the egress gate.
const PROVIDER_INTERFACES: &[&str] = &["wasi:http/outgoing-handler", "wasi:http/types"];

/// The two kinds of plugin.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum World {
    /// Imports nothing with authority; exports `sanitizer-api`.
    Sanitizer,
    /// May send HTTP through the egress gate; exports `provider-api`.
    Provider,
}

impl World {
    /// The WIT world's name.
    pub fn name(self) -> &'static str {
        match self {
            World::Sanitizer => "sanitizer",
            World::Provider => "provider",
        }
    }

    /// Whether this world allows importing `interface` (a name without its version).
    pub fn is_allowed_import(self, interface: &str) -> bool {
        STD_INTERFACES.contains(&interface) || (self == World::Provider && PROVIDER_INTERFACES.contains(&interface))
    }
}

impl fmt::Display for World {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Why a component was refused at load.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WorldError {
    /// It exports neither plugin interface.
    #[error(
        "the component exports neither `{SANITIZER_EXPORT}` nor `{PROVIDER_EXPORT}` (it exports: {exports}); \
         build it against the `sanitizer` or `provider` world of wit/plugin.wit"
    )]
    NoPluginExport {
        /// What it exports instead.
        exports: String,
    },
    /// It was built against another version of the WIT package.
    #[error(
        "the component was built against `airlock:plugin@{found}`; this host speaks `airlock:plugin@{WIT_VERSION}`: \
         rebuild it with the airlock-pdk (or wit/plugin.wit) of this release"
    )]
    OtherVersion {
        /// The version it exports.
        found: String,
    },
    /// It exports both plugin interfaces.
    #[error("the component exports both `{SANITIZER_EXPORT}` and `{PROVIDER_EXPORT}`; a plugin is one or the other")]
    BothExports,
    /// It imports interfaces its world does not provide.
    #[error("{}", forbidden_message(*world, imports))]
    ForbiddenImports {
        /// The world it targets.
        world: World,
        /// Every import outside the world, as declared (with version).
        imports: Vec<String>,
    },
}

fn forbidden_message(world: World, imports: &[String]) -> String {
    let mut by_reason: Vec<(&str, Vec<String>)> = Vec::new();
    for import in imports {
        let reason = why_forbidden(world, import);
        match by_reason.iter_mut().find(|(known, _)| *known == reason) {
            Some((_, names)) => names.push(format!("`{import}`")),
            None => by_reason.push((reason, vec![format!("`{import}`")])),
        }
    }
    let groups: Vec<String> =
        by_reason.into_iter().map(|(reason, names)| format!("{} ({reason})", names.join(", "))).collect();
    format!("the `{world}` world does not provide {}; the component is refused", groups.join("; "))
}

/// The reason an import is refused, in operator terms.
fn why_forbidden(world: World, import: &str) -> &'static str {
    let interface = unversioned(import);
    if interface.starts_with("wasi:filesystem/") {
        "plugins get no filesystem"
    } else if interface.starts_with("wasi:sockets/") {
        "plugins get no sockets; providers reach the network only through wasi:http and the egress gate"
    } else if interface.starts_with("wasi:http/") && world == World::Sanitizer {
        "sanitizers get no network"
    } else {
        "an interface Airlock does not offer to plugins"
    }
}

/// The name of an import without its `@version`.
pub fn unversioned(name: &str) -> &str {
    name.split_once('@').map_or(name, |(interface, _)| interface)
}

/// A component's imports and exports, by name, as declared.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Interfaces {
    /// Imported interfaces (or functions) that carry functions or resources, with
    /// versions: what the component can call.
    pub imports: Vec<String>,
    /// Imported interfaces that hold only type definitions (e.g. `airlock:plugin/types`):
    /// shared vocabulary, no capability.
    pub type_imports: Vec<String>,
    /// Exported interfaces (or functions), with versions.
    pub exports: Vec<String>,
}

impl Interfaces {
    /// Reads the names a compiled component declares.
    pub fn of(engine: &Engine, component: &Component) -> Self {
        let ty = component.component_type();
        let (type_imports, imports) =
            ty.imports(engine).partition::<Vec<_>, _>(|(_, item)| is_types_only(engine, &item.ty));
        let names =
            |items: Vec<(&str, ComponentExtern<'_>)>| items.into_iter().map(|(name, _)| name.to_owned()).collect();
        Self {
            imports: names(imports),
            type_imports: names(type_imports),
            exports: ty.exports(engine).map(|(name, _)| name.to_owned()).collect(),
        }
    }

    /// Classifies the component and checks every import against its world.
    ///
    /// # Errors
    ///
    /// [`WorldError`] naming what is missing or every forbidden import.
    pub fn world(&self) -> Result<World, WorldError> {
        let exports = |interface: &str| self.exports.iter().any(|export| unversioned(export) == interface);
        let world = match (exports(SANITIZER_EXPORT), exports(PROVIDER_EXPORT)) {
            (true, false) => World::Sanitizer,
            (false, true) => World::Provider,
            (true, true) => return Err(WorldError::BothExports),
            (false, false) => {
                let exports = if self.exports.is_empty() { "nothing".to_owned() } else { self.exports.join(", ") };
                return Err(WorldError::NoPluginExport { exports });
            }
        };
        let export = if world == World::Sanitizer { SANITIZER_EXPORT } else { PROVIDER_EXPORT };
        if let Some(found) = self
            .exports
            .iter()
            .filter(|name| unversioned(name) == export)
            .find_map(|name| name.split_once('@').map(|(_, version)| version).filter(|v| *v != WIT_VERSION))
        {
            return Err(WorldError::OtherVersion { found: found.to_owned() });
        }
        let forbidden: Vec<String> = self
            .imports
            .iter()
            .chain(&self.type_imports)
            .filter(|import| !world.is_allowed_import(unversioned(import)))
            .cloned()
            .collect();
        if forbidden.is_empty() { Ok(world) } else { Err(WorldError::ForbiddenImports { world, imports: forbidden }) }
    }
}

/// Whether an imported item is an instance exporting nothing but types.
fn is_types_only(engine: &Engine, item: &ComponentItem) -> bool {
    match item {
        ComponentItem::ComponentInstance(instance) => {
            instance.exports(engine).all(|(_, export)| matches!(export.ty, ComponentItem::Type(_)))
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn interfaces(imports: &[&str], exports: &[&str]) -> Interfaces {
        Interfaces {
            imports: imports.iter().map(|s| (*s).to_owned()).collect(),
            type_imports: Vec::new(),
            exports: exports.iter().map(|s| (*s).to_owned()).collect(),
        }
    }

    #[test]
    fn sanitizer_with_std_imports_is_accepted() {
        let i = interfaces(
            &["wasi:cli/environment@0.2.6", "wasi:io/streams@0.2.6", "airlock:plugin/types@0.2.0"],
            &["airlock:plugin/sanitizer-api@0.2.0"],
        );
        assert_eq!(i.world(), Ok(World::Sanitizer));
    }

    #[test]
    fn sanitizer_importing_http_and_filesystem_is_refused_naming_both() {
        let i = interfaces(
            &["wasi:filesystem/types@0.2.6", "wasi:io/streams@0.2.6", "wasi:http/outgoing-handler@0.2.6"],
            &["airlock:plugin/sanitizer-api@0.2.0"],
        );
        let error = i.world().unwrap_err();
        assert_eq!(
            error.to_string(),
            "the `sanitizer` world does not provide `wasi:filesystem/types@0.2.6` (plugins get no filesystem); \
             `wasi:http/outgoing-handler@0.2.6` (sanitizers get no network); the component is refused"
        );
    }

    #[test]
    fn provider_may_import_http_but_not_sockets() {
        let ok = interfaces(&["wasi:http/outgoing-handler@0.2.12"], &["airlock:plugin/provider-api@0.2.0"]);
        assert_eq!(ok.world(), Ok(World::Provider));
        let bad = interfaces(&["wasi:sockets/tcp@0.2.12"], &["airlock:plugin/provider-api@0.2.0"]);
        assert!(bad.world().unwrap_err().to_string().contains("`wasi:sockets/tcp@0.2.12` (plugins get no sockets"));
    }

    #[test]
    fn unknown_interface_is_refused() {
        let i = interfaces(&["evil:host/steal-keys"], &["airlock:plugin/sanitizer-api@0.2.0"]);
        assert!(
            i.world().unwrap_err().to_string().contains("`evil:host/steal-keys` (an interface Airlock does not offer")
        );
    }

    #[test]
    fn a_plugin_built_against_another_wit_version_is_refused_with_the_fix() {
        let old = interfaces(&["wasi:http/outgoing-handler@0.2.12"], &["airlock:plugin/provider-api@0.1.0"]);
        let error = old.world().unwrap_err();
        assert_eq!(error, WorldError::OtherVersion { found: "0.1.0".into() });
        assert!(error.to_string().contains("rebuild it with the airlock-pdk"), "{error}");
    }

    #[test]
    fn a_component_that_is_no_plugin_is_refused() {
        let i = interfaces(&[], &["wasi:cli/run@0.2.6"]);
        assert_eq!(i.world(), Err(WorldError::NoPluginExport { exports: "wasi:cli/run@0.2.6".into() }));
    }
}
