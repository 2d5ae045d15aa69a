//! The live channel: while the desk can be reached, the device keeps its
//! `GET /v1/sync/live` open (server-sent events) and runs a round as soon
//! as the desk says the feed moved for something it may read. Polling stays
//! the fallback whenever the channel is down.

use std::time::Duration;

use serde::Deserialize;

use super::http::{desk_error, offline};
use crate::error::{CoreError, CoreResult};

/// Silence after which the channel counts as dead: the desk sends a comment
/// every 20 s, so three missed ones mean a link that died without a word.
pub(crate) const SILENCE: Duration = Duration::from_secs(60);
/// The longest line of the event stream the device reads; the desk's are
/// tens of bytes, and anything posing as a desk cannot make it buffer more.
const MAX_LINE: usize = 4096;

#[derive(Deserialize)]
struct Poke {
    seq: u64,
}

/// What the desk said on the channel.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Signal {
    /// The feed moved to this position for something this device may read.
    Moved(u64),
    /// Run a round whatever the cursor (the desk has word outside the feed,
    /// such as a revocation; the round itself says what, so a forged event
    /// costs one round and nothing else).
    Round,
}

/// Reads server-sent events from the stream's chunks and yields the
/// signals among them; other events and comments are skipped.
#[derive(Default)]
pub(crate) struct EventReader {
    line: Vec<u8>,
    event: String,
    data: String,
}

impl EventReader {
    pub(crate) fn push(&mut self, chunk: &[u8]) -> CoreResult<Vec<Signal>> {
        let mut pokes = Vec::new();
        for &byte in chunk {
            if byte != b'\n' {
                if self.line.len() >= MAX_LINE {
                    return Err(CoreError::Desk(format!("the live channel sent a line longer than {MAX_LINE} bytes")));
                }
                self.line.push(byte);
                continue;
            }
            let line = std::mem::take(&mut self.line);
            let line = String::from_utf8_lossy(line.strip_suffix(b"\r").unwrap_or(&line)).into_owned();
            if line.is_empty() {
                let (event, data) = (std::mem::take(&mut self.event), std::mem::take(&mut self.data));
                match event.as_str() {
                    "poke" => {
                        let poke: Poke = serde_json::from_str(&data)
                            .map_err(|e| CoreError::Desk(format!("the live channel sent an unreadable poke: {e}")))?;
                        pokes.push(Signal::Moved(poke.seq));
                    }
                    "round" => pokes.push(Signal::Round),
                    _ => {}
                }
            } else if let Some(value) = field(&line, "event") {
                self.event = value.to_owned();
            } else if let Some(value) = field(&line, "data") {
                if self.data.len() + value.len() > MAX_LINE {
                    return Err(CoreError::Desk("the live channel sent an event too large to be a poke".into()));
                }
                if !self.data.is_empty() {
                    self.data.push('\n');
                }
                self.data.push_str(value);
            }
        }
        Ok(pokes)
    }
}

/// The value of an SSE field line `name: value` (one optional space after the colon).
fn field<'a>(line: &'a str, name: &str) -> Option<&'a str> {
    let value = line.strip_prefix(name)?.strip_prefix(':')?;
    Some(value.strip_prefix(' ').unwrap_or(value))
}

/// Opens the channel and calls `on_poke` with each signal (the first tells
/// where the feed is now). Returns only with the reason
/// the channel ended: the desk unreachable or silent, or a refusal.
pub(crate) async fn listen(
    http: &reqwest::Client,
    desk: &str,
    token: &str,
    mut on_poke: impl FnMut(Signal),
) -> CoreResult<()> {
    let response = http
        .get(format!("{desk}/v1/sync/live"))
        .bearer_auth(token)
        .header(reqwest::header::ACCEPT, "text/event-stream")
        .send()
        .await
        .map_err(|e| offline(&e))?;
    if !response.status().is_success() {
        return Err(desk_error(response).await);
    }
    let is_stream = response
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"text/event-stream"));
    if !is_stream {
        return Err(CoreError::Desk("the desk's live channel is not an event stream".into()));
    }
    let mut response = response;
    let mut reader = EventReader::default();
    loop {
        let chunk = tokio::time::timeout(SILENCE, response.chunk())
            .await
            .map_err(|_| CoreError::Offline(format!("the live channel was silent for {} s", SILENCE.as_secs())))?
            .map_err(|e| offline(&e))?;
        let Some(chunk) = chunk else {
            return Err(CoreError::Offline("the desk closed the live channel".into()));
        };
        for signal in reader.push(&chunk)? {
            on_poke(signal);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pokes_are_read_across_chunk_boundaries_and_everything_else_is_skipped() {
        let stream = b"event: poke\ndata: {\"seq\":7}\n\n: keep-alive\n\nevent: other\ndata: {}\n\nevent:poke\r\ndata:{\"seq\":9}\r\n\r\nevent: round\ndata: {}\n\n";
        for split in 0..stream.len() {
            let mut reader = EventReader::default();
            let mut pokes = reader.push(&stream[..split]).unwrap();
            pokes.extend(reader.push(&stream[split..]).unwrap());
            assert_eq!(pokes, [Signal::Moved(7), Signal::Moved(9), Signal::Round], "split at {split}");
        }
    }

    #[test]
    fn a_hostile_stream_gets_an_error_not_a_growing_buffer() {
        let mut reader = EventReader::default();
        assert!(reader.push(&vec![b'x'; MAX_LINE + 1]).is_err(), "an endless line");
        let mut reader = EventReader::default();
        let many = "data: 1234567890\n".repeat(MAX_LINE / 10);
        assert!(reader.push(many.as_bytes()).is_err(), "an endless event");
        let mut reader = EventReader::default();
        assert!(reader.push(b"event: poke\ndata: {\"seq\": \"soon\"}\n\n").is_err(), "a poke without a position");
    }
}
