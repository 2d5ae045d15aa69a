//! An HTTP proxy on loopback that misbehaves on purpose: it cuts
//! connections before or in the middle of a reply, delays, and sends a
//! request to the desk twice. One request per connection; the desk is asked
//! to close after each reply so the proxy can read it whole.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// Pass the request and the reply through.
    None,
    /// The desk handles the request; the device never hears back.
    CutBeforeReply,
    /// The device gets half of the reply, then the connection drops.
    CutMidReply,
    /// The request never reaches the desk; the connection drops.
    CutMidRequest,
    /// The reply comes late.
    Delay(Duration),
    /// The desk gets the request twice; the device sees the second reply.
    Duplicate,
}

/// Which fault each request meets: a seeded random pick, for a given share of requests.
struct Plan {
    state: u64,
    fault_percent: u64,
    seen: Vec<Fault>,
}

impl Plan {
    fn next(&mut self) -> Fault {
        self.state = self.state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        let roll = (self.state >> 33) % 100;
        let pick = (self.state >> 13) % 5;
        let fault = if roll >= self.fault_percent {
            Fault::None
        } else {
            match pick {
                0 => Fault::CutBeforeReply,
                1 => Fault::CutMidReply,
                2 => Fault::CutMidRequest,
                3 => Fault::Delay(Duration::from_millis(50 + (self.state >> 40) % 300)),
                _ => Fault::Duplicate,
            }
        };
        self.seen.push(fault);
        fault
    }
}

pub struct Proxy {
    pub addr: SocketAddr,
    plan: Arc<Mutex<Plan>>,
    task: tokio::task::JoinHandle<()>,
}

impl Proxy {
    /// Starts a proxy to `upstream` that faults `fault_percent` % of requests, chosen by `seed`.
    pub async fn start(upstream: SocketAddr, seed: u64, fault_percent: u64) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let plan = Arc::new(Mutex::new(Plan { state: seed, fault_percent, seen: Vec::new() }));
        let shared = Arc::clone(&plan);
        let task = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let fault = shared.lock().unwrap().next();
                tokio::spawn(async move {
                    let _ = relay(client, upstream, fault).await;
                });
            }
        });
        Self { addr, plan, task }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn set_fault_percent(&self, percent: u64) {
        self.plan.lock().unwrap().fault_percent = percent;
    }

    /// The faults met so far, in order.
    pub fn faults(&self) -> Vec<Fault> {
        self.plan.lock().unwrap().seen.clone()
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Reads one HTTP request (headers and a Content-Length body).
async fn read_request(stream: &mut TcpStream) -> std::io::Result<Option<Vec<u8>>> {
    let mut buffer = Vec::new();
    let mut chunk = [0u8; 16 * 1024];
    let header_end = loop {
        if let Some(at) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            break at + 4;
        }
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Ok(None);
        }
        buffer.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buffer[..header_end]).to_ascii_lowercase();
    let length: usize =
        head.lines().find_map(|l| l.strip_prefix("content-length:")).and_then(|v| v.trim().parse().ok()).unwrap_or(0);
    while buffer.len() < header_end + length {
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Ok(None);
        }
        buffer.extend_from_slice(&chunk[..n]);
    }
    // Ask the desk to close after replying, so its reply ends at EOF.
    let mut request = buffer[..header_end - 2].to_vec();
    request.extend_from_slice(b"Connection: close\r\n\r\n");
    request.extend_from_slice(&buffer[header_end..]);
    Ok(Some(request))
}

async fn ask_desk(upstream: SocketAddr, request: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut desk = TcpStream::connect(upstream).await?;
    desk.write_all(request).await?;
    let mut reply = Vec::new();
    desk.read_to_end(&mut reply).await?;
    Ok(reply)
}

async fn relay(mut client: TcpStream, upstream: SocketAddr, fault: Fault) -> std::io::Result<()> {
    let Some(request) = read_request(&mut client).await? else {
        return Ok(());
    };
    match fault {
        Fault::CutMidRequest => return Ok(()),
        Fault::Duplicate => {
            ask_desk(upstream, &request).await?;
        }
        _ => {}
    }
    let reply = ask_desk(upstream, &request).await?;
    match fault {
        Fault::CutBeforeReply => return Ok(()),
        Fault::CutMidReply => {
            client.write_all(&reply[..reply.len() / 2]).await?;
            return Ok(());
        }
        Fault::Delay(wait) => tokio::time::sleep(wait).await,
        _ => {}
    }
    client.write_all(&reply).await?;
    client.shutdown().await
}
