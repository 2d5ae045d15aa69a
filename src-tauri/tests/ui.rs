//! The real app, driven through tauri-driver and WebKitWebDriver under Xvfb:
//! an engineer pairs, then — with the desk stopped — opens a ticket, goes on
//! site, adds a note and a photo, ticks the checklist, takes the customer's
//! signature and resolves; the desk comes back and its copy is updated.
//! Screenshots of the main screens in English and Russian are saved to
//! `target/ui-artifacts/`.
//!
//! Needs Xvfb, WebKitWebDriver (Debian: xvfb, webkit2gtk-driver) and
//! tauri-driver (`cargo install tauri-driver --version '^2'`); the test
//! command installs them.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use outpost_scenarios::{job_for, photo, Desk};
use serde_json::{json, Value};

const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

/// A child process in a process group of its own, killed with everything
/// it started when dropped (tauri-driver starts WebKitWebDriver, which
/// starts the app: left running, they would answer the next test's session).
struct Running(Child);

impl Running {
    fn spawn(command: &mut Command) -> Self {
        use std::os::unix::process::CommandExt;
        Self(command.process_group(0).stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap())
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let group = format!("-{}", self.0.id());
        let _ = Command::new("kill").args(["-KILL", "--", &group]).status();
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn find_tool(name: &str, also: &[PathBuf]) -> PathBuf {
    let on_path = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).map(|d| d.join(name)).collect::<Vec<_>>())
        .unwrap_or_default();
    on_path
        .into_iter()
        .chain(also.iter().cloned())
        .find(|p| p.is_file())
        .unwrap_or_else(|| panic!("{name} is missing: run ./scripts/test.sh, which installs it (see the README)"))
}

fn artifacts() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/ui-artifacts");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A plain W3C WebDriver client: just what this test needs.
struct Driver {
    http: reqwest::Client,
    base: String,
}

impl Driver {
    async fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let mut request = self.http.request(method, format!("{}{path}", self.base));
        if let Some(body) = body {
            request = request.json(&body);
        }
        let reply: Value = request.send().await.unwrap().json().await.unwrap();
        reply["value"].clone()
    }

    async fn try_find(&self, css: &str) -> Option<String> {
        let found =
            self.call(reqwest::Method::POST, "/element", Some(json!({ "using": "css selector", "value": css }))).await;
        found[ELEMENT].as_str().map(str::to_owned)
    }

    /// Waits for an element (the app renders asynchronously).
    async fn find(&self, css: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(id) = self.try_find(css).await {
                return id;
            }
            assert!(Instant::now() < deadline, "no element {css} appeared");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    async fn click(&self, css: &str) {
        let id = self.find(css).await;
        // Centre it first: at the window's top edge the sticky bar would take the click.
        let element = json!({ ELEMENT: id });
        self.script("arguments[0].scrollIntoView({ block: 'center' }); return true;", json!([element])).await;
        let reply = self.call(reqwest::Method::POST, &format!("/element/{id}/click"), Some(json!({}))).await;
        assert!(reply.get("error").is_none(), "clicking {css} failed: {reply}");
    }

    async fn type_into(&self, css: &str, text: &str) {
        let id = self.find(css).await;
        self.call(reqwest::Method::POST, &format!("/element/{id}/clear"), Some(json!({}))).await;
        self.call(reqwest::Method::POST, &format!("/element/{id}/value"), Some(json!({ "text": text }))).await;
    }

    async fn script(&self, script: &str, args: Value) -> Value {
        self.call(reqwest::Method::POST, "/execute/sync", Some(json!({ "script": script, "args": args }))).await
    }

    /// Waits until `script` (returning a boolean) holds.
    async fn wait_until(&self, what: &str, script: &str) {
        let deadline = Instant::now() + Duration::from_secs(30);
        while self.script(script, json!([])).await != json!(true) {
            if Instant::now() > deadline {
                self.screenshot("failure").await;
                let shown = self
                    .script(
                        "return document.querySelector('[data-testid=error]')?.textContent + ' | ' + document.body.innerText",
                        json!([]),
                    )
                    .await;
                panic!("timed out waiting: {what}; the screen (target/ui-artifacts/failure.png) says: {shown}");
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// The top of the screen, as a person arriving on it sees it.
    async fn screenshot(&self, name: &str) {
        self.script("window.scrollTo(0, 0); return true;", json!([])).await;
        self.take(name).await;
    }

    /// The screen scrolled to what `selector` finds.
    async fn screenshot_of(&self, name: &str, selector: &str) {
        let script = "document.querySelector(arguments[0]).scrollIntoView({ block: 'center' }); return true;";
        self.script(script, json!([selector])).await;
        self.take(name).await;
    }

    async fn take(&self, name: &str) {
        // WebKit hands over the last frame it painted: let it paint what the DOM holds now.
        let painted = "const done = arguments[arguments.length - 1];
                       requestAnimationFrame(() => requestAnimationFrame(() => done(true)));";
        self.call(reqwest::Method::POST, "/execute/async", Some(json!({ "script": painted, "args": [] }))).await;
        tokio::time::sleep(Duration::from_millis(150)).await;
        let png = self.call(reqwest::Method::GET, "/screenshot", None).await;
        let bytes = decode_base64(png.as_str().expect("a screenshot"));
        assert!(bytes.starts_with(b"\x89PNG"), "{name} is a PNG");
        std::fs::write(artifacts().join(format!("{name}.png")), bytes).unwrap();
    }

    async fn window(&self, width: u32, height: u32) {
        self.call(reqwest::Method::POST, "/window/rect", Some(json!({ "width": width, "height": height }))).await;
    }
}

fn decode_base64(text: &str) -> Vec<u8> {
    let value = |c: u8| match c {
        b'A'..=b'Z' => c - b'A',
        b'a'..=b'z' => c - b'a' + 26,
        b'0'..=b'9' => c - b'0' + 52,
        b'+' => 62,
        _ => 63,
    };
    let clean: Vec<u8> = text.bytes().filter(|c| !c.is_ascii_whitespace() && *c != b'=').collect();
    let mut out = Vec::with_capacity(clean.len() * 3 / 4);
    for chunk in clean.chunks(4) {
        let n = chunk.iter().enumerate().fold(0u32, |n, (i, c)| n | (u32::from(value(*c)) << (18 - 6 * i)));
        out.extend_from_slice(&n.to_be_bytes()[1..chunk.len()]);
    }
    out
}

fn encode_base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len() * 4 / 3 + 4);
    for chunk in bytes.chunks(3) {
        let n = chunk.iter().enumerate().fold(0u32, |n, (i, b)| n | (u32::from(*b) << (16 - 8 * i)));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i)) as usize & 63] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Hands the photo input a file, as a person picking one from the camera roll would.
const PICK_PHOTO: &str = "
    const bytes = Uint8Array.from(atob(arguments[0]), c => c.charCodeAt(0));
    const input = document.querySelector('[data-testid=photo-input]');
    const transfer = new DataTransfer();
    transfer.items.add(new File([bytes], 'panel.jpg', { type: 'image/jpeg' }));
    input.files = transfer.files;
    input.dispatchEvent(new Event('change', { bubbles: true }));
    return true;";

/// Draws a signature with pointer events across the pad.
const DRAW_SIGNATURE: &str = "
    const pad = document.querySelector('[data-testid=signature-pad]');
    const box = pad.getBoundingClientRect();
    const at = (x, y) => ({ clientX: box.left + x * box.width, clientY: box.top + y * box.height, pointerId: 1, bubbles: true });
    pad.dispatchEvent(new PointerEvent('pointerdown', at(0.1, 0.6)));
    for (let i = 1; i <= 30; i++) {
      pad.dispatchEvent(new PointerEvent('pointermove', at(0.1 + i * 0.025, 0.6 - 0.3 * Math.sin(i / 3))));
    }
    pad.dispatchEvent(new PointerEvent('pointerup', at(0.85, 0.5)));
    return true;";

fn status_is(status: &str) -> String {
    format!("return document.querySelector('[data-testid=ticket]')?.dataset.status === '{status}'")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_engineer_works_a_ticket_offline_in_the_app_and_the_desk_catches_up() {
    let home = std::env::var_os("HOME").map(PathBuf::from).unwrap_or_default();
    let tauri_driver = find_tool("tauri-driver", &[home.join(".cargo/bin/tauri-driver")]);
    let webkit_driver = find_tool("WebKitWebDriver", &[PathBuf::from("/usr/bin/WebKitWebDriver")]);
    let xvfb = find_tool("Xvfb", &[PathBuf::from("/usr/bin/Xvfb")]);

    let root = tempfile::tempdir().unwrap();
    let display = format!(":{}", 100 + std::process::id() % 800);
    let _x = Running::spawn(Command::new(&xvfb).args([
        display.as_str(),
        "-screen",
        "0",
        "1920x1080x24",
        "-nolisten",
        "tcp",
    ]));
    tokio::time::sleep(Duration::from_millis(800)).await;

    let mut desk = Desk::start(root.path()).await;
    let engineer = desk.engineer("Marina").await;
    let job = job_for(&desk, &engineer, 31).await;
    let code = outpost_desk::accounts::issue_pairing_code(&desk.db.pool, engineer.user, outpost_desk::now(), 600_000)
        .await
        .unwrap();

    let port = free_port();
    // Its own WebKitWebDriver port too: the default one may be another test run's.
    let native_port = free_port();
    let _driver = Running::spawn(
        Command::new(&tauri_driver)
            .args(["--port", &port.to_string(), "--native-port", &native_port.to_string(), "--native-driver"])
            .arg(&webkit_driver)
            .env("DISPLAY", &display)
            .env("OUTPOST_DATA_DIR", root.path().join("app"))
            .env(outpost_core::KEY_DIR_ENV, root.path().join("keys"))
            // A fresh web view profile: no language or theme left from another run.
            .env("XDG_DATA_HOME", root.path().join("xdg-data"))
            .env("XDG_CONFIG_HOME", root.path().join("xdg-config"))
            .env("XDG_CACHE_HOME", root.path().join("xdg-cache"))
            .env("LANG", "en_US.UTF-8"),
    );
    // A wedged driver fails the test instead of hanging it.
    let http = reqwest::Client::builder().timeout(Duration::from_secs(90)).build().unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while http.get(format!("http://127.0.0.1:{port}/status")).send().await.is_err() {
        assert!(Instant::now() < deadline, "tauri-driver did not start");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let app = env!("CARGO_BIN_EXE_outpost-app");
    let session: Value = http
        .post(format!("http://127.0.0.1:{port}/session"))
        .json(&json!({ "capabilities": { "alwaysMatch": { "tauri:options": { "application": app } } } }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let session_id = session["value"]["sessionId"].as_str().unwrap_or_else(|| panic!("no session: {session}"));
    let d = Driver { http: http.clone(), base: format!("http://127.0.0.1:{port}/session/{session_id}") };

    // Pair.
    d.find("[data-testid=pair-desk]").await;
    d.screenshot("en-pairing").await;
    d.type_into("[data-testid=pair-desk]", &desk.url()).await;
    d.type_into("[data-testid=pair-code]", &code).await;
    d.click("[data-testid=pair-submit]").await;
    let ticket = job.ticket.to_string();
    let row = format!("[data-testid=ticket-row][data-id='{ticket}']");
    d.find(&row).await;
    // Before leaving: the banner says what the visit lacks (the ticket names no contact).
    d.wait_until(
        "the readiness banner",
        "const b = document.querySelector('[data-testid=ready-banner]');
         return b !== null && b.dataset.ready === 'false' && b.textContent.includes('contact')",
    )
    .await;
    d.screenshot("en-tickets").await;

    // The desk goes away; the engineer works on.
    desk.stop();
    d.click(&row).await;
    d.find("[data-testid=ticket]").await;
    for (button, status) in [("accepted", "accepted"), ("en_route", "en_route"), ("on_site", "on_site")] {
        d.click(&format!("[data-testid=move-{button}]")).await;
        d.wait_until(&format!("status {status}"), &status_is(status)).await;
    }
    d.type_into("[data-testid=note-input]", "Replaced the failed disk; rebuild started.").await;
    d.click("[data-testid=add-note]").await;
    d.wait_until(
        "the note shows",
        "return document.querySelector('[data-testid=work-log]').textContent.includes('rebuild started')",
    )
    .await;
    d.script(PICK_PHOTO, json!([encode_base64(&photo(9, 1600, 1200))])).await;
    d.wait_until("the photo shows", "return document.querySelectorAll('[data-testid=photo]').length === 1").await;
    d.click("[data-testid=check-power]").await;
    d.wait_until("power is ticked", "return document.querySelector('[data-testid=check-power]').checked === true")
        .await;
    // The customer reads the service report before signing; once signed, it is attached.
    d.click("[data-testid=report-toggle]").await;
    d.wait_until(
        "the report shows the work",
        "const r = document.querySelector('[data-testid=report-preview]'); return r !== null && r.textContent.includes('rebuild started')",
    )
    .await;
    d.screenshot_of("en-ticket-report-preview", "[data-testid=report-preview]").await;
    d.type_into("[data-testid=signer]", "Ирина Волкова").await;
    d.script(DRAW_SIGNATURE, json!([])).await;
    d.click("[data-testid=save-signature]").await;
    d.find("[data-testid=signed]").await;
    d.find("[data-testid=report-attached]").await;
    d.type_into("[data-testid=resolution-code]", "replaced").await;
    d.type_into("[data-testid=resolution-notes]", "Disk replaced, array healthy.").await;
    d.click("[data-testid=save-resolution]").await;
    d.click("[data-testid=move-resolved]").await;
    d.wait_until("resolved", &status_is("resolved")).await;
    d.wait_until(
        "going back on site says it reopens the work",
        "return document.querySelector('[data-testid=move-on_site]').textContent.includes('Reopen')",
    )
    .await;
    d.type_into("[data-testid=found-title]", "UPS battery swollen").await;
    d.click("[data-testid=found-create]").await;
    d.find("[data-testid=found-created]").await;
    d.screenshot("en-ticket").await;
    d.wait_until(
        "the signature shows as drawn",
        "const img = document.querySelector('[data-testid=signature-image]'); return img !== null && img.complete && img.naturalWidth > 0",
    )
    .await;
    d.screenshot_of("en-ticket-photos-signature", "[data-testid=signed]").await;
    d.window(1920, 1080).await;
    // A wide screen keeps the list beside the open ticket, the open one marked.
    d.wait_until(
        "the list beside the ticket",
        &format!(
            "const row = document.querySelector(\"[data-testid=ticket-row][data-id='{ticket}']\");
             return document.querySelector('[data-testid=ticket]') !== null && row !== null
               && row.getAttribute('aria-current') === 'true'
               && row.getBoundingClientRect().right < document.querySelector('[data-testid=ticket]').getBoundingClientRect().left"
        ),
    )
    .await;
    d.screenshot("en-ticket-1920x1080").await;
    d.window(1024, 768).await;
    d.click("[data-testid=nav-sync]").await;
    d.find("[data-testid=sync-panel]").await;
    d.screenshot("en-sync-offline").await;

    // The desk is back: one tap and it has everything.
    desk.start_again().await;
    d.click("[data-testid=sync-now]").await;
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let on_desk = desk.ticket(job.ticket).await;
        let done = outpost_sync::workflow::fold_ticket(&on_desk).status.code() == "resolved"
            && on_desk.work_log.iter().any(|n| n.text.contains("rebuild started"))
            && on_desk.signature.as_ref().is_some_and(|s| s.signer_name == "Ирина Волкова")
            && on_desk.checklist.get("power").is_some_and(|c| c.done)
            // The photo, the signature, and the signed report with its data.
            && on_desk.attachments.len() == 4
            && on_desk.attachments.iter().any(|a| a.mime == "application/pdf");
        if done {
            let photo = on_desk.attachments.iter().find(|a| a.mime == "image/jpeg").unwrap();
            if desk.has_blob(&photo.hash.0).await {
                break;
            }
        }
        assert!(Instant::now() < deadline, "the desk's copy was not updated: {on_desk:?}");
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    // Reached again, the app reopens the desk's live channel and says so.
    d.wait_until(
        "the sync panel says the device is live",
        "return document.querySelector('[data-testid=live-channel]')?.classList.contains('live') === true",
    )
    .await;
    d.screenshot("en-sync-live").await;
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (found,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM tickets WHERE title = 'UPS battery swollen'")
            .fetch_one(&desk.db.pool)
            .await
            .unwrap();
        if found == 1 {
            break;
        }
        assert!(Instant::now() < deadline, "the ticket found on site did not reach the desk");
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    d.wait_until(
        "nothing pending",
        "return document.querySelector('[data-testid=pending]').textContent.match(/\\d+/g).every(n => n === '0')",
    )
    .await;
    d.screenshot("en-sync").await;

    // The same screens in Russian.
    d.click("[data-testid=nav-settings]").await;
    d.click("[data-testid=lang-ru]").await;
    d.wait_until("Russian", "return document.documentElement.lang === 'ru'").await;
    d.screenshot("ru-settings").await;
    d.click("[data-testid=nav-tickets]").await;
    d.find(&row).await;
    d.screenshot("ru-tickets").await;
    d.click(&row).await;
    d.find("[data-testid=ticket]").await;
    d.screenshot("ru-ticket").await;
    d.window(1920, 1080).await;
    d.screenshot("ru-ticket-1920x1080").await;
    d.window(1024, 768).await;
    d.click("[data-testid=nav-sync]").await;
    d.find("[data-testid=sync-panel]").await;
    d.screenshot("ru-sync").await;
    d.click("[data-testid=nav-settings]").await;
    d.click("[data-testid=theme-dark]").await;
    d.screenshot("ru-settings-dark").await;
    d.click("[data-testid=sign-out]").await;
    d.find("[data-testid=pair-desk]").await;
    d.screenshot("ru-pairing").await;

    http.delete(d.base.clone()).send().await.unwrap();
}

#[test]
fn base64_round_trips() {
    for bytes in [&b""[..], b"a", b"ab", b"abc", b"\x00\xff\x10\x80"] {
        assert_eq!(decode_base64(&encode_base64(bytes)), bytes);
    }
}
