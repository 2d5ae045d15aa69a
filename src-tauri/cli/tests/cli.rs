//! The `outpost` binary against a real desk on loopback: a day's work from
//! the command line, JSON output, and exit codes for bad input.

use std::path::Path;
use std::process::Command;

use outpost_scenarios::{job_for, photo, signature_png, Desk, Proxy};

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Run {
    fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.stdout))
    }
}

fn outpost(data_dir: &Path, args: &[&str]) -> Run {
    let output = Command::new(env!("CARGO_BIN_EXE_outpost"))
        .arg("--data-dir")
        .arg(data_dir)
        .args(args)
        .env_remove("OUTPOST_DATA_DIR")
        // The store's key beside the data directory, never inside it.
        .env(outpost_core::KEY_DIR_ENV, data_dir.parent().expect("a data directory has a parent").join("keys"))
        .output()
        .expect("the binary runs");
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// Runs `outpost` off the async threads (it blocks until the child exits).
async fn run(data_dir: &Path, args: &[&str]) -> Run {
    let dir = data_dir.to_owned();
    let args: Vec<String> = args.iter().map(|a| (*a).to_owned()).collect();
    tokio::task::spawn_blocking(move || outpost(&dir, &args.iter().map(String::as_str).collect::<Vec<_>>()))
        .await
        .unwrap()
}

fn ok(run: &Run, what: &str) {
    assert_eq!(run.code, 0, "{what} failed: {}{}", run.stdout, run.stderr);
}

/// Pairs the device in `dir` for `engineer` with a fresh code and syncs it
/// once; the pairing's JSON answer.
async fn pair_and_sync(desk: &Desk, engineer: &outpost_sync::model::Actor, dir: &Path) -> serde_json::Value {
    let code = outpost_desk::accounts::issue_pairing_code(&desk.db.pool, engineer.user, outpost_desk::now(), 60_000)
        .await
        .unwrap();
    let paired = run(dir, &["--json", "pair", &desk.url(), &code]).await;
    ok(&paired, "pair");
    ok(&run(dir, &["sync"]).await, "first sync");
    paired.json()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_engineer_works_a_ticket_from_the_command_line() {
    let root = tempfile::tempdir().unwrap();
    let desk = Desk::start(root.path()).await;
    let engineer = desk.engineer("Stepan").await;
    let job = job_for(&desk, &engineer, 21).await;
    let ticket = job.ticket.to_string();
    let dir = root.path().join("device");
    let paired = pair_and_sync(&desk, &engineer, &dir).await;
    assert_eq!(paired["user_id"], engineer.user.to_string());
    let list = run(&dir, &["--json", "tickets"]).await;
    ok(&list, "tickets");
    assert_eq!(list.json()[0]["id"], ticket);

    let photo_file = root.path().join("shelf.jpg");
    std::fs::write(&photo_file, photo(3, 2400, 1800)).unwrap();
    let signature_file = root.path().join("signature.png");
    std::fs::write(&signature_file, signature_png()).unwrap();
    let photo_path = photo_file.to_str().unwrap();
    let signature_path = signature_file.to_str().unwrap();
    for args in [
        vec!["accept", &ticket],
        vec!["en-route", &ticket],
        vec!["arrive", &ticket, "--lat", "55.03", "--lon", "82.92"],
        vec!["timer", "start", &ticket],
        vec!["note", &ticket, "Replaced", "the", "controller", "battery"],
        vec!["tick", &ticket, "power"],
        vec!["photo", &ticket, photo_path],
        vec!["sign", &ticket, signature_path, "--signer", "Анна Сергеевна"],
        vec!["resolution", &ticket, "--code", "replaced", "--notes", "Battery replaced, array healthy."],
        vec!["resolve", &ticket],
    ] {
        ok(&run(&dir, &args).await, &args.join(" "));
    }
    let shown = run(&dir, &["--json", "ticket", &ticket]).await;
    ok(&shown, "ticket");
    let detail = shown.json();
    assert_eq!(detail["status"], "resolved");
    assert_eq!(detail["work_log"][0]["text"], "Replaced the controller battery");
    assert_eq!(detail["signature"]["signer"], "Анна Сергеевна");
    assert_eq!(detail["visits"][0]["lat"], 55.03);

    let status = run(&dir, &["--json", "status"]).await;
    assert_eq!(status.json()["pending_documents"], 1);
    let offset = status.json()["clock_offset_ms"].as_i64().expect("the last sync measured the clocks");
    assert!(offset.abs() < 5_000, "one machine, one clock: {offset} ms");
    let synced = run(&dir, &["--json", "sync"]).await;
    ok(&synced, "sync");
    assert_eq!(synced.json()["progress"]["blobs_sent"], 3, "photo, thumbnail and signature uploaded");
    let on_desk = desk.ticket(job.ticket).await;
    assert_eq!(outpost_sync::workflow::fold_ticket(&on_desk).status.code(), "resolved");
    assert_eq!(on_desk.work_log[0].text, "Replaced the controller battery");

    let export = root.path().join("ticket.json");
    ok(&run(&dir, &["export", &ticket, "--output", export.to_str().unwrap()]).await, "export");
    let exported: serde_json::Value = serde_json::from_slice(&std::fs::read(&export).unwrap()).unwrap();
    assert_eq!(exported["number"], detail["number"]);
    let search = run(&dir, &["--json", "search", "controller", "battery"]).await;
    assert_eq!(search.json().as_array().unwrap().len(), 1, "the note's words find the ticket");
    let text = run(&dir, &["ticket", &ticket]).await;
    ok(&text, "ticket as text");
    assert!(text.stdout.contains("[x] Check power"), "{}", text.stdout);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_gets_a_clear_error_and_an_exit_code_that_says_what_kind() {
    let root = tempfile::tempdir().unwrap();
    let desk = Desk::start(root.path()).await;
    let engineer = desk.engineer("Lev").await;
    let job = job_for(&desk, &engineer, 22).await;
    let ticket = job.ticket.to_string();
    let dir = root.path().join("device");

    let unpaired = run(&dir, &["--json", "accept", &ticket]).await;
    assert_eq!(unpaired.code, 5, "{}", unpaired.stdout);
    assert_eq!(unpaired.json()["error"], "not_paired");
    assert_eq!(run(&dir, &["pair", "http://127.0.0.1:9", "CODE"]).await.code, 6, "unreachable desk");
    let bad_code = run(&dir, &["pair", &desk.url(), "NOPE"]).await;
    assert_eq!(bad_code.code, 7, "the desk refuses the code");
    assert!(bad_code.stderr.starts_with("error: "), "{}", bad_code.stderr);

    pair_and_sync(&desk, &engineer, &dir).await;
    let garbage = root.path().join("garbage.jpg");
    std::fs::write(&garbage, b"\xFF\xD8\xFF\xE0 not really a photo").unwrap();
    let unknown = "01900000-0000-7000-8000-0000000000ff";
    for (args, expected) in [
        (vec!["accept", unknown], 3),
        (vec!["accept", "not-an-id"], 2),
        (vec!["resolve", &ticket], 4),
        (vec!["note", &ticket], 2),
        (vec!["tick", &ticket, "coffee"], 2),
        (vec!["photo", &ticket, garbage.to_str().unwrap()], 2),
        (vec!["photo", &ticket, "/no/such/file.jpg"], 2),
        (vec!["escalate", &ticket, "--to", "l9", "--reason", "x"], 2),
        (vec!["equipment", "NO-SUCH-SERIAL"], 3),
        (vec!["blob", "abc", "--output", "/tmp/x"], 2),
    ] {
        let result = run(&dir, &args).await;
        assert_eq!(result.code, expected, "{}: {}{}", args.join(" "), result.stdout, result.stderr);
        assert!(!result.stderr.trim().is_empty(), "{} says why", args.join(" "));
    }
    let status = run(&dir, &["--json", "status"]).await;
    assert_eq!(status.json()["pending_documents"], 0, "no failed command changed anything");
    let signed_out = run(&dir, &["sign-out"]).await;
    ok(&signed_out, "sign-out with nothing unsynced");
}

/// What `outpost ready --json` lists as missing for one ticket: (what, reason, id).
fn missing_for(readiness: &serde_json::Value, ticket: &str) -> Vec<(String, String, Option<String>)> {
    let entry =
        readiness["tickets"].as_array().unwrap().iter().find(|t| t["id"] == ticket).expect("the ticket is checked");
    entry["missing"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            let text = |k: &str| m[k].as_str().map(str::to_owned);
            (text("what").unwrap(), text("reason").unwrap(), text("id"))
        })
        .collect()
}

/// Before a site with no signal: `outpost ready` says, per open ticket,
/// what its visit lacks on this device and why; `--fetch` gets what the
/// desk has, and the previews it fetched show with the desk gone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ready_says_what_a_visit_lacks_and_fetch_gets_it() {
    let root = tempfile::tempdir().unwrap();
    let mut desk = Desk::start(root.path()).await;
    let engineer = desk.engineer("Olga").await;
    let (a, b) = (job_for(&desk, &engineer, 31).await.ticket, job_for(&desk, &engineer, 32).await.ticket);
    let c = job_for(&desk, &engineer, 33).await.ticket.to_string();
    let (a, b) = (a.to_string(), b.to_string());
    // The engineer's laptop photographs ticket A; the photo reaches the desk.
    let proxy = Proxy::start(desk.addr, 9, 0).await;
    let laptop = desk.paired_device(&engineer, &root.path().join("laptop"), Some(&proxy.url())).await;
    laptop.sync_now().await.unwrap();
    let attached = laptop.attach_photo(&a, &photo(5, 1200, 900), "panel.jpg", false).await.unwrap();
    laptop.sync_now().await.unwrap();
    // It photographs ticket C too, but the link dies during the preview's upload:
    // the ticket names the photo, the desk has no preview of it yet.
    let unsent = laptop.attach_photo(&c, &photo(6, 1200, 900), "rack.jpg", false).await.unwrap();
    proxy.cut_next_body_at(1_000);
    assert!(laptop.sync_now().await.is_err(), "the upload was cut");

    let dir = root.path().join("tablet");
    pair_and_sync(&desk, &engineer, &dir).await;
    // A record lost from the tablet's store: ticket B's site.
    let site_b = desk.ticket(b.parse().unwrap()).await.site.site.unwrap().to_string();
    let store = outpost_scenarios::device_store(&dir).await;
    sqlx::query("DELETE FROM documents WHERE id = ?").bind(&site_b).execute(&store).await.unwrap();
    store.close().await;

    let check = run(&dir, &["--json", "ready"]).await;
    ok(&check, "ready");
    let readiness = check.json();
    assert_eq!((readiness["ready"].as_bool(), readiness["stale"].as_bool()), (Some(false), Some(false)));
    let contact = ("contact".to_owned(), "not_on_ticket".to_owned(), None);
    let preview = ("thumbnail".to_owned(), "not_downloaded".to_owned(), Some(attached.thumbnail.clone()));
    let site = ("site".to_owned(), "not_synced".to_owned(), Some(site_b.clone()));
    assert_eq!(missing_for(&readiness, &a), vec![contact.clone(), preview]);
    assert_eq!(missing_for(&readiness, &b), vec![site, contact.clone()]);
    let text = run(&dir, &["ready"]).await;
    assert!(text.stdout.contains("photo preview") && text.stdout.contains("NOT ready"), "{}", text.stdout);

    let fetched = run(&dir, &["--json", "ready", "--fetch"]).await;
    ok(&fetched, "ready --fetch");
    let after = fetched.json();
    assert_eq!(missing_for(&after, &a), vec![contact.clone()], "the preview came");
    assert_eq!(
        missing_for(&after, &b),
        vec![contact.clone()],
        "the site came back; a contact only the dispatcher can add"
    );
    let waiting = ("thumbnail".to_owned(), "not_downloaded".to_owned(), Some(unsent.thumbnail.clone()));
    assert_eq!(missing_for(&after, &c), vec![contact, waiting], "a preview the desk lacks stays listed");

    // Where there is no signal, the fetched preview is on the tablet.
    desk.stop();
    let saved = root.path().join("preview.jpg");
    ok(&run(&dir, &["blob", &attached.thumbnail, "--output", saved.to_str().unwrap()]).await, "blob offline");
    assert_eq!(outpost_core::media::content_hash(&std::fs::read(&saved).unwrap()).0, attached.thumbnail);
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    let aged = run(&dir, &["--json", "ready", "--max-age-hours", "0"]).await;
    assert_eq!(aged.json()["stale"], true, "a full sync older than the allowed age is flagged");
    assert_eq!(run(&dir, &["ready", "--max-age-hours=-1"]).await.code, 2, "a negative age is bad input");
    let offline = run(&dir, &["ready", "--fetch", "--max-age-hours", "0"]).await;
    assert_eq!(offline.code, 6, "fetching needs the desk: {}", offline.stderr);
}

/// The whole visit where there is never a signal, from the command line:
/// the outbox to a file, the desk takes it, its answer back by file.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_visit_without_signal_goes_to_the_desk_and_back_by_file() {
    let root = tempfile::tempdir().unwrap();
    let mut desk = Desk::start(root.path()).await;
    let engineer = desk.engineer("Denis").await;
    let job = job_for(&desk, &engineer, 41).await;
    let ticket = job.ticket.to_string();
    let dir = root.path().join("device");
    let paired = pair_and_sync(&desk, &engineer, &dir).await;
    let device: uuid::Uuid = paired["device_id"].as_str().unwrap().parse().unwrap();

    // At the site: no desk to reach.
    desk.stop();
    let signature_file = root.path().join("signature.png");
    std::fs::write(&signature_file, signature_png()).unwrap();
    for args in [
        vec!["accept", &ticket],
        vec!["arrive", &ticket],
        vec!["note", &ticket, "Fan", "replaced"],
        vec!["sign", &ticket, signature_file.to_str().unwrap(), "--signer", "Мария"],
        vec!["resolution", &ticket, "--notes", "Fan replaced, temperatures normal."],
        vec!["resolve", &ticket],
    ] {
        ok(&run(&dir, &args).await, &args.join(" "));
    }
    let stick = root.path().join("stick");
    std::fs::create_dir_all(&stick).unwrap();
    let outbox = stick.join("outbox.outpost");
    let written = run(&dir, &["--json", "outbox", "export", "--output", outbox.to_str().unwrap()]).await;
    ok(&written, "outbox export");
    assert_eq!((written.json()["sequence"].as_u64(), written.json()["documents"].as_u64()), (Some(1), Some(1)));
    assert_eq!(written.json()["files"], 1, "the signature");
    assert_eq!(std::fs::read_dir(&stick).unwrap().count(), 1, "no partial file left beside it");
    let text = run(&dir, &["outbox", "export", "--output", outbox.to_str().unwrap()]).await;
    assert!(text.stdout.contains("outbox 2 written") && text.stdout.contains("outpost-desk import"), "{}", text.stdout);

    // Bad input: a file that is not there, a directory that is not there, the wrong way round.
    let missing = run(&dir, &["inbox", "import", root.path().join("nothing").to_str().unwrap()]).await;
    assert_eq!(missing.code, 2, "{}", missing.stderr);
    let nowhere =
        run(&dir, &["outbox", "export", "--output", root.path().join("no/such/dir/f").to_str().unwrap()]).await;
    assert_eq!(nowhere.code, 2, "{}", nowhere.stderr);
    let wrong_way = run(&dir, &["inbox", "import", outbox.to_str().unwrap()]).await;
    assert_eq!(wrong_way.code, 2);
    assert!(wrong_way.stderr.contains("import it at the desk"), "{}", wrong_way.stderr);

    // At the desk, the file from the stick; the answer back on it.
    let config = outpost_sync::session::ServerConfig::new(outpost_desk::desk_actor());
    let bytes = std::fs::read(&outbox).unwrap();
    let imported = outpost_desk::handoff::import(&desk.db, &config, &bytes, outpost_desk::now()).await.unwrap();
    assert_eq!((imported.documents, imported.files_stored), (1, 1), "{imported:?}");
    assert_eq!(desk.ticket(job.ticket).await.work_log[0].text, "Fan replaced");
    let (answer, _) =
        outpost_desk::handoff::export(&desk.db, &config, device, None, outpost_desk::now()).await.unwrap();
    let inbox = stick.join("answer.outpost");
    std::fs::write(&inbox, answer).unwrap();
    let taken = run(&dir, &["--json", "inbox", "import", inbox.to_str().unwrap()]).await;
    ok(&taken, "inbox import");
    assert!(taken.json()["documents_received"].as_u64().unwrap() >= 1, "{}", taken.stdout);
    assert_eq!(taken.json()["files_confirmed"], 1);
    let status = run(&dir, &["--json", "status"]).await;
    assert_eq!(
        (status.json()["pending_documents"].as_u64(), status.json()["pending_blobs"].as_u64()),
        (Some(0), Some(0))
    );
    let again = run(&dir, &["inbox", "import", inbox.to_str().unwrap()]).await;
    ok(&again, "the same answer again");
    assert!(again.stdout.contains("nothing new"), "{}", again.stdout);
}

/// The service report from the command line: a preview to show, refused
/// to attach before the signature, attached after it; bad input refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_service_report_is_previewed_signed_and_attached() {
    let root = tempfile::tempdir().unwrap();
    let desk = Desk::start(root.path()).await;
    let engineer = desk.engineer("Nina").await;
    let job = job_for(&desk, &engineer, 51).await;
    let ticket = job.ticket.to_string();
    let dir = root.path().join("device");
    pair_and_sync(&desk, &engineer, &dir).await;
    for args in [vec!["accept", &ticket], vec!["arrive", &ticket], vec!["note", &ticket, "PSU", "swapped"]] {
        ok(&run(&dir, &args).await, &args.join(" "));
    }
    let preview = root.path().join("preview.pdf");
    let shown = run(&dir, &["--json", "report", &ticket, "--lang", "en", "--output", preview.to_str().unwrap()]).await;
    ok(&shown, "report preview");
    assert_eq!((shown.json()["signed"].as_bool(), shown.json()["attached"].is_null()), (Some(false), true));
    assert!(std::fs::read(&preview).unwrap().starts_with(b"%PDF-"));
    let unsigned = run(&dir, &["report", &ticket, "--attach"]).await;
    assert_eq!(unsigned.code, 4, "refused until the customer signs: {}", unsigned.stderr);
    assert!(unsigned.stderr.contains("not signed yet"), "{}", unsigned.stderr);
    for bad in [vec!["report", &ticket, "--lang", "de", "--attach"], vec!["report", "not-a-ticket", "--attach"]] {
        let refused = run(&dir, &bad).await;
        assert_eq!(refused.code, 2, "{bad:?}: {}", refused.stderr);
    }
    let nowhere = run(&dir, &["report", &ticket]).await;
    assert_eq!(nowhere.code, 2, "an output or --attach is needed: {}", nowhere.stderr);

    let signature = root.path().join("signature.png");
    std::fs::write(&signature, signature_png()).unwrap();
    ok(&run(&dir, &["sign", &ticket, signature.to_str().unwrap(), "--signer", "Олег Иванов"]).await, "sign");
    let signed = root.path().join("signed.pdf");
    let attached = run(&dir, &["--json", "report", &ticket, "--attach", "--output", signed.to_str().unwrap()]).await;
    ok(&attached, "report --attach");
    let data_hash = attached.json()["data_hash"].as_str().unwrap().to_owned();
    assert_eq!(attached.json()["attached"]["data_hash"], data_hash.as_str());
    let text = Command::new("pdftotext").args([signed.to_str().unwrap(), "-"]).output().expect("poppler's pdftotext");
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(text.contains("T-2026-000051") && text.contains("Олег Иванов") && text.contains("PSU swapped"), "{text}");
    ok(&run(&dir, &["sync"]).await, "sync");
    let token = desk.api_token(outpost_sync::model::Role::Dispatcher).await;
    let (status, check) =
        desk.call(reqwest::Method::GET, &token, &format!("/v1/tickets/{ticket}/report"), serde_json::Value::Null).await;
    assert_eq!((status, check["matches"].as_bool()), (200, Some(true)), "{check}");
    assert_eq!(check["data_hash"], data_hash.as_str());
}

/// With a Secret Service answering (scripts/secret-service-test.sh runs
/// this inside a D-Bus session with gnome-keyring), the store's key goes
/// there and nowhere on disk; without it the store stays locked. Ignored in
/// the plain test run, which has no such session.
#[test]
#[ignore = "needs a Secret Service: run by scripts/secret-service-test.sh"]
fn the_store_key_goes_to_the_secret_service() {
    assert!(std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_some(), "run inside a D-Bus session");
    let root = tempfile::tempdir().unwrap();
    let (data, config) = (root.path().join("data"), root.path().join("config"));
    let outpost = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_outpost"))
            .arg("--data-dir")
            .arg(&data)
            .args(args)
            .env_remove(outpost_core::KEY_DIR_ENV)
            .env("XDG_CONFIG_HOME", &config)
            .output()
            .expect("the binary runs")
    };
    let secret = |op: &str, id: &str| {
        Command::new("secret-tool")
            .args([op, "service", "outpost-store", "username", id])
            .output()
            .expect("secret-tool")
    };
    let first = outpost(&["status"]);
    assert!(first.status.success(), "{}", String::from_utf8_lossy(&first.stderr));
    let id = std::fs::read_to_string(data.join("store-id")).unwrap();
    let key = secret("lookup", &id);
    let key = String::from_utf8_lossy(&key.stdout).trim().to_owned();
    assert_eq!(key.len(), 64, "a 256-bit key in hex is in the Secret Service under the store's id");
    assert!(!config.join("outpost").exists(), "and no key directory was made");
    let on_disk = std::fs::read_dir(&data).unwrap().map(|e| std::fs::read(e.unwrap().path()).unwrap_or_default());
    for bytes in on_disk {
        assert!(!bytes.windows(64).any(|w| w == key.as_bytes()), "the key is in no file of the data directory");
    }
    assert!(outpost(&["status"]).status.success(), "it opens again with the key from there");

    assert!(secret("clear", &id).status.success());
    let locked = outpost(&["status"]);
    assert_eq!(locked.status.code(), Some(11), "without its key the store is locked");
    assert!(String::from_utf8_lossy(&locked.stderr).contains("the Secret Service"), "and it says where it looked");
}
