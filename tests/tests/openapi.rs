//! The OpenAPI documents against a running server (the public API's and the control
//! plane's): OpenAPI 3.1, served without a key (the public one with its docs page),
//! references that resolve, every documented operation routed, and every route the
//! routers name documented.

mod common;

use std::collections::BTreeSet;

use airlock::config::Secret;
use airlock_fake_upstream::TestCa;
use common::Gateway;
use reqwest::Method;
use serde_json::{Value, json};

const ADMIN_TOKEN: &str = "openapi-test-admin-token"; // pragma: allowlist secret

/// Routes served but not documented: the browser app's files, the document and its page.
const UNDOCUMENTED: &[&str] = &["/", "/app.js", "/app.css", "/openapi.json", "/docs", "/docs.js", "/docs.css"];

/// A gateway that refuses anonymous callers, with an admin token, and a tenant's key.
async fn setup() -> (Gateway, String) {
    let configure = |config: &mut airlock::config::Config| {
        config.gateway.anonymous = Some(false);
        config.admin_token = Some(Secret::new(ADMIN_TOKEN));
    };
    let gateway = common::start_prepared(&TestCa::new(), &[], configure, Some(Box::new(common::make_owner))).await;
    let owner = gateway.owner.clone().expect("owner key");
    let control = |path: &str, body: Value| {
        gateway.client.post(format!("{}{path}", gateway.admin)).bearer_auth(&owner).json(&body).send()
    };
    let tenant = control("/v1/tenants", json!({ "id": "docs" })).await.expect("control plane answers");
    assert_eq!(tenant.status(), 201);
    let created: Value = control("/v1/keys", json!({ "tenant": "docs", "role": "user" }))
        .await
        .expect("control plane answers")
        .json()
        .await
        .expect("JSON");
    let key = created["key"].as_str().expect("a key").to_owned();
    (gateway, key)
}

/// The public API's document.
async fn document(gateway: &Gateway) -> Value {
    document_at(gateway, &gateway.base).await
}

/// The document served at `base`.
async fn document_at(gateway: &Gateway, base: &str) -> Value {
    let response = gateway.client.get(format!("{base}/openapi.json")).send().await.expect("answers");
    assert_eq!(response.status(), 200, "served without a key");
    assert_eq!(response.headers()["content-type"], "application/json");
    response.json().await.expect("JSON")
}

/// Every `(method, path)` the document describes.
fn operations(document: &Value) -> Vec<(Method, String)> {
    let mut found = Vec::new();
    for (path, item) in document["paths"].as_object().expect("paths") {
        for method in item.as_object().expect("path item").keys() {
            let method = Method::from_bytes(method.to_uppercase().as_bytes()).expect("a method");
            found.push((method, path.clone()));
        }
    }
    found
}

fn references(value: &Value, found: &mut BTreeSet<String>) {
    match value {
        Value::Object(map) => {
            if let Some(Value::String(reference)) = map.get("$ref") {
                found.insert(reference.clone());
            }
            map.values().for_each(|value| references(value, found));
        }
        Value::Array(items) => items.iter().for_each(|value| references(value, found)),
        _ => {}
    }
}

#[tokio::test]
async fn the_documents_are_openapi_3_1_and_their_references_resolve() {
    let (gateway, _) = setup().await;
    let api = document(&gateway).await;
    for scheme in ["api_key", "admin_token"] {
        assert_eq!(api["components"]["securitySchemes"][scheme]["scheme"], "bearer", "{scheme}");
    }
    for document in [api, document_at(&gateway, &gateway.admin).await] {
        check_document(&document);
    }
}

fn check_document(document: &Value) {
    assert!(document["openapi"].as_str().is_some_and(|version| version.starts_with("3.1.")), "{}", document["openapi"]);
    let mut found = BTreeSet::new();
    references(document, &mut found);
    assert!(!found.is_empty());
    for reference in found {
        let name = reference.strip_prefix("#/components/schemas/").expect("a schema reference");
        assert!(document["components"]["schemas"].get(name).is_some(), "{reference} does not resolve");
    }
    // Every error response has the one error shape.
    for (path, item) in document["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            for (status, response) in operation["responses"].as_object().unwrap() {
                if status.starts_with('2') {
                    continue;
                }
                let schema = &response["content"]["application/json"]["schema"]["$ref"];
                assert_eq!(schema, "#/components/schemas/ErrorBody", "{method} {path} {status}");
            }
        }
    }
}

#[tokio::test]
async fn the_docs_page_is_served_without_a_key_under_a_strict_csp() {
    let (gateway, _) = setup().await;
    for (path, content_type) in [
        ("/docs", "text/html; charset=utf-8"),
        ("/docs.js", "text/javascript; charset=utf-8"),
        ("/docs.css", "text/css; charset=utf-8"),
    ] {
        let response = gateway.client.get(format!("{}{path}", gateway.base)).send().await.expect("answers");
        assert_eq!(response.status(), 200, "{path}");
        assert_eq!(response.headers()["content-type"], content_type, "{path}");
        let csp = response.headers()["content-security-policy"].to_str().unwrap();
        assert!(csp.starts_with("default-src 'none'; script-src 'self';"), "{csp}");
    }
    let page = gateway.client.get(format!("{}/docs.js", gateway.base)).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("fetch(\"/openapi.json\")"));
}

/// Each documented operation reaches its handler: the request is not answered by the
/// router's fallback (`no such route`) or with 405; on both listeners.
#[tokio::test]
async fn every_documented_operation_is_routed() {
    let (gateway, key) = setup().await;
    let owner = gateway.owner.clone().expect("owner key");
    let public = operations(&document(&gateway).await).into_iter().map(|operation| (&gateway.base, operation));
    let control = operations(&document_at(&gateway, &gateway.admin).await);
    assert!(control.iter().any(|(method, path)| method == Method::PATCH && path == "/v1/tenants/{id}"), "{control:?}");
    let operations: Vec<_> = public.chain(control.into_iter().map(|operation| (&gateway.admin, operation))).collect();
    assert!(operations.len() >= 16 + 15, "{operations:?}");
    for (base, (method, path)) in operations {
        let url = path.replace("{index}", "0").replace(['{', '}'], "");
        let token = if base == &gateway.admin {
            owner.as_str()
        } else if path.starts_with("/admin/") {
            ADMIN_TOKEN
        } else {
            key.as_str()
        };
        let response = gateway
            .client
            .request(method.clone(), format!("{base}{url}"))
            .bearer_auth(token)
            .send()
            .await
            .expect("answers");
        let status = response.status();
        let body = response.text().await.unwrap_or_default();
        assert_ne!(status, 405, "{method} {path}");
        assert!(!body.contains("no such route"), "{method} {path} is not routed: {status} {body}");
    }
}

/// The routes named in the routers' source (`.route("…"` in `host/src/api/`) are
/// documented, except the app's files and the document's own; the documented routes
/// come from the handlers' annotations (see `api::openapi::Routes`), so a route added
/// either way is caught.
#[tokio::test]
async fn every_route_is_documented() {
    let (gateway, _) = setup().await;
    let mut documented = BTreeSet::new();
    for base in [&gateway.base, &gateway.admin] {
        documented.extend(operations(&document_at(&gateway, base).await).into_iter().map(|(_, path)| path));
    }
    let api = concat!(env!("CARGO_MANIFEST_DIR"), "/../host/src/api");
    let mut named = BTreeSet::new();
    for entry in std::fs::read_dir(api).expect("host/src/api") {
        let path = entry.expect("entry").path();
        if path.extension().is_some_and(|ext| ext == "rs") {
            let source = std::fs::read_to_string(&path).expect("source");
            for piece in source.split(".route(\"").skip(1) {
                named.insert(piece.split('"').next().unwrap_or_default().to_owned());
            }
        }
    }
    assert!(named.contains("/app.js"), "the router's source was read: {named:?}");
    for route in named {
        assert!(
            documented.contains(&route) || UNDOCUMENTED.contains(&route.as_str()),
            "`{route}` is routed but not in /openapi.json: route it with `Routes::route` and an \
             `#[utoipa::path]` annotation"
        );
    }
    for route in UNDOCUMENTED {
        let response = gateway.client.get(format!("{}{route}", gateway.base)).send().await.expect("answers");
        assert_eq!(response.status(), 200, "{route} is served without a key");
    }
}

/// A route asked with a method it does not take answers the JSON error, with `allow`.
#[tokio::test]
async fn a_wrong_method_is_a_json_405() {
    let (gateway, key) = setup().await;
    let response =
        gateway.client.delete(format!("{}/v1/sanitize", gateway.base)).bearer_auth(&key).send().await.expect("answers");
    assert_eq!(response.status(), 405);
    assert_eq!(response.headers()["allow"], "POST");
    let body: Value = response.json().await.expect("JSON");
    assert_eq!(body["error"]["type"], "method_not_allowed", "{body}");
}

/// Path and query values that do not parse get the JSON error (axum's own rejections
/// are plain text, which the document does not promise).
#[tokio::test]
async fn unparsable_paths_and_queries_are_json_400s() {
    let (gateway, key) = setup().await;
    let owner = gateway.owner.clone().expect("owner key");
    for (method, url, token) in [
        (Method::GET, format!("{}/v1/generations/some-id/variants/first/preview", gateway.base), ""),
        (Method::GET, format!("{}/v1/generations/%FF", gateway.base), key.as_str()),
        (Method::POST, format!("{}/admin/plugins?activate=maybe", gateway.base), ADMIN_TOKEN),
        (Method::GET, format!("{}/v1/audit?limit=-1", gateway.admin), owner.as_str()),
        (Method::GET, format!("{}/v1/tenants/docs/usage?since=yesterday", gateway.admin), owner.as_str()),
    ] {
        let mut request = gateway.client.request(method.clone(), &url);
        if !token.is_empty() {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.expect("answers");
        assert_eq!(response.status(), 400, "{method} {url}");
        let body: Value = response.json().await.unwrap_or_else(|error| panic!("{method} {url}: not JSON: {error}"));
        assert_eq!(body["error"]["type"], "invalid_request", "{method} {url}: {body}");
    }
}
