//! HTTP metrics: the middleware that counts and times every request and keeps
//! `airlock_active_streams`, the label naming who made a request, and the scrape route.

use std::borrow::Cow;
use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use http_body_util::BodyExt;

use super::{Metrics, RequestLabels, RouteLabels, RouteMethodLabels};

/// Who made a request, for the `tenant` label: put in the response's extensions by the
/// authentication middleware; a response without it was made by nobody known
/// (`anonymous`).
#[derive(Debug, Clone)]
pub enum Who {
    /// A tenant's key, with the tenant's id.
    Tenant(String),
    /// The operator (the admin token, or a key of a server-wide role).
    Operator,
}

/// The `/metrics` route, serving `metrics`.
pub fn routes<S: Clone + Send + Sync + 'static>(metrics: Arc<Metrics>) -> Router<S> {
    Router::new().route("/metrics", get(scrape)).with_state(metrics)
}

async fn scrape(State(metrics): State<Arc<Metrics>>) -> Response {
    let content_type = prometheus_client::encoding::prometheus_text::CONTENT_TYPE;
    ([(header::CONTENT_TYPE, content_type)], metrics.exposition()).into_response()
}

/// Middleware (outermost): counts and times each request by its route template; an
/// event stream counts as open until its body is dropped (it ended or the client left).
pub async fn track(State(metrics): State<Arc<Metrics>>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let route: Arc<str> = Arc::from(request.extensions().get::<MatchedPath>().map_or("unmatched", MatchedPath::as_str));
    let method = method_label(request.method());
    let mut response = next.run(request).await;
    let elapsed = started.elapsed().as_secs_f64();
    let tenant = match response.extensions_mut().remove::<Who>() {
        Some(Who::Tenant(id)) => Cow::Owned(id),
        Some(Who::Operator) => Cow::Borrowed("operator"),
        None => Cow::Borrowed("anonymous"),
    };
    let status = response.status().as_u16();
    metrics.http_duration.get_or_create(&RouteMethodLabels { route: route.clone(), method }).observe(elapsed);
    let streaming = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|value| value.as_bytes().starts_with(b"text/event-stream"));
    metrics.http_requests.get_or_create(&RequestLabels { route: route.clone(), method, status, tenant }).inc();
    if !streaming {
        return response;
    }
    let open = metrics.active_streams.get_or_create_owned(&RouteLabels { route });
    open.inc();
    let (parts, body) = response.into_parts();
    let guard = OpenStream(open);
    // The guard lives in the body: it is dropped with it.
    let body = body.map_frame(move |frame| {
        let _ = &guard;
        frame
    });
    Response::from_parts(parts, axum::body::Body::new(body))
}

/// Decrements `airlock_active_streams` when dropped.
struct OpenStream(prometheus_client::metrics::gauge::Gauge);

impl Drop for OpenStream {
    fn drop(&mut self) {
        self.0.dec();
    }
}

/// A bounded method label: the standard methods, else `other`.
fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}
