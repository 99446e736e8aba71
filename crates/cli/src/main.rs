//! `safeguard`: the service, its demo, and the operator's tools.

use anyhow::Context;
use clap::{Parser, Subcommand};
use commands::delivery::Couriers;
use commands::{Caller, Config, Service};
use domain::clock::SystemClock;
use std::net::SocketAddr;
use std::sync::Arc;
use store::Store;

/// Safeguarding case management and escalation.
#[derive(Debug, Parser)]
#[command(name = "safeguard", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, clap::Args)]
struct DbArgs {
    /// The database: a SQLite file path (default), or postgres://… for PostgreSQL.
    #[arg(long, env = "DATABASE_URL", default_value = "safeguard.db")]
    db: String,
}

/// Where the trail's signing key lives (outside the database) and what it is called.
#[derive(Debug, Clone, clap::Args)]
struct AuditKeyArgs {
    /// The file holding the key that signs checkpoints of the trail; created (owner-only)
    /// if missing. Default: DB.audit-key beside a SQLite file, else ./safeguard-audit.key.
    #[arg(long, env = "SAFEGUARD_AUDIT_KEY")]
    audit_key: Option<std::path::PathBuf>,
    /// The name of this log in its checkpoints (and of a new key), e.g. elmsford.gov.uk/safeguard.
    #[arg(long, env = "SAFEGUARD_AUDIT_ORIGIN", default_value = "safeguard.local/audit")]
    audit_origin: String,
    /// Seconds between checkpoints while the trail has new entries (serve and demo).
    #[arg(long, env = "SAFEGUARD_CHECKPOINT_EVERY", default_value_t = 60,
          value_parser = clap::value_parser!(u64).range(1..=86_400))]
    checkpoint_every: u64,
}

impl AuditKeyArgs {
    fn path(&self, db: &str) -> std::path::PathBuf {
        self.audit_key.clone().unwrap_or_else(|| safeguard::audit::default_key_path(db))
    }

    /// The signing key, created if this is the first time.
    fn load(&self, db: &str) -> anyhow::Result<Arc<audit::SigningKey>> {
        Ok(Arc::new(safeguard::audit::load_or_create_key(&self.path(db), &self.audit_origin)?))
    }
}

#[derive(Debug, Subcommand)]
enum AuditCommand {
    /// Print the public key that checks this log's checkpoints (creating the key if needed).
    Key {
        #[command(flatten)]
        db: DbArgs,
        #[command(flatten)]
        key: AuditKeyArgs,
    },
    /// Recompute every leaf, the tree and the chain from the stored entries; check every
    /// stored checkpoint (signature and root) and, if given, a checkpoint kept by the
    /// auditor. Fails naming the first bad entry.
    Verify {
        #[command(flatten)]
        db: DbArgs,
        #[command(flatten)]
        key: AuditKeyArgs,
        /// A signed checkpoint saved earlier (the text of `audit checkpoint`).
        #[arg(long)]
        from_checkpoint: Option<std::path::PathBuf>,
        /// The verifier key (name+id+key, as `audit key` prints it) instead of the key file's.
        #[arg(long = "verifier-key")]
        verifier_key: Option<String>,
    },
    /// Inclusion proof for entry SEQ (JSON: leaf index, tree size, hashes in hex).
    Prove {
        #[command(flatten)]
        db: DbArgs,
        /// The entry's sequence number.
        seq: u64,
        /// The tree size to prove against (default: the whole log now).
        #[arg(long)]
        size: Option<u64>,
    },
    /// Consistency proof between two sizes of the log (JSON).
    Consistency {
        #[command(flatten)]
        db: DbArgs,
        /// The earlier size.
        old: u64,
        /// The later size.
        new: u64,
    },
    /// The entries in their canonical encoding, as JSON lines with the bytes in base64.
    Export {
        #[command(flatten)]
        db: DbArgs,
        /// The first sequence number to export.
        #[arg(long, default_value_t = 1)]
        from: i64,
    },
    /// Print the latest signed checkpoint, signing a new one first if entries are unsigned.
    Checkpoint {
        #[command(flatten)]
        db: DbArgs,
        #[command(flatten)]
        key: AuditKeyArgs,
    },
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the web pages and the API.
    Serve {
        #[command(flatten)]
        db: DbArgs,
        /// Address to listen on.
        #[arg(long, env = "SAFEGUARD_BIND", default_value = "127.0.0.1:8080")]
        bind: SocketAddr,
        /// Mark cookies Secure (set when served over HTTPS, directly or via a proxy).
        #[arg(long, env = "SAFEGUARD_SECURE_COOKIES")]
        secure_cookies: bool,
        /// Timers the sweeper fires per transaction (smaller: shorter transactions;
        /// larger: fewer statements in a burst).
        #[arg(long, env = "SAFEGUARD_SWEEP_BATCH", default_value_t = commands::sweeper::BATCH,
              value_parser = clap::value_parser!(i64).range(1..=10_000))]
        sweep_batch: i64,
        #[command(flatten)]
        delivery: DeliveryArgs,
        #[command(flatten)]
        audit: AuditKeyArgs,
    },
    /// A mail catcher for trying safeguard out: an SMTP server that prints every email.
    Mailbox {
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:2525")]
        listen: SocketAddr,
    },
    /// Set up a partner agency's system to receive signed webhooks (welfare-check requests).
    Webhook {
        #[command(flatten)]
        db: DbArgs,
        /// police, school, health or other.
        #[arg(long)]
        agency: String,
        /// Where calls go (https://…; http:// only to this machine).
        #[arg(long)]
        url: String,
        /// The shared signing secret (at least 32 characters), from the environment.
        #[arg(long, env = "SAFEGUARD_WEBHOOK_SECRET", hide_env_values = true)]
        secret: String,
    },
    /// Create (or reuse) a demo database holding a synthetic local authority, and serve it.
    Demo {
        /// The demo database: a SQLite file path, or postgres://… for PostgreSQL.
        #[arg(long, default_value = "safeguard-demo.db")]
        db: String,
        /// Seed (or check) the database and exit without serving.
        #[arg(long)]
        no_serve: bool,
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:8080")]
        bind: SocketAddr,
        /// The random seed: the same seed gives the same families and history.
        #[arg(long, default_value_t = demo::DEFAULT_SEED)]
        seed: u64,
        /// How many children (for tests and quick looks).
        #[arg(long, default_value_t = demo::DEFAULT_CHILDREN, hide = true)]
        children: usize,
        #[command(flatten)]
        audit: AuditKeyArgs,
    },
    /// Bring the database schema up to date.
    Migrate {
        #[command(flatten)]
        db: DbArgs,
    },
    /// Run a scenario on a simulated clock and print what the system did (JSON lines).
    Simulate {
        /// The scenario file (see contracts/SCENARIOS.md).
        file: std::path::PathBuf,
        /// An escalation policy file (JSON) to use instead of the default.
        #[arg(long)]
        policy: Option<std::path::PathBuf>,
    },
    /// Show or change the escalation policy.
    Policy {
        #[command(subcommand)]
        command: PolicyCommand,
    },
    /// Manage user accounts.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// The trail for auditors: keys, verification, proofs, export and checkpoints.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// Person matching: find the people behind records.
    Match {
        #[command(subcommand)]
        command: MatchCommand,
    },
}

/// Parses a probability strictly between 0 and 1.
fn probability(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(p) if p > 0.0 && p < 1.0 => Ok(p),
        _ => Err(format!("must be a probability between 0 and 1 (such as 0.5), not {s:?}")),
    }
}

#[derive(Debug, Subcommand)]
enum MatchCommand {
    /// Group the records of a CSV into people: writes `record_id,person_id`.
    ///
    /// Columns (by header name, any order; others ignored): record_id, first_name
    /// (or given_name), surname (or family_name), dob (or date_of_birth), sex, address,
    /// town, postcode, nhs_number.
    Dedupe {
        /// The records to group.
        input: std::path::PathBuf,
        /// Where to write `record_id,person_id`.
        #[arg(long)]
        out: std::path::PathBuf,
        /// Also write the scored pairs at or above the threshold here.
        #[arg(long)]
        pairs: Option<std::path::PathBuf>,
        /// The match probability at which two records are the same person (default 0.5).
        #[arg(long, value_parser = probability)]
        threshold: Option<f64>,
    },
    /// List the people recorded more than once in the store, most likely first:
    /// `person_a,person_b,name_a,name_b,probability,evidence`.
    Store {
        #[command(flatten)]
        db: DbArgs,
        /// Write the pairs here instead of to standard output.
        #[arg(long)]
        out: Option<std::path::PathBuf>,
        /// The match probability at which two records are the same person (default 0.5).
        #[arg(long, value_parser = probability)]
        threshold: Option<f64>,
        /// Also put each new pair in the review queue (`/duplicates`) for a manager to
        /// merge or mark "not the same person"; on the trail.
        #[arg(long)]
        queue: bool,
    },
}

/// How notifications leave: the mail server, links in emails, and retries.
#[derive(Debug, Clone, clap::Args)]
struct DeliveryArgs {
    /// The mail server: smtp://host:port (plain), smtp+starttls://user:pass@host:587 or
    /// smtps://user:pass@host:465. Without one, emails wait in the outbox.
    #[arg(long, env = "SAFEGUARD_SMTP_URL", hide_env_values = true)]
    smtp: Option<String>,
    /// The sender of notification emails.
    #[arg(long, env = "SAFEGUARD_MAIL_FROM", default_value = "safeguard <safeguard@localhost>")]
    mail_from: String,
    /// The address people reach this service at, for links in emails (default: http://BIND).
    #[arg(long, env = "SAFEGUARD_PUBLIC_URL")]
    public_url: Option<String>,
    /// Deliveries sent per transaction.
    #[arg(long, env = "SAFEGUARD_DELIVERY_BATCH", default_value_t = commands::delivery::BATCH,
          value_parser = clap::value_parser!(i64).range(1..=5_000))]
    delivery_batch: i64,
    /// Tries before a delivery has failed and an administrator is told.
    #[arg(long, env = "SAFEGUARD_DELIVERY_ATTEMPTS", default_value_t = 10,
          value_parser = clap::value_parser!(u32).range(1..=50))]
    delivery_attempts: u32,
}

impl DeliveryArgs {
    /// The settings and the couriers these arguments describe.
    fn apply(&self, bind: SocketAddr, config: Config) -> anyhow::Result<(Config, Couriers)> {
        let mailer = match &self.smtp {
            Some(url) => {
                let cfg = notify::SmtpConfig::parse(url, &self.mail_from)?;
                Some(notify::Mailer::new(&cfg)?)
            }
            None => None,
        };
        let couriers = Couriers { mailer, webhooks: notify::WebhookClient::new(std::time::Duration::from_secs(10)) };
        let config = Config {
            delivery_batch: self.delivery_batch,
            retry: domain::delivery::RetryPolicy { attempts: self.delivery_attempts, ..config.retry },
            public_url: self.public_url.clone().unwrap_or_else(|| format!("http://{bind}")),
            ..config
        };
        Ok((config, couriers))
    }
}

#[derive(Debug, Subcommand)]
enum PolicyCommand {
    /// Print the policy in force (JSON) and its version.
    Show {
        #[command(flatten)]
        db: DbArgs,
    },
    /// Make a policy file the new version (on the audit trail). What the file leaves out
    /// takes the built-in default.
    Set {
        #[command(flatten)]
        db: DbArgs,
        /// The policy file (JSON).
        file: std::path::PathBuf,
    },
}

#[derive(Debug, Subcommand)]
enum UserCommand {
    /// Add a member of staff (or partner user).
    Add {
        #[command(flatten)]
        db: DbArgs,
        /// Sign-in name.
        #[arg(long)]
        login: String,
        /// Full name.
        #[arg(long)]
        name: String,
        /// social_worker, senior_practitioner, team_manager, service_manager,
        /// head_of_service, director, administrator or partner.
        #[arg(long)]
        role: String,
        /// For partners: police, school, health or other.
        #[arg(long)]
        agency: Option<String>,
        /// Team id.
        #[arg(long)]
        team: Option<i64>,
        /// Full-time equivalence.
        #[arg(long, default_value_t = 1.0)]
        fte: f64,
        /// The password (at least 12 characters); read from SAFEGUARD_PASSWORD if not given.
        #[arg(long, env = "SAFEGUARD_PASSWORD", hide_env_values = true)]
        password: String,
        /// For social workers: the date they qualified (YYYY-MM-DD).
        #[arg(long)]
        qualified_on: Option<String>,
    },
}

fn init_logging(default: &str) {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_env("SAFEGUARD_LOG").unwrap_or_else(|_| EnvFilter::new(default));
    let json = std::env::var("SAFEGUARD_LOG_FORMAT").is_ok_and(|f| f == "json");
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    if json {
        builder.json().init();
    } else {
        builder.init();
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    // A simulation's output is its stdout; keep stderr for real problems.
    init_logging(if matches!(cli.command, Command::Simulate { .. }) { "warn" } else { "info,sqlx=warn" });
    match cli.command {
        Command::Serve { db, bind, secure_cookies, sweep_batch, delivery, audit } => {
            let audit_key = Some(audit.load(&db.db)?);
            let checkpoint_every = std::time::Duration::from_secs(audit.checkpoint_every);
            let config = Config { sweep_batch, audit_key, checkpoint_every, ..Config::default() };
            let (config, couriers) = delivery.apply(bind, config)?;
            let store = Store::open(&db.db).await.with_context(|| format!("opening {}", db.db))?;
            if couriers.mailer.is_none() {
                tracing::warn!("no mail server (--smtp): notifications reach the inbox; emails wait in the outbox");
            }
            serve(store, bind, secure_cookies, config, couriers).await
        }
        Command::Mailbox { listen } => mailbox(listen).await,
        Command::Webhook { db, agency, url, secret } => {
            let svc = Service::new(Store::open(&db.db).await?, Arc::new(SystemClock), Config::default());
            let input = commands::notifications::WebhookInput { agency: agency.clone(), url, secret };
            match svc.set_webhook_endpoint(Caller::System("cli"), &input).await {
                Ok(()) => {
                    println!("webhooks for {agency} are set up");
                    Ok(())
                }
                Err(commands::CommandError::Rejected(r)) => {
                    eprintln!("not set: {r}");
                    std::process::exit(2)
                }
                Err(e) => Err(e.into()),
            }
        }
        Command::Demo { db, no_serve, bind, seed, children, audit } => {
            let options = demo::Options { children, seed, now: jiff::Timestamp::now() };
            let (store, seeded) = demo::open(&db, &options).await?;
            let url = (!no_serve).then(|| format!("http://{bind}"));
            print!("{}", demo::banner(&db, seeded.as_ref(), url.as_deref(), &demo::logins(&store).await?));
            if no_serve {
                Ok(())
            } else {
                let couriers =
                    Couriers { mailer: None, webhooks: notify::WebhookClient::new(std::time::Duration::from_secs(10)) };
                let audit_key = Some(audit.load(&db)?);
                let checkpoint_every = std::time::Duration::from_secs(audit.checkpoint_every);
                let config =
                    Config { public_url: format!("http://{bind}"), audit_key, checkpoint_every, ..Config::default() };
                serve(store, bind, false, config, couriers).await
            }
        }
        Command::Migrate { db } => {
            let store = Store::connect(&db.db).await?;
            let n = store.migrate().await?;
            println!("applied {n} migration(s); schema is current");
            Ok(())
        }
        Command::Simulate { file, policy } => simulate(&file, policy.as_deref()).await,
        Command::Policy { command } => policy(command).await,
        Command::Audit { command } => audit_command(command).await,
        Command::Match { command: MatchCommand::Dedupe { input, out, pairs, threshold } } => {
            safeguard::matching::dedupe(&input, &out, pairs.as_deref(), threshold).map(|_| ())
        }
        Command::Match { command: MatchCommand::Store { db, out, threshold, queue } } => {
            let store = Store::open(&db.db).await.with_context(|| format!("opening {}", db.db))?;
            let (people, pairs) = safeguard::matching::store_duplicates(&store, out.as_deref(), threshold).await?;
            if queue {
                // The pairs just listed, without running the engine again.
                let svc = Service::new(store, Arc::new(SystemClock), Config::default());
                let found = svc.queue_duplicates(Caller::System("match-store"), people, &pairs).await?;
                eprintln!(
                    "{} new pairs put in the review queue ({} already there or decided)",
                    found.added,
                    found.found - found.added
                );
            }
            Ok(())
        }
        Command::User {
            command: UserCommand::Add { db, login, name, role, agency, team, fte, password, qualified_on },
        } => {
            let store = Store::open(&db.db).await?;
            let svc = Service::new(store, Arc::new(SystemClock), Config::default());
            let input = commands::staff::StaffInput {
                login,
                name,
                role,
                agency,
                team,
                fte: Some(fte),
                deputy: None,
                password,
                qualified_on,
            };
            match svc.add_staff(Caller::System("cli"), &input).await {
                Ok(id) => {
                    println!("added {} ({})", input.login, id.reference());
                    Ok(())
                }
                Err(commands::CommandError::Rejected(r)) => {
                    eprintln!("not added: {r}");
                    std::process::exit(2)
                }
                Err(e) => Err(e.into()),
            }
        }
    }
}

/// `safeguard policy show|set`.
async fn policy(command: PolicyCommand) -> anyhow::Result<()> {
    match command {
        PolicyCommand::Show { db } => {
            let svc = Service::new(Store::open(&db.db).await?, Arc::new(SystemClock), Config::default());
            let (version, policy) = svc.current_policy().await?;
            eprintln!("policy version {version}{}", if version == 0 { " (the built-in default)" } else { "" });
            println!("{}", serde_json::to_string_pretty(policy.as_ref())?);
            Ok(())
        }
        PolicyCommand::Set { db, file } => {
            let text = std::fs::read_to_string(&file).with_context(|| format!("reading {}", file.display()))?;
            let policy = match domain::escalation::Policy::from_json(&text) {
                Ok(p) => p,
                Err(e) => {
                    eprintln!("{}: {e}", file.display());
                    std::process::exit(2)
                }
            };
            let svc = Service::new(Store::open(&db.db).await?, Arc::new(SystemClock), Config::default());
            let version = svc.set_policy(Caller::System("cli"), &policy).await?;
            println!("policy version {version} is now in force");
            Ok(())
        }
    }
}

/// `safeguard simulate`: exit 2 (and nothing on stdout) when the file or policy is invalid.
async fn simulate(file: &std::path::Path, policy: Option<&std::path::Path>) -> anyhow::Result<()> {
    let invalid = |msg: String| -> ! {
        eprintln!("{msg}");
        std::process::exit(2)
    };
    let text = std::fs::read_to_string(file).unwrap_or_else(|e| invalid(format!("{}: {e}", file.display())));
    let scenario = simulate::parse(&text).unwrap_or_else(|e| invalid(format!("{}: {e}", file.display())));
    let policy = policy.map(|p| {
        let text = std::fs::read_to_string(p).unwrap_or_else(|e| invalid(format!("{}: {e}", p.display())));
        domain::escalation::Policy::from_json(&text).unwrap_or_else(|e| invalid(format!("{}: {e}", p.display())))
    });
    let lines = simulate::run(&scenario, policy.as_ref()).await?;
    let mut out = std::io::stdout().lock();
    for line in lines {
        use std::io::Write;
        writeln!(out, "{}", line.to_json())?;
    }
    Ok(())
}

/// Serves until Ctrl-C or SIGTERM, with the background workers running beside.
async fn serve(
    store: Store,
    bind: SocketAddr,
    secure_cookies: bool,
    config: Config,
    couriers: Couriers,
) -> anyhow::Result<()> {
    let svc = Service::new(store, Arc::new(SystemClock), config);
    let workers = safeguard::workers::start(svc.clone(), couriers);
    let app = web::router(web::AppState { svc, secure_cookies });
    let listener = tokio::net::TcpListener::bind(bind).await.with_context(|| format!("binding {bind}"))?;
    tracing::info!("safeguard listening on http://{bind}");
    // With the peer's address, so reads on the trail say where they came from.
    let app = app.into_make_service_with_connect_info::<SocketAddr>();
    axum::serve(listener, app).with_graceful_shutdown(shutdown()).await?;
    drop(workers);
    Ok(())
}

/// `safeguard audit …`.
async fn audit_command(command: AuditCommand) -> anyhow::Result<()> {
    let open = |db: &str| {
        let db = db.to_string();
        async move { Store::open(&db).await.with_context(|| format!("opening {db}")) }
    };
    let system = Caller::System("audit-cli");
    match command {
        AuditCommand::Key { db, key } => {
            let k = key.load(&db.db)?;
            println!("{}", k.vkey());
            eprintln!("(the key is in {}; keep it out of the database and its backups)", key.path(&db.db).display());
            Ok(())
        }
        AuditCommand::Verify { db, key, from_checkpoint, verifier_key } => {
            let verifier = safeguard::audit::verifier(verifier_key.as_deref(), &key.path(&db.db))?;
            let store = open(&db.db).await?;
            safeguard::audit::verify(&store, &verifier, from_checkpoint.as_deref()).await
        }
        AuditCommand::Prove { db, seq, size } => {
            let svc = Service::new(open(&db.db).await?, Arc::new(SystemClock), Config::default());
            let proof = svc.audit_inclusion(system, seq, size).await.map_err(|e| anyhow::anyhow!("{e}"))?;
            println!("{}", serde_json::to_string_pretty(&proof)?);
            Ok(())
        }
        AuditCommand::Consistency { db, old, new } => {
            let svc = Service::new(open(&db.db).await?, Arc::new(SystemClock), Config::default());
            let proof = svc.audit_consistency(system, old, new).await.map_err(|e| anyhow::anyhow!("{e}"))?;
            println!("{}", serde_json::to_string_pretty(&proof)?);
            Ok(())
        }
        AuditCommand::Export { db, from } => {
            let store = open(&db.db).await?;
            let mut out = std::io::BufWriter::new(std::io::stdout().lock());
            let n = safeguard::audit::export(&store, from, &mut out).await?;
            // An export is a read like any other: on the trail, as the operator's.
            let svc = Service::new(store, Arc::new(SystemClock), Config::default());
            let read = domain::event::Event::DataExported {
                what: format!("audit entries from {from}"),
                rows: u32::try_from(n).unwrap_or(u32::MAX),
                read: domain::event::ReadFrom::new("cli", "local", "safeguard audit export"),
            };
            let seq = svc.record_read_as(system, "audit", read).await.map_err(|e| anyhow::anyhow!("{e}"))?;
            eprintln!("exported {n} entries; the export itself is entry {seq} on the trail");
            Ok(())
        }
        AuditCommand::Checkpoint { db, key } => {
            let audit_key = Some(key.load(&db.db)?);
            let svc =
                Service::new(open(&db.db).await?, Arc::new(SystemClock), Config { audit_key, ..Config::default() });
            let c = svc.latest_checkpoint(system).await.map_err(|e| anyhow::anyhow!("{e}"))?;
            print!("{}", c.text);
            Ok(())
        }
    }
}

/// `safeguard mailbox`: prints each email as it arrives, until Ctrl-C.
async fn mailbox(listen: SocketAddr) -> anyhow::Result<()> {
    let sink = notify::testing::SmtpSink::start_on(listen).await.with_context(|| format!("listening on {listen}"))?;
    println!("mailbox listening on {} — point safeguard at it with --smtp {}", sink.addr(), sink.url());
    let mut seen = 0;
    loop {
        tokio::select! {
            _ = shutdown() => return Ok(()),
            _ = sink.wait_for(seen + 1, std::time::Duration::from_secs(3600)) => {}
        }
        for m in sink.messages().into_iter().skip(seen) {
            seen += 1;
            println!(
                "--- email {seen} to {} ---\nSubject: {}\nX-Safeguard-Delivery: {}\n\n{}",
                m.to.join(", "),
                m.header("Subject").unwrap_or_default(),
                m.header("X-Safeguard-Delivery").unwrap_or_default(),
                m.body().lines().take(20).collect::<Vec<_>>().join("\n")
            );
        }
    }
}

async fn shutdown() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
}
