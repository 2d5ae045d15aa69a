//! Liveness, metrics and the API's own description.

use axum::extract::State;
use axum::Json;
use sqlx::Executor;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::ApiError;
use crate::AppState;

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(healthz)).routes(routes!(metrics)).routes(routes!(openapi))
}

/// Liveness, with a database ping.
#[utoipa::path(get, path = "/healthz", tag = "desk",
    responses((status = 200, description = "The desk and its database answer.", body = String, content_type = "text/plain"),
              (status = 500, description = "The database does not answer.", body = crate::error::ErrorBody)))]
async fn healthz(State(state): State<AppState>) -> Result<&'static str, ApiError> {
    state.db.pool.execute("SELECT 1").await.map_err(|e| ApiError::Internal(e.to_string()))?;
    Ok("ok")
}

/// Prometheus metrics: sync rounds, refusals, timings, open live channels.
#[utoipa::path(get, path = "/metrics", tag = "desk",
    responses((status = 200, description = "The Prometheus text format.", body = String, content_type = "text/plain")))]
async fn metrics(State(state): State<AppState>) -> ([(axum::http::HeaderName, &'static str); 1], String) {
    let mut text = state.metrics.render();
    let name = "outpost_live_channels";
    text.push_str(&format!(
        "# HELP {name} Live channels open now.\n# TYPE {name} gauge\n{name} {}\n",
        state.live.channels()
    ));
    ([(axum::http::header::CONTENT_TYPE, "text/plain; version=0.0.4")], text)
}

/// This document.
#[utoipa::path(get, path = "/api/openapi.json", tag = "desk",
    responses((status = 200, description = "The OpenAPI document.", body = Object)))]
async fn openapi() -> Json<&'static serde_json::Value> {
    Json(crate::openapi::document())
}
