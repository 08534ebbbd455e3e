//! `vimcar-admin`: manage users and the database from a shell, with the same configuration and validation as the
//! Lambda functions. It replaces the Flask original's `flask shell` and `flask db`.

use std::collections::HashSet;
use std::io::{BufRead, Write};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, bail};
use clap::{Parser, Subcommand};
use vimcar::accounts;
use vimcar::events::{Event, Events, Kind, Origin};
use vimcar::passwords::PasswordHasher;
use vimcar::sessions::SessionStore;
use vimcar::users::{
    HashScheme, Invalid, NewUser, Password, PasswordHash, PasswordRule, User, UserStore,
    UserStoreExt, Username, format_timestamp,
};

mod escape;
mod import;
mod keys;
mod target;

use escape::escape;
use target::Target;

/// Manage vimcar's users and database.
///
/// Storage comes from the same environment variables as the functions: USERS_BACKEND (default sqlite), SQLITE_PATH
/// (default vimcar.db, said so), USERS_TABLE (required with dynamodb) and DYNAMODB_ENDPOINT. Every command names its
/// storage on standard error before it acts; only `db upgrade` creates a SQLite database.
#[derive(Parser)]
#[command(name = "vimcar-admin", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Database schema and tables.
    #[command(subcommand)]
    Db(DbCommand),
    /// Users.
    #[command(subcommand)]
    Users(UsersCommand),
    /// Import users from another system.
    #[command(subcommand)]
    Import(ImportCommand),
    /// The ES256 signing keys (JWT_ALGORITHM=ES256), where the functions read them: JWT_KEYS_FILE, or the Secrets
    /// Manager secrets JWT_SIGNING_KEYS_ID and JWT_PUBLIC_KEYS_ID.
    #[command(subcommand)]
    Keys(KeysCommand),
}

#[derive(Subcommand)]
enum KeysCommand {
    /// Add a new key: published at once, signing after --activate-in (at once if no key signs yet). The keys it
    /// supersedes stay published until every token they signed has expired; retired keys are dropped.
    Rotate {
        /// Seconds the new key waits on standby before it signs: at least the JWKS's cache lifetime (600 s) plus
        /// JWT_KEYS_REFRESH_SECONDS, so that every verifier knows it first.
        #[arg(long, default_value_t = vimcar::keys::DEFAULT_ACTIVATION_DELAY.as_secs())]
        activate_in: u64,
    },
    /// List the keys and the status of each (standby, current, previous, retired); never a private key.
    List {
        /// Print one JSON object per line instead of a table.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
enum ImportCommand {
    /// Import the Flask original's users from its SQLite database (opened read-only), with their bcrypt hashes,
    /// which each user's first login replaces with Argon2id. Rows today's rules refuse are skipped and reported;
    /// running it again imports nothing twice and never brings back a user deleted since.
    Flask {
        /// The Flask original's database (a copy: `sqlite3 old.db ".backup copy.db"`).
        path: std::path::PathBuf,
        /// Check every row and say what a real run would do, writing nothing.
        #[arg(long)]
        dry_run: bool,
        /// Write one JSON line per source row to FILE: imported, or skipped and why.
        #[arg(long, value_name = "FILE")]
        report: Option<std::path::PathBuf>,
    },
}

#[derive(Subcommand)]
enum DbCommand {
    /// Apply pending SQLite migrations, or create the DynamoDB tables. Safe to run twice.
    Upgrade,
}

#[derive(Subcommand)]
enum UsersCommand {
    /// List every user, oldest first, and whether each is an administrator.
    List {
        /// Print one JSON object per line instead of a table.
        #[arg(long)]
        json: bool,
        /// List only administrators.
        #[arg(long)]
        admins: bool,
    },
    /// Show one user: id, username, email, creation time, whether it is an administrator, what kind of password it
    /// has (argon2id, bcrypt until an imported user's first login, or none; never the hash), whether it must change
    /// it, and how many live sessions it has.
    Show {
        username: String,
        /// Print one JSON object instead of lines of text.
        #[arg(long)]
        json: bool,
    },
    /// Make a user an administrator: it sees every user in full, whatever LIST_USERS says, from its next request.
    GrantAdmin { username: String },
    /// Make a user an ordinary user again, from its next request: its tokens stay valid, its admin rights do not.
    RevokeAdmin { username: String },
    /// Create a user. Without --password-stdin the user cannot log in until a password is set.
    Create {
        #[arg(long)]
        username: String,
        #[arg(long)]
        email: String,
        /// Read the password from the first line of standard input.
        #[arg(long)]
        password_stdin: bool,
    },
    /// Delete a user and everything stored for it, after asking on standard input.
    Delete {
        username: String,
        /// Delete without asking, for scripts.
        #[arg(long)]
        yes: bool,
    },
    /// List a user's sessions: when each began, was last used and ends (never a token).
    Sessions {
        username: String,
        /// Print one JSON object per line instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// End every session of a user: its refresh tokens stop working, and its access tokens at this API at once.
    Logout { username: String },
    /// Set a user's password, read from the first line of standard input, and end the user's sessions.
    SetPassword {
        username: String,
        /// Read the password from the first line of standard input (required: passwords never go on the command line).
        #[arg(long, required = true)]
        password_stdin: bool,
    },
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli.command).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(command: Command) -> anyhow::Result<()> {
    if let Command::Keys(command) = command {
        return run_keys(command).await;
    }
    let target = Target::from_env()?;
    let opened = target
        .open(matches!(command, Command::Db(DbCommand::Upgrade)))
        .await?;
    let users = opened.storage.users;
    let sessions = opened.storage.sessions;
    // On standard error, so that standard output stays the command's result (`users list --json`).
    eprintln!("vimcar-admin: {}", opened.description);
    match command {
        Command::Db(DbCommand::Upgrade) => {
            users.upgrade().await?;
            println!("{} is up to date", opened.description);
        }
        Command::Import(ImportCommand::Flask {
            path,
            dry_run,
            report,
        }) => {
            let options = import::Options {
                path,
                dry_run,
                report,
            };
            import::flask(&*users, &*opened.imports, &options, &events()).await?;
        }
        Command::Users(UsersCommand::List { json, admins }) => list(&users, json, admins).await?,
        Command::Users(UsersCommand::Show { username, json }) => {
            let user = existing_user(&*users, &username).await?;
            show(&*users, &*sessions, user, json).await?;
        }
        Command::Users(UsersCommand::GrantAdmin { username }) => {
            set_admin(&*users, &username, true, &events()).await?;
        }
        Command::Users(UsersCommand::RevokeAdmin { username }) => {
            set_admin(&*users, &username, false, &events()).await?;
        }
        Command::Users(UsersCommand::Create {
            username,
            email,
            password_stdin,
        }) => {
            let password = password_stdin.then(read_password).transpose()?;
            let new_user = NewUser::parse(
                Some(&username),
                Some(&email),
                password.as_deref(),
                PasswordRule::Optional,
            )
            .map_err(invalid)?;
            let has_password = new_user.password.is_some();
            let user = accounts::register(&*users, &PasswordHasher::new()?, new_user)
                .await
                .map_err(register_error)?;
            println!("created {} ({})", user.username, user.id);
            if !has_password {
                println!(
                    "{} cannot log in until `vimcar-admin users set-password` sets a password",
                    user.username
                );
            }
        }
        Command::Users(UsersCommand::Delete { username, yes }) => {
            let username = parse_username(&username)?;
            let user = users
                .by_username(&username)
                .await?
                .with_context(|| format!("there is no user named {username}"))?;
            if !yes {
                confirm_delete(&user, &opened.description)?;
            }
            if !users.delete(&username).await? {
                bail!("there is no user named {username}");
            }
            println!("deleted {username}");
        }
        Command::Users(UsersCommand::SetPassword { username, .. }) => {
            let username = parse_username(&username)?;
            let user = users
                .by_username(&username)
                .await?
                .with_context(|| format!("there is no user named {username}"))?;
            let raw = read_password()?;
            let password =
                Password::parse_for(&raw, Some(username.as_str()), Some(user.email.as_str()))
                    .map_err(|reason| invalid(vec![Invalid::new("password", reason)]))?;
            let hash = PasswordHasher::new()?.hash(&password).await?;
            // A password set by an operator is most often a compromised account's: whoever held it is logged out,
            // in the same step as the hash changes.
            let Some(ended) = users.change_password(&username, None, &hash).await? else {
                bail!("there is no user named {username}");
            };
            println!("password set for {username}; {ended} session(s) ended");
        }
        Command::Users(UsersCommand::Sessions { username, json }) => {
            let user = existing_user(&*users, &username).await?;
            list_sessions(&*sessions, &user, json).await?;
        }
        Command::Keys(_) => unreachable!("handled above"),
        Command::Users(UsersCommand::Logout { username }) => {
            let user = existing_user(&*users, &username).await?;
            let ended = sessions.end_all(user.id).await?;
            println!("ended {ended} session(s) of {}", user.username);
        }
    }
    Ok(())
}

async fn run_keys(command: KeysCommand) -> anyhow::Result<()> {
    let config = vimcar::config::Config::from_env()?;
    let store = keys::KeyStore::from_config(&config).await?;
    eprintln!("vimcar-admin: {}", store.describe());
    match command {
        KeysCommand::Rotate { activate_in } => {
            let key =
                keys::rotate(&store, &config, std::time::Duration::from_secs(activate_in)).await?;
            println!(
                "added key {}: published now, signing from {}",
                key.kid,
                format_timestamp(&key.activates_at)
            );
        }
        KeysCommand::List { json } => {
            let lines = keys::list(&store).await?;
            if json {
                for line in &lines {
                    println!("{}", serde_json::to_string(line)?);
                }
            } else {
                println!(
                    "{:<43}  {:<8}  {:<24}  {:<24}  RETIRES",
                    "KID", "STATUS", "CREATED", "ACTIVATES"
                );
                for line in &lines {
                    println!(
                        "{:<43}  {:<8}  {:<24}  {:<24}  {}",
                        line.kid,
                        line.status,
                        format_timestamp(&line.created_at),
                        format_timestamp(&line.activates_at),
                        line.retires_at
                            .as_ref()
                            .map_or_else(|| "-".to_owned(), format_timestamp)
                    );
                }
            }
        }
    }
    Ok(())
}

/// One user as `users list --json` prints it: the API's listing entry and the admin flag.
#[derive(serde::Serialize)]
struct UserLine<'a> {
    #[serde(flatten)]
    user: &'a User,
    is_admin: bool,
}

async fn list(users: &Arc<dyn UserStore>, json: bool, only_admins: bool) -> anyhow::Result<()> {
    // The listing index does not hold the flag; one read of every administrator's id does.
    let admins: HashSet<uuid::Uuid> = users.admins().await?.into_iter().collect();
    let mut after = None;
    let mut count = 0;
    if !json {
        println!(
            "{:<36}  {:<32}  {:<24}  {:<5}  email",
            "id", "username", "created_at", "admin"
        );
    }
    loop {
        let page = users
            .list(
                after,
                vimcar::users::PageSize::new(1000).expect("1000 is a valid page size"),
            )
            .await?;
        for user in &page.users {
            let is_admin = admins.contains(&user.id);
            if only_admins && !is_admin {
                continue;
            }
            count += 1;
            if json {
                println!("{}", serde_json::to_string(&UserLine { user, is_admin })?);
            } else {
                // Stored before today's rules, a name or an address may hold control or invisible characters.
                println!(
                    "{:<36}  {:<32}  {:<24}  {:<5}  {}",
                    user.id,
                    escape(user.username.as_str()),
                    format_timestamp(&user.created_at),
                    if is_admin { "yes" } else { "no" },
                    escape(user.email.as_str())
                );
            }
        }
        match page.next {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    if !json {
        if only_admins {
            println!("{count} administrator(s)");
        } else {
            println!("{count} user(s)");
        }
    }
    Ok(())
}

/// One user as `users show --json` prints it: never the hash, only whether there is one and what kind.
#[derive(serde::Serialize)]
struct ShowLine<'a> {
    #[serde(flatten)]
    user: &'a User,
    is_admin: bool,
    has_password: bool,
    /// `argon2id`, `bcrypt` (imported, not logged in since) or `none`.
    password: &'static str,
    password_change_required: bool,
    live_sessions: usize,
}

/// What kind of password a user has, for `users show`: its JSON value and its text.
fn password_kind(hash: Option<&PasswordHash>) -> (&'static str, &'static str) {
    match hash.map(PasswordHash::scheme) {
        None => ("none", "none"),
        Some(HashScheme::Argon2) => ("argon2id", "argon2id"),
        Some(HashScheme::Bcrypt { .. }) => {
            ("bcrypt", "bcrypt (imported; replaced at its first login)")
        }
        Some(HashScheme::Unknown) => ("unknown", "unknown (no login can verify it)"),
    }
}

async fn show(
    users: &dyn UserStore,
    sessions: &dyn SessionStore,
    user: User,
    json: bool,
) -> anyhow::Result<()> {
    let is_admin = users
        .account(user.id)
        .await?
        .with_context(|| format!("there is no user named {}", user.username))?
        .is_admin;
    let credentials = users
        .credentials(&user.username)
        .await?
        .with_context(|| format!("there is no user named {}", user.username))?;
    let has_password = credentials.hash.is_some();
    let (password, password_text) = password_kind(credentials.hash.as_ref());
    let password_change_required = credentials.password_change_required;
    let now = chrono::Utc::now();
    let live_sessions = sessions
        .sessions_of(user.id)
        .await?
        .iter()
        .filter(|session| session.is_live(now))
        .count();
    if json {
        let line = ShowLine {
            user: &user,
            is_admin,
            has_password,
            password,
            password_change_required,
            live_sessions,
        };
        println!("{}", serde_json::to_string(&line)?);
    } else {
        println!("id            {}", user.id);
        println!("username      {}", escape(user.username.as_str()));
        println!("email         {}", escape(user.email.as_str()));
        println!("created_at    {}", format_timestamp(&user.created_at));
        println!("admin         {}", if is_admin { "yes" } else { "no" });
        println!("password      {password_text}");
        println!(
            "must change   {}",
            if password_change_required {
                "yes (its password fails today's rules)"
            } else {
                "no"
            }
        );
        println!("sessions      {live_sessions} live");
    }
    Ok(())
}

/// Where the security events of a command go: standard error, one JSON line each (standard output is the command's
/// result). They count in no metric, so the namespace is never written.
fn events() -> Events {
    Events::new(
        vimcar::events::DEFAULT_NAMESPACE,
        Arc::new(vimcar::events::Stderr),
    )
}

/// Grants or revokes the admin flag of the user named `raw`, saying what changed, and records it (`admin.granted`,
/// `admin.revoked`, with `changed` false when the flag already was as asked).
async fn set_admin(
    users: &dyn UserStore,
    raw: &str,
    is_admin: bool,
    events: &Events,
) -> anyhow::Result<()> {
    let user = existing_user(users, raw).await?;
    let name = escape(user.username.as_str());
    let was_admin = users
        .account(user.id)
        .await?
        .with_context(|| format!("there is no user named {name}"))?
        .is_admin;
    if !users.set_admin(&user.username, is_admin).await? {
        bail!("there is no user named {name}");
    }
    let kind = if is_admin {
        Kind::AdminGranted
    } else {
        Kind::AdminRevoked
    };
    events.record(
        &Origin::admin(),
        Event::new(kind)
            .user(user.id)
            .with("changed", was_admin != is_admin),
    );
    match (was_admin, is_admin) {
        (true, true) => println!("{name} is already an administrator"),
        (false, true) => println!("{name} is now an administrator, from its next request"),
        (true, false) => println!("{name} is no longer an administrator, from its next request"),
        (false, false) => println!("{name} was not an administrator"),
    }
    Ok(())
}

/// The user named `raw`, or an error saying there is none.
async fn existing_user(users: &dyn UserStore, raw: &str) -> anyhow::Result<User> {
    let username = parse_username(raw)?;
    users
        .by_username(&username)
        .await?
        .with_context(|| format!("there is no user named {username}"))
}

/// One session as `users sessions --json` prints it: times, never a token or anything a token is made from but
/// the ids an operator needs to tell sessions apart.
#[derive(serde::Serialize)]
struct SessionLine {
    id: uuid::Uuid,
    created_at: String,
    last_used_at: String,
    expires_at: String,
    ends_at: String,
    live: bool,
}

async fn list_sessions(sessions: &dyn SessionStore, user: &User, json: bool) -> anyhow::Result<()> {
    let now = chrono::Utc::now();
    let stored = sessions.sessions_of(user.id).await?;
    if !json {
        println!(
            "{:<36}  {:<24}  {:<24}  {:<24}  {:<24}  state",
            "id", "created_at", "last_used_at", "idle_expires_at", "ends_at"
        );
    }
    let mut live = 0;
    for session in &stored {
        let line = SessionLine {
            id: session.id,
            created_at: format_timestamp(&session.created_at),
            last_used_at: format_timestamp(&session.refreshed_at),
            expires_at: format_timestamp(&session.idle_expires_at),
            ends_at: format_timestamp(&session.expires_at),
            live: session.is_live(now),
        };
        live += usize::from(line.live);
        if json {
            println!("{}", serde_json::to_string(&line)?);
        } else {
            println!(
                "{:<36}  {:<24}  {:<24}  {:<24}  {:<24}  {}",
                line.id,
                line.created_at,
                line.last_used_at,
                line.expires_at,
                line.ends_at,
                if line.live { "live" } else { "expired" }
            );
        }
    }
    if !json {
        println!("{live} live session(s) of {}", user.username);
    }
    Ok(())
}

/// Shows `user` and where it is stored, and asks; only `y` or `yes` on standard input proceeds.
fn confirm_delete(user: &User, target: &str) -> anyhow::Result<()> {
    let mut stderr = std::io::stderr().lock();
    write!(
        stderr,
        "Delete user {} (id {}, email {}, created {}) from {target}? [y/N] ",
        escape(user.username.as_str()),
        user.id,
        escape(user.email.as_str()),
        format_timestamp(&user.created_at),
    )?;
    stderr.flush()?;
    let mut answer = String::new();
    let read = std::io::stdin()
        .lock()
        .read_line(&mut answer)
        .context("reading the answer from standard input")?;
    if read == 0 {
        writeln!(stderr)?;
        bail!(
            "no answer on standard input: {} was not deleted (pass --yes to delete without asking)",
            user.username
        );
    }
    match answer.trim().to_lowercase().as_str() {
        "y" | "yes" => Ok(()),
        _ => bail!("{} was not deleted", user.username),
    }
}

fn parse_username(raw: &str) -> anyhow::Result<Username> {
    Username::parse(raw).map_err(|message| anyhow::anyhow!("username {message}"))
}

/// The first line of standard input, without its line ending. Passwords never go on the command line, where
/// other users and shell history could see them.
fn read_password() -> anyhow::Result<String> {
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .context("reading the password from standard input")?;
    let password = line.trim_end_matches(['\n', '\r']).to_owned();
    if password.is_empty() {
        bail!("no password on standard input");
    }
    Ok(password)
}

/// One line naming every field and what is wrong with it.
fn invalid(fields: Vec<Invalid>) -> anyhow::Error {
    let lines: Vec<String> = fields
        .iter()
        .map(|field| format!("{} {}", field.field, field.reason))
        .collect();
    anyhow::anyhow!("{}", lines.join("; "))
}

fn register_error(error: accounts::Error) -> anyhow::Error {
    match error {
        accounts::Error::Taken(fields) => {
            invalid(fields.into_iter().map(|field| field.taken()).collect())
        }
        other => other.into(),
    }
}
