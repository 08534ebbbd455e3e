//! Typed configuration, read once from the environment.
//!
//! Every environment variable the project reads is read here, and each has a default or a clear error. The README's
//! configuration table lists the same variables.

use std::path::PathBuf;
use std::time::Duration;

use secrecy::SecretString;

use crate::sessions::SessionPolicy;

/// The shortest signing secret accepted, in bytes (HS256 wants at least as many bits as its output).
pub const MIN_SECRET_BYTES: usize = 32;
/// Token lifetime when `JWT_TTL_SECONDS` is unset: five minutes, as Flask-JWT's default.
pub const DEFAULT_TOKEN_TTL: Duration = Duration::from_secs(300);
/// The longest token lifetime accepted.
pub const MAX_TOKEN_TTL: Duration = Duration::from_secs(24 * 60 * 60);
/// Sessions end after this long without a refresh when `SESSION_IDLE_TIMEOUT_SECONDS` is unset: 14 days.
pub const DEFAULT_SESSION_IDLE: Duration = Duration::from_secs(14 * 24 * 60 * 60);
/// Sessions end this long after their login when `SESSION_ABSOLUTE_TIMEOUT_SECONDS` is unset: 30 days, as Cognito's
/// refresh tokens.
pub const DEFAULT_SESSION_ABSOLUTE: Duration = Duration::from_secs(30 * 24 * 60 * 60);
/// The longest session accepted: a year.
pub const MAX_SESSION: Duration = Duration::from_secs(365 * 24 * 60 * 60);
/// How long a replaced refresh token still refreshes when `REFRESH_REUSE_GRACE_SECONDS` is unset.
pub const DEFAULT_REFRESH_GRACE: Duration = Duration::from_secs(10);
/// The longest grace window accepted: past a minute, a stolen token's replay would pass for a second tab.
pub const MAX_REFRESH_GRACE: Duration = Duration::from_secs(60);
/// Sessions when none of their variables is set.
pub const DEFAULT_SESSION_POLICY: SessionPolicy = SessionPolicy {
    idle: DEFAULT_SESSION_IDLE,
    absolute: DEFAULT_SESSION_ABSOLUTE,
    grace: DEFAULT_REFRESH_GRACE,
};
/// SQLite file when `SQLITE_PATH` is unset.
pub const DEFAULT_SQLITE_PATH: &str = "vimcar.db";
/// DynamoDB table name (or prefix) when `USERS_TABLE` is unset.
pub const DEFAULT_USERS_TABLE: &str = "vimcar-users";

/// A configuration mistake, named after the variable that caused it.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{name} is not set: {hint}")]
    Missing {
        name: &'static str,
        hint: &'static str,
    },
    #[error("{name} is invalid: {reason}")]
    Invalid { name: &'static str, reason: String },
}

/// Where users are stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StorageConfig {
    /// An embedded SQLite file, for local runs and tests.
    Sqlite { path: PathBuf },
    /// DynamoDB, in production or on a local DynamoDB-compatible server.
    DynamoDb {
        /// Table name, or the prefix of the table names.
        table: String,
        /// An endpoint URL for a local server; `None` uses the standard AWS endpoint resolution.
        endpoint: Option<String>,
    },
}

/// How access tokens are signed (`JWT_ALGORITHM`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum JwtAlgorithm {
    /// HMAC-SHA256 with `VIMCAR_SECRET`, as the original: whoever verifies can also mint. The default.
    #[default]
    Hs256,
    /// ECDSA P-256: signed with a private key only `auth`, `refresh` and `change-password` hold, verified by anyone
    /// with the public keys the JWKS publishes.
    Es256,
}

/// Where the HMAC secret comes from.
#[derive(Clone)]
pub enum SecretAt {
    /// `VIMCAR_SECRET` itself (a laptop, the tests).
    Value(SecretString),
    /// `VIMCAR_SECRET_ID`: a Secrets Manager secret's name or ARN, read at start-up.
    Stored(String),
}

/// Where the ES256 key set comes from.
#[derive(Clone, Debug)]
pub enum KeysAt {
    /// Given whole (tests, benchmarks).
    Inline(crate::keys::KeySet),
    /// `JWT_KEYS_FILE`: a JSON file with the signers' copy (`make dev` writes one).
    File(PathBuf),
    /// `JWT_SIGNING_KEYS_ID` (the signers' copy, with private keys) and `JWT_PUBLIC_KEYS_ID` (the verifiers'):
    /// Secrets Manager secrets, each function given the one it uses.
    Stored {
        signing: Option<String>,
        public: Option<String>,
    },
}

/// How tokens are signed, verified and how long they live.
#[derive(Clone)]
pub struct TokenConfig {
    /// The HMAC secret, if configured (a function that needs it and finds none fails to start).
    pub secret: Option<SecretAt>,
    pub algorithm: JwtAlgorithm,
    /// `JWT_ACCEPT_HS256`: with ES256, still accept HS256 tokens (no `kid`, checked with the HMAC secret only), so
    /// that a switch from HS256 logs nobody out.
    pub accept_hs256: bool,
    pub keys: Option<KeysAt>,
    /// The `iss` claim issued and the only one accepted (`JWT_ISSUER`).
    pub issuer: String,
    /// How long a key set is used before it is read again (`JWT_KEYS_REFRESH_SECONDS`).
    pub keys_refresh: Duration,
    /// `SECRETS_MANAGER_ENDPOINT`: a local Secrets Manager (moto), for tests.
    pub secrets_endpoint: Option<String>,
    pub ttl: Duration,
}

impl std::fmt::Debug for TokenConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenConfig")
            .field("secret", &self.secret.as_ref().map(|_| "[redacted]"))
            .field("algorithm", &self.algorithm)
            .field("accept_hs256", &self.accept_hs256)
            .field("keys", &self.keys.as_ref().map(|_| "[configured]"))
            .field("issuer", &self.issuer)
            .field("ttl", &self.ttl)
            .finish()
    }
}

/// Who may list whom (`LIST_USERS`): what `GET /api/users` and `GET /api/users/{id}` show a caller who is not an
/// administrator. Administrators always see everyone in full.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ListingPolicy {
    /// Any valid token lists everyone with their email, as the original did. The default, for compatibility.
    #[default]
    Everyone,
    /// Others are listed without their email (id, username, created_at); the caller's own record in full.
    Directory,
    /// Only administrators list users or look up others; everyone else gets 403.
    Admins,
}

impl ListingPolicy {
    fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        match lookup("LIST_USERS").as_deref() {
            None | Some("everyone") => Ok(Self::Everyone),
            Some("directory") => Ok(Self::Directory),
            Some("admins") => Ok(Self::Admins),
            Some(other) => Err(ConfigError::Invalid {
                name: "LIST_USERS",
                reason: format!("expected `everyone`, `directory` or `admins`, got `{other}`"),
            }),
        }
    }
}

/// The whole configuration of a function.
#[derive(Debug, Clone)]
pub struct Config {
    pub storage: StorageConfig,
    pub tokens: TokenConfig,
    pub sessions: SessionPolicy,
    pub listing: ListingPolicy,
    /// The CloudWatch namespace of the security events' metrics (`METRICS_NAMESPACE`).
    pub metrics_namespace: String,
}

impl Config {
    /// Reads the configuration from the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(env_lookup)
    }

    /// Reads the configuration through `lookup`, which answers a variable's value (tests pass a map).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        Ok(Self {
            storage: StorageConfig::from_lookup(&lookup)?,
            tokens: TokenConfig::from_lookup(&lookup)?,
            sessions: session_policy(&lookup)?,
            listing: ListingPolicy::from_lookup(&lookup)?,
            metrics_namespace: metrics_namespace(&lookup)?,
        })
    }
}

/// `METRICS_NAMESPACE`, or [`crate::events::DEFAULT_NAMESPACE`]: what CloudWatch accepts as a namespace (1 to 255
/// ASCII characters, not starting with `AWS/`, which is AWS's own).
fn metrics_namespace(lookup: impl Fn(&str) -> Option<String>) -> Result<String, ConfigError> {
    let Some(namespace) = lookup("METRICS_NAMESPACE") else {
        return Ok(crate::events::DEFAULT_NAMESPACE.to_owned());
    };
    let invalid = |reason: &str| ConfigError::Invalid {
        name: "METRICS_NAMESPACE",
        reason: reason.to_owned(),
    };
    if namespace.is_empty() || namespace.len() > 255 {
        return Err(invalid("expected 1 to 255 characters"));
    }
    if !namespace.bytes().all(|b| b.is_ascii_graphic() || b == b' ') {
        return Err(invalid("expected printable ASCII characters"));
    }
    if namespace.starts_with("AWS/") {
        return Err(invalid("namespaces starting with AWS/ are AWS's own"));
    }
    Ok(namespace)
}

impl StorageConfig {
    /// Reads `USERS_BACKEND` and the variables of the chosen backend from the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(env_lookup)
    }

    /// Reads the storage configuration through `lookup`.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        match lookup("USERS_BACKEND").as_deref().unwrap_or("sqlite") {
            "sqlite" => Ok(Self::Sqlite {
                path: lookup("SQLITE_PATH")
                    .unwrap_or_else(|| DEFAULT_SQLITE_PATH.to_owned())
                    .into(),
            }),
            "dynamodb" => Ok(Self::DynamoDb {
                table: lookup("USERS_TABLE").unwrap_or_else(|| DEFAULT_USERS_TABLE.to_owned()),
                endpoint: lookup("DYNAMODB_ENDPOINT"),
            }),
            other => Err(ConfigError::Invalid {
                name: "USERS_BACKEND",
                reason: format!("expected `sqlite` or `dynamodb`, got `{other}`"),
            }),
        }
    }
}

impl TokenConfig {
    /// The configuration of tests and benchmarks: HS256 with `secret`, the default lifetime.
    pub fn hs256(secret: &str) -> Self {
        Self {
            secret: Some(SecretAt::Value(SecretString::from(secret.to_owned()))),
            algorithm: JwtAlgorithm::Hs256,
            accept_hs256: false,
            keys: None,
            issuer: crate::tokens::ISSUER.to_owned(),
            keys_refresh: crate::keys::DEFAULT_KEYS_REFRESH,
            secrets_endpoint: None,
            ttl: DEFAULT_TOKEN_TTL,
        }
    }

    /// Reads the token variables through `lookup`: `VIMCAR_SECRET` or `VIMCAR_SECRET_ID`, `JWT_ALGORITHM`,
    /// `JWT_ACCEPT_HS256`, `JWT_KEYS_FILE` or `JWT_SIGNING_KEYS_ID` and `JWT_PUBLIC_KEYS_ID`, `JWT_ISSUER`,
    /// `JWT_KEYS_REFRESH_SECONDS`, `SECRETS_MANAGER_ENDPOINT` and `JWT_TTL_SECONDS`. What a function needs of them
    /// is checked when it loads them (`crate::keys::load`): register needs none.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let secret = match (lookup("VIMCAR_SECRET"), lookup("VIMCAR_SECRET_ID")) {
            (Some(_), Some(_)) => {
                return Err(ConfigError::Invalid {
                    name: "VIMCAR_SECRET",
                    reason: "set VIMCAR_SECRET or VIMCAR_SECRET_ID, not both".to_owned(),
                });
            }
            (Some(value), None) => {
                let length = value.len();
                if length < MIN_SECRET_BYTES {
                    return Err(ConfigError::Invalid {
                        name: "VIMCAR_SECRET",
                        reason: format!(
                            "it is {length} bytes long; at least {MIN_SECRET_BYTES} are required"
                        ),
                    });
                }
                Some(SecretAt::Value(SecretString::from(value)))
            }
            (None, Some(id)) => Some(SecretAt::Stored(id)),
            (None, None) => None,
        };
        let algorithm = match lookup("JWT_ALGORITHM").as_deref() {
            None | Some("HS256") => JwtAlgorithm::Hs256,
            Some("ES256") => JwtAlgorithm::Es256,
            Some(other) => {
                return Err(ConfigError::Invalid {
                    name: "JWT_ALGORITHM",
                    reason: format!("expected `HS256` or `ES256`, got `{other}`"),
                });
            }
        };
        let accept_hs256 = match lookup("JWT_ACCEPT_HS256").as_deref() {
            None | Some("false") => false,
            Some("true") if algorithm == JwtAlgorithm::Es256 => true,
            Some("true") => {
                return Err(ConfigError::Invalid {
                    name: "JWT_ACCEPT_HS256",
                    reason: "only means something with JWT_ALGORITHM=ES256".to_owned(),
                });
            }
            Some(other) => {
                return Err(ConfigError::Invalid {
                    name: "JWT_ACCEPT_HS256",
                    reason: format!("expected `true` or `false`, got `{other}`"),
                });
            }
        };
        let file = lookup("JWT_KEYS_FILE");
        let (signing, public) = (lookup("JWT_SIGNING_KEYS_ID"), lookup("JWT_PUBLIC_KEYS_ID"));
        let keys = match (file, signing.is_some() || public.is_some()) {
            (Some(_), true) => {
                return Err(ConfigError::Invalid {
                    name: "JWT_KEYS_FILE",
                    reason: "set JWT_KEYS_FILE or the JWT_*_KEYS_ID secrets, not both".to_owned(),
                });
            }
            (Some(path), false) => Some(KeysAt::File(path.into())),
            (None, true) => Some(KeysAt::Stored { signing, public }),
            (None, false) => None,
        };
        let keys_refresh = match lookup("JWT_KEYS_REFRESH_SECONDS") {
            None => crate::keys::DEFAULT_KEYS_REFRESH,
            Some(raw) => match raw.trim().parse::<u64>() {
                Ok(seconds) if (1..=3600).contains(&seconds) => Duration::from_secs(seconds),
                _ => {
                    return Err(ConfigError::Invalid {
                        name: "JWT_KEYS_REFRESH_SECONDS",
                        reason: format!("expected whole seconds from 1 to 3600, got `{raw}`"),
                    });
                }
            },
        };
        let ttl = match lookup("JWT_TTL_SECONDS") {
            None => DEFAULT_TOKEN_TTL,
            Some(raw) => parse_ttl(&raw)?,
        };
        Ok(Self {
            secret,
            algorithm,
            accept_hs256,
            keys,
            issuer: lookup("JWT_ISSUER").unwrap_or_else(|| crate::tokens::ISSUER.to_owned()),
            keys_refresh,
            secrets_endpoint: lookup("SECRETS_MANAGER_ENDPOINT"),
            ttl,
        })
    }
}

/// Reads `SESSION_IDLE_TIMEOUT_SECONDS`, `SESSION_ABSOLUTE_TIMEOUT_SECONDS` and `REFRESH_REUSE_GRACE_SECONDS`.
fn session_policy(lookup: impl Fn(&str) -> Option<String>) -> Result<SessionPolicy, ConfigError> {
    let seconds = |name: &'static str, default: Duration, min: u64, max: Duration| {
        let Some(raw) = lookup(name) else {
            return Ok(default);
        };
        match raw.trim().parse::<u64>() {
            Ok(seconds) if (min..=max.as_secs()).contains(&seconds) => {
                Ok(Duration::from_secs(seconds))
            }
            _ => Err(ConfigError::Invalid {
                name,
                reason: format!(
                    "expected whole seconds from {min} to {}, got `{raw}`",
                    max.as_secs()
                ),
            }),
        }
    };
    let idle = seconds(
        "SESSION_IDLE_TIMEOUT_SECONDS",
        DEFAULT_SESSION_IDLE,
        60,
        MAX_SESSION,
    )?;
    let absolute = seconds(
        "SESSION_ABSOLUTE_TIMEOUT_SECONDS",
        DEFAULT_SESSION_ABSOLUTE,
        60,
        MAX_SESSION,
    )?;
    if idle > absolute {
        return Err(ConfigError::Invalid {
            name: "SESSION_IDLE_TIMEOUT_SECONDS",
            reason: format!(
                "it is {} s, longer than SESSION_ABSOLUTE_TIMEOUT_SECONDS ({} s)",
                idle.as_secs(),
                absolute.as_secs()
            ),
        });
    }
    let grace = seconds(
        "REFRESH_REUSE_GRACE_SECONDS",
        DEFAULT_REFRESH_GRACE,
        0,
        MAX_REFRESH_GRACE,
    )?;
    Ok(SessionPolicy {
        idle,
        absolute,
        grace,
    })
}

fn parse_ttl(raw: &str) -> Result<Duration, ConfigError> {
    let invalid = || ConfigError::Invalid {
        name: "JWT_TTL_SECONDS",
        reason: format!(
            "expected whole seconds from 1 to {}, got `{raw}`",
            MAX_TOKEN_TTL.as_secs()
        ),
    };
    let seconds: u64 = raw.trim().parse().map_err(|_| invalid())?;
    let ttl = Duration::from_secs(seconds);
    if seconds == 0 || ttl > MAX_TOKEN_TTL {
        return Err(invalid());
    }
    Ok(ttl)
}

fn env_lookup(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|value| !value.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    const SECRET: &str = "0123456789abcdef0123456789abcdef";

    fn lookup(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let vars: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |name| vars.get(name).cloned()
    }

    #[test]
    fn defaults_are_sqlite_in_vimcar_db_and_five_minute_tokens() {
        let config = Config::from_lookup(lookup(&[("VIMCAR_SECRET", SECRET)])).unwrap();
        assert_eq!(
            config.storage,
            StorageConfig::Sqlite {
                path: "vimcar.db".into()
            }
        );
        assert_eq!(config.tokens.ttl, Duration::from_secs(300));
    }

    #[test]
    fn a_missing_secret_is_refused_with_a_hint_where_it_is_needed_and_only_there() {
        let config = Config::from_lookup(lookup(&[])).unwrap();
        let uses = crate::keys::KeyUse::ALL;
        let err = crate::keys::load_local(&config.tokens, uses).err().unwrap();
        assert!(err.to_string().contains("VIMCAR_SECRET"), "{err}");
        // Register signs and verifies nothing: it starts without any secret.
        assert!(crate::keys::load_local(&config.tokens, crate::keys::KeyUse::NONE).is_ok());
    }

    #[test]
    fn the_token_algorithm_and_its_companions_are_checked() {
        let refused =
            |vars: &[(&str, &str)]| Config::from_lookup(lookup(vars)).unwrap_err().to_string();
        assert!(refused(&[("JWT_ALGORITHM", "RS256")]).contains("`HS256` or `ES256`"));
        assert!(refused(&[("JWT_ACCEPT_HS256", "true")]).contains("only means something"));
        assert!(
            refused(&[("JWT_ALGORITHM", "ES256"), ("JWT_ACCEPT_HS256", "yes")])
                .contains("`true` or `false`")
        );
        assert!(
            refused(&[("JWT_KEYS_FILE", "k.json"), ("JWT_SIGNING_KEYS_ID", "s")])
                .contains("not both")
        );
        assert!(
            refused(&[("VIMCAR_SECRET", SECRET), ("VIMCAR_SECRET_ID", "s")]).contains("not both")
        );
        let config = Config::from_lookup(lookup(&[
            ("JWT_ALGORITHM", "ES256"),
            ("JWT_ACCEPT_HS256", "true"),
            ("JWT_SIGNING_KEYS_ID", "signing"),
            ("JWT_PUBLIC_KEYS_ID", "public"),
            ("VIMCAR_SECRET_ID", "hmac"),
        ]))
        .unwrap();
        assert_eq!(config.tokens.algorithm, JwtAlgorithm::Es256);
        assert!(config.tokens.accept_hs256);
        assert!(matches!(config.tokens.secret, Some(SecretAt::Stored(ref id)) if id == "hmac"));
    }

    #[test]
    fn a_secret_shorter_than_32_bytes_is_refused() {
        let err = Config::from_lookup(lookup(&[("VIMCAR_SECRET", &SECRET[..31])])).unwrap_err();
        assert!(err.to_string().contains("31 bytes"), "{err}");
    }

    #[test]
    fn the_secret_never_appears_in_debug_output() {
        let config = Config::from_lookup(lookup(&[("VIMCAR_SECRET", SECRET)])).unwrap();
        assert!(!format!("{config:?}").contains(SECRET));
    }

    #[test]
    fn the_token_lifetime_comes_from_jwt_ttl_seconds() {
        let config = Config::from_lookup(lookup(&[
            ("VIMCAR_SECRET", SECRET),
            ("JWT_TTL_SECONDS", "60"),
        ]))
        .unwrap();
        assert_eq!(config.tokens.ttl, Duration::from_secs(60));
    }

    #[test]
    fn a_zero_negative_or_non_numeric_lifetime_is_refused() {
        for bad in ["0", "-5", "ten", "86401"] {
            let err = Config::from_lookup(lookup(&[
                ("VIMCAR_SECRET", SECRET),
                ("JWT_TTL_SECONDS", bad),
            ]))
            .unwrap_err();
            assert!(err.to_string().contains("JWT_TTL_SECONDS"), "{bad}: {err}");
        }
    }

    #[test]
    fn sessions_default_to_14_days_idle_30_days_absolute_and_10_seconds_grace() {
        let config = Config::from_lookup(lookup(&[("VIMCAR_SECRET", SECRET)])).unwrap();
        assert_eq!(
            config.sessions,
            SessionPolicy {
                idle: Duration::from_secs(14 * 86_400),
                absolute: Duration::from_secs(30 * 86_400),
                grace: Duration::from_secs(10),
            }
        );
    }

    #[test]
    fn session_timeouts_come_from_the_environment_and_idle_may_not_outlast_absolute() {
        let config = Config::from_lookup(lookup(&[
            ("VIMCAR_SECRET", SECRET),
            ("SESSION_IDLE_TIMEOUT_SECONDS", "3600"),
            ("SESSION_ABSOLUTE_TIMEOUT_SECONDS", "7200"),
            ("REFRESH_REUSE_GRACE_SECONDS", "0"),
        ]))
        .unwrap();
        assert_eq!(config.sessions.idle, Duration::from_secs(3600));
        assert_eq!(config.sessions.absolute, Duration::from_secs(7200));
        assert_eq!(config.sessions.grace, Duration::ZERO);
        let err = Config::from_lookup(lookup(&[
            ("VIMCAR_SECRET", SECRET),
            ("SESSION_IDLE_TIMEOUT_SECONDS", "7201"),
            ("SESSION_ABSOLUTE_TIMEOUT_SECONDS", "7200"),
        ]))
        .unwrap_err();
        assert!(
            err.to_string().contains("SESSION_IDLE_TIMEOUT_SECONDS"),
            "{err}"
        );
        for (name, bad) in [
            ("SESSION_IDLE_TIMEOUT_SECONDS", "59"),
            ("SESSION_ABSOLUTE_TIMEOUT_SECONDS", "31536001"),
            ("REFRESH_REUSE_GRACE_SECONDS", "61"),
            ("REFRESH_REUSE_GRACE_SECONDS", "soon"),
        ] {
            let err =
                Config::from_lookup(lookup(&[("VIMCAR_SECRET", SECRET), (name, bad)])).unwrap_err();
            assert!(err.to_string().contains(name), "{name}={bad}: {err}");
        }
    }

    #[test]
    fn the_listing_policy_defaults_to_everyone_and_reads_list_users() {
        let read = |value: Option<&str>| {
            let mut vars = vec![("VIMCAR_SECRET", SECRET)];
            vars.extend(value.map(|value| ("LIST_USERS", value)));
            Config::from_lookup(lookup(&vars)).map(|config| config.listing)
        };
        assert_eq!(read(None).unwrap(), ListingPolicy::Everyone);
        assert_eq!(read(Some("everyone")).unwrap(), ListingPolicy::Everyone);
        assert_eq!(read(Some("directory")).unwrap(), ListingPolicy::Directory);
        assert_eq!(read(Some("admins")).unwrap(), ListingPolicy::Admins);
        let err = read(Some("Admins")).unwrap_err();
        assert!(err.to_string().contains("LIST_USERS"), "{err}");
    }

    #[test]
    fn dynamodb_takes_its_table_and_endpoint_from_the_environment() {
        let storage = StorageConfig::from_lookup(lookup(&[
            ("USERS_BACKEND", "dynamodb"),
            ("USERS_TABLE", "t"),
            ("DYNAMODB_ENDPOINT", "http://127.0.0.1:5000"),
        ]))
        .unwrap();
        assert_eq!(
            storage,
            StorageConfig::DynamoDb {
                table: "t".into(),
                endpoint: Some("http://127.0.0.1:5000".into())
            }
        );
    }

    #[test]
    fn an_unknown_backend_is_refused() {
        let err = StorageConfig::from_lookup(lookup(&[("USERS_BACKEND", "postgres")])).unwrap_err();
        assert!(err.to_string().contains("USERS_BACKEND"), "{err}");
    }

    #[test]
    fn the_metrics_namespace_defaults_to_vimcar_and_takes_a_stacks_name() {
        let config = Config::from_lookup(lookup(&[])).unwrap();
        assert_eq!(config.metrics_namespace, "vimcar");
        let config = Config::from_lookup(lookup(&[("METRICS_NAMESPACE", "vimcar/prod")])).unwrap();
        assert_eq!(config.metrics_namespace, "vimcar/prod");
    }

    #[test]
    fn a_metrics_namespace_cloudwatch_would_refuse_is_refused_at_start() {
        let long = "n".repeat(256);
        for namespace in ["", "AWS/Lambda", "vimcar\tprod", "vimcär", long.as_str()] {
            let err = Config::from_lookup(lookup(&[("METRICS_NAMESPACE", namespace)])).unwrap_err();
            assert!(
                err.to_string().contains("METRICS_NAMESPACE"),
                "{namespace}: {err}"
            );
        }
    }
}
