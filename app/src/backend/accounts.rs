//! Passwords and user rows.

use crate::domain::ids::UserId;
use crate::domain::input::{DisplayName, Email, Password};

use super::db::{with_backend, Backend, Db};
use super::store::Store;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::{Algorithm, Argon2, Params, Version};

/// Roles, from least to most trusted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    Customer,
    Staff,
    Admin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Customer => "customer",
            Role::Staff => "staff",
            Role::Admin => "admin",
        }
    }
}

/// Argon2id with OWASP's minimum: 19 MiB of memory, 2 passes, 1 lane.
fn hasher() -> Argon2<'static> {
    let params = Params::new(19 * 1024, 2, 1, None).expect("valid argon2 parameters");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// Hashes a password on a blocking thread (it takes tens of milliseconds
/// of CPU, which would stall the async workers).
pub async fn hash_password(password: &Password) -> Result<String, HashError> {
    let password = password.clone();
    tokio::task::spawn_blocking(move || {
        hasher()
            .hash_password(password.expose().as_bytes())
            .map(|h| h.to_string())
            .map_err(|_| HashError)
    })
    .await
    .map_err(|_| HashError)?
}

/// Checks a password against a stored PHC string, on a blocking thread.
/// A malformed stored hash verifies nothing.
pub async fn verify_password(password: &Password, phc: &str) -> bool {
    let password = password.clone();
    let phc = phc.to_owned();
    tokio::task::spawn_blocking(move || {
        PasswordHash::new(&phc)
            .map(|parsed| {
                hasher()
                    .verify_password(password.expose().as_bytes(), &parsed)
                    .is_ok()
            })
            .unwrap_or(false)
    })
    .await
    .unwrap_or(false)
}

/// Hashing failed (it does not, short of running out of memory).
#[derive(Debug, thiserror::Error)]
#[error("password hashing failed")]
pub struct HashError;

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
                user.role.as_str(),
                now,
            )
            .await?;
        tx.commit().await?;
        Ok(id.map(UserId))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_password_verifies_against_its_own_hash_only() {
        let p = Password::parse("correct horse battery").unwrap();
        let hash = hash_password(&p).await.unwrap();
        assert!(hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(verify_password(&p, &hash).await);
        let other = Password::parse("incorrect horse").unwrap();
        assert!(!verify_password(&other, &hash).await);
        assert!(!verify_password(&p, "not a hash").await);
    }
}
