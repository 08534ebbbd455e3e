//! Storage set-up through the admin command, so the harness needs neither the AWS SDK nor the table's design: tables
//! are created by `vimcar-admin db upgrade` and the login user by `vimcar-admin users create`.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use crate::Result;
use crate::events::PASSWORD;

/// Creates the table that `env` names (`USERS_TABLE`) if it is missing.
pub fn create_table(admin: &Path, env: &[(String, String)]) -> Result<()> {
    if !admin.is_file() {
        return Err(format!(
            "{}: no admin command there; build it with `cargo build -p vimcar-admin` or pass --admin PATH",
            admin.display()
        )
        .into());
    }
    run(admin, env, &["db", "upgrade"], None)
}

/// Creates a user `username` with [`PASSWORD`].
pub fn create_user(admin: &Path, env: &[(String, String)], username: &str) -> Result<()> {
    let email = format!("{username}@example.com");
    let create = [
        "users",
        "create",
        "--username",
        username,
        "--email",
        &email,
        "--password-stdin",
    ];
    run(admin, env, &create, Some(PASSWORD))
}

fn run(admin: &Path, env: &[(String, String)], args: &[&str], stdin: Option<&str>) -> Result<()> {
    let mut child = Command::new(admin)
        .args(args)
        .env_clear()
        .envs(env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("running {}: {e}", admin.display()))?;
    let mut input = child.stdin.take().ok_or("no stdin")?;
    if let Some(line) = stdin {
        writeln!(input, "{line}")?;
    }
    drop(input);
    let output = child.wait_with_output()?;
    if !output.status.success() {
        return Err(format!(
            "vimcar-admin {} failed ({}):\n{}{}",
            args.join(" "),
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        )
        .into());
    }
    Ok(())
}

/// Registers `count` users `PREFIX-N` with [`PASSWORD`] and logs each in, in-process, with the configuration that
/// `env` gives the functions: the access tokens of accounts that delete-account may each delete once. Done before
/// any measurement, on a runtime of its own.
///
/// A thousand registrations meet the odd moto stall longer than the SDK's 2 s attempt timeout. The SDK then retries,
/// and if the first attempt did land, the retry finds the user's id taken: DynamoDB would answer it from the
/// transaction's ClientRequestToken, moto ignores that. So a failed registration is checked for having landed, and
/// each step is tried up to [`ATTEMPTS`] times, before the harness gives up on the set-up.
pub fn deletable_accounts(
    env: &[(String, String)],
    prefix: &str,
    count: usize,
) -> Result<Vec<String>> {
    use secrecy::ExposeSecret as _;
    use vimcar::accounts::{LogIn, log_in, register};
    use vimcar::config::Config;
    use vimcar::login_attempts::throttle::Source;
    use vimcar::state::AppState;
    use vimcar::storage::Storage;
    use vimcar::users::{Email, NewUser, Password, Username};

    let lookup = |name: &str| {
        env.iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.clone())
    };
    let config = Config::from_lookup(lookup)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let state = AppState::with_storage(&config, Storage::open(&config.storage).await?)?;
        let mut tokens = Vec::with_capacity(count);
        for n in 0..count {
            let name = format!("{prefix}-{n}");
            let username = Username::parse(&name)?;
            let mut attempt = 1;
            loop {
                let new_user = NewUser {
                    username: username.clone(),
                    email: Email::parse(&format!("{name}@example.com"))?,
                    password: Some(Password::trusted(PASSWORD.to_owned().into())),
                };
                let Err(error) = register(&*state.users, &state.hasher, new_user).await else {
                    break;
                };
                if matches!(state.users.credentials(&username).await, Ok(Some(_))) {
                    break;
                }
                if attempt == ATTEMPTS {
                    return Err(format!("registering {name}: {error}").into());
                }
                attempt += 1;
            }
            let mut attempt = 1;
            let pair = loop {
                let login = LogIn {
                    username: name.clone(),
                    password: PASSWORD.to_owned().into(),
                    source: Source::Unknown,
                };
                match log_in(&state, login).await {
                    Ok(pair) => break pair,
                    Err(error) if attempt == ATTEMPTS => {
                        return Err(format!("logging {name} in: {error}").into());
                    }
                    Err(_) => attempt += 1,
                }
            };
            tokens.push(pair.tokens.access.token.expose_secret().to_owned());
        }
        Ok(tokens)
    })
}

/// Tries of each set-up step in [`deletable_accounts`].
const ATTEMPTS: u32 = 3;
