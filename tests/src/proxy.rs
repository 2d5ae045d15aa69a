//! An HTTP proxy on loopback that misbehaves on purpose: it cuts
//! connections before or in the middle of a reply, delays, and sends a
//! request to the desk twice. It can also play a poor link (this machine's
//! kernel has no netem): a bandwidth, a latency each way, and losses as the
//! stalls a retransmission costs. One request per connection; the desk is
//! asked to close after each reply so the proxy can read it whole.

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

/// A link between the device and the desk, the same both ways.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Link {
    /// Bytes a second; 0 is unlimited.
    pub bytes_per_second: u64,
    /// Added to each request on its way to the desk, and to each reply on its way back.
    pub one_way: Duration,
    /// Per mille of slices of a transfer that are lost and resent after a stall.
    pub loss_per_mille: u64,
    pub stall: Duration,
}

impl Link {
    pub const LOOPBACK: Self =
        Self { bytes_per_second: 0, one_way: Duration::ZERO, loss_per_mille: 0, stall: Duration::ZERO };

    /// A slice of a transfer: 20 ms of the link's bytes, so pacing is smooth.
    fn slice(&self) -> usize {
        usize::try_from(self.bytes_per_second / 50).unwrap_or(usize::MAX).max(512)
    }
}

/// What crossed the proxy, as the link counts it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Traffic {
    pub requests: u64,
    pub bytes_up: u64,
    pub bytes_down: u64,
}

/// Which fault each request meets: a seeded random pick, for a given share of requests.
struct Plan {
    state: u64,
    fault_percent: u64,
    seen: Vec<Fault>,
    link: Link,
    traffic: Traffic,
    /// Cut the next request whose body is longer than this after this many body bytes.
    cut_body_at: Option<usize>,
    /// Each request's first line, in order.
    lines: Vec<String>,
    /// From this request on (counting from 1), every reply is cut half-way.
    cut_replies_from: Option<u64>,
}

impl Plan {
    /// A number from 0 to 999 for a loss roll.
    fn roll_per_mille(&mut self) -> u64 {
        self.state = self.state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        (self.state >> 33) % 1000
    }
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
        let plan = Arc::new(Mutex::new(Plan {
            state: seed,
            fault_percent,
            seen: Vec::new(),
            link: Link::LOOPBACK,
            traffic: Traffic::default(),
            cut_body_at: None,
            lines: Vec::new(),
            cut_replies_from: None,
        }));
        let shared = Arc::clone(&plan);
        let task = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let fault = shared.lock().unwrap().next();
                let plan = Arc::clone(&shared);
                tokio::spawn(async move {
                    let _ = relay(client, upstream, fault, plan).await;
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

    /// The link requests cross from now on.
    pub fn set_link(&self, link: Link) {
        self.plan.lock().unwrap().link = link;
    }

    /// The next request with a body longer than `bytes` reaches the desk
    /// with only its first `bytes` bytes of body; then the link drops.
    pub fn cut_next_body_at(&self, bytes: usize) {
        self.plan.lock().unwrap().cut_body_at = Some(bytes);
    }

    /// Every reply from the `request`-th request on (counting from 1) is
    /// cut half-way, until `None`: a link that dies and stays dead.
    pub fn cut_replies_from(&self, request: Option<u64>) {
        self.plan.lock().unwrap().cut_replies_from = request;
    }

    /// The first line of every request so far (method, path and query).
    pub fn request_lines(&self) -> Vec<String> {
        self.plan.lock().unwrap().lines.clone()
    }

    /// What crossed the proxy so far.
    pub fn traffic(&self) -> Traffic {
        self.plan.lock().unwrap().traffic
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

/// Sends `bytes` over the link: after its latency, paced to its bandwidth
/// slice by slice, a lost slice costing a stall before it goes again.
async fn over_link(
    to: &mut TcpStream,
    bytes: &[u8],
    plan: &Mutex<Plan>,
    count: impl Fn(&mut Traffic, u64),
) -> std::io::Result<()> {
    let link = plan.lock().unwrap().link;
    if link == Link::LOOPBACK {
        count(&mut plan.lock().unwrap().traffic, bytes.len() as u64);
        return to.write_all(bytes).await;
    }
    tokio::time::sleep(link.one_way).await;
    let started = tokio::time::Instant::now();
    let mut sent = 0u64;
    for slice in bytes.chunks(link.slice()) {
        if link.loss_per_mille > 0 && plan.lock().unwrap().roll_per_mille() < link.loss_per_mille {
            tokio::time::sleep(link.stall).await;
        }
        sent += slice.len() as u64;
        if link.bytes_per_second > 0 {
            let due = Duration::from_secs_f64(sent as f64 / link.bytes_per_second as f64);
            tokio::time::sleep_until(started + due).await;
        }
        to.write_all(slice).await?;
        count(&mut plan.lock().unwrap().traffic, slice.len() as u64);
    }
    Ok(())
}

async fn relay(
    mut client: TcpStream,
    upstream: SocketAddr,
    fault: Fault,
    plan: Arc<Mutex<Plan>>,
) -> std::io::Result<()> {
    let Some(request) = read_request(&mut client).await? else {
        return Ok(());
    };
    let header_end = request.windows(4).position(|w| w == b"\r\n\r\n").map_or(request.len(), |at| at + 4);
    let (cut, fault) = {
        let mut plan = plan.lock().unwrap();
        plan.traffic.requests += 1;
        let fault = match plan.cut_replies_from {
            Some(from) if plan.traffic.requests >= from => Fault::CutMidReply,
            _ => fault,
        };
        plan.lines
            .push(String::from_utf8_lossy(request.split(|&b| b == b'\r').next().unwrap_or_default()).into_owned());
        let cut = match plan.cut_body_at {
            Some(at) if request.len() - header_end > at => plan.cut_body_at.take(),
            _ => None,
        };
        (cut, fault)
    };
    if let Some(at) = cut {
        // Part of the body reaches the desk; then the link is gone both ways.
        let mut desk = TcpStream::connect(upstream).await?;
        desk.write_all(&request[..header_end + at]).await?;
        desk.flush().await?;
        tokio::time::sleep(Duration::from_millis(100)).await;
        return Ok(());
    }
    let link = plan.lock().unwrap().link;
    if link != Link::LOOPBACK {
        // The request crosses the link before the desk sees it, the reply before the device does.
        let mut desk = TcpStream::connect(upstream).await?;
        over_link(&mut desk, &request, &plan, |t, n| t.bytes_up += n).await?;
        let mut reply = Vec::new();
        desk.read_to_end(&mut reply).await?;
        over_link(&mut client, &reply, &plan, |t, n| t.bytes_down += n).await?;
        return client.shutdown().await;
    }
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
