//! Settings, from the environment with defaults that need no set-up.

use super::db::{DbOptions, PgTimeouts, SqliteDurability};
use std::fmt;
use std::net::SocketAddr;
use std::time::Duration;

/// The embedded default: a SQLite file, created on first start.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://data/slotkeeper.db";
pub const DEFAULT_ADDR: &str = "127.0.0.1:3000";
pub const DEFAULT_LOG: &str = "info,sqlx=warn,tower_sessions=warn";

#[derive(Clone)]
pub struct Settings {
    /// `DATABASE_URL`: `sqlite://path` or `postgres://user@host/db`.
    pub database_url: String,
    /// `SLOTKEEPER_ADDR` (else `LEPTOS_SITE_ADDR`): where to listen.
    pub addr: SocketAddr,
    /// `RUST_LOG`: a tracing filter.
    pub log_filter: String,
    /// `SLOTKEEPER_LOG_FORMAT`: `text` (the default) or `json`, one object
    /// per line, for a log collector.
    pub log_json: bool,
    pub db: DbOptions,
    /// `SLOTKEEPER_DEMO_DATA` (default off): seed the demo venues and
    /// accounts into an empty database. Off, so that no known password
    /// reaches a real deployment; `scripts/run` turns it on.
    pub demo_data: bool,
    /// `SLOTKEEPER_HOLD_SWEEP_SECONDS`: how often lapsed holds are expired.
    pub hold_sweep_every: Duration,
    /// `SLOTKEEPER_SECURE_COOKIES`: mark the session cookie Secure (set it
    /// when served over https). On whenever `public_url` is https.
    pub secure_cookies: bool,
    /// `SLOTKEEPER_PUBLIC_URL`: where customers reach the app
    /// (`https://book.example.com`), as an origin: scheme, host and port.
    /// Requests whose `Origin` is this origin are this site's own, whatever
    /// `Host` a proxy in front passes on.
    pub public_origin: Option<String>,
    /// `SLOTKEEPER_TRUST_FORWARDED_FOR`: behind a reverse proxy, take the
    /// client's address from the last X-Forwarded-For entry.
    pub trust_forwarded_for: bool,
    /// `SLOTKEEPER_BOOKING_ATTEMPTS_PER_MINUTE` (default 120; 0 turns it
    /// off): holds, bookings and reschedules one client address may ask
    /// for at once, and then per minute.
    pub booking_attempts_per_minute: u32,
    /// `SLOTKEEPER_METRICS_TOKEN`: a bearer token that lets a scraper read
    /// `/metrics` without a staff session. Unset: staff sessions only.
    pub metrics_token: Option<String>,
    /// Where the messages to customers go.
    pub mail: MailSettings,
}

/// Where the messages to customers go (see `backend::notify`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MailSettings {
    /// `SLOTKEEPER_SMTP_URL`: an SMTP server, e.g.
    /// `smtp://user:password@mail.example.com:587?tls=required` (STARTTLS),
    /// `smtps://…:465` (TLS), or `smtp://127.0.0.1:2525` (plain, for a
    /// local server). Unset: messages are written as `.eml` files to
    /// `folder`.
    pub smtp_url: Option<String>,
    /// `SLOTKEEPER_MAIL_FROM`: the sender, e.g. `Bookings <bookings@example.com>`.
    pub from: String,
    /// `SLOTKEEPER_MAIL_DIR` (default `data/mail`): where messages are
    /// written without an SMTP server.
    pub folder: std::path::PathBuf,
    /// `SLOTKEEPER_MAIL_POLL_MS` (default 2000): how often due messages are
    /// looked for.
    pub poll_every: Duration,
}

pub const DEFAULT_MAIL_FROM: &str = "Slotkeeper <bookings@localhost>";
pub const DEFAULT_MAIL_DIR: &str = "data/mail";

/// A setting that could not be read; start-up stops with this message.
#[derive(Debug, thiserror::Error)]
#[error("{name}: {message}")]
pub struct SettingError {
    pub name: &'static str,
    pub message: String,
}

impl Settings {
    pub fn from_env() -> Result<Settings, SettingError> {
        Self::from_lookup(|k| std::env::var(k).ok())
    }

    /// Reads settings through `get` (the environment, or a map in tests).
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Settings, SettingError> {
        let var = |k: &str| get(k).filter(|v| !v.trim().is_empty());
        let addr_text = var("SLOTKEEPER_ADDR")
            .or_else(|| var("LEPTOS_SITE_ADDR"))
            .unwrap_or_else(|| DEFAULT_ADDR.to_owned());
        let addr = addr_text.parse().map_err(|_| SettingError {
            name: "SLOTKEEPER_ADDR",
            message: format!("{addr_text:?} is not an address like 127.0.0.1:3000"),
        })?;
        let flag = |name: &'static str, default: bool| -> Result<bool, SettingError> {
            match var(name).as_deref().map(str::to_ascii_lowercase).as_deref() {
                None => Ok(default),
                Some("1" | "true" | "yes" | "on") => Ok(true),
                Some("0" | "false" | "no" | "off") => Ok(false),
                Some(other) => Err(SettingError {
                    name,
                    message: format!("{other:?} is not on or off"),
                }),
            }
        };
        let number = |name: &'static str, default: u64, range: std::ops::RangeInclusive<u64>| {
            match var(name) {
                None => Ok(default),
                Some(v) => v
                    .trim()
                    .parse::<u64>()
                    .ok()
                    .filter(|n| range.contains(n))
                    .ok_or_else(|| SettingError {
                        name,
                        message: format!(
                            "{v:?} is not a whole number from {} to {}",
                            range.start(),
                            range.end()
                        ),
                    }),
            }
        };
        let durability = match var("SLOTKEEPER_SQLITE_SYNC").as_deref() {
            None | Some("full") => SqliteDurability::Full,
            Some("normal") => SqliteDurability::Normal,
            Some(other) => {
                return Err(SettingError {
                    name: "SLOTKEEPER_SQLITE_SYNC",
                    message: format!("{other:?} is neither full nor normal"),
                })
            }
        };
        let log_json = match var("SLOTKEEPER_LOG_FORMAT")
            .map(|v| v.trim().to_ascii_lowercase())
            .as_deref()
        {
            None | Some("text") => false,
            Some("json") => true,
            Some(other) => {
                return Err(SettingError {
                    name: "SLOTKEEPER_LOG_FORMAT",
                    message: format!("{other:?} is neither text nor json"),
                })
            }
        };
        let public_origin = match var("SLOTKEEPER_PUBLIC_URL") {
            None => None,
            Some(url) => Some(origin_of(url.trim()).ok_or_else(|| SettingError {
                name: "SLOTKEEPER_PUBLIC_URL",
                message: format!(
                    "{url:?} is not an http or https address like https://book.example.com"
                ),
            })?),
        };
        let https = public_origin
            .as_deref()
            .is_some_and(|o| o.starts_with("https://"));
        let from = var("SLOTKEEPER_MAIL_FROM")
            .map(|f| f.trim().to_owned())
            .unwrap_or_else(|| DEFAULT_MAIL_FROM.to_owned());
        if from.parse::<lettre::message::Mailbox>().is_err() {
            return Err(SettingError {
                name: "SLOTKEEPER_MAIL_FROM",
                message: format!("{from:?} is not an address like Bookings <bookings@example.com>"),
            });
        }
        let smtp_url = var("SLOTKEEPER_SMTP_URL").map(|u| u.trim().to_owned());
        if let Some(url) = &smtp_url {
            use lettre::{AsyncSmtpTransport, Tokio1Executor};
            if let Err(e) = AsyncSmtpTransport::<Tokio1Executor>::from_url(url) {
                return Err(SettingError {
                    name: "SLOTKEEPER_SMTP_URL",
                    message: format!(
                        "{} is not an SMTP address like smtp://user:password@mail.example.com:587?tls=required ({e})",
                        redact_url(url)
                    ),
                });
            }
        }
        Ok(Settings {
            database_url: var("DATABASE_URL").unwrap_or_else(|| DEFAULT_DATABASE_URL.to_owned()),
            addr,
            log_filter: var("RUST_LOG").unwrap_or_else(|| DEFAULT_LOG.to_owned()),
            log_json,
            db: DbOptions {
                pool_size: number("DATABASE_POOL_SIZE", 8, 1..=200)? as u32,
                sqlite_durability: durability,
                postgres: {
                    let d = PgTimeouts::default();
                    let ms = |name, default: Duration| {
                        number(name, default.as_millis() as u64, 0..=3_600_000)
                            .map(Duration::from_millis)
                    };
                    PgTimeouts {
                        lock: ms("SLOTKEEPER_PG_LOCK_TIMEOUT_MS", d.lock)?,
                        statement: ms("SLOTKEEPER_PG_STATEMENT_TIMEOUT_MS", d.statement)?,
                        idle_in_transaction: ms(
                            "SLOTKEEPER_PG_IDLE_IN_TRANSACTION_TIMEOUT_MS",
                            d.idle_in_transaction,
                        )?,
                    }
                },
                postgres_pooled: match var("SLOTKEEPER_POSTGRES_POOLER")
                    .map(|v| v.trim().to_ascii_lowercase())
                    .as_deref()
                {
                    None | Some("none") => false,
                    Some("transaction") => true,
                    Some(other) => {
                        return Err(SettingError {
                            name: "SLOTKEEPER_POSTGRES_POOLER",
                            message: format!("{other:?} is neither none nor transaction"),
                        })
                    }
                },
                migration_url: var("SLOTKEEPER_MIGRATION_DATABASE_URL"),
                ..DbOptions::default()
            },
            demo_data: flag("SLOTKEEPER_DEMO_DATA", false)?,
            metrics_token: var("SLOTKEEPER_METRICS_TOKEN").map(|t| t.trim().to_owned()),
            hold_sweep_every: Duration::from_secs(number(
                "SLOTKEEPER_HOLD_SWEEP_SECONDS",
                30,
                1..=3600,
            )?),
            secure_cookies: flag("SLOTKEEPER_SECURE_COOKIES", false)? || https,
            public_origin,
            trust_forwarded_for: flag("SLOTKEEPER_TRUST_FORWARDED_FOR", false)?,
            booking_attempts_per_minute: number(
                "SLOTKEEPER_BOOKING_ATTEMPTS_PER_MINUTE",
                120,
                0..=1_000_000,
            )? as u32,
            mail: MailSettings {
                smtp_url,
                from,
                folder: var("SLOTKEEPER_MAIL_DIR")
                    .unwrap_or_else(|| DEFAULT_MAIL_DIR.to_owned())
                    .into(),
                poll_every: Duration::from_millis(number(
                    "SLOTKEEPER_MAIL_POLL_MS",
                    2000,
                    50..=600_000,
                )?),
            },
        })
    }
}

/// The database URL may carry a password: `Debug` shows it redacted.
impl fmt::Debug for Settings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Settings")
            .field("database_url", &redact_url(&self.database_url))
            .field("addr", &self.addr)
            .field("log_filter", &self.log_filter)
            .field("log_json", &self.log_json)
            .field("db", &self.db)
            .field("demo_data", &self.demo_data)
            .field("hold_sweep_every", &self.hold_sweep_every)
            .field("secure_cookies", &self.secure_cookies)
            .field("public_origin", &self.public_origin)
            .field("trust_forwarded_for", &self.trust_forwarded_for)
            .field(
                "booking_attempts_per_minute",
                &self.booking_attempts_per_minute,
            )
            .field("smtp_url", &self.mail.smtp_url.as_deref().map(redact_url))
            .field("mail_from", &self.mail.from)
            .field("mail_folder", &self.mail.folder)
            .finish()
    }
}

/// `https://Book.Example.com/path` → `https://book.example.com`: the
/// scheme, host and port of an http or https URL, as a browser's `Origin`
/// header names them; `None` for anything else.
pub fn origin_of(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    let scheme = scheme.to_ascii_lowercase();
    if scheme != "http" && scheme != "https" {
        return None;
    }
    let authority = rest.split(['/', '?', '#']).next()?;
    let host = authority.rsplit('@').next()?;
    let ok = !host.is_empty()
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'));
    ok.then(|| format!("{scheme}://{}", host.to_ascii_lowercase()))
}

/// `postgres://user:secret@host/db` → `postgres://user:***@host/db`.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let userinfo = &url[scheme + 3..at];
            match userinfo.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn settings(pairs: &[(&str, &str)]) -> Result<Settings, SettingError> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Settings::from_lookup(|k| map.get(k).cloned())
    }

    #[test]
    fn with_nothing_set_the_app_runs_on_a_local_sqlite_file() {
        let s = settings(&[]).unwrap();
        assert_eq!(s.database_url, DEFAULT_DATABASE_URL);
        assert_eq!(s.addr.to_string(), DEFAULT_ADDR);
        assert!(!s.demo_data, "demo data only when asked for");
        assert_eq!(s.db.sqlite_durability, SqliteDurability::Full);
        assert_eq!(s.db.postgres.lock, Duration::from_secs(5));
        assert_eq!(s.db.postgres.statement, Duration::from_secs(30));
        assert_eq!(s.db.postgres.idle_in_transaction, Duration::from_secs(15));
    }

    #[test]
    fn an_https_public_url_makes_the_cookie_secure_and_names_the_origin() {
        let s = settings(&[("SLOTKEEPER_PUBLIC_URL", "https://Book.Example.com/")]).unwrap();
        assert_eq!(s.public_origin.as_deref(), Some("https://book.example.com"));
        assert!(s.secure_cookies);
        let s = settings(&[("SLOTKEEPER_PUBLIC_URL", "http://127.0.0.1:3000")]).unwrap();
        assert_eq!(s.public_origin.as_deref(), Some("http://127.0.0.1:3000"));
        assert!(!s.secure_cookies);
        assert!(!settings(&[]).unwrap().secure_cookies);
        for bad in [
            "book.example.com",
            "ftp://x.test",
            "https://",
            "https://a b.test",
        ] {
            let e = settings(&[("SLOTKEEPER_PUBLIC_URL", bad)]).unwrap_err();
            assert_eq!(e.name, "SLOTKEEPER_PUBLIC_URL", "{bad}");
        }
    }

    #[test]
    fn postgres_timeouts_are_set_in_milliseconds() {
        let s = settings(&[
            ("SLOTKEEPER_PG_LOCK_TIMEOUT_MS", "250"),
            ("SLOTKEEPER_PG_STATEMENT_TIMEOUT_MS", "0"),
            ("SLOTKEEPER_PG_IDLE_IN_TRANSACTION_TIMEOUT_MS", "2000"),
        ])
        .unwrap();
        assert_eq!(s.db.postgres.lock, Duration::from_millis(250));
        assert_eq!(s.db.postgres.statement, Duration::ZERO);
        assert_eq!(s.db.postgres.idle_in_transaction, Duration::from_secs(2));
        assert_eq!(
            settings(&[("SLOTKEEPER_PG_LOCK_TIMEOUT_MS", "soon")])
                .unwrap_err()
                .name,
            "SLOTKEEPER_PG_LOCK_TIMEOUT_MS"
        );
    }

    #[test]
    fn bad_settings_are_refused_with_the_variable_named() {
        assert_eq!(
            settings(&[("SLOTKEEPER_ADDR", "nowhere")])
                .unwrap_err()
                .name,
            "SLOTKEEPER_ADDR"
        );
        assert_eq!(
            settings(&[("DATABASE_POOL_SIZE", "0")]).unwrap_err().name,
            "DATABASE_POOL_SIZE"
        );
        assert_eq!(
            settings(&[("SLOTKEEPER_DEMO_DATA", "maybe")])
                .unwrap_err()
                .name,
            "SLOTKEEPER_DEMO_DATA"
        );
        assert_eq!(
            settings(&[("SLOTKEEPER_SQLITE_SYNC", "off")])
                .unwrap_err()
                .name,
            "SLOTKEEPER_SQLITE_SYNC"
        );
    }

    #[test]
    fn database_passwords_never_reach_the_logs() {
        let s = settings(&[(
            "DATABASE_URL",
            "postgres://app:hunter2@db.internal/slotkeeper",
        )])
        .unwrap();
        let shown = format!("{s:?}");
        assert!(!shown.contains("hunter2"));
        assert!(shown.contains("postgres://app:***@db.internal/slotkeeper"));
    }
}
