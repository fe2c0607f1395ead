//! Panel downloads behind the session: a call's recording, and call reports as CSV (streamed page
//! by page, UTF-8 with a BOM so Excel shows Persian).

use app::backend::calls::{self, ListQuery};
use app::backend::context::Ctx;
use app::backend::repo::calls::CallRow;
use app::backend::state::AppState;
use app::domain::call::mask_number;
use app::domain::{CallStatus, Role};
use app::i18n::Lang;
use axum::body::{Body, Bytes};
use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Extension, Router};

/// Rows fetched per database round trip while exporting.
const EXPORT_PAGE: i64 = 500;

fn plain(status: StatusCode, text: &'static str) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        text,
    )
        .into_response()
}

/// The signed-in person's active tenant and role, or an answer to send instead.
fn tenant(ctx: &Ctx) -> Result<(i64, Role), (StatusCode, &'static str)> {
    let user = ctx
        .user()
        .map_err(|_| (StatusCode::UNAUTHORIZED, "log in first"))?;
    let tenant = user
        .tenant()
        .map_err(|_| (StatusCode::NOT_FOUND, "not found"))?;
    Ok((tenant.tenant_id, tenant.role))
}

async fn recording(
    State(state): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let (tenant_id, _) = match tenant(&ctx) {
        Ok(t) => t,
        Err((status, text)) => return plain(status, text),
    };
    match calls::get(&state, tenant_id, &id).await {
        Ok(detail) => crate::media::serve_recording(&state, &detail.call, &headers).await,
        Err(calls::CallError::NotFound) => plain(StatusCode::NOT_FOUND, "not found"),
        Err(err) => {
            tracing::error!(error = %err, "failed to load a call for its recording");
            plain(StatusCode::INTERNAL_SERVER_ERROR, "internal error")
        }
    }
}

/// Quotes a CSV field when it needs it, and defuses spreadsheet formulas.
fn field(value: &str) -> String {
    let value = if value.starts_with(['=', '+', '-', '@']) && !value.starts_with("+98") {
        format!("'{value}")
    } else {
        value.to_owned()
    };
    if value.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value
    }
}

fn row(call: &CallRow, lang: Lang, masked: bool) -> String {
    let t = lang.t();
    let number = |n: &str| if masked { mask_number(n) } else { n.to_owned() };
    let status = call
        .status
        .parse::<CallStatus>()
        .map_or(call.status.as_str(), |s| t.call_status(s));
    let cost = call
        .cost_rial
        .map(|r| app::domain::Rial::new(r).toman().normalize().to_string())
        .unwrap_or_default();
    let fields = [
        call.public_id.clone(),
        lang.datetime(call.created_at),
        status.to_owned(),
        number(&call.passenger),
        number(&call.driver),
        t.party(&call.first_party).to_owned(),
        call.talk_seconds.map(|s| s.to_string()).unwrap_or_default(),
        call.billed_seconds
            .map(|s| s.to_string())
            .unwrap_or_default(),
        cost,
        call.reference.clone().unwrap_or_default(),
        call.end_cause.clone().unwrap_or_default(),
    ];
    let mut line = fields
        .iter()
        .map(|f| field(f))
        .collect::<Vec<_>>()
        .join(",");
    line.push_str("\r\n");
    line
}

async fn export(
    State(state): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    RawQuery(raw): RawQuery,
) -> Response {
    let (tenant_id, role) = match tenant(&ctx) {
        Ok(t) => t,
        Err((status, text)) => return plain(status, text),
    };
    let query: ListQuery =
        serde_urlencoded::from_str(raw.as_deref().unwrap_or("")).unwrap_or_default();
    let Ok((filter, _)) = calls::parse_list(&ListQuery {
        limit: None,
        cursor: None,
        ..query
    }) else {
        return plain(StatusCode::UNPROCESSABLE_ENTITY, "invalid filters");
    };
    let lang = ctx.lang;
    let masked = role == Role::Viewer;
    let t = lang.t();
    let header_line = [
        t.col_id,
        t.col_time,
        t.col_status,
        t.col_passenger,
        t.col_driver,
        t.col_first,
        t.col_talk_seconds,
        t.col_billed_seconds,
        t.col_cost_toman,
        t.col_reference,
        t.col_cause,
    ]
    .map(field)
    .join(",");
    let first_chunk = format!("\u{feff}{header_line}\r\n");
    // State of the stream: the filter with its cursor, and whether the last page was short.
    let stream = futures_util::stream::unfold(
        (Some(first_chunk), Some(filter)),
        move |(pending, filter)| {
            let state = state.clone();
            async move {
                if let Some(chunk) = pending {
                    return Some((Ok::<_, std::io::Error>(Bytes::from(chunk)), (None, filter)));
                }
                let mut filter = filter?;
                let (rows, _) = match calls::list(&state, tenant_id, &filter, EXPORT_PAGE).await {
                    Ok(page) => page,
                    Err(err) => {
                        tracing::error!(error = %err, "call export failed mid-way");
                        return Some((Err(std::io::Error::other("export failed")), (None, None)));
                    }
                };
                if rows.is_empty() {
                    return None;
                }
                let text: String = rows.iter().map(|c| row(c, lang, masked)).collect();
                let more = rows.len() as i64 == EXPORT_PAGE;
                filter.before_id = rows.last().map(|r| r.phone_call_id);
                Some((Ok(Bytes::from(text)), (None, more.then_some(filter))))
            }
        },
    );
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"pol-calls.csv\"",
            ),
        ],
        Body::from_stream(stream),
    )
        .into_response()
}

/// Routes that need the session (merged inside the session layers).
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/calls/export.csv", get(export))
        .route("/calls/{id}/recording", get(recording))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_fields_are_quoted_and_formulas_defused() {
        assert_eq!(field("plain"), "plain");
        assert_eq!(field("a,b"), "\"a,b\"");
        assert_eq!(field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(field("=HYPERLINK(1)"), "'=HYPERLINK(1)");
        assert_eq!(field("+989121234567"), "+989121234567");
    }
}
