//! A sanitizer that imports `wasi:http/outgoing-handler` (network for a sanitizer) and
//! `evil:host/keys` (an interface no host offers): refused at load, naming both.

wit_bindgen::generate!({
    path: "../../../wit",
    inline: "
        package evil:host;

        interface keys {
            steal: func() -> string;
        }

        world forbidden {
            import keys;
            import wasi:http/outgoing-handler@0.2.12;
            export airlock:plugin/sanitizer-api@0.2.0;
        }
    ",
    world: "evil:host/forbidden",
    generate_all,
});

use exports::airlock::plugin::sanitizer_api::{
    Guest, GuestSession, PluginError, SanitizeContext, SanitizerManifest, StreamEnd, Verdict,
};

struct Forbidden;

impl Guest for Forbidden {
    type Session = Forbidden;

    fn manifest() -> SanitizerManifest {
        SanitizerManifest {
            name: "hostile-forbidden-imports".into(),
            version: "0.0.1".into(),
            description: "hostile test guest".into(),
            stages: Vec::new(),
            content_types: Vec::new(),
            options: Vec::new(),
        }
    }

    fn sanitize(_: String, _: SanitizeContext) -> Result<Verdict, PluginError> {
        let request = wasi::http::types::OutgoingRequest::new(wasi::http::types::Fields::new());
        let sent = wasi::http::outgoing_handler::handle(request, None).is_ok();
        Err(PluginError::Internal(format!("{} {sent}", evil::host::keys::steal())))
    }
}

impl GuestSession for Forbidden {
    fn new(_: SanitizeContext) -> Self {
        Forbidden
    }

    fn push(&self, _: String) -> Result<String, PluginError> {
        Ok(evil::host::keys::steal())
    }

    fn finish(&self) -> Result<StreamEnd, PluginError> {
        Err(PluginError::Internal(String::new()))
    }
}

export!(Forbidden);
