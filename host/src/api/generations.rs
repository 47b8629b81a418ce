//! `POST /v1/generations`: screenshots (or a description, or code) in, pages out, as a
//! stream of typed server-sent events. The body is JSON (images base64-encoded), or
//! `multipart/form-data` with a `request` field holding the same JSON and one `image`
//! field per screenshot; `GET /v1/generations/{id}` the record;
//! `GET /v1/generations/{id}/variants/{n}/preview` the sanitized page under a strict CSP.
//!
//! Everything about the request is checked before any upstream call: input mode,
//! image formats (magic bytes), sizes and dimensions, stack, variants, providers.

use std::sync::Arc;

use axum::Json;
use axum::extract::{FromRequest, Multipart, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::sse::Event as SseEvent;
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use serde::Deserialize;
use serde_json::json;
use tokio::sync::mpsc;
use utoipa::ToSchema;

use super::error::ErrorBody;
use super::extract::ApiPath;
use super::generate::own_key;
use super::{ApiError, ApiJson, AppState};
use crate::generation::{
    Event, GenerationRecord, ImageError, Input, OutputSanitizers, Stack, Update, VariantJob, VariantRecord,
    VariantStatus, check_image, messages,
};
use crate::runtime::{GenerateRequest, ProviderPlugin};

/// Most images per generation.
const MAX_IMAGES: usize = 5;
/// Most variants per generation.
const MAX_VARIANTS: usize = 4;

/// The body of `POST /v1/generations`: exactly one of `images`, `description` and
/// `code` (or only an `update`).
#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({
    "description": "A pricing page with three plans.", "stack": "html_tailwind",
    "provider": "openai-compatible", "model": "gpt-4o", "variants": 1
}))]
#[serde(deny_unknown_fields)]
pub struct GenerationBody {
    /// Screenshots, at most 5.
    #[serde(default)]
    images: Vec<ImageBody>,
    /// A description of the page.
    description: Option<String>,
    /// Code to start from.
    code: Option<String>,
    stack: Stack,
    /// The provider of every variant (unless `variant_models`).
    provider: Option<String>,
    /// The model of every variant (unless `variant_models`).
    model: Option<String>,
    /// Extra instructions.
    instructions: Option<String>,
    /// How many variants, 1 to 4; by default 2 (or one per `variant_models` entry).
    variants: Option<usize>,
    /// Per-variant provider and model; its length is the number of variants.
    #[serde(default)]
    variant_models: Vec<VariantModel>,
    update: Option<UpdateBody>,
    /// Images uploaded as multipart fields.
    #[serde(skip)]
    uploaded: Vec<Vec<u8>>,
}

/// A generation request, as JSON or as a multipart form.
pub struct GenerationInput(GenerationBody);

/// `POST /v1/generations` as a `multipart/form-data` form.
#[derive(Debug, Default, ToSchema)]
struct GenerationForm {
    /// The JSON options (the JSON body's fields; screenshots go in `image` fields).
    #[schema(value_type = String, required = true)]
    request: Option<String>,
    /// One screenshot per field.
    #[schema(value_type = Vec<String>, format = Binary)]
    image: Vec<Vec<u8>>,
}

fn form_error(rejection: &axum::extract::multipart::MultipartError) -> ApiError {
    if super::json::timed_out(rejection) {
        return ApiError::body_timeout();
    }
    ApiError::new(rejection.status(), "invalid_request", rejection.body_text())
}

impl<S: Send + Sync> FromRequest<S> for GenerationInput {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, ApiError> {
        let content_type = request.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
        if !content_type.starts_with("multipart/form-data") {
            return ApiJson::<GenerationBody>::from_request(request, state).await.map(|ApiJson(body)| Self(body));
        }
        let mut form = Multipart::from_request(request, state)
            .await
            .map_err(|rejection| ApiError::new(rejection.status(), "invalid_request", rejection.body_text()))?;
        let mut fields = GenerationForm::default();
        while let Some(field) = form.next_field().await.map_err(|e| form_error(&e))? {
            match field.name().unwrap_or_default() {
                "request" => fields.request = Some(field.text().await.map_err(|e| form_error(&e))?),
                "image" => fields.image.push(field.bytes().await.map_err(|e| form_error(&e))?.to_vec()),
                other => return Err(ApiError::invalid_request(format!("unknown form field `{other}`"))),
            }
        }
        let text = fields
            .request
            .ok_or_else(|| ApiError::invalid_request("the form needs a `request` field holding the JSON options"))?;
        let mut body: GenerationBody = serde_json::from_str(&text).map_err(|error| {
            ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_request", format!("the `request` field: {error}"))
        })?;
        body.uploaded = fields.image;
        Ok(Self(body))
    }
}

/// A screenshot.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct ImageBody {
    /// Base64, or a `data:` URL.
    data: String,
}

/// One variant's provider and model.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct VariantModel {
    provider: String,
    model: String,
}

/// A change to a page made before.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct UpdateBody {
    /// The page's code.
    code: String,
    /// The instructions so far, the one to apply last.
    history: Vec<String>,
    /// A CSS selector of the part to change.
    selector: Option<String>,
}

/// A checked request, ready to run.
struct Plan {
    stack: Stack,
    messages: Vec<crate::runtime::Message>,
    variants: Vec<(Arc<ProviderPlugin>, String)>,
}

fn invalid_image(index: usize, error: &ImageError) -> ApiError {
    let status = if matches!(error, ImageError::TooLarge { .. }) {
        StatusCode::PAYLOAD_TOO_LARGE
    } else {
        StatusCode::BAD_REQUEST
    };
    ApiError::new(status, "invalid_image", format!("image {index}: {error}"))
}

fn decode_image(index: usize, image: &ImageBody) -> Result<Vec<u8>, ApiError> {
    let data = match image.data.split_once(";base64,") {
        Some((prefix, data)) if prefix.starts_with("data:") => data,
        _ => &image.data,
    };
    base64::engine::general_purpose::STANDARD.decode(data.trim()).map_err(|error| {
        ApiError::new(StatusCode::BAD_REQUEST, "invalid_image", format!("image {index}: not valid base64 ({error})"))
    })
}

impl GenerationBody {
    fn plan(self, state: &AppState) -> Result<Plan, ApiError> {
        let mut images: Vec<Vec<u8>> = self
            .images
            .iter()
            .enumerate()
            .map(|(index, image)| decode_image(index, image))
            .collect::<Result<_, _>>()?;
        images.extend(self.uploaded);
        let modes = [!images.is_empty(), self.description.is_some(), self.code.is_some()];
        let input = match modes.iter().filter(|given| **given).count() {
            0 if self.update.is_some() => None,
            0 => return Err(ApiError::invalid_request("give `images`, a `description` or `code` (or an `update`)")),
            1 => Some(if !images.is_empty() {
                if images.len() > MAX_IMAGES {
                    return Err(ApiError::invalid_request(format!(
                        "{} images given; at most {MAX_IMAGES} are accepted",
                        images.len()
                    )));
                }
                let checked = images
                    .into_iter()
                    .enumerate()
                    .map(|(index, bytes)| {
                        let image = check_image(&bytes, &state.image_limits).map_err(|e| invalid_image(index, &e))?;
                        Ok((image.format.media_type().to_owned(), bytes))
                    })
                    .collect::<Result<_, ApiError>>()?;
                Input::Images(checked)
            } else if let Some(description) = self.description {
                Input::Description(description)
            } else {
                Input::Code(self.code.unwrap_or_default())
            }),
            _ => return Err(ApiError::invalid_request("give only one of `images`, `description` and `code`")),
        };
        let count = self.variants.unwrap_or(if self.variant_models.is_empty() { 2 } else { self.variant_models.len() });
        if !(1..=MAX_VARIANTS).contains(&count) {
            return Err(ApiError::invalid_request(format!("`variants` must be 1 to {MAX_VARIANTS}, not {count}")));
        }
        let choices: Vec<(String, String)> = if self.variant_models.is_empty() {
            let provider = self.provider.ok_or_else(|| ApiError::invalid_request("`provider` is missing"))?;
            let model = self.model.ok_or_else(|| ApiError::invalid_request("`model` is missing"))?;
            vec![(provider, model); count]
        } else if self.variant_models.len() == count {
            self.variant_models.into_iter().map(|v| (v.provider, v.model)).collect()
        } else {
            return Err(ApiError::invalid_request("`variant_models` must have one entry per variant"));
        };
        let variants = choices
            .into_iter()
            .map(|(provider, model)| {
                let plugin =
                    state.plugins.current().get(&provider).and_then(|p| p.provider().cloned()).ok_or_else(|| {
                        ApiError::invalid_request(format!("no provider called `{provider}` is loaded"))
                    })?;
                Ok((plugin, model))
            })
            .collect::<Result<_, ApiError>>()?;
        let update = match self.update {
            Some(update) if update.history.is_empty() => {
                return Err(ApiError::invalid_request("`update.history` needs at least the instruction to apply"));
            }
            Some(update) => Some(Update { code: update.code, history: update.history, selector: update.selector }),
            None => None,
        };
        let messages = messages(self.stack, input.as_ref(), self.instructions.as_deref(), update.as_ref());
        Ok(Plan { stack: self.stack, messages, variants })
    }
}

fn output_sanitizers(state: &AppState) -> Result<OutputSanitizers, ApiError> {
    let get = |name: &str| {
        state.plugins.current().get(name).and_then(|p| p.sanitizer().cloned()).ok_or_else(|| {
            ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "sanitizer_missing",
                format!("the `{name}` output sanitizer is not loaded; generations are refused without it"),
            )
        })
    };
    Ok(OutputSanitizers::new(get("html")?, get("secrets")?))
}

/// `POST /v1/generations`: pages as server-sent events: `generation.created`
/// (`{"id", "variants"}`), per variant `variant.chunk`, `variant.completed` or
/// `variant.failed`, then `generation.completed`. The body is JSON, or a
/// `multipart/form-data` form with a `request` field holding the JSON and one `image`
/// field per screenshot.
#[utoipa::path(post, path = "/v1/generations", tag = "generations",
    request_body(content(
        (GenerationBody = "application/json"),
        (GenerationForm = "multipart/form-data"),
    )),
    params(("x-airlock-provider-key" = Option<String>, Header, description = "The caller's own key for the upstream.")),
    responses(
        (status = 200, description = "The generation, streamed.", content_type = "text/event-stream", body = String),
        (status = 400, description = "Invalid request: input mode, images, stack, variants, providers.", body = ErrorBody),
        (status = 413, description = "The body or an image is too large.", body = ErrorBody),
        (status = 415, description = "The body is neither JSON nor a multipart form.", body = ErrorBody),
        (status = 422, description = "The JSON (or the form's `request` field) lacks fields or has wrong types.", body = ErrorBody),
        (status = 429, description = "The tenant's limit of concurrent streams.", body = ErrorBody),
        (status = 503, description = "An output sanitizer is not loaded.", body = ErrorBody),
    ))]
pub async fn create(
    State(state): State<AppState>,
    headers: HeaderMap,
    GenerationInput(body): GenerationInput,
) -> Result<Response, ApiError> {
    let plan = body.plan(&state)?;
    let output = output_sanitizers(&state)?;
    let own_key = own_key(&headers)?;
    let mut used = output.versions();
    for (provider, _) in &plan.variants {
        let version = format!("{}@{}", provider.name(), provider.manifest().version);
        if !used.contains(&version) {
            used.push(version);
        }
    }
    let id = uuid::Uuid::new_v4().to_string();
    let records = state.generations.clone();
    let pending =
        plan.variants.iter().map(|(provider, model)| VariantRecord::pending(provider.name(), model)).collect();
    records.insert(GenerationRecord::new(id.clone(), plan.stack, pending));

    let (sender, receiver) = mpsc::channel::<Event>(64);
    let created = Event { name: "generation.created", data: json!({ "id": id, "variants": plan.variants.len() }) };
    let _ = sender.send(created).await;
    let mut running = tokio::task::JoinSet::new();
    for (index, (provider, model)) in plan.variants.into_iter().enumerate() {
        let request =
            GenerateRequest { model, messages: plan.messages.clone(), max_tokens: None, ..GenerateRequest::default() };
        let job = VariantJob {
            index,
            generation: id.clone(),
            provider,
            request,
            own_key: own_key.as_ref().map(|key| key.to_string()),
            stack: plan.stack,
            output: output.clone(),
            records: records.clone(),
        };
        running.spawn(crate::generation::run(job, sender.clone()));
    }
    drop(own_key);
    tokio::spawn(async move {
        // Dropping `running` (the client left and every send failed) aborts the rest.
        while running.join_next().await.is_some() {}
        let _ = sender.send(Event { name: "generation.completed", data: json!({ "id": id }) }).await;
    });
    let mut response = super::sse_response(receiver, |event: Event| {
        SseEvent::default().event(event.name).data(event.data.to_string())
    });
    super::set_plugins_header(&mut response, &used.join(", "));
    Ok(response)
}

/// `GET /v1/generations/{id}`: what is kept of a generation.
#[utoipa::path(get, path = "/v1/generations/{id}", tag = "generations",
    params(("id" = String, Path, description = "The generation.")),
    responses(
        (status = 200, description = "The record.", body = GenerationRecord),
        (status = 404, description = "No such generation is kept.", body = ErrorBody),
    ))]
pub async fn show(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<GenerationRecord>, ApiError> {
    state.generations.get(&id).map(Json).ok_or_else(|| ApiError::not_found(format!("no generation `{id}` is kept")))
}

/// The preview's Content-Security-Policy: nothing by default; scripts, styles and fonts
/// only from the allowlisted CDNs (inline scripts only for app stacks); no network
/// requests, no forms, no framing but by the app itself; and a sandbox of its own, so
/// the page has an opaque origin even when opened directly.
pub fn preview_csp(stack: Stack, cdns: &[String]) -> String {
    let hosts: Vec<String> = cdns.iter().map(|host| format!("https://{host}")).collect();
    let hosts = hosts.join(" ");
    let scripts = if stack.is_app() { "'unsafe-inline' 'unsafe-eval'" } else { "" };
    format!(
        "default-src 'none'; script-src {hosts} {scripts}; style-src 'unsafe-inline' {hosts}; font-src {hosts} data:; \
         img-src data: https:; connect-src 'none'; form-action 'none'; base-uri 'none'; frame-ancestors 'self'; \
         sandbox allow-scripts"
    )
}

/// `GET /v1/generations/{id}/variants/{index}/preview`: a completed variant's sanitized
/// page, under the preview's CSP (no key needed: the URL is the capability).
#[utoipa::path(get, path = "/v1/generations/{id}/variants/{index}/preview", tag = "generations",
    params(
        ("id" = String, Path, description = "The generation."),
        ("index" = usize, Path, description = "The variant, from 0."),
    ),
    responses(
        (status = 200, description = "The page.", content_type = "text/html", body = String),
        (status = 400, description = "The index is not a number.", body = ErrorBody),
        (status = 404, description = "No such generation, or no completed variant at that index.", body = ErrorBody),
    ))]
pub async fn preview(
    State(state): State<AppState>,
    ApiPath((id, index)): ApiPath<(String, usize)>,
) -> Result<Response, ApiError> {
    let record =
        state.generations.get(&id).ok_or_else(|| ApiError::not_found(format!("no generation `{id}` is kept")))?;
    let variant = record
        .variants
        .get(index)
        .filter(|v| v.status == VariantStatus::Completed)
        .ok_or_else(|| ApiError::not_found(format!("generation `{id}` has no completed variant {index}")))?;
    let code = variant.code.clone().unwrap_or_default();
    let csp = preview_csp(record.stack, &state.preview_hosts);
    let mut response = (StatusCode::OK, code).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
    if let Ok(csp) = HeaderValue::from_str(&csp) {
        headers.insert(header::CONTENT_SECURITY_POLICY, csp);
    }
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}
