//! The commands: each parses its arguments, calls the core once or twice and prints.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use clap::{Subcommand, ValueEnum};
use outpost_core::sync::{Schedule, SyncLoop};
use outpost_core::work::{EscalationLevel, Location, PartAction, TicketAction, Timer};
use outpost_core::{CoreError, Device, DeviceEvent, NewTicketInput, ReadyScope, TicketFilter};

use crate::output::{opt_time, time, Output};

#[derive(Subcommand)]
pub(crate) enum Command {
    /// Pairs this device with a desk using a one-time code from a dispatcher.
    Pair {
        desk_url: String,
        code: String,
        /// How the desk lists this device.
        #[arg(long, default_value = "outpost cli")]
        name: String,
    },
    /// Pairing, pending changes, last sync, storage.
    Status,
    /// Forgets the pairing and erases local data.
    SignOut {
        /// Erase even changes the desk has not received.
        #[arg(long)]
        discard_unsynced: bool,
    },
    /// Lists tickets, most urgent first.
    Tickets {
        /// Status codes to list (repeatable), e.g. on_site; default: all but closed and cancelled.
        #[arg(long = "status")]
        statuses: Vec<String>,
        #[arg(long)]
        priority: Option<String>,
        /// Only tickets with a visit today (local time).
        #[arg(long)]
        today: bool,
        #[arg(long)]
        search: Option<String>,
        #[arg(long, default_value_t = 200)]
        limit: u32,
    },
    /// Searches tickets by words in them and in their client, site and equipment.
    Search {
        words: Vec<String>,
    },
    /// Shows one ticket whole.
    Ticket {
        id: String,
    },
    /// Writes a ticket as JSON to a file (or stdout).
    Export {
        id: String,
        #[arg(long)]
        output: Option<PathBuf>,
    },
    Accept {
        id: String,
    },
    /// Hands an assigned ticket back to the desk.
    Decline {
        id: String,
        #[arg(long)]
        reason: String,
    },
    EnRoute {
        id: String,
    },
    /// Arrives on site: a visit starts.
    Arrive {
        id: String,
        #[arg(long, requires = "lon", allow_hyphen_values = true)]
        lat: Option<f64>,
        #[arg(long, requires = "lat", allow_hyphen_values = true)]
        lon: Option<f64>,
    },
    /// Leaves to wait for parts: the visit ends.
    WaitParts {
        id: String,
    },
    /// Adds a work-log note.
    Note {
        id: String,
        text: Vec<String>,
    },
    /// Replaces the description (merged by character with others' edits).
    Describe {
        id: String,
        text: Vec<String>,
    },
    /// Ticks a checklist item (or unticks it with --undo).
    Tick {
        id: String,
        item: String,
        #[arg(long)]
        undo: bool,
    },
    /// Starts or stops a timer.
    Timer {
        #[command(subcommand)]
        action: TimerCommand,
    },
    /// Attaches a photo (JPEG, PNG or WebP).
    Photo {
        id: String,
        file: PathBuf,
        /// Keep the photo's location metadata.
        #[arg(long)]
        keep_location: bool,
    },
    /// Records the customer's signature (a PNG) and who signed.
    Sign {
        id: String,
        png: PathBuf,
        #[arg(long)]
        signer: String,
    },
    /// Sets the resolution code and notes.
    Resolution {
        id: String,
        #[arg(long)]
        code: Option<String>,
        #[arg(long, default_value = "")]
        notes: String,
    },
    Resolve {
        id: String,
    },
    Escalate {
        id: String,
        #[arg(long, value_enum)]
        to: Level,
        #[arg(long)]
        reason: String,
    },
    /// Opens a ticket for a problem found on site.
    NewTicket {
        #[arg(long)]
        title: String,
        #[arg(long, default_value = "")]
        description: String,
        #[arg(long)]
        priority: Option<String>,
        #[arg(long)]
        client: Option<String>,
        /// The ticket being worked on (client, site and contact are taken from it).
        #[arg(long)]
        found_during: Option<String>,
        #[arg(long)]
        equipment: Vec<String>,
    },
    /// Part requests: mine, or one ticket's.
    Parts {
        #[arg(long)]
        ticket: Option<String>,
    },
    /// Asks for, receives, cancels part requests, and records serials.
    Part {
        #[command(subcommand)]
        action: PartCommand,
    },
    /// Looks equipment up by serial (or shows it by id) with its service history.
    Equipment {
        serial_or_id: String,
    },
    /// Searches equipment by serial, model or vendor words.
    EquipmentSearch {
        words: Vec<String>,
    },
    /// Lists knowledge-base articles, or searches them.
    Kb {
        words: Vec<String>,
    },
    /// Reads one knowledge-base article.
    Article {
        id: String,
    },
    /// Syncs with the desk once, or keeps syncing (--watch) until interrupted:
    /// at once when the desk's live channel says something changed, else every minute.
    Sync {
        #[arg(long)]
        watch: bool,
    },
    /// Before going where there is no signal: whether everything the open
    /// tickets' visits need is on this device, and what is missing and why.
    Ready {
        /// Only tickets visited today or due before today ends.
        #[arg(long)]
        today: bool,
        /// Fetch what is missing from the desk, then check again.
        #[arg(long)]
        fetch: bool,
        /// Warn when the last full sync is older than this many hours.
        #[arg(long, default_value_t = outpost_core::DEFAULT_MAX_AGE_HOURS)]
        max_age_hours: i64,
    },
    /// The service report (акт): written to a PDF to show the customer
    /// before they sign; with --attach (once signed), attached to the ticket
    /// with the data it shows, to go to the desk.
    Report {
        id: String,
        /// ru or en (default: the client's language, else ru).
        #[arg(long)]
        lang: Option<String>,
        #[arg(long, required_unless_present = "attach")]
        output: Option<PathBuf>,
        #[arg(long)]
        attach: bool,
    },
    /// Where there is never a signal: everything the desk lacks, as a file
    /// signed by this device, to carry to the desk (`outpost-desk import`).
    Outbox {
        #[command(subcommand)]
        action: OutboxCommand,
    },
    /// The desk's answer by hand: takes a file the desk wrote for this
    /// device (`outpost-desk export`).
    Inbox {
        #[command(subcommand)]
        action: InboxCommand,
    },
    /// Refused edits and resolved conflicts, in plain words.
    Conflicts,
    /// Saves a photo or signature to a file.
    Blob {
        hash: String,
        #[arg(long)]
        output: PathBuf,
    },
}

#[derive(Subcommand)]
pub(crate) enum OutboxCommand {
    /// Writes the outbox file.
    Export {
        #[arg(long)]
        output: PathBuf,
    },
}

#[derive(Subcommand)]
pub(crate) enum InboxCommand {
    /// Takes the desk's file.
    Import { file: PathBuf },
}

#[derive(Subcommand)]
pub(crate) enum TimerCommand {
    Start {
        id: String,
        #[arg(long, value_enum, default_value = "work")]
        kind: Kind,
    },
    Stop {
        id: String,
    },
}

#[derive(Subcommand)]
pub(crate) enum PartCommand {
    /// Asks the warehouse for a part.
    Request {
        ticket: String,
        part_number: String,
        #[arg(long, default_value_t = 1)]
        quantity: u64,
        #[arg(long, default_value = "")]
        description: String,
    },
    /// The part reached you.
    Receive { id: String },
    Cancel {
        id: String,
        #[arg(long)]
        reason: String,
    },
    /// Records the serials of the part installed and the faulty part removed.
    Serials {
        id: String,
        #[arg(long)]
        installed: Option<String>,
        #[arg(long)]
        removed: Option<String>,
        /// The ticket's machine the part went into, when it has more than one.
        #[arg(long)]
        equipment: Option<String>,
    },
    /// Sends the part back to the warehouse (not used, or the faulty one removed).
    SendBack {
        id: String,
        #[arg(long)]
        tracking: Option<String>,
    },
}

#[derive(Clone, Copy, ValueEnum)]
pub(crate) enum Kind {
    Travel,
    Work,
}

#[derive(Clone, Copy, ValueEnum)]
pub(crate) enum Level {
    L2,
    L3,
}

fn words(words: &[String]) -> String {
    words.join(" ")
}

/// Today, local time, as a UTC millisecond range.
fn today() -> (i64, i64) {
    use chrono::{Local, TimeZone};
    let date = Local::now().date_naive();
    let start = date.and_hms_opt(0, 0, 0).and_then(|t| Local.from_local_datetime(&t).earliest());
    let from = start.map_or(0, |s| s.timestamp_millis());
    (from, from + 24 * 3_600_000)
}

pub(crate) async fn run(command: Command, data_dir: &Path, out: &Output) -> Result<(), CoreError> {
    let device = Device::open(data_dir).await?;
    let result = dispatch(command, &device, out).await;
    device.close().await;
    result
}

async fn act(device: &Device, out: &Output, id: &str, action: TicketAction, done: &str) -> Result<(), CoreError> {
    device.act(id, action).await?;
    out.done(done, serde_json::json!({ "ticket": id }));
    Ok(())
}

async fn dispatch(command: Command, device: &Device, out: &Output) -> Result<(), CoreError> {
    match command {
        Command::Pair { desk_url, code, name } => {
            let paired = device.pair(&desk_url, &code, &name).await?;
            out.show(&paired, |p| format!("paired with {} as {} ({:?})", p.desk_url, p.user_id, p.role));
        }
        Command::Status => {
            let status = device.status().await?;
            out.show(&status, |s| {
                let mut text = String::new();
                match &s.paired {
                    Some(p) => writeln!(text, "paired with {} as {} ({:?})", p.desk_url, p.user_id, p.role),
                    None => writeln!(text, "not paired"),
                }
                .ok();
                writeln!(text, "{} documents, {} tickets", s.documents, s.tickets).ok();
                writeln!(
                    text,
                    "waiting for the desk: {} documents, {} files ({} bytes)",
                    s.pending_documents, s.pending_blobs, s.pending_blob_bytes
                )
                .ok();
                writeln!(text, "last sync: {}", opt_time(s.last_sync_at)).ok();
                if let Some(offset) = s.clock_offset_ms {
                    let (amount, side) =
                        (offset.unsigned_abs() as f64 / 1000.0, if offset >= 0 { "behind" } else { "ahead of" });
                    writeln!(text, "this device's clock: {amount:.1} s {side} the desk's").ok();
                }
                if let Some(err) = &s.last_sync_error {
                    writeln!(text, "last sync failed: {err}").ok();
                }
                if let Some(reason) = &s.locked {
                    writeln!(text, "locked: {reason}").ok();
                }
                writeln!(text, "storage: {} bytes", s.storage_bytes).ok();
                text
            });
        }
        Command::SignOut { discard_unsynced } => {
            device.sign_out(discard_unsynced).await?;
            out.done("signed out; local data erased", serde_json::json!({}));
        }
        Command::Tickets { statuses, priority, today: only_today, search, limit } => {
            let filter = TicketFilter {
                statuses,
                priority,
                visits_between: only_today.then(today),
                search,
                limit: Some(limit),
                offset: None,
            };
            list_tickets(device, out, &filter).await?;
        }
        Command::Search { words: w } => {
            let filter = TicketFilter { search: Some(words(&w)), ..TicketFilter::default() };
            list_tickets(device, out, &filter).await?;
        }
        Command::Ticket { id } => {
            let ticket = device.ticket(&id).await?;
            out.show(&ticket, show_ticket);
        }
        Command::Export { id, output } => {
            let ticket = device.ticket(&id).await?;
            let json = serde_json::to_string_pretty(&ticket).expect("views serialise");
            match output {
                Some(path) => {
                    std::fs::write(&path, json)
                        .map_err(|e| CoreError::Invalid(format!("cannot write {}: {e}", path.display())))?;
                    out.done(&format!("wrote {}", path.display()), serde_json::json!({ "file": path }));
                }
                None => println!("{json}"),
            }
        }
        Command::Accept { id } => act(device, out, &id, TicketAction::Accept, "accepted").await?,
        Command::Decline { id, reason } => act(device, out, &id, TicketAction::Decline { reason }, "declined").await?,
        Command::EnRoute { id } => act(device, out, &id, TicketAction::EnRoute, "en route").await?,
        Command::Arrive { id, lat, lon } => {
            let coordinates = lat.zip(lon).map(|(lat, lon)| Location { lat, lon });
            act(device, out, &id, TicketAction::Arrive { coordinates }, "on site; visit started").await?;
        }
        Command::WaitParts { id } => act(device, out, &id, TicketAction::WaitForParts, "waiting for parts").await?,
        Command::Note { id, text } => {
            act(device, out, &id, TicketAction::AddNote { text: words(&text) }, "note added").await?;
        }
        Command::Describe { id, text } => {
            act(device, out, &id, TicketAction::EditDescription { text: words(&text) }, "description saved").await?;
        }
        Command::Tick { id, item, undo } => {
            let done = if undo { "unticked" } else { "ticked" };
            act(device, out, &id, TicketAction::Tick { item, done: !undo }, done).await?;
        }
        Command::Timer { action: TimerCommand::Start { id, kind } } => {
            let kind = match kind {
                Kind::Travel => Timer::Travel,
                Kind::Work => Timer::Work,
            };
            act(device, out, &id, TicketAction::StartTimer { kind }, "timer started").await?;
        }
        Command::Timer { action: TimerCommand::Stop { id } } => {
            act(device, out, &id, TicketAction::StopTimer, "timer stopped").await?;
        }
        Command::Photo { id, file, keep_location } => {
            let bytes = crate::read_file(&file)?;
            let name = file.file_name().and_then(|n| n.to_str()).unwrap_or("photo");
            let photo = device.attach_photo(&id, &bytes, name, keep_location).await?;
            out.show(&photo, |p| format!("photo attached: {}x{}, {} bytes, {}", p.width, p.height, p.bytes, p.hash));
        }
        Command::Sign { id, png, signer } => {
            let bytes = crate::read_file(&png)?;
            let hash = device.sign(&id, &bytes, &signer).await?;
            out.done(&format!("signed by {signer}"), serde_json::json!({ "ticket": id, "hash": hash }));
        }
        Command::Resolution { id, code, notes } => {
            act(device, out, &id, TicketAction::SetResolution { code, notes }, "resolution saved").await?;
        }
        Command::Resolve { id } => act(device, out, &id, TicketAction::Resolve, "resolved").await?,
        Command::Escalate { id, to, reason } => {
            let to = match to {
                Level::L2 => EscalationLevel::L2Remote,
                Level::L3 => EscalationLevel::L3Expert,
            };
            act(device, out, &id, TicketAction::Escalate { to, reason }, "escalated").await?;
        }
        Command::NewTicket { title, description, priority, client, found_during, equipment } => {
            let input = NewTicketInput { title, description, priority, client, found_during, equipment };
            let (id, number) = device.create_ticket(input).await?;
            out.done(&format!("created {number} ({id})"), serde_json::json!({ "id": id, "number": number }));
        }
        Command::Parts { ticket } => {
            let rows = match ticket {
                Some(ticket) => device.ticket(&ticket).await?.part_requests,
                None => device.my_part_requests().await?,
            };
            out.show(&rows, |rows| {
                rows.iter().fold(String::new(), |mut text, r| {
                    let ticket = r.ticket_number.as_deref().unwrap_or(&r.ticket_id);
                    writeln!(text, "{}  {} x{}  {}  {}", r.id, r.part_number, r.quantity, r.status, ticket).ok();
                    text
                })
            });
        }
        Command::Part { action } => part(device, out, action).await?,
        Command::Equipment { serial_or_id } => {
            let id = match serial_or_id.parse::<outpost_sync::ids::DocId>() {
                Ok(_) => serial_or_id,
                Err(_) => {
                    let found = device.equipment_by_serial(&serial_or_id).await?;
                    match found.as_slice() {
                        [one] => one.id.clone(),
                        [] => return Err(CoreError::NotFound { kind: "equipment with serial", id: serial_or_id }),
                        many => {
                            out.show(&many.to_vec(), |rows| equipment_list(rows));
                            return Ok(());
                        }
                    }
                }
            };
            let detail = device.equipment(&id).await?;
            out.show(&detail, |e| {
                let mut text = format!("{} {} {} ({})\n", e.serial, e.vendor, e.model, e.id);
                writeln!(text, "client: {}", e.client.name.as_deref().unwrap_or(&e.client.id)).ok();
                writeln!(text, "covered until: {}", opt_time(e.covered_until)).ok();
                for p in &e.installed_parts {
                    writeln!(text, "installed {} {} at {}", p.part_number, p.serial, time(p.installed_at)).ok();
                }
                writeln!(text, "service history:").ok();
                for h in &e.service_history {
                    let number = h.number.as_deref().unwrap_or(&h.ticket_id);
                    let title = h.title.as_deref().unwrap_or("(not on this device)");
                    writeln!(text, "  {number}  {}  {title}", h.status.as_deref().unwrap_or("-")).ok();
                }
                text
            });
        }
        Command::EquipmentSearch { words: w } => {
            let found = device.search_equipment(&words(&w)).await?;
            out.show(&found, |rows| equipment_list(rows.as_slice()));
        }
        Command::Kb { words: w } => {
            let found = device.articles(&words(&w)).await?;
            out.show(&found, |rows| {
                rows.iter().fold(String::new(), |mut text, a| {
                    writeln!(text, "{}  {}  [{}]", a.id, a.title, a.tags).ok();
                    text
                })
            });
        }
        Command::Article { id } => {
            let article = device.article(&id).await?;
            out.show(&article, |a| format!("{}\n\n{}\n\ntags: {}", a.title, a.body, a.tags.join(", ")));
        }
        Command::Sync { watch: false } => {
            let report = device.sync_now().await?;
            out.show(&report, |r| {
                let p = &r.progress;
                let mut text = format!(
                    "synced in {} rounds: {} documents sent, {} received, {} bytes up, {} down; {} files uploaded\n",
                    p.rounds, p.documents_sent, p.documents_received, p.bytes_sent, p.bytes_received, p.blobs_sent
                );
                for refused in &r.refused {
                    writeln!(text, "refused by the desk: {refused}").ok();
                }
                if r.blobs_waiting > 0 {
                    writeln!(text, "{} files wait for their documents to reach the desk", r.blobs_waiting).ok();
                }
                text
            });
        }
        Command::Sync { watch: true } => watch(device, out).await?,
        Command::Ready { today: only_today, fetch, max_age_hours } => {
            let scope = ReadyScope { day: only_today.then(today), max_age_hours: Some(max_age_hours) };
            let readiness = if fetch { device.fetch_missing(scope).await? } else { device.readiness(scope).await? };
            out.show(&readiness, show_readiness);
        }
        Command::Report { id, lang, output, attach } => {
            let lang = lang.as_deref().map(outpost_core::report_lang).transpose()?;
            let (pdf, number, data_hash, signed, attached) = if attach {
                let (attached, pdf) = device.attach_service_report(&id, lang).await?;
                (pdf, attached.number.clone(), attached.data_hash.clone(), true, Some(attached))
            } else {
                let (pdf, report) = device.service_report(&id, lang).await?;
                (pdf, report.number.clone(), report.data_hash(), report.signature.is_some(), None)
            };
            if let Some(output) = &output {
                write_file(output, &pdf)?;
            }
            let mut text = match &output {
                Some(output) => format!("report {number} written to {} ({} bytes)", output.display(), pdf.len()),
                None => format!("report {number}"),
            };
            if attached.is_some() {
                write!(text, "; attached to the ticket (data hash {data_hash})").ok();
            } else if !signed {
                write!(text, "; not signed yet").ok();
            }
            let json = serde_json::json!({ "number": number, "data_hash": data_hash, "bytes": pdf.len(), "signed": signed, "attached": attached });
            out.done(&text, json);
        }
        Command::Outbox { action: OutboxCommand::Export { output } } => {
            let (bytes, written) = device.export_outbox().await?;
            // Written beside and renamed: a pulled stick never leaves half a file under the name.
            let partial = output.with_extension("partial");
            let write = |path: &std::path::Path| {
                std::fs::write(path, &bytes)
                    .map_err(|e| CoreError::Invalid(format!("cannot write {}: {e}", path.display())))
            };
            write(&partial)?;
            std::fs::rename(&partial, &output)
                .map_err(|e| CoreError::Invalid(format!("cannot write {}: {e}", output.display())))?;
            out.show(&written, |w| {
                format!(
                    "outbox {} written to {}: {} document(s), {} file(s), {} bytes; carry it to the desk (outpost-desk import)",
                    w.sequence,
                    output.display(),
                    w.documents,
                    w.files,
                    w.bytes
                )
            });
        }
        Command::Inbox { action: InboxCommand::Import { file } } => {
            let bytes = crate::read_file(&file)?;
            let taken = device.import_feed(&bytes).await?;
            out.show(&taken, |t| {
                let mut text = if t.pages == 0 {
                    format!("nothing new: this device had every page of the file (feed position {})", t.cursor)
                } else {
                    format!(
                        "{} page(s) taken: {} document(s) received; feed position {}",
                        t.pages, t.documents_received, t.cursor
                    )
                };
                if t.files_confirmed > 0 {
                    write!(text, "; the desk holds {} file(s) that waited here", t.files_confirmed).ok();
                }
                if t.documents_lacking > 0 {
                    write!(
                        text,
                        "; {} document(s) lack history and come whole at the next online sync",
                        t.documents_lacking
                    )
                    .ok();
                }
                text
            });
        }
        Command::Conflicts => {
            let notices = device.notices().await?;
            out.show(&notices, |rows| {
                if rows.is_empty() {
                    return "nothing to report".into();
                }
                rows.iter().fold(String::new(), |mut text, n| {
                    let doc = n.ticket_number.as_deref().unwrap_or(&n.doc_id);
                    writeln!(text, "{}  {}  {}: {}", time(n.at), doc, n.kind, n.explanation).ok();
                    text
                })
            });
        }
        Command::Blob { hash, output } => {
            let bytes = device.blob(&hash).await?;
            std::fs::write(&output, &bytes)
                .map_err(|e| CoreError::Invalid(format!("cannot write {}: {e}", output.display())))?;
            out.done(
                &format!("wrote {} bytes to {}", bytes.len(), output.display()),
                serde_json::json!({ "bytes": bytes.len() }),
            );
        }
    }
    Ok(())
}

async fn part(device: &Device, out: &Output, action: PartCommand) -> Result<(), CoreError> {
    let (id, action, done) = match action {
        PartCommand::Request { ticket, part_number, quantity, description } => {
            let id = device.request_part(&ticket, &part_number, &description, quantity).await?;
            out.done(&format!("requested {part_number} x{quantity}: {id}"), serde_json::json!({ "id": id }));
            return Ok(());
        }
        PartCommand::Receive { id } => (id, PartAction::Receive, "received"),
        PartCommand::Cancel { id, reason } => (id, PartAction::Cancel { reason }, "cancelled"),
        PartCommand::Serials { id, installed, removed, equipment } => {
            (id, PartAction::RecordSerials { installed, removed, equipment }, "serials recorded")
        }
        PartCommand::SendBack { id, tracking } => (id, PartAction::SendBack { tracking }, "sent back"),
    };
    device.act_on_part_request(&id, action).await?;
    out.done(done, serde_json::json!({ "part_request": id }));
    Ok(())
}

async fn list_tickets(device: &Device, out: &Output, filter: &TicketFilter) -> Result<(), CoreError> {
    let rows = device.tickets(filter).await?;
    out.show(&rows, |rows| {
        rows.iter().fold(String::new(), |mut text, r| {
            let client = r.client.as_deref().unwrap_or("");
            writeln!(
                text,
                "{}  {:<14} {:<13} {}  due {}  {}  {}",
                r.id,
                r.number,
                r.status,
                r.priority,
                opt_time(r.due_at),
                client,
                r.title
            )
            .ok();
            text
        })
    });
    Ok(())
}

fn equipment_list(rows: &[outpost_core::EquipmentRow]) -> String {
    rows.iter().fold(String::new(), |mut text, e| {
        writeln!(text, "{}  {}  {}", e.id, e.serial.as_deref().unwrap_or("-"), e.model.as_deref().unwrap_or("-")).ok();
        text
    })
}

fn show_ticket(t: &outpost_core::TicketDetail) -> String {
    let mut text = format!("{}  {}\n{} · {} · {}\n", t.number, t.title, t.status, t.priority, t.support_level);
    writeln!(text, "client: {}", t.client.name.as_deref().unwrap_or(&t.client.id)).ok();
    writeln!(text, "site: {} {}", t.site.name.as_deref().unwrap_or(""), t.site.address).ok();
    writeln!(text, "contact: {} {}", t.contact.name, t.contact.phone).ok();
    writeln!(text, "due: {}", opt_time(t.due_at)).ok();
    if !t.description.is_empty() {
        writeln!(text, "\n{}\n", t.description).ok();
    }
    for item in &t.checklist {
        writeln!(text, "[{}] {} ({})", if item.done { "x" } else { " " }, item.label, item.key).ok();
    }
    for note in &t.work_log {
        writeln!(text, "{}  {}", time(note.at), note.text).ok();
    }
    for v in &t.visits {
        writeln!(text, "visit {} – {}", time(v.arrived), opt_time(v.left)).ok();
    }
    for e in &t.time_entries {
        writeln!(text, "{} {} – {}", e.kind, time(e.start), opt_time(e.end)).ok();
    }
    for a in &t.attachments {
        writeln!(text, "file {} {} bytes {}", a.name, a.size, a.hash).ok();
    }
    if let Some(s) = &t.signature {
        writeln!(text, "signed by {} at {}", s.signer, time(s.at)).ok();
    }
    for p in &t.part_requests {
        writeln!(text, "part {} x{} {}", p.part_number, p.quantity, p.status).ok();
    }
    if t.resolution_code.is_some() || !t.resolution_notes.is_empty() {
        writeln!(text, "resolution: {} {}", t.resolution_code.as_deref().unwrap_or(""), t.resolution_notes).ok();
    }
    for c in &t.conflicts {
        writeln!(text, "note: {c}").ok();
    }
    writeln!(text, "next: {}", t.next_moves.join(", ")).ok();
    text
}

/// Keeps syncing, printing progress, until Ctrl-C or a wipe.
async fn watch(device: &Device, out: &Output) -> Result<(), CoreError> {
    device.pairing_info().await?.ok_or(CoreError::NotPaired)?;
    let mut events = device.events();
    let handle = SyncLoop::spawn(device.clone(), Schedule::default());
    loop {
        tokio::select! {
            _ = tokio::signal::ctrl_c() => break,
            event = events.recv() => match event {
                Ok(DeviceEvent::Wiped) => {
                    handle.stop().await;
                    return Err(CoreError::Wiped);
                }
                Ok(event @ (DeviceEvent::SyncProgress(_) | DeviceEvent::Connectivity { .. } | DeviceEvent::Live { .. } | DeviceEvent::RemoteChange { .. })) => {
                    out.show(&event, describe_event);
                }
                Ok(_) | Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                Err(tokio::sync::broadcast::error::RecvError::Closed) => break,
            }
        }
    }
    handle.stop().await;
    Ok(())
}

fn describe_event(event: &DeviceEvent) -> String {
    match event {
        DeviceEvent::SyncProgress(p) if p.done => format!(
            "synced: {} rounds, {} documents up, {} down, {} files uploaded",
            p.rounds, p.documents_sent, p.documents_received, p.blobs_sent
        ),
        DeviceEvent::SyncProgress(p) => format!(
            "syncing: round {}, {} bytes up, {} down, files {}/{}",
            p.rounds, p.bytes_sent, p.bytes_received, p.blobs_sent, p.blobs_total
        ),
        DeviceEvent::Connectivity { online: true } => "desk reachable".into(),
        DeviceEvent::Connectivity { online: false } => "desk unreachable; retrying with backoff".into(),
        DeviceEvent::Live { connected: true } => "live: the desk's changes arrive at once".into(),
        DeviceEvent::Live { connected: false } => "live channel closed; checking every minute".into(),
        DeviceEvent::RemoteChange { docs } => format!("{} documents changed at the desk", docs.len()),
        DeviceEvent::LocalChange { docs } => format!("{} documents changed here", docs.len()),
        DeviceEvent::Wiped => "this device was revoked; local data erased".into(),
    }
}

fn show_readiness(r: &outpost_core::Readiness) -> String {
    let mut text = String::new();
    for t in &r.tickets {
        if t.missing.is_empty() {
            writeln!(text, "ready    {}  {} ({} articles)", t.number, t.title, t.kb_articles).ok();
            continue;
        }
        writeln!(text, "MISSING  {}  {}", t.number, t.title).ok();
        for m in &t.missing {
            let id = m.id.as_deref().map(|id| format!(" {id}")).unwrap_or_default();
            writeln!(text, "         {}{id}: {}", m.what.describe(), m.reason.describe()).ok();
        }
    }
    if r.tickets.is_empty() {
        writeln!(text, "no open tickets to check").ok();
    }
    match r.last_full_sync_at {
        Some(at) if r.stale => {
            writeln!(text, "WARNING  the last full sync ({}) is older than {} hours", time(at), r.max_age_hours).ok()
        }
        Some(at) => writeln!(text, "last full sync: {}", time(at)).ok(),
        None => writeln!(text, "WARNING  no full sync yet").ok(),
    };
    let verdict = if r.ready { "ready to go offline" } else { "NOT ready: `outpost ready --fetch` gets what it can" };
    writeln!(text, "{verdict}").ok();
    text
}

/// Writes a file beside its name and renames it: a pulled stick or a full
/// disk never leaves half a file under the name.
fn write_file(path: &std::path::Path, bytes: &[u8]) -> Result<(), CoreError> {
    let cannot = |e: std::io::Error| CoreError::Invalid(format!("cannot write {}: {e}", path.display()));
    let partial = path.with_extension("partial");
    std::fs::write(&partial, bytes).map_err(cannot)?;
    std::fs::rename(&partial, path).map_err(cannot)
}
