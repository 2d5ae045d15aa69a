//! The desk's HTTP endpoints as the device uses them.

use outpost_sync::model::{Actor, Role};
use serde::Deserialize;

use crate::error::{CoreError, CoreResult};

pub(crate) const SYNC_CONTENT_TYPE: &str = "application/x-outpost-sync";

pub(crate) struct Paired {
    pub(crate) device_id: String,
    pub(crate) token: String,
    pub(crate) actor: Actor,
}

#[derive(Deserialize)]
struct PairReply {
    device_id: String,
    token: String,
    user_id: String,
    org_id: String,
    role: String,
}

#[derive(Deserialize)]
struct ErrorReply {
    message: String,
}

fn offline(err: &reqwest::Error) -> CoreError {
    CoreError::Offline(err.without_url_string())
}

trait WithoutUrl {
    fn without_url_string(&self) -> String;
}

impl WithoutUrl for reqwest::Error {
    /// reqwest's message plus its cause, which says what actually failed.
    fn without_url_string(&self) -> String {
        let mut text = self.to_string();
        let mut source = std::error::Error::source(self);
        while let Some(cause) = source {
            text.push_str(": ");
            text.push_str(&cause.to_string());
            source = cause.source();
        }
        text
    }
}

/// What the desk said when it refused a JSON request.
async fn desk_error(response: reqwest::Response) -> CoreError {
    let status = response.status();
    let text = response.text().await.unwrap_or_default();
    let message = serde_json::from_str::<ErrorReply>(&text).map(|e| e.message).unwrap_or(text);
    CoreError::Desk(format!("{status}: {message}"))
}

fn parse_role(text: &str) -> CoreResult<Role> {
    match text {
        "engineer" => Ok(Role::Engineer),
        "partner_engineer" => Ok(Role::PartnerEngineer),
        other => Err(CoreError::Desk(format!("the desk paired this device for a {other:?}, not a field engineer"))),
    }
}

pub(crate) async fn pair(http: &reqwest::Client, desk: &str, code: &str, device_name: &str) -> CoreResult<Paired> {
    let response = http
        .post(format!("{desk}/v1/devices/pair"))
        .json(&serde_json::json!({ "code": code, "device_name": device_name }))
        .send()
        .await
        .map_err(|e| offline(&e))?;
    if !response.status().is_success() {
        return Err(desk_error(response).await);
    }
    let reply: PairReply = response.json().await.map_err(|e| CoreError::Desk(format!("unreadable reply: {e}")))?;
    let bad = |what: &str| CoreError::Desk(format!("the desk sent a malformed {what}"));
    Ok(Paired {
        device_id: reply.device_id,
        token: reply.token,
        actor: Actor {
            user: reply.user_id.parse().map_err(|_| bad("user id"))?,
            org: reply.org_id.parse().map_err(|_| bad("org id"))?,
            role: parse_role(&reply.role)?,
        },
    })
}

/// One sync round on the wire: the request's bytes out, the reply's bytes
/// back. Error replies come back as bytes too (the session reads them).
pub(crate) async fn round(http: &reqwest::Client, desk: &str, token: &str, request: Vec<u8>) -> CoreResult<Vec<u8>> {
    let response = http
        .post(format!("{desk}/v1/sync"))
        .bearer_auth(token)
        .header(reqwest::header::CONTENT_TYPE, SYNC_CONTENT_TYPE)
        .body(request)
        .send()
        .await
        .map_err(|e| offline(&e))?;
    let binary = response
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes() == SYNC_CONTENT_TYPE.as_bytes());
    if !binary {
        return Err(desk_error(response).await);
    }
    Ok(response.bytes().await.map_err(|e| offline(&e))?.to_vec())
}

#[derive(Deserialize)]
pub(crate) struct BlobStatus {
    pub(crate) received: i64,
    pub(crate) complete: bool,
}

/// How much of a blob the desk has; `None` when it knows of no document
/// referencing it yet (or not one this device may read).
pub(crate) async fn blob_status(
    http: &reqwest::Client,
    desk: &str,
    token: &str,
    hash: &str,
) -> CoreResult<Option<BlobStatus>> {
    let response =
        http.get(format!("{desk}/v1/blobs/{hash}/status")).bearer_auth(token).send().await.map_err(|e| offline(&e))?;
    if response.status() == reqwest::StatusCode::NOT_FOUND {
        return Ok(None);
    }
    if !response.status().is_success() {
        return Err(desk_error(response).await);
    }
    Ok(Some(response.json().await.map_err(|e| CoreError::Desk(format!("unreadable blob status: {e}")))?))
}

pub(crate) async fn upload_chunk(
    http: &reqwest::Client,
    desk: &str,
    token: &str,
    hash: &str,
    offset: i64,
    chunk: Vec<u8>,
    last: bool,
) -> CoreResult<BlobStatus> {
    let response = http
        .put(format!("{desk}/v1/blobs/{hash}?offset={offset}&last={last}"))
        .bearer_auth(token)
        .header(reqwest::header::CONTENT_TYPE, "application/octet-stream")
        .body(chunk)
        .send()
        .await
        .map_err(|e| offline(&e))?;
    if !response.status().is_success() {
        return Err(desk_error(response).await);
    }
    response.json().await.map_err(|e| CoreError::Desk(format!("unreadable upload reply: {e}")))
}

pub(crate) async fn download_blob(http: &reqwest::Client, desk: &str, token: &str, hash: &str) -> CoreResult<Vec<u8>> {
    let response =
        http.get(format!("{desk}/v1/blobs/{hash}")).bearer_auth(token).send().await.map_err(|e| offline(&e))?;
    if response.status() == reqwest::StatusCode::NOT_FOUND {
        return Err(CoreError::not_found("file", hash));
    }
    if !response.status().is_success() {
        return Err(desk_error(response).await);
    }
    Ok(response.bytes().await.map_err(|e| offline(&e))?.to_vec())
}
