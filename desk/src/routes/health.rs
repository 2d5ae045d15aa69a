//! Liveness: the process answers and the database too.

use axum::extract::State;
use axum::routing::get;
use axum::Router;
use sqlx::Executor;

use crate::error::ApiError;
use crate::AppState;

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .route("/api/openapi.json", get(|| async { axum::Json(crate::openapi::document()) }))
}

async fn healthz(State(state): State<AppState>) -> Result<&'static str, ApiError> {
    state.db.pool.execute("SELECT 1").await.map_err(|e| ApiError::Internal(e.to_string()))?;
    Ok("ok")
}

async fn metrics(State(state): State<AppState>) -> ([(axum::http::HeaderName, &'static str); 1], String) {
    ([(axum::http::header::CONTENT_TYPE, "text/plain; version=0.0.4")], state.metrics.render())
}
