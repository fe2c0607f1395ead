//! The JSON API (`/api/v1`, bearer tokens) and the `/api.php` compatibility endpoint. Thin:
//! each handler parses its input, calls one service function in `app::backend::calls` and maps
//! the result; errors are `application/problem+json` with a stable `code`.

use app::backend::api_tokens::{self, TokenAuth};
use app::backend::calls::{self, CallError, CallRequest, FieldIssue, ListQuery, Origin, ValidCall};
use app::backend::state::AppState;
use axum::body::Bytes;
use axum::extract::{FromRequestParts, Path, RawQuery, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Value};
use tower_http::limit::RequestBodyLimitLayer;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::resources::{
    Account, Balance, Billing, Call, CallPage, Money, Problem, Settings, Tenant,
};

/// Largest API request body.
const BODY_LIMIT: usize = 16 * 1024;

/// An API failure, answered as `application/problem+json`.
#[derive(Debug)]
pub enum ApiError {
    /// No or unknown bearer token.
    Unauthorized,
    /// Over the request budget.
    RateLimited {
        /// Whole seconds to wait.
        retry_after: u64,
    },
    /// Malformed JSON or query.
    Validation(Vec<FieldIssue>, String),
    /// A call could not be placed or found.
    Call(CallError),
    /// Unexpected; details only in the log.
    Internal,
}

impl From<CallError> for ApiError {
    fn from(err: CallError) -> Self {
        ApiError::Call(err)
    }
}

impl From<api_tokens::TokenError> for ApiError {
    fn from(err: api_tokens::TokenError) -> Self {
        tracing::error!(error = %err, "token lookup failed");
        ApiError::Internal
    }
}

fn problem(status: StatusCode, code: &str, title: &str, detail: String) -> Value {
    json!({
        "type": format!("https://pol.example/problems/{code}"),
        "title": title,
        "status": status.as_u16(),
        "code": code,
        "detail": detail,
    })
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut headers = HeaderMap::new();
        let (status, body) = match self {
            ApiError::Unauthorized => {
                headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
                let s = StatusCode::UNAUTHORIZED;
                (
                    s,
                    problem(
                        s,
                        "unauthorized",
                        "Unauthorized",
                        "send a valid API token as `Authorization: Bearer pol_…`".into(),
                    ),
                )
            }
            ApiError::RateLimited { retry_after } => {
                if let Ok(v) = HeaderValue::from_str(&retry_after.to_string()) {
                    headers.insert(header::RETRY_AFTER, v);
                }
                let s = StatusCode::TOO_MANY_REQUESTS;
                (
                    s,
                    problem(
                        s,
                        "rate_limited",
                        "Too many requests",
                        format!("slow down; retry in {retry_after} s"),
                    ),
                )
            }
            ApiError::Validation(issues, detail) => {
                let s = StatusCode::UNPROCESSABLE_ENTITY;
                let mut body = problem(s, "validation", "Invalid request", detail);
                body["errors"] = json!(issues);
                (s, body)
            }
            ApiError::Call(err) => return call_error(err, headers),
            ApiError::Internal => {
                let s = StatusCode::INTERNAL_SERVER_ERROR;
                (
                    s,
                    problem(
                        s,
                        "internal",
                        "Internal error",
                        "something failed on our side; it has been logged".into(),
                    ),
                )
            }
        };
        respond(status, headers, body)
    }
}

fn respond(status: StatusCode, mut headers: HeaderMap, body: Value) -> Response {
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/problem+json"),
    );
    (status, headers, body.to_string()).into_response()
}

fn call_error(err: CallError, headers: HeaderMap) -> Response {
    let (status, body) = match err {
        CallError::InvalidNumber { field, issues } => {
            let s = StatusCode::UNPROCESSABLE_ENTITY;
            let mut body = problem(
                s,
                "invalid_number",
                "Invalid phone number",
                format!("{field} is not a valid Iranian mobile number"),
            );
            body["field"] = json!(field);
            body["errors"] = json!(issues);
            (s, body)
        }
        CallError::SameNumber => {
            let s = StatusCode::UNPROCESSABLE_ENTITY;
            (
                s,
                problem(
                    s,
                    "same_number",
                    "Same number",
                    "the passenger and the driver have the same number".into(),
                ),
            )
        }
        CallError::Invalid(issues) => {
            let s = StatusCode::UNPROCESSABLE_ENTITY;
            let fields: Vec<&str> = issues.iter().map(|i| i.field.as_str()).collect();
            let mut body = problem(
                s,
                "validation",
                "Invalid request",
                format!("invalid fields: {}", fields.join(", ")),
            );
            body["errors"] = json!(issues);
            (s, body)
        }
        CallError::InsufficientCredit { available_seconds } => {
            let s = StatusCode::PAYMENT_REQUIRED;
            let mut body = problem(
                s,
                "insufficient_credit",
                "Insufficient credit",
                format!("{available_seconds} s of talk time left; top up in the panel"),
            );
            body["balance_seconds"] = json!(available_seconds);
            (s, body)
        }
        CallError::ConcurrencyLimit { limit } => {
            let s = StatusCode::TOO_MANY_REQUESTS;
            let mut body = problem(
                s,
                "concurrency_limit",
                "Too many calls in progress",
                format!("at most {limit} calls may be in progress at once"),
            );
            body["limit"] = json!(limit);
            (s, body)
        }
        CallError::IdempotencyMismatch => {
            let s = StatusCode::UNPROCESSABLE_ENTITY;
            (
                s,
                problem(
                    s,
                    "idempotency_key_reused",
                    "Idempotency-Key reused",
                    "this Idempotency-Key was already used with a different request".into(),
                ),
            )
        }
        CallError::NotFound => {
            let s = StatusCode::NOT_FOUND;
            (
                s,
                problem(s, "not_found", "Not found", "no such call".into()),
            )
        }
        CallError::Database(err) => {
            tracing::error!(error = %err, "database error in the API");
            let s = StatusCode::INTERNAL_SERVER_ERROR;
            (
                s,
                problem(
                    s,
                    "internal",
                    "Internal error",
                    "something failed on our side; it has been logged".into(),
                ),
            )
        }
        CallError::Billing(err) => {
            tracing::error!(error = %err, "billing error in the API");
            let s = StatusCode::INTERNAL_SERVER_ERROR;
            (
                s,
                problem(
                    s,
                    "internal",
                    "Internal error",
                    "something failed on our side; it has been logged".into(),
                ),
            )
        }
    };
    respond(status, headers, body)
}

/// Checks a token and takes one request from its budget.
async fn authorize(state: &AppState, token: Option<&str>) -> Result<TokenAuth, ApiError> {
    let token = token.ok_or(ApiError::Unauthorized)?;
    let auth = api_tokens::authenticate(state, token)
        .await?
        .ok_or(ApiError::Unauthorized)?;
    state
        .api_limiter
        .check(auth.api_token_id)
        .map_err(|wait| ApiError::RateLimited {
            retry_after: wait.as_secs().max(1),
        })?;
    Ok(auth)
}

/// The tenant a request's bearer token speaks for.
pub struct Bearer(pub TokenAuth);

impl FromRequestParts<AppState> for Bearer {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let token = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| {
                v.strip_prefix("Bearer ")
                    .or_else(|| v.strip_prefix("bearer "))
            });
        authorize(state, token).await.map(Bearer)
    }
}

fn idempotency_key(headers: &HeaderMap) -> Result<Option<String>, ApiError> {
    let Some(value) = headers.get("idempotency-key") else {
        return Ok(None);
    };
    match value.to_str().map(str::trim) {
        Ok(key) if !key.is_empty() && key.len() <= calls::IDEMPOTENCY_KEY_MAX => {
            Ok(Some(key.to_owned()))
        }
        _ => Err(ApiError::Validation(
            vec![FieldIssue {
                field: "Idempotency-Key".into(),
                code: "invalid",
                message: format!(
                    "Idempotency-Key must be 1 to {} visible ASCII characters",
                    calls::IDEMPOTENCY_KEY_MAX
                ),
            }],
            "invalid Idempotency-Key header".into(),
        )),
    }
}

/// Turns a serde error into a field list (`unknown field`, wrong type, missing field).
fn json_issue(err: &serde_json::Error) -> ApiError {
    let message = err.to_string();
    let field = message
        .split('`')
        .nth(1)
        .filter(|_| message.contains("field"))
        .unwrap_or("body")
        .to_owned();
    let code = if message.starts_with("unknown field") {
        "unknown_field"
    } else if message.starts_with("missing field") {
        "required"
    } else if err.is_syntax() || err.is_eof() {
        "invalid_json"
    } else {
        "invalid_type"
    };
    ApiError::Validation(
        vec![FieldIssue {
            field,
            code,
            message: message.clone(),
        }],
        message,
    )
}

/// Places a masked call.
#[utoipa::path(
    post,
    path = "/api/v1/calls",
    tag = "calls",
    request_body = CallRequest,
    params(("Idempotency-Key" = Option<String>, Header, description = "Retry safely: the same key and body return the same call")),
    responses(
        (status = 201, description = "Accepted; the call starts at once", body = Call),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 402, description = "`insufficient_credit`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`invalid_number`, `same_number`, `validation`, `idempotency_key_reused`", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "`concurrency_limit` or `rate_limited`", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
async fn create_call(
    State(state): State<AppState>,
    Bearer(auth): Bearer,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let key = idempotency_key(&headers)?;
    let request: CallRequest = serde_json::from_slice(&body).map_err(|e| json_issue(&e))?;
    let call = ValidCall::parse(&request)?;
    let placed = calls::place(
        &state,
        auth.tenant_id,
        Origin::Token(auth.api_token_id),
        &call,
        key.as_deref(),
    )
    .await?;
    let detail = calls::get(&state, auth.tenant_id, &placed.call.public_id).await?;
    let mut body = Call::new(&state, &detail.call, &detail.legs, Some(&detail.events));
    body.billing = Some(Billing {
        held_seconds: placed.call.held_seconds,
        balance_seconds: placed.balance_seconds,
    });
    let mut response = (StatusCode::CREATED, Json(body)).into_response();
    let location = format!("/api/v1/calls/{}", placed.call.public_id);
    if let Ok(v) = HeaderValue::from_str(&location) {
        response.headers_mut().insert(header::LOCATION, v);
    }
    if placed.replayed {
        response
            .headers_mut()
            .insert("idempotent-replayed", HeaderValue::from_static("true"));
    }
    Ok(response)
}

/// One call: status, legs, talk and billed seconds, cost, recording and timeline.
#[utoipa::path(
    get,
    path = "/api/v1/calls/{id}",
    tag = "calls",
    params(("id" = String, Path, description = "The call's id, `call_…`")),
    responses(
        (status = 200, body = Call),
        (status = 404, description = "`not_found` (also another tenant's call)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
async fn show_call(
    State(state): State<AppState>,
    Bearer(auth): Bearer,
    Path(id): Path<String>,
) -> Result<Json<Call>, ApiError> {
    let detail = calls::get(&state, auth.tenant_id, &id).await?;
    Ok(Json(Call::new(
        &state,
        &detail.call,
        &detail.legs,
        Some(&detail.events),
    )))
}

/// Parses a query string into `T`, refusing unknown parameters.
pub fn parse_query<T: serde::de::DeserializeOwned>(raw: Option<&str>) -> Result<T, ApiError> {
    serde_urlencoded::from_str(raw.unwrap_or("")).map_err(|err| {
        let message = err.to_string();
        ApiError::Validation(
            vec![FieldIssue {
                field: message.split('`').nth(1).unwrap_or("query").to_owned(),
                code: "invalid_query",
                message: message.clone(),
            }],
            message,
        )
    })
}

/// The tenant's calls, newest first, with filters and keyset pagination.
#[utoipa::path(
    get,
    path = "/api/v1/calls",
    tag = "calls",
    params(
        ("status" = Option<String>, Query, description = "One status"),
        ("from" = Option<String>, Query, description = "From this date (Tehran time), `2026-12-05` or Jalali `1405/09/14`"),
        ("to" = Option<String>, Query, description = "Until this date, inclusive"),
        ("number" = Option<String>, Query, description = "The digits a party's number ends with (3–15)"),
        ("reference" = Option<String>, Query, description = "Your reference, exactly"),
        ("cursor" = Option<String>, Query, description = "`next_cursor` of the previous page"),
        ("limit" = Option<i64>, Query, description = "1–200, default 50"),
    ),
    responses(
        (status = 200, body = CallPage),
        (status = 422, description = "`validation`", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
async fn list_calls(
    State(state): State<AppState>,
    Bearer(auth): Bearer,
    RawQuery(raw): RawQuery,
) -> Result<Json<CallPage>, ApiError> {
    let query: ListQuery = parse_query(raw.as_deref())?;
    let (filter, limit) = calls::parse_list(&query)?;
    let (rows, next) = calls::list(&state, auth.tenant_id, &filter, limit).await?;
    let legs = calls::legs_of(&state, &rows).await?;
    let data = rows
        .iter()
        .zip(&legs)
        .map(|(call, legs)| Call::new(&state, call, legs, None))
        .collect();
    Ok(Json(CallPage {
        data,
        next_cursor: next,
    }))
}

/// Hangs up a call in progress (`end_cause: api_hangup`); an ended call is returned unchanged.
#[utoipa::path(
    post,
    path = "/api/v1/calls/{id}/hangup",
    tag = "calls",
    params(("id" = String, Path, description = "The call's id")),
    responses(
        (status = 200, body = Call),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
async fn hang_up(
    State(state): State<AppState>,
    Bearer(auth): Bearer,
    Path(id): Path<String>,
) -> Result<Json<Call>, ApiError> {
    let detail = calls::hang_up(&state, auth.tenant_id, &id).await?;
    Ok(Json(Call::new(
        &state,
        &detail.call,
        &detail.legs,
        Some(&detail.events),
    )))
}

/// `?expires=…&signature=…` of a signed recording link (sent in `recording.ready` webhooks).
#[derive(serde::Deserialize)]
struct SignedLink {
    expires: i64,
    signature: String,
}

/// A recording, for the token's tenant, or for anyone holding an unexpired signed link.
#[utoipa::path(
    get,
    path = "/api/v1/calls/{id}/recording",
    tag = "calls",
    params(
        ("id" = String, Path, description = "The call's id"),
        ("Range" = Option<String>, Header, description = "`bytes=…`: answered with 206"),
        ("expires" = Option<i64>, Query, description = "With `signature`: a link from a `recording.ready` webhook, valid without a token"),
        ("signature" = Option<String>, Query, description = "See `expires`"),
    ),
    responses(
        (status = 200, description = "The audio (`audio/wav` on the sandbox), with `ETag` and `Accept-Ranges`", content_type = "audio/wav"),
        (status = 206, description = "The requested range", content_type = "audio/wav"),
        (status = 304, description = "Not modified (`If-None-Match`)"),
        (status = 404, description = "No such call or no recording", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []), ())
)]
async fn recording(
    State(state): State<AppState>,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
    mut parts: Parts,
) -> Result<Response, ApiError> {
    let headers = parts.headers.clone();
    let signed: Option<SignedLink> = raw
        .as_deref()
        .and_then(|q| serde_urlencoded::from_str(q).ok());
    let call = match signed {
        Some(link) => {
            if !app::backend::webhooks::verify_recording_signature(
                &state,
                &id,
                link.expires,
                &link.signature,
            ) {
                return Err(ApiError::Unauthorized);
            }
            calls::find_unscoped(&state, &id).await?
        }
        None => {
            let Bearer(auth) = Bearer::from_request_parts(&mut parts, &state).await?;
            calls::get(&state, auth.tenant_id, &id).await?.call
        }
    };
    Ok(crate::media::serve_recording(&state, &call, &headers).await)
}

/// The tenant, its balance and its call settings.
#[utoipa::path(
    get,
    path = "/api/v1/account",
    tag = "account",
    responses(
        (status = 200, body = Account),
        (status = 401, body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
async fn account(
    State(state): State<AppState>,
    Bearer(auth): Bearer,
) -> Result<Json<Account>, ApiError> {
    let settings = calls::settings(&state, auth.tenant_id).await?;
    let summary = app::backend::billing::summary(&state.db, auth.tenant_id)
        .await
        .map_err(CallError::from)?;
    let tenant = {
        let mut tx = state.db.read().await.map_err(CallError::from)?;
        app::backend::repo::tenants::find(&mut tx.conn(), auth.tenant_id)
            .await
            .map_err(CallError::from)?
            .ok_or(CallError::NotFound)?
    };
    Ok(Json(Account {
        tenant: Tenant {
            id: tenant.tenant_id,
            name: tenant.name,
        },
        sandbox: state.engine.is_sandbox(),
        balance: Balance {
            seconds: summary.available_seconds,
            minutes: summary.available_seconds / 60,
            held_seconds: summary.held_seconds,
            value: Money::from_rial(summary.value.rial()),
        },
        settings: Settings {
            first: settings.first_party,
            max_duration: settings.max_call_seconds,
            ring_timeout: settings.ring_timeout_seconds,
            record: settings.record_calls,
            welcome: settings.welcome_enabled,
            welcome_to_second: settings.welcome_to_second,
            max_concurrent_calls: settings.max_concurrent_calls,
            caller_id: settings.caller_id,
        },
    }))
}

/// What older click-to-call services took.
#[derive(Debug, Default, serde::Deserialize)]
struct LegacyParams {
    token: Option<String>,
    passenger: Option<String>,
    driver: Option<String>,
    first: Option<String>,
    limit: Option<String>,
}

/// `GET|POST /api.php?token=…&passenger=…&driver=…[&first=…][&limit=seconds]`.
async fn legacy(
    State(state): State<AppState>,
    method: Method,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
    body: Bytes,
) -> Response {
    let result = async {
        let mut params: LegacyParams =
            serde_urlencoded::from_str(raw.as_deref().unwrap_or("")).unwrap_or_default();
        if method == Method::POST && !body.is_empty() {
            let form: LegacyParams = serde_urlencoded::from_bytes(&body).unwrap_or_default();
            params.token = form.token.or(params.token);
            params.passenger = form.passenger.or(params.passenger);
            params.driver = form.driver.or(params.driver);
            params.first = form.first.or(params.first);
            params.limit = form.limit.or(params.limit);
        }
        let bearer = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::to_owned);
        let auth = authorize(&state, params.token.as_deref().or(bearer.as_deref())).await?;
        let max_duration = match params
            .limit
            .as_deref()
            .map(str::trim)
            .filter(|l| !l.is_empty())
        {
            None => None,
            Some(limit) => Some(limit.parse::<i64>().map_err(|_| {
                ApiError::Validation(
                    vec![FieldIssue {
                        field: "limit".into(),
                        code: "invalid_type",
                        message: "limit must be a whole number of seconds".into(),
                    }],
                    "limit must be a whole number of seconds".into(),
                )
            })?),
        };
        let request = CallRequest {
            passenger: params.passenger.unwrap_or_default(),
            driver: params.driver.unwrap_or_default(),
            first: params.first,
            max_duration,
            ..CallRequest::default()
        };
        let call = ValidCall::parse(&request)?;
        let placed = calls::place(
            &state,
            auth.tenant_id,
            Origin::Token(auth.api_token_id),
            &call,
            None,
        )
        .await?;
        Ok::<_, ApiError>(json!({
            "ok": true,
            "call_id": placed.call.public_id,
            "status": placed.call.status,
            "max_duration": placed.call.max_duration_seconds,
            "sandbox": placed.call.sandbox,
        }))
    }
    .await;
    match result {
        Ok(body) => (StatusCode::OK, Json(body)).into_response(),
        Err(err) => {
            let mut response = err.into_response();
            // Older clients look for `ok`; keep the problem document and add it.
            let status = response.status();
            let body = std::mem::take(response.body_mut());
            match axum::body::to_bytes(body, BODY_LIMIT).await {
                Ok(bytes) => {
                    let mut value: Value =
                        serde_json::from_slice(&bytes).unwrap_or_else(|_| json!({}));
                    value["ok"] = json!(false);
                    let mut out = (status, value.to_string()).into_response();
                    *out.headers_mut() = response.headers().clone();
                    out
                }
                Err(_) => (status, "").into_response(),
            }
        }
    }
}

async fn not_found() -> ApiError {
    ApiError::Call(CallError::NotFound)
}

/// Rejections produced outside the handlers (body too large, wrong method) get problem
/// documents too.
async fn problem_for_rejections(response: Response) -> Response {
    let (code, title) = match response.status() {
        StatusCode::PAYLOAD_TOO_LARGE => ("body_too_large", "Request body too large"),
        StatusCode::METHOD_NOT_ALLOWED => ("method_not_allowed", "Method not allowed"),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => ("unsupported_media_type", "Unsupported media type"),
        _ => return response,
    };
    let is_problem = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/problem+json"));
    if is_problem {
        return response;
    }
    let status = response.status();
    let mut headers = HeaderMap::new();
    if let Some(allow) = response.headers().get(header::ALLOW) {
        headers.insert(header::ALLOW, allow.clone());
    }
    let detail = match status {
        StatusCode::PAYLOAD_TOO_LARGE => {
            format!("request bodies are limited to {} KiB", BODY_LIMIT / 1024)
        }
        _ => title.to_lowercase(),
    };
    respond(status, headers, problem(status, code, title, detail))
}

/// Adds the bearer-token scheme to the document.
struct BearerScheme;

impl utoipa::Modify for BearerScheme {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "An API token from the panel: `pol_live_…` or `pol_test_…` (sandbox)",
                    ))
                    .build(),
            ),
        );
    }
}

/// The document's frame; the paths come from the routes below.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Pol API",
        license(name = "Proprietary"),
        description = "Masked calls for ride-hailing operators: place a call between a passenger and a driver, follow it, fetch its recording. Errors are `application/problem+json` with a stable `code`. Webhooks (`call.ringing`, `call.answered`, `call.completed`, `recording.ready`, `recording.failed`, `balance.low`) are signed with `Pol-Signature: t=<unix>,v1=<hex HMAC-SHA256(secret, \"<t>.<body>\")>`."
    ),
    modifiers(&BearerScheme),
    tags((name = "calls", description = "Masked calls"), (name = "account", description = "Balance and settings"))
)]
struct ApiDoc;

/// The documented routes: registering a handler here is what puts it in the OpenAPI document.
fn documented() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(create_call, list_calls))
        .routes(routes!(show_call))
        .routes(routes!(hang_up))
        .routes(routes!(recording))
        .routes(routes!(account))
}

/// The OpenAPI 3.1 document of the JSON API, generated from the handlers and types.
pub fn openapi() -> utoipa::openapi::OpenApi {
    documented().into_openapi()
}

async fn openapi_json() -> Response {
    static DOCUMENT: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let body = DOCUMENT.get_or_init(|| openapi().to_pretty_json().unwrap_or_default());
    ([(header::CONTENT_TYPE, "application/json")], body.clone()).into_response()
}

/// The API's routes.
pub fn router() -> Router<AppState> {
    let (api, _) = documented().split_for_parts();
    api.route("/api/v1/openapi.json", get(openapi_json))
        .route("/api/v1/{*rest}", get(not_found).post(not_found))
        .route("/api.php", get(legacy).post(legacy))
        .layer(RequestBodyLimitLayer::new(BODY_LIMIT))
        .layer(axum::middleware::from_fn(
            crate::body_limit::refuse_oversized::<BODY_LIMIT>,
        ))
        .layer(axum::middleware::map_response(problem_for_rejections))
}
