//! Liveness: the process answers and the database too.

use axum::extract::State;
use axum::routing::get;
use axum::Router;
use sqlx::Executor;

use crate::error::ApiError;
use crate::AppState;

pub(super) fn router() -> Router<AppState> {
    Router::new().route("/healthz", get(healthz))
}

async fn healthz(State(state): State<AppState>) -> Result<&'static str, ApiError> {
    state.db.pool.execute("SELECT 1").await.map_err(|e| ApiError::Internal(e.to_string()))?;
    Ok("ok")
}
