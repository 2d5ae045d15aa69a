//! `outpost-desk`: reads the configuration, opens the database and serves,
//! or runs an administrative command against the same database.

use std::net::SocketAddr;

use anyhow::{bail, Context};
use clap::{Parser, Subcommand};
use outpost_desk::accounts::{self, parse_role};
use outpost_desk::{demo, now, service, AppState, Db};
use outpost_sync::ids::UserId;

#[derive(Parser)]
#[command(name = "outpost-desk", about = "Outpost's central desk")]
struct Cli {
    /// `sqlite:<file>` (the default is ./outpost-desk.db) or `postgres://…`.
    #[arg(long, env = "DATABASE_URL", global = true, default_value = "sqlite:outpost-desk.db")]
    database_url: String,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the sync endpoint and the API (the default).
    Serve {
        #[arg(long, default_value = "127.0.0.1:8710")]
        listen: SocketAddr,
    },
    /// Manage people.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Seed the realistic demo data set and print who can sign in.
    Demo {
        /// Do nothing (and succeed) when the database already holds data.
        #[arg(long)]
        skip_if_seeded: bool,
    },
    /// Issue a one-time pairing code for an engineer's device.
    PairingCode {
        #[arg(long, required_unless_present = "first_engineer")]
        user: Option<UserId>,
        /// For the first staff engineer (the run script pairs the demo app with them).
        #[arg(long, conflicts_with = "user")]
        first_engineer: bool,
        /// Print only the code.
        #[arg(long)]
        quiet: bool,
    },
    /// Take a device's outbox file (a hand-off where there is no signal).
    Import(ImportArgs),
    /// Write the feed a device lacks as a file it imports.
    Export(ExportArgs),
}

/// A device's outbox file, taken like its sync rounds.
#[derive(clap::Args)]
struct ImportArgs {
    /// The file the device wrote (`outpost outbox export`).
    file: std::path::PathBuf,
}

/// The feed a device lacks, as a file for it to import.
#[derive(clap::Args)]
struct ExportArgs {
    /// The device's id (GET /v1/devices lists them).
    #[arg(long)]
    device: uuid::Uuid,
    /// Where to write the file.
    #[arg(long)]
    output: std::path::PathBuf,
    /// Start after this feed position instead of where the device's last
    /// outbox said it stood (0: everything it may read).
    #[arg(long)]
    from: Option<u64>,
}

#[derive(Subcommand)]
enum UserCommand {
    /// Add a person; prints an API token (desk roles) or a pairing code (field roles).
    Add {
        /// The company; created if new.
        #[arg(long)]
        org: String,
        /// Mark a new company as a service partner rather than the service company.
        #[arg(long)]
        partner: bool,
        #[arg(long)]
        name: String,
        /// admin, dispatcher, parts_desk, engineer or partner_engineer.
        #[arg(long)]
        role: String,
    },
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()))
        .init();
    let cli = Cli::parse();
    let db = Db::open(&cli.database_url).await.with_context(|| format!("opening {}", cli.database_url))?;
    match cli.command.unwrap_or(Command::Serve { listen: "127.0.0.1:8710".parse()? }) {
        Command::Serve { listen } => serve(db, listen).await,
        Command::User { command: UserCommand::Add { org, partner, name, role } } => {
            let role = parse_role(&role).with_context(|| format!("unknown role {role:?}"))?;
            let org_id = match accounts::org_by_name(&db.pool, &org).await? {
                Some(id) => id,
                None => accounts::create_org(&db.pool, &org, !partner).await?,
            };
            let user = accounts::create_user(&db.pool, org_id, &name, role, now()).await?;
            outpost_desk::directory::publish(&db, org_id, &outpost_desk::desk_actor(), now()).await?;
            println!("user {user}");
            if role.is_field() {
                let code = accounts::issue_pairing_code(&db.pool, user, now(), 24 * 3_600_000).await?;
                println!("pairing code {code} (one use, 24 hours)");
            } else {
                let token = accounts::issue_api_token(&db.pool, user, "cli", now(), None).await?;
                println!("api token {token}");
            }
            Ok(())
        }
        Command::Demo { skip_if_seeded } => {
            let state = AppState::new(db);
            match demo::seed(&state.db, state.sync.desk_actor.clone(), demo::DemoSize::default(), now()).await {
                Ok(logins) => {
                    println!("Demo data seeded. Desk people (API tokens):");
                    for (name, role, token) in &logins.desk {
                        println!("  {name:<20} {role:<16} {token}");
                    }
                    println!("Engineers (pairing codes, one use, 7 days):");
                    for (name, company, code) in &logins.engineers {
                        println!("  {name:<20} {company:<20} {code}");
                    }
                    Ok(())
                }
                Err(demo::DemoError::NotEmpty) if skip_if_seeded => {
                    println!("The database already holds data; demo seeding skipped.");
                    Ok(())
                }
                Err(err) => Err(err.into()),
            }
        }
        Command::Import(args) => import(db, args).await,
        Command::Export(args) => export(db, args).await,
        Command::PairingCode { user, first_engineer, quiet } => {
            let user = match (user, first_engineer) {
                (Some(user), _) => user,
                (None, _) => match accounts::first_user_with_role(&db.pool, outpost_sync::model::Role::Engineer).await?
                {
                    Some(user) => user,
                    None => bail!("there is no engineer yet; seed the demo data or add one"),
                },
            };
            let Some(actor) = accounts::user_actor(&db.pool, user).await? else { bail!("no user {user}") };
            if !actor.role.is_field() {
                bail!("pairing codes are for engineers and partner engineers");
            }
            let code = accounts::issue_pairing_code(&db.pool, user, now(), 24 * 3_600_000).await?;
            if quiet {
                println!("{code}");
            } else {
                println!("pairing code {code} for {user} (one use, 24 hours)");
            }
            Ok(())
        }
    }
}

async fn import(db: Db, args: ImportArgs) -> anyhow::Result<()> {
    let bytes = read_file(&args.file)?;
    let state = AppState::new(db);
    let imported = outpost_desk::handoff::import(&state.db, &state.sync, &bytes, now())
        .await
        .with_context(|| format!("{} was refused", args.file.display()))?;
    println!(
        "outbox {} of device {}: {} document(s) taken, {} edit(s) refused, {} file(s) stored, {} left out",
        imported.sequence,
        imported.device,
        imported.documents,
        imported.refused_edits,
        imported.files_stored,
        imported.files_left
    );
    for refused in &imported.refused_documents {
        println!("  refused: {refused}");
    }
    Ok(())
}

/// Reads a hand-off file, refusing one too large before reading it.
fn read_file(path: &std::path::Path) -> anyhow::Result<Vec<u8>> {
    let max = outpost_sync::handoff::HandoffLimits::default().max_file;
    let size = std::fs::metadata(path).with_context(|| format!("reading {}", path.display()))?.len();
    if size > max as u64 {
        bail!("{} is {size} bytes, more than the {max} a hand-off file may be", path.display());
    }
    std::fs::read(path).with_context(|| format!("reading {}", path.display()))
}

async fn export(db: Db, args: ExportArgs) -> anyhow::Result<()> {
    let state = AppState::new(db);
    let (bytes, exported) =
        outpost_desk::handoff::export(&state.db, &state.sync, args.device, args.from, now()).await?;
    // Written beside and renamed, so a cut write never leaves half a file under the name.
    let partial = args.output.with_extension("partial");
    std::fs::write(&partial, &bytes).with_context(|| format!("writing {}", partial.display()))?;
    std::fs::rename(&partial, &args.output).with_context(|| format!("writing {}", args.output.display()))?;
    println!(
        "{}: {} document(s) in {} page(s) for device {}, feed {} → {} ({} bytes)",
        args.output.display(),
        exported.documents,
        exported.pages,
        exported.device,
        exported.from,
        exported.to,
        bytes.len()
    );
    Ok(())
}

async fn serve(db: Db, listen: SocketAddr) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(listen).await.with_context(|| format!("binding {listen}"))?;
    // Directories follow the people table, whoever wrote it last.
    outpost_desk::directory::publish_all(&db, &outpost_desk::desk_actor(), now()).await?;
    tracing::info!(%listen, backend = ?db.backend, "outpost-desk serving");
    let state = AppState::new(db);
    let live = std::sync::Arc::clone(&state.live);
    axum::serve(listener, service(state))
        .with_graceful_shutdown(async move {
            let _ = tokio::signal::ctrl_c().await;
            // Live channels never end by themselves; the devices reconnect to whoever serves next.
            live.close_all();
        })
        .await?;
    Ok(())
}
