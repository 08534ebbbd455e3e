//! `vimcar-admin`: manage users and the database from a shell, with the same configuration and validation as the
//! Lambda functions. It replaces the Flask original's `flask shell` and `flask db`.

use std::io::{BufRead, Write};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, bail};
use clap::{Parser, Subcommand};
use vimcar::accounts;
use vimcar::passwords::PasswordHasher;
use vimcar::users::{
    Invalid, NewUser, Password, PasswordRule, User, UserStore, UserStoreExt, Username,
    format_timestamp,
};

mod escape;
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
}

#[derive(Subcommand)]
enum DbCommand {
    /// Apply pending SQLite migrations, or create the DynamoDB tables. Safe to run twice.
    Upgrade,
}

#[derive(Subcommand)]
enum UsersCommand {
    /// List every user, oldest first.
    List {
        /// Print one JSON object per line instead of a table.
        #[arg(long)]
        json: bool,
    },
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
    /// Set a user's password, read from the first line of standard input.
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
    let target = Target::from_env()?;
    let opened = target
        .open(matches!(command, Command::Db(DbCommand::Upgrade)))
        .await?;
    let users = opened.users;
    // On standard error, so that standard output stays the command's result (`users list --json`).
    eprintln!("vimcar-admin: {}", opened.description);
    match command {
        Command::Db(DbCommand::Upgrade) => {
            users.upgrade().await?;
            println!("{} is up to date", opened.description);
        }
        Command::Users(UsersCommand::List { json }) => list(&users, json).await?,
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
            if !users.set_password(&username, &hash).await? {
                bail!("there is no user named {username}");
            }
            println!("password set for {username}");
        }
    }
    Ok(())
}

async fn list(users: &Arc<dyn UserStore>, json: bool) -> anyhow::Result<()> {
    let mut after = None;
    let mut count = 0;
    if !json {
        println!(
            "{:<36}  {:<32}  {:<24}  email",
            "id", "username", "created_at"
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
            count += 1;
            if json {
                println!("{}", serde_json::to_string(user)?);
            } else {
                // Stored before today's rules, a name or an address may hold control or invisible characters.
                println!(
                    "{:<36}  {:<32}  {:<24}  {}",
                    user.id,
                    escape(user.username.as_str()),
                    format_timestamp(&user.created_at),
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
        println!("{count} user(s)");
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
