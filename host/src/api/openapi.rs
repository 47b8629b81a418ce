//! The OpenAPI 3.1 document, made from the handlers' `#[utoipa::path]` annotations as
//! [`Routes`] routes them: a route's path and method come from its annotation, so no
//! route is served undocumented. Errors every route of a kind can answer — the auth
//! middleware's 401/403, the JSON extractor's 400/413/415/422, the admin token's — are
//! added here, in one place; each annotation lists its handler's own.
//!
//! `GET /openapi.json` serves the document and `GET /docs` a page that renders it (its
//! script and style are embedded in the binary, like the app's, under a strict CSP).
//! The control plane has its own document, at `/openapi.json` on its listener.

use axum::Router;
use axum::handler::Handler;
use axum::http::header;
use axum::routing::{MethodFilter, MethodRouter, on};
use utoipa::openapi::path::{HttpMethod, Operation};
use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityRequirement, SecurityScheme};
use utoipa::openapi::{Components, ContentBuilder, InfoBuilder, OpenApi, Ref, RefOr, ResponseBuilder, Tag};
use utoipa::{PartialSchema, Path, ToSchema};

use super::AppState;
use super::auth::{always_needs_key, is_exempt};
use super::error::ErrorBody;

/// The security scheme of tenants' API keys (`Authorization: Bearer ak_…`).
const API_KEY: &str = "api_key";
/// The security scheme of the operator's admin token.
const ADMIN_TOKEN: &str = "admin_token";
/// The schema of one server-sent event, which every `text/event-stream` response refers to.
const SSE_EVENT: &str = "ServerSentEvent";

/// Which listener a document describes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Plane {
    /// The public API (`listen`).
    Api,
    /// The control plane (`gateway.admin_listen`).
    Control,
}

/// Routes that add themselves to the document as they are routed.
pub(super) struct Routes {
    router: Router<AppState>,
    openapi: OpenApi,
    plane: Plane,
}

impl Routes {
    /// The public API's routes: none yet; the document's info, security schemes and tags.
    pub(super) fn new() -> Self {
        Self::empty(
            Plane::Api,
            "Airlock",
            "Screenshots to code, and a multi-tenant OpenAI-compatible LLM gateway whose providers and \
             sanitizers are sandboxed Wasm components.",
            &[
                ("health", "Liveness and readiness."),
                ("plugins", "The loaded plugins and the sanitizers."),
                ("providers", "The providers, their models, and streamed generations through one."),
                ("generations", "Screenshots (or a description, or code) to pages."),
                ("gateway", "The OpenAI-compatible gateway, for tenants' API keys."),
                ("admin", "Plugin uploads, activation and rollback, with the operator's admin token."),
            ],
        )
    }

    /// The control plane's routes (its own listener): none yet.
    pub(super) fn control() -> Self {
        Self::empty(
            Plane::Control,
            "Airlock control plane",
            "Tenants, API keys, tenants' provider credentials, usage and the audit log. Every route needs a \
             key; what each role may do is decided per operation (403 otherwise), and every change is in the \
             audit log before the answer.",
            &[
                ("keys", "Who is calling, and API keys."),
                ("tenants", "Tenants, their policy, quotas and provider credentials."),
                ("usage", "Usage and the audit log."),
            ],
        )
    }

    fn empty(plane: Plane, title: &str, description: &str, tags: &[(&str, &str)]) -> Self {
        let description = format!(
            "{description} Every error is `{{ \"error\": {{ \"type\", \"message\", \"request_id\" }} }}`; \
             every response carries `x-request-id`."
        );
        let info =
            InfoBuilder::new().title(title).version(env!("CARGO_PKG_VERSION")).description(Some(description)).build();
        let mut components = Components::new();
        let schemes: &[(&str, &str)] = match plane {
            Plane::Api => &[(API_KEY, "a tenant's API key, `ak_…`"), (ADMIN_TOKEN, "the operator's `admin_token`")],
            Plane::Control => &[(API_KEY, "an API key, `ak_…`, whose role may do the operation")],
        };
        for &(name, what) in schemes {
            let scheme = Http::builder().scheme(HttpAuthScheme::Bearer).description(Some(what)).build();
            components.security_schemes.insert(name.to_owned(), SecurityScheme::Http(scheme));
        }
        components.schemas.insert(ErrorBody::name().into_owned(), ErrorBody::schema());
        if plane == Plane::Api {
            components.schemas.insert(SSE_EVENT.to_owned(), sse_event());
        }
        let mut schemas = Vec::new();
        ErrorBody::schemas(&mut schemas);
        components.schemas.extend(schemas);
        let mut openapi = OpenApi::new(info, utoipa::openapi::Paths::new());
        openapi.components = Some(components);
        openapi.tags = Some(
            tags.iter()
                .map(|(name, description)| {
                    let mut tag = Tag::new(*name);
                    tag.description = Some((*description).to_owned());
                    tag
                })
                .collect(),
        );
        Self { router: Router::new(), openapi, plane }
    }

    /// Serves the operation `P` (path and method from its annotation) with `handler`.
    pub(super) fn route<P: Documented, T: 'static>(self, handler: impl Handler<T, AppState>) -> Self {
        self.route_with::<P>(|methods| on(methods, handler))
    }

    /// Serves the operation `P` with what `serve` makes for its methods (e.g. with a layer).
    pub(super) fn route_with<P: Documented>(
        mut self,
        serve: impl FnOnce(MethodFilter) -> MethodRouter<AppState>,
    ) -> Self {
        let path = P::path();
        let methods = P::methods();
        let filter = methods.iter().map(method_filter).reduce(MethodFilter::or).expect("an operation has a method");
        let mut operation = P::operation();
        operation.tags = Some(P::tags().into_iter().map(str::to_owned).collect());
        operation.summary = operation.summary.as_deref().map(summary);
        add_shared_errors(self.plane, &path, &mut operation);
        refer_to_sse_event(&mut operation);
        self.openapi.paths.add_path_operation(&path, methods, operation);
        let mut schemas = Vec::new();
        P::schemas(&mut schemas);
        self.openapi.components.get_or_insert_with(Components::new).schemas.extend(schemas);
        self.router = self.router.route(&path, serve(filter));
        self
    }

    /// Adds `other`'s routes, wrapped by `wrap` (e.g. their own layers), and their documentation.
    pub(super) fn merge(mut self, other: Routes, wrap: impl FnOnce(Router<AppState>) -> Router<AppState>) -> Self {
        self.router = self.router.merge(wrap(other.router));
        self.openapi.merge(other.openapi);
        self
    }

    /// The router, and the document of its routes.
    pub(super) fn finish(self) -> (Router<AppState>, OpenApi) {
        (self.router, self.openapi)
    }
}

/// What `#[utoipa::path]` implements for a handler: its path, methods, operation, tags
/// and the schemas it refers to.
pub(super) trait Documented: Path + utoipa::__dev::SchemaReferences + utoipa::__dev::Tags<'static> {}

impl<P: Path + utoipa::__dev::SchemaReferences + utoipa::__dev::Tags<'static>> Documented for P {}

/// A handler's first doc paragraph on one line, without the `` `GET /path`: `` it starts
/// with, capitalized.
fn summary(paragraph: &str) -> String {
    let line = paragraph.replace('\n', " ");
    let rest = line.strip_prefix('`').and_then(|rest| rest.split_once("`: ")).map_or(line.as_str(), |(_, rest)| rest);
    let mut chars = rest.chars();
    chars.next().map(|first| first.to_uppercase().chain(chars).collect()).unwrap_or_default()
}

fn method_filter(method: &HttpMethod) -> MethodFilter {
    match method {
        HttpMethod::Get => MethodFilter::GET,
        HttpMethod::Post => MethodFilter::POST,
        HttpMethod::Put => MethodFilter::PUT,
        HttpMethod::Delete => MethodFilter::DELETE,
        HttpMethod::Options => MethodFilter::OPTIONS,
        HttpMethod::Head => MethodFilter::HEAD,
        HttpMethod::Patch => MethodFilter::PATCH,
        HttpMethod::Trace => MethodFilter::TRACE,
    }
}

/// Adds the security and the errors that the middleware and the JSON extractor answer.
fn add_shared_errors(plane: Plane, path: &str, operation: &mut Operation) {
    let mut errors: Vec<(&str, &str)> = Vec::new();
    if plane == Plane::Control {
        operation.security = Some(vec![SecurityRequirement::new(API_KEY, Vec::<String>::new())]);
        errors.push(("401", "The key is missing, unknown, revoked or expired."));
        errors.push(("403", "The key's role may not do this (or not for this tenant)."));
        errors.push(("500", "The control plane failed; see the server log."));
    } else if path.starts_with("/admin/") {
        operation.security = Some(vec![SecurityRequirement::new(ADMIN_TOKEN, Vec::<String>::new())]);
        errors.push(("401", "The admin token is missing or wrong."));
        errors.push(("404", "No admin token is configured: the admin routes do not exist."));
    } else if !is_exempt(path) {
        let mut security = vec![SecurityRequirement::new(API_KEY, Vec::<String>::new())];
        if !always_needs_key(path) {
            // Callers without a key are served when the operator allows anonymous use.
            security.push(SecurityRequirement::default());
        }
        operation.security = Some(security);
        errors.push(("401", "The API key is missing (and anonymous use is off), unknown, revoked or expired."));
        errors.push(("403", "The key's role may not call the API."));
    }
    if plane == Plane::Api && !matches!(path, "/healthz" | "/readyz") {
        errors.push(("503", "The server is at its limit of requests (or streams) in progress; see `retry-after`."));
    }
    if let Some(body) = &operation.request_body {
        if plane == Plane::Api {
            errors.push(("408", "The body stopped arriving."));
        }
        errors.push(("413", "The body is larger than allowed."));
        if body.content.contains_key("application/json") {
            errors.push(("400", "The body is not valid JSON, or asks for something impossible."));
            errors.push(("415", "The body is not `application/json`."));
            errors.push(("422", "The JSON does not have the expected fields and types."));
        }
    }
    for (status, description) in errors {
        operation.responses.responses.entry(status.to_owned()).or_insert_with(|| error_response(description));
    }
}

/// One event of a stream: its name, and its data (JSON, or `[DONE]`).
fn sse_event() -> RefOr<Schema> {
    let text = |description: &str| ObjectBuilder::new().schema_type(Type::String).description(Some(description));
    ObjectBuilder::new()
        .description(Some("One server-sent event; `data` is JSON (an error event's is the error body)."))
        .property("event", text("The event's name (absent: `message`)."))
        .property("data", text("The event's data."))
        .property("id", text("The event's id."))
        .property("retry", ObjectBuilder::new().schema_type(Type::Integer))
        .required("data")
        .into()
}

/// Points every `text/event-stream` response at [`sse_event`].
fn refer_to_sse_event(operation: &mut Operation) {
    for response in operation.responses.responses.values_mut() {
        if let RefOr::T(response) = response
            && let Some(stream) = response.content.get_mut("text/event-stream")
        {
            stream.schema = Some(Ref::from_schema_name(SSE_EVENT).into());
        }
    }
}

/// A response with the JSON error body.
fn error_response(description: &str) -> RefOr<utoipa::openapi::Response> {
    let content = ContentBuilder::new().schema(Some(Ref::from_schema_name(ErrorBody::name()))).build();
    RefOr::T(ResponseBuilder::new().description(description).content("application/json", content).build())
}

/// The docs page, its script and style.
const DOCS_HTML: &str = include_str!("../../web/docs.html");
const DOCS_JS: &str = include_str!("../../web/docs.js");
const DOCS_CSS: &str = include_str!("../../web/docs.css");

/// The docs page's Content-Security-Policy: its own script and style, requests to this
/// server only.
const DOCS_CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; \
                        base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// Paths the document and its page are served at (no key needed).
pub const PATHS: [&str; 4] = ["/openapi.json", "/docs", "/docs.js", "/docs.css"];

/// The route of `openapi`'s JSON, `GET /openapi.json`.
pub(super) fn document<S: Clone + Send + Sync + 'static>(openapi: &OpenApi) -> Router<S> {
    let json = axum::body::Bytes::from(openapi.to_json().expect("the document serializes"));
    Router::new().route(
        PATHS[0],
        axum::routing::get(move || {
            let json = json.clone();
            async move { ([(header::CONTENT_TYPE, "application/json"), (header::CACHE_CONTROL, "no-cache")], json) }
        }),
    )
}

/// The routes of `openapi`'s JSON and of the docs page.
pub(super) fn serve<S: Clone + Send + Sync + 'static>(openapi: &OpenApi) -> Router<S> {
    let [_, page, script, style] = PATHS;
    document(openapi)
        .route(
            page,
            axum::routing::get(|| async { super::app::asset(DOCS_HTML, "text/html; charset=utf-8", DOCS_CSP) }),
        )
        .route(
            script,
            axum::routing::get(|| async { super::app::asset(DOCS_JS, "text/javascript; charset=utf-8", DOCS_CSP) }),
        )
        .route(style, axum::routing::get(|| async { super::app::asset(DOCS_CSS, "text/css; charset=utf-8", DOCS_CSP) }))
}
