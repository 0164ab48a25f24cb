//! Passwords and user rows.

use crate::domain::admin::Role;
use crate::domain::error::{internal, AppError};
use crate::domain::ids::UserId;
use crate::domain::input::{DisplayName, Email, InvalidInput, Password};

use super::db::{with_backend, Backend, Db};
use super::engine::{settle_app, Failure};
use crate::backend::store::prelude::*;
use argon2::password_hash::phc::{Output, ParamsString, PasswordHash, Salt};
use argon2::{Algorithm, Argon2, Block, Params, Version};

/// Argon2id with OWASP's minimum: 19 MiB of memory, 2 passes, 1 lane.
fn params() -> Params {
    Params::new(19 * 1024, 2, 1, None).expect("valid argon2 parameters")
}

/// Runs `f` with working memory of at least `blocks` argon2 blocks: one
/// of the sets kept for the hashing permits, made once and reused. A
/// fresh 19 MiB for every hash, freed on whichever blocking thread ran
/// it, was kept by the allocator and never given back: a flood of
/// sign-ups took the server from 47 MiB to 1.2 GiB for good.
fn with_memory<R>(blocks: usize, f: impl FnOnce(&mut [Block]) -> R) -> R {
    static KEPT: std::sync::Mutex<Vec<Vec<Block>>> = std::sync::Mutex::new(Vec::new());
    fn kept() -> std::sync::MutexGuard<'static, Vec<Vec<Block>>> {
        KEPT.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
    let mut memory = kept()
        .pop()
        .filter(|m| m.len() >= blocks)
        .unwrap_or_else(|| vec![Block::default(); blocks]);
    let answer = f(&mut memory);
    let mut k = kept();
    if k.len() < CONCURRENT_HASHES {
        k.push(memory);
    }
    answer
}

/// A PHC string of `password` with a new salt (argon2id, `params`).
fn hash_with_kept_memory(password: &[u8]) -> Result<String, HashError> {
    let params = params();
    let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
    let salt = argon2::password_hash::generate_salt();
    let mut out = [0u8; Params::DEFAULT_OUTPUT_LEN];
    with_memory(params.block_count(), |m| {
        argon.hash_password_into_with_memory(password, &salt, &mut out, m)
    })
    .map_err(|_| HashError::Failed)?;
    Ok(PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(&params).map_err(|_| HashError::Failed)?,
        salt: Some(Salt::new(&salt).map_err(|_| HashError::Failed)?),
        hash: Some(Output::new(&out).map_err(|_| HashError::Failed)?),
    }
    .to_string())
}

/// Whether `password` is the one of a PHC string's argon2 hash, by its own
/// algorithm, version and parameters; compared in constant time.
fn verify_with_kept_memory(password: &[u8], stored: &PasswordHash) -> bool {
    let (Some(salt), Some(expected)) = (&stored.salt, &stored.hash) else {
        return false;
    };
    let (Ok(params), Ok(algorithm)) = (
        Params::try_from(stored),
        Algorithm::try_from(stored.algorithm.as_str()),
    ) else {
        return false;
    };
    let Ok(version) = stored
        .version
        .map_or(Ok(Version::default()), Version::try_from)
    else {
        return false;
    };
    let argon = Argon2::new(algorithm, version, params.clone());
    let mut out = vec![0u8; expected.as_ref().len()];
    let hashed = with_memory(params.block_count(), |m| {
        argon.hash_password_into_with_memory(password, salt.as_ref(), &mut out, m)
    });
    hashed.is_ok() && Output::new(&out).is_ok_and(|computed| &computed == expected)
}

/// At most this many hashes run at once: each takes 19 MiB and tens of
/// milliseconds of CPU, and sign-ups and log-ins come from anyone.
const CONCURRENT_HASHES: usize = 4;

fn hashing_permits() -> &'static tokio::sync::Semaphore {
    static PERMITS: std::sync::OnceLock<tokio::sync::Semaphore> = std::sync::OnceLock::new();
    PERMITS.get_or_init(|| tokio::sync::Semaphore::new(CONCURRENT_HASHES))
}

/// How long a request waits for a hashing permit before it is answered
/// 503 (try again): a flood of sign-ups or log-ins then costs each waiting
/// request at most this, and the memory of `CONCURRENT_HASHES` hashes.
const HASH_WAIT: std::time::Duration = std::time::Duration::from_secs(3);

async fn hashing_permit() -> Result<tokio::sync::SemaphorePermit<'static>, HashError> {
    match tokio::time::timeout(HASH_WAIT, hashing_permits().acquire()).await {
        Ok(Ok(permit)) => Ok(permit),
        Ok(Err(_)) => Err(HashError::Failed),
        Err(_) => Err(HashError::Busy),
    }
}

/// Hashes a password on a blocking thread (it takes tens of milliseconds
/// of CPU, which would stall the async workers).
pub async fn hash_password(password: &Password) -> Result<String, HashError> {
    let _permit = hashing_permit().await?;
    let password = password.clone();
    tokio::task::spawn_blocking(move || hash_with_kept_memory(password.expose().as_bytes()))
        .await
        .map_err(|_| HashError::Failed)?
}

/// Checks a password against a stored PHC string, on a blocking thread.
/// A stored value that is no hash (a walk-in account's) verifies nothing,
/// after as long as a real check takes, so that timing does not tell such
/// accounts apart.
pub async fn verify_password(password: &Password, phc: &str) -> Result<bool, HashError> {
    let stored = match PasswordHash::new(phc) {
        Ok(_) => phc.to_owned(),
        Err(_) => dummy_hash().await.to_owned(),
    };
    let real = stored == phc;
    let _permit = hashing_permit().await?;
    let password = password.clone();
    let verified = tokio::task::spawn_blocking(move || {
        PasswordHash::new(&stored)
            .map(|parsed| verify_with_kept_memory(password.expose().as_bytes(), &parsed))
            .unwrap_or(false)
    })
    .await
    .map_err(|_| HashError::Failed)?;
    Ok(real && verified)
}

/// Why a password could not be hashed or checked.
#[derive(Debug, thiserror::Error)]
pub enum HashError {
    /// Every hashing permit stayed taken for `HASH_WAIT`.
    #[error("password hashing is saturated")]
    Busy,
    /// It does not fail, short of running out of memory.
    #[error("password hashing failed")]
    Failed,
}

impl HashError {
    /// What the client is told: busy is "try again", a failure is ours.
    fn answer(self, what: &'static str) -> AppError {
        match self {
            HashError::Busy => AppError::Unavailable,
            HashError::Failed => internal(what)(self),
        }
    }
}

/// A user to create.
#[derive(Debug)]
pub struct NewUser {
    pub email: Email,
    pub display_name: DisplayName,
    pub role: Role,
}

/// Inserts a user whose password is already hashed. `None`: the email is
/// taken.
pub async fn insert_user(
    db: &Db,
    user: &NewUser,
    password_hash: &str,
    now: i64,
) -> Result<Option<UserId>, sqlx::Error> {
    with_backend!(db, |b| {
        let mut tx = b.begin_write().await?;
        let id = tx
            .insert_user(
                user.email.as_str(),
                password_hash,
                user.display_name.as_str(),
                user.role,
                now,
            )
            .await?;
        tx.commit().await?;
        Ok(id.map(UserId))
    })
}

/// A signed-in user as the app knows them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuthUser {
    pub id: UserId,
    pub email: String,
    pub display_name: String,
    pub role: Role,
}

/// Sign-ups are counted over this many seconds.
pub const SIGNUP_WINDOW_SECONDS: i64 = 60 * 60;
/// New accounts from one address within the window.
pub const SIGNUPS_PER_ADDRESS: i64 = 20;

/// Failed log-ins are counted over this many seconds.
pub const THROTTLE_WINDOW_SECONDS: i64 = 15 * 60;
/// Failures for one email from one address within the window.
pub const FAILURES_PER_EMAIL_AND_ADDRESS: i64 = 5;
/// Failures for one email from anywhere: a guessing attack spread over many
/// addresses. Higher, so that nobody locks a customer out by failing on
/// purpose from a single address.
pub const FAILURES_PER_EMAIL: i64 = 50;
/// Failures from one address for any email.
pub const FAILURES_PER_ADDRESS: i64 = 20;

fn to_auth_user(row: super::store::UserRow) -> AuthUser {
    AuthUser {
        id: UserId(row.id),
        email: row.email,
        display_name: row.display_name,
        role: row.role,
    }
}

/// Too many `what` within a throttle's window: try again in `retry`
/// seconds (at least one).
fn throttled(retry: i64, what: &str) -> Failure {
    let retry = retry.max(1);
    Failure::App(AppError::RateLimited {
        retry_after_seconds: retry,
        message: format!(
            "Too many {what}. Try again in {} minutes.",
            (retry + 59) / 60
        ),
    })
}

/// Creates a customer account. Refused input, a taken email and an
/// address over its sign-ups cost no hashing: they are answered first (the
/// sign-up counts, and is counted under a lock, before the hash).
pub async fn register(
    db: &Db,
    email: &Email,
    name: &DisplayName,
    password: &Password,
    address: &str,
    now: i64,
) -> Result<AuthUser, AppError> {
    if password.expose().to_lowercase().contains(email.as_str()) {
        return Err(InvalidInput::new(
            "password",
            "A password must not contain the email address.",
        )
        .into());
    }
    with_backend!(db, |b| {
        async {
            let mut tx = b.begin_write().await?;
            // This machine's own address is not counted (`auth::is_local`).
            let counted = !crate::auth::is_local(address);
            if counted {
                tx.lock_signups(address).await?;
                let count = tx
                    .signups_from(address, now - SIGNUP_WINDOW_SECONDS)
                    .await?;
                if count.failures >= SIGNUPS_PER_ADDRESS {
                    let oldest = count.oldest.unwrap_or(now);
                    let retry = oldest + SIGNUP_WINDOW_SECONDS - now;
                    return Err(throttled(retry, "new accounts from this address"));
                }
            }
            if tx.user_by_email(email.as_str()).await?.is_some() {
                return Err(Failure::App(AppError::EmailInUse));
            }
            if counted {
                tx.record_signup(address, now).await?;
            }
            tx.commit().await?;
            Ok(())
        }
        .await
        .map_err(settle_app)?
    });
    let hash = hash_password(password)
        .await
        .map_err(|e| e.answer("hashing a new password"))?;
    let user = NewUser {
        email: email.clone(),
        display_name: name.clone(),
        role: Role::Customer,
    };
    match insert_user(db, &user, &hash, now).await {
        Ok(Some(id)) => Ok(AuthUser {
            id,
            email: email.as_str().to_owned(),
            display_name: name.as_str().to_owned(),
            role: Role::Customer,
        }),
        Ok(None) => Err(AppError::EmailInUse),
        Err(e) => Err(settle_app(e.into())),
    }
}

/// How long a claim link opens its account.
pub const CLAIM_LINK_DAYS: i64 = 7;

/// Whether a stored password is a real hash, not a walk-in account's "!"
/// (an account staff made without a password).
pub fn has_password(stored: &str) -> bool {
    PasswordHash::new(stored).is_ok()
}

/// A claim link's secret: 32 random bytes from the system, in hex.
pub(crate) fn new_claim_token() -> String {
    use rand::RngCore;
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// What is kept of a claim link's secret: its SHA-256, in hex.
pub(crate) fn claim_token_hash(token: &str) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(token.trim().as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The customer behind a claim link sets a password: the link is used up
/// and the password set in one transaction, and only on an account that has
/// none (staff made it at the desk or on the phone). Then they log in as
/// anyone does.
pub async fn claim_account(
    db: &Db,
    token: &str,
    password: &Password,
    now: i64,
) -> Result<AuthUser, AppError> {
    let spent = || {
        AppError::from(InvalidInput::new(
            "token",
            "This link is used up or has expired; ask the venue for a new one.",
        ))
    };
    let hash_of_token = claim_token_hash(token);
    // Looked at first, so that a bad link costs no hashing.
    let user = with_backend!(db, |b| {
        async {
            let mut tx = b.begin_read().await?;
            match tx.claim_link_user(&hash_of_token, now, false).await? {
                Some(id) => tx.user(id).await,
                None => Ok(None),
            }
        }
        .await
        .map_err(|e| settle_app(e.into()))?
    })
    .ok_or_else(spent)?;
    if password.expose().to_lowercase().contains(&user.email) {
        return Err(InvalidInput::new(
            "password",
            "A password must not contain the email address.",
        )
        .into());
    }
    let hash = hash_password(password)
        .await
        .map_err(|e| e.answer("hashing a claimed account's password"))?;
    let claimed = with_backend!(db, |b| {
        async {
            let mut tx = b.begin_write().await?;
            let taken = tx.claim_link_user(&hash_of_token, now, true).await?;
            let row = match taken {
                Some(id) if id == user.id => tx.user(id).await?,
                _ => None,
            };
            match row {
                Some(row) if !has_password(&row.password_hash) => {
                    tx.set_password_hash(row.id, &hash).await?;
                    tx.commit().await?;
                    Ok(Some(row))
                }
                _ => Ok(None),
            }
        }
        .await
        .map_err(|e: sqlx::Error| settle_app(e.into()))?
    })
    .ok_or_else(spent)?;
    Ok(to_auth_user(claimed))
}

/// What `create_admin` did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AdminMade {
    /// A new account, with the password given.
    Created,
    /// The email had an account: it is an admin now; its password was
    /// replaced only when one was given.
    Promoted,
}

/// Makes the account with `email` an admin, creating it when there is
/// none (a new account needs a password). The operator's way to the first
/// admin (`slotkeeper create-admin`); admins appoint everyone else on the
/// staff page.
pub async fn create_admin(
    db: &Db,
    email: &Email,
    name: &DisplayName,
    password: Option<&Password>,
    now: i64,
) -> Result<AdminMade, AppError> {
    let hash = match password {
        Some(p) => {
            if p.expose().to_lowercase().contains(email.as_str()) {
                return Err(InvalidInput::new(
                    "password",
                    "A password must not contain the email address.",
                )
                .into());
            }
            Some(
                hash_password(p)
                    .await
                    .map_err(|e| e.answer("hashing an admin's password"))?,
            )
        }
        None => None,
    };
    with_backend!(db, |b| {
        async {
            let mut tx = b.begin_write().await?;
            let made = match tx.lock_user_by_email(email.as_str()).await? {
                Some(user) => {
                    tx.set_role(user.id, Role::Admin).await?;
                    // An admin runs every venue; assignments are for staff.
                    tx.unassign_staff(user.id).await?;
                    if let Some(hash) = &hash {
                        tx.set_password_hash(user.id, hash).await?;
                    }
                    AdminMade::Promoted
                }
                None => {
                    let Some(hash) = &hash else {
                        return Err(Failure::App(
                            InvalidInput::new(
                                "password",
                                "No account has this email: give a password for the new one.",
                            )
                            .into(),
                        ));
                    };
                    tx.insert_user(email.as_str(), hash, name.as_str(), Role::Admin, now)
                        .await?
                        .ok_or(Failure::App(AppError::Unavailable))?;
                    AdminMade::Created
                }
            };
            tx.commit().await?;
            Ok(made)
        }
        .await
        .map_err(settle_app)
    })
}

/// Whether an account has this email.
pub async fn has_account(db: &Db, email: &Email) -> Result<bool, AppError> {
    with_backend!(db, |b| {
        async {
            let mut tx = b.begin_read().await?;
            tx.user_by_email(email.as_str()).await
        }
        .await
        .map(|u| u.is_some())
        .map_err(|e| settle_app(e.into()))
    })
}

/// Whether the database has an admin yet (a fresh one has none).
pub async fn has_admin(db: &Db) -> Result<bool, AppError> {
    with_backend!(db, |b| {
        async {
            let mut tx = b.begin_read().await?;
            tx.has_admin().await
        }
        .await
        .map_err(|e| settle_app(e.into()))
    })
}

/// A hash of a password nobody has, to verify against when the email has
/// no account, so that the answer takes as long either way.
async fn dummy_hash() -> &'static str {
    static DUMMY: tokio::sync::OnceCell<String> = tokio::sync::OnceCell::const_new();
    // Made once, outside the permits, so that it is a real hash even when
    // the first log-in meets a flood.
    DUMMY
        .get_or_init(|| async {
            tokio::task::spawn_blocking(|| {
                hash_with_kept_memory(b"no account has this password")
                    .expect("argon2 hashes a fixed password")
            })
            .await
            .expect("the hashing thread ends")
        })
        .await
}

/// Checks an email and password, throttling repeated failures. The check
/// of the counts and the record of this attempt are one transaction, under
/// a lock on the email and address, so parallel guesses are counted one by
/// one; the attempt counts as failed until the password is verified.
pub async fn log_in(
    db: &Db,
    email: &str,
    password: &str,
    address: &str,
    now: i64,
) -> Result<AuthUser, AppError> {
    // Refused before anything is counted or stored: no email or password
    // has these, and the database would not store them.
    for (field, text) in [("email", email), ("password", password)] {
        if text.chars().any(char::is_control) {
            return Err(InvalidInput::new(field, "This cannot contain control characters.").into());
        }
    }
    let email = Email::parse(email)
        .map(|e| e.as_str().to_owned())
        .unwrap_or_else(|_| email.trim().to_lowercase().chars().take(254).collect());
    let since = now - THROTTLE_WINDOW_SECONDS;
    let limits = [
        FAILURES_PER_EMAIL_AND_ADDRESS,
        FAILURES_PER_EMAIL,
        FAILURES_PER_ADDRESS,
    ];
    let (row, attempt) = with_backend!(db, |b| {
        async {
            let mut tx = b.begin_write().await?;
            tx.lock_login(&email, address).await?;
            let counts = tx.login_failures(&email, address, since).await?;
            // The count per address alone skips this machine's own
            // (`auth::is_local`); the counts per email still apply.
            let local = crate::auth::is_local(address);
            for (i, (count, limit)) in counts.iter().zip(limits).enumerate() {
                if i == 2 && local {
                    continue;
                }
                if count.failures >= limit {
                    let oldest = count.oldest.unwrap_or(now);
                    let retry = oldest + THROTTLE_WINDOW_SECONDS - now;
                    return Err(throttled(retry, "failed log-ins"));
                }
            }
            let row = tx.user_by_email(&email).await?;
            let attempt = tx.record_login_attempt(&email, address, now).await?;
            tx.commit().await?;
            Ok((row, attempt))
        }
        .await
        .map_err(settle_app)?
    });
    let password = Password::parse(password).ok();
    let checked = match (&row, &password) {
        (Some(r), Some(p)) => verify_password(p, &r.password_hash).await,
        (None, Some(p)) => verify_password(p, dummy_hash().await).await.map(|_| false),
        // Too short or too long to be anyone's password; still spend the time.
        (_, None) => {
            let p = Password::parse("not a real attempt").expect("valid");
            verify_password(&p, dummy_hash().await).await.map(|_| false)
        }
    };
    let verified = match checked {
        Ok(v) => v,
        // Not checked at all: the attempt is no failure of the guesser's
        // (it must not count toward a lock-out), and the client tries again.
        Err(e) => {
            uncount_attempt(db, attempt).await?;
            return Err(e.answer("checking a password"));
        }
    };
    match row {
        Some(r) if verified => {
            uncount_attempt(db, attempt).await?;
            Ok(to_auth_user(r))
        }
        _ => Err(AppError::InvalidCredentials),
    }
}

/// Marks a log-in attempt as no failure: it succeeded, or it was never
/// checked (hashing saturated).
async fn uncount_attempt(db: &Db, attempt: i64) -> Result<(), AppError> {
    with_backend!(db, |b| {
        async {
            let mut tx = b.begin_write().await?;
            tx.mark_login_succeeded(attempt).await?;
            tx.commit().await
        }
        .await
        .map_err(|e| settle_app(e.into()))
    })
}

/// The user behind a session, if the account still exists.
pub async fn user(db: &Db, id: UserId) -> Result<Option<AuthUser>, AppError> {
    let row = with_backend!(db, |b| {
        async {
            let mut tx = b.begin_read().await?;
            tx.user(id.0).await
        }
        .await
        .map_err(|e| settle_app(e.into()))?
    });
    Ok(row.map(to_auth_user))
}

/// Forgets log-in attempts older than the throttling window needs.
pub async fn forget_old_login_attempts(db: &Db, now: i64) -> Result<u64, AppError> {
    Ok(with_backend!(db, |b| {
        async {
            let mut tx = b.begin_write().await?;
            let n = tx.forget_login_attempts(now - 24 * 3600).await?;
            tx.commit().await?;
            Ok::<_, sqlx::Error>(n)
        }
        .await
        .map_err(|e| settle_app(e.into()))?
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_password_verifies_against_its_own_hash_only() {
        let p = Password::parse("correct horse battery").unwrap();
        let hash = hash_password(&p).await.unwrap();
        assert!(hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(verify_password(&p, &hash).await.unwrap());
        let other = Password::parse("incorrect horse").unwrap();
        assert!(!verify_password(&other, &hash).await.unwrap());
        // A walk-in account's stored "!" verifies nothing, after a real check.
        let started = std::time::Instant::now();
        assert!(!verify_password(&p, "!").await.unwrap());
        let dummy = started.elapsed();
        let started = std::time::Instant::now();
        let _ = verify_password(&other, &hash).await;
        let real = started.elapsed();
        assert!(
            dummy * 3 > real,
            "no hash took {dummy:?}, a real check {real:?}"
        );
    }

    #[tokio::test]
    async fn hashes_made_by_the_argon2_crate_itself_still_verify_and_ours_verify_there() {
        use argon2::password_hash::{PasswordHasher, PasswordVerifier};
        let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, params());
        let p = Password::parse("correct horse battery").unwrap();
        let theirs = argon
            .hash_password(p.expose().as_bytes())
            .unwrap()
            .to_string();
        assert!(verify_password(&p, &theirs).await.unwrap());
        assert!(
            !verify_password(&Password::parse("incorrect horse").unwrap(), &theirs)
                .await
                .unwrap()
        );
        let ours = hash_password(&p).await.unwrap();
        let parsed = PasswordHash::new(&ours).unwrap();
        assert!(argon
            .verify_password(p.expose().as_bytes(), &parsed)
            .is_ok());
        // Other parameters (an older hash) verify by their own.
        let light = Argon2::new(
            Algorithm::Argon2id,
            Version::V0x13,
            Params::new(8 * 1024, 1, 1, None).unwrap(),
        );
        let older = light
            .hash_password(p.expose().as_bytes())
            .unwrap()
            .to_string();
        assert!(older.contains("m=8192,t=1,p=1"));
        assert!(verify_password(&p, &older).await.unwrap());
        assert_ne!(
            hash_password(&p).await.unwrap(),
            ours,
            "a new salt each time"
        );
    }
}
