//! The operator's commands beside serving: `create-admin`, and the help
//! text that lists the settings.

use app::backend::accounts::{self, AdminMade};
use app::backend::config::Settings;
use app::backend::db::Db;
use app::domain::input::{DisplayName, Email, Password};
use rand::Rng;

/// The settings, as `--help` lists them (README.md says more).
pub const SETTINGS_HELP: &str = "\
Settings come from the environment:
  DATABASE_URL                 sqlite://path (default sqlite://data/slotkeeper.db) or postgres://user@host/db
  SLOTKEEPER_ADDR              where to listen (default 127.0.0.1:3000; port 0 picks a free one)
  SLOTKEEPER_DEMO_DATA         on: seed the demo venues and accounts into an empty database (default off)
  SLOTKEEPER_PUBLIC_URL        where customers reach the app (https://book.example.com): https makes
                               the cookie Secure, and browsers' requests from it count as this site's
  SLOTKEEPER_SECURE_COOKIES    on: mark the session cookie Secure (serving over https)
  SLOTKEEPER_TRUST_FORWARDED_FOR  on: behind a proxy, the client is the last X-Forwarded-For entry
  SLOTKEEPER_METRICS_TOKEN     a bearer token that may read /metrics
  SLOTKEEPER_HOLD_SWEEP_SECONDS  how often lapsed holds are expired (default 30)
  SLOTKEEPER_SQLITE_SYNC       full (default) or normal
  SLOTKEEPER_PG_LOCK_TIMEOUT_MS, SLOTKEEPER_PG_STATEMENT_TIMEOUT_MS,
  SLOTKEEPER_PG_IDLE_IN_TRANSACTION_TIMEOUT_MS   Postgres timeouts
  SLOTKEEPER_POSTGRES_POOLER   transaction: DATABASE_URL is a transaction-pooling PgBouncer
                               (default none: Postgres itself)
  SLOTKEEPER_MIGRATION_DATABASE_URL  Postgres itself, for migrations (needed behind a pooler)
  SLOTKEEPER_BOOKING_ATTEMPTS_PER_MINUTE  holds, bookings and reschedules one client address
                               may try at once and then per minute (default 120; 0: no limit)
  DATABASE_POOL_SIZE           connections (default 8)
  RUST_LOG                     log filter (default info,sqlx=warn,tower_sessions=warn)
  SLOTKEEPER_LOG_FORMAT        text (default) or json: one object per line";

/// Why `create-admin` did nothing.
#[derive(Debug, thiserror::Error)]
pub enum CreateAdminError {
    #[error("cannot open the database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("cannot migrate the database: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("{0}")]
    Refused(String),
}

/// Makes `email` an admin on the database of `settings` (migrating it
/// first, so that this works on a new database before the server's first
/// start). Returns what to tell the operator.
pub async fn create_admin(
    settings: &Settings,
    email: &str,
    name: &str,
    password: Option<String>,
) -> Result<String, CreateAdminError> {
    let refused = |e: app::domain::input::InvalidInput| {
        CreateAdminError::Refused(format!("--{}: {}", e.field.replace('_', "-"), e.message))
    };
    let email = Email::parse(email).map_err(refused)?;
    let name = DisplayName::parse(name).map_err(refused)?;
    let given = password
        .as_deref()
        .map(Password::parse)
        .transpose()
        .map_err(|e| CreateAdminError::Refused(format!("the password: {}", e.message)))?;
    let db = Db::connect(&settings.database_url, &settings.db).await?;
    db.migrate().await?;
    let now = chrono::Utc::now().timestamp();
    let answer = |e: app::domain::error::AppError| CreateAdminError::Refused(e.to_string());
    // A new account without a given password gets a generated one.
    let exists = accounts::has_account(&db, &email).await.map_err(answer)?;
    let generated = (!exists && given.is_none()).then(generated_password);
    let password = given.as_ref().or(generated.as_ref());
    let made = accounts::create_admin(&db, &email, &name, password, now)
        .await
        .map_err(answer)?;
    db.close().await;
    Ok(match (made, generated) {
        (AdminMade::Created, Some(p)) => format!(
            "Created the admin {email} with the password\n\n    {}\n\nIt is shown only now: keep it somewhere safe.",
            p.expose(),
            email = email.as_str()
        ),
        (AdminMade::Created, None) => format!("Created the admin {}.", email.as_str()),
        (AdminMade::Promoted, _) if given.is_some() => format!(
            "{} is an admin now, with the new password.",
            email.as_str()
        ),
        (AdminMade::Promoted, _) => format!(
            "{} is an admin now; its password is unchanged.",
            email.as_str()
        ),
    })
}

/// Twenty letters and digits from the system's random source (about 119
/// bits), without look-alikes (0/O, 1/l/I).
fn generated_password() -> Password {
    const ALPHABET: &[u8] = b"abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut rng = rand::rngs::OsRng;
    let text: String = (0..20)
        .map(|_| ALPHABET[rng.gen_range(0..ALPHABET.len())] as char)
        .collect();
    Password::parse(&text).expect("a generated password is valid")
}
