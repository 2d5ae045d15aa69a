//! The desk's HTTP endpoints as the device uses them.

use outpost_sync::model::{Actor, Role};
use serde::Deserialize;

use crate::error::{CoreError, CoreResult};

use outpost_sync::wire::{DESK_CLOCK_HEADER, DEVICE_CLOCK_HEADER, SYNC_CONTENT_TYPE};

pub(crate) struct Paired {
    pub(crate) device_id: String,
    pub(crate) token: String,
    pub(crate) actor: Actor,
    pub(crate) desk_key: Option<String>,
}

#[derive(Deserialize)]
struct PairReply {
    device_id: String,
    token: String,
    user_id: String,
    org_id: String,
    role: String,
    /// Absent from desks older than hand-off files.
    #[serde(default)]
    desk_key: Option<String>,
}

#[derive(Deserialize)]
struct ErrorReply {
    message: String,
}

pub(crate) fn offline(err: &reqwest::Error) -> CoreError {
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

/// The largest JSON reply or error message read from the desk.
const MAX_JSON_REPLY: usize = 64 * 1024;

/// Reads a reply's body, refusing it once it passes `max` bytes: by its
/// announced length before reading anything, else as the chunks arrive.
/// A desk (or anything posing as one) cannot make the device buffer more.
pub(crate) async fn read_capped(mut response: reqwest::Response, max: usize) -> CoreResult<Vec<u8>> {
    let too_large = || CoreError::Desk(format!("the desk's reply is larger than {max} bytes"));
    if response.content_length().is_some_and(|length| length > max as u64) {
        return Err(too_large());
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(|e| offline(&e))? {
        if body.len() + chunk.len() > max {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// A JSON reply, read within `MAX_JSON_REPLY`.
async fn read_json<T: serde::de::DeserializeOwned>(response: reqwest::Response, what: &str) -> CoreResult<T> {
    let body = read_capped(response, MAX_JSON_REPLY).await?;
    serde_json::from_slice(&body).map_err(|e| CoreError::Desk(format!("unreadable {what}: {e}")))
}

/// What the desk said when it refused a JSON request.
pub(crate) async fn desk_error(response: reqwest::Response) -> CoreError {
    let status = response.status();
    let text = match read_capped(response, MAX_JSON_REPLY).await {
        Ok(body) => String::from_utf8_lossy(&body).into_owned(),
        Err(err) => err.to_string(),
    };
    let message = serde_json::from_str::<ErrorReply>(&text).map(|e| e.message).unwrap_or(text);
    CoreError::Desk(format!("{status}: {message}"))
}

fn parse_role(text: &str) -> CoreResult<Role> {
    match Role::parse(text) {
        Some(role) if role.is_field() => Ok(role),
        _ => Err(CoreError::Desk(format!("the desk paired this device for a {text:?}, not a field engineer"))),
    }
}

pub(crate) async fn pair(
    http: &reqwest::Client,
    desk: &str,
    code: &str,
    device_name: &str,
    public_key: &str,
) -> CoreResult<Paired> {
    let response = http
        .post(format!("{desk}/v1/devices/pair"))
        .json(&serde_json::json!({ "code": code, "device_name": device_name, "public_key": public_key }))
        .send()
        .await
        .map_err(|e| offline(&e))?;
    if !response.status().is_success() {
        return Err(desk_error(response).await);
    }
    let reply: PairReply = read_json(response, "pairing reply").await?;
    let bad = |what: &str| CoreError::Desk(format!("the desk sent a malformed {what}"));
    Ok(Paired {
        device_id: reply.device_id,
        token: reply.token,
        actor: Actor {
            user: reply.user_id.parse().map_err(|_| bad("user id"))?,
            org: reply.org_id.parse().map_err(|_| bad("org id"))?,
            role: parse_role(&reply.role)?,
        },
        desk_key: reply.desk_key.map(|key| checked_key(&key)).transpose()?,
    })
}

/// A key the desk sent, refused unless it is one.
fn checked_key(hex: &str) -> CoreResult<String> {
    outpost_sync::handoff::parse_public_key(hex)
        .map(|_| hex.trim().to_ascii_lowercase())
        .map_err(|e| CoreError::Desk(format!("the desk sent a malformed key: {e}")))
}

#[derive(Deserialize)]
struct DeskKey {
    desk_key: String,
}

/// Gives the desk this device's public key (once: a device paired before
/// hand-off files) and learns the desk's.
pub(crate) async fn exchange_keys(
    http: &reqwest::Client,
    desk: &str,
    token: &str,
    public_key: &str,
) -> CoreResult<String> {
    let response = http
        .post(format!("{desk}/v1/devices/key"))
        .bearer_auth(token)
        .json(&serde_json::json!({ "public_key": public_key }))
        .send()
        .await
        .map_err(|e| offline(&e))?;
    if !response.status().is_success() {
        return Err(desk_error(response).await);
    }
    let reply: DeskKey = read_json(response, "key exchange reply").await?;
    checked_key(&reply.desk_key)
}

/// One sync round on the wire: the request's bytes out, the reply's bytes
/// back. Error replies come back as bytes too (the session reads them).
/// A round's reply, and how far the desk's clock ran ahead of this device's
/// (ms, against the middle of the round trip), when the desk said.
#[derive(Debug)]
pub(crate) struct RoundReply {
    pub(crate) bytes: Vec<u8>,
    pub(crate) clock_offset_ms: Option<i64>,
    /// The company's policy for this device, when the desk said (a malformed one is ignored).
    pub(crate) policy: Option<outpost_sync::policy::DevicePolicy>,
}

pub(crate) async fn round(
    http: &reqwest::Client,
    desk: &str,
    token: &str,
    request: Vec<u8>,
    max_reply: usize,
) -> CoreResult<RoundReply> {
    let sent = crate::device::now().0;
    let response = http
        .post(format!("{desk}/v1/sync"))
        .bearer_auth(token)
        .header(reqwest::header::CONTENT_TYPE, SYNC_CONTENT_TYPE)
        // What this device's clock reads: the desk corrects the times entered here by the difference.
        .header(DEVICE_CLOCK_HEADER, crate::device::now().0.to_string())
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
    let received = crate::device::now().0;
    let desk_clock: Option<i64> =
        response.headers().get(DESK_CLOCK_HEADER).and_then(|v| v.to_str().ok()).and_then(|v| v.parse().ok());
    let clock_offset_ms = desk_clock.map(|desk| desk.saturating_sub(sent / 2 + received / 2));
    let policy = response
        .headers()
        .get(outpost_sync::policy::POLICY_HEADER)
        .and_then(|v| v.to_str().ok())
        .and_then(outpost_sync::policy::DevicePolicy::from_header);
    Ok(RoundReply { bytes: read_capped(response, max_reply).await?, clock_offset_ms, policy })
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
    Ok(Some(read_json(response, "blob status").await?))
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
    read_json(response, "upload reply").await
}

pub(crate) async fn download_blob(http: &reqwest::Client, desk: &str, token: &str, hash: &str) -> CoreResult<Vec<u8>> {
    let response =
        http.get(format!("{desk}/v1/blobs/{hash}")).bearer_auth(token).send().await.map_err(|e| offline(&e))?;
    match response.status() {
        reqwest::StatusCode::NOT_FOUND => return Err(CoreError::not_found("file", hash)),
        // Its upload began and has not finished: not there yet either.
        reqwest::StatusCode::CONFLICT => return Err(CoreError::not_found("complete file", hash)),
        status if !status.is_success() => return Err(desk_error(response).await),
        _ => {}
    }
    read_capped(response, outpost_sync::limits::MAX_BLOB_BYTES).await
}

#[cfg(test)]
mod tests {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    use super::*;

    /// A peer posing as the desk: answers any request with `head`, then
    /// streams 64 KiB chunks until the device hangs up. Returns its address
    /// and, when done, how many bytes it managed to send.
    async fn endless_desk(head: &'static str) -> (String, tokio::task::JoinHandle<usize>) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = tokio::spawn(async move {
            let (mut socket, _) = listener.accept().await.unwrap();
            let mut request = [0u8; 4096];
            let _ = socket.read(&mut request).await.unwrap();
            socket.write_all(head.as_bytes()).await.unwrap();
            let chunk = format!("10000\r\n{}\r\n", "x".repeat(0x10000));
            let mut sent = 0;
            while socket.write_all(chunk.as_bytes()).await.is_ok() {
                sent += 0x10000;
                if sent > 512 * 1024 * 1024 {
                    break;
                }
            }
            sent
        });
        (format!("http://{addr}"), server)
    }

    #[tokio::test]
    async fn a_reply_larger_than_the_cap_is_refused_while_it_streams() {
        let (desk, server) = endless_desk(
            "HTTP/1.1 200 OK\r\ncontent-type: application/x-outpost-sync\r\ntransfer-encoding: chunked\r\n\r\n",
        )
        .await;
        let err = round(&reqwest::Client::new(), &desk, "t", vec![1], 1024 * 1024).await.unwrap_err();
        assert!(err.to_string().contains("larger than 1048576 bytes"), "{err}");
        let sent = server.await.unwrap();
        assert!(sent < 64 * 1024 * 1024, "the device stopped reading early: the peer sent {sent} bytes");
    }

    #[tokio::test]
    async fn a_reply_announcing_more_than_the_cap_is_refused_unread() {
        let (desk, _server) =
            endless_desk("HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 1000000000000\r\n\r\n")
                .await;
        let err = blob_status(&reqwest::Client::new(), &desk, "t", "h").await.err().expect("refused");
        assert!(err.to_string().contains("larger than"), "{err}");
    }
}
