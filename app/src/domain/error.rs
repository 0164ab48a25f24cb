//! The one error type that server functions, pages and the JSON API speak,
//! its HTTP status (`status`, the only mapping), and every conversion into
//! it: from bad input, and from the engine's typed answers (`BookingError`,
//! whose rule violations the engine's tests and checker match on).
//!
//! Internal causes are logged where they happen and never travel to the
//! client: an `AppError` only ever carries text written for customers.

use super::booking::{Alternative, BookingError};
use super::input::InvalidInput;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(tag = "error", rename_all = "snake_case")]
pub enum AppError {
    /// Bad input: `field` names it (a body field, `query` or `body`).
    /// A form's refusal carries what was typed (`submitted`, left out of
    /// the JSON when empty), so the page can offer it again.
    #[error("{message}")]
    Invalid {
        field: String,
        message: String,
        #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
        submitted: BTreeMap<String, String>,
    },
    /// Someone else holds or booked the time: free times nearby.
    #[error("That time was just taken by someone else.")]
    SlotTaken { alternatives: Vec<Alternative> },
    /// A rule of the venue refused a well-formed request; the message says which.
    #[error("{message}")]
    Refused { message: String },
    /// The customer has as many holds or upcoming bookings at the venue
    /// as it allows one customer.
    #[error("{message}")]
    LimitReached { message: String },
    /// An idempotency key repeated with another request, or after its
    /// booking ended: the booking it stands for is not this request's.
    #[error("{message}")]
    IdempotencyMismatch { message: String },
    /// The same thing asked for again while the first still stands (a
    /// second waitlist entry for one wish).
    #[error("{message}")]
    Duplicate { message: String },
    /// No such thing, or not yours (the two look the same).
    #[error("Not found.")]
    NotFound,
    /// A staff edit based on an old version. `submitted` is what the form
    /// sent, so the page can offer it again next to the current values.
    #[error("This was changed by someone else since you opened it. The current values are shown; your changes are kept in the form. Save again to apply them.")]
    Stale {
        submitted: std::collections::BTreeMap<String, String>,
    },
    /// A change would leave live bookings outside the hours, in a closure
    /// or on a resource that no longer takes them: keep or cancel them?
    #[error("This change affects {} live booking(s). Choose whether to keep them or cancel them.", bookings.len())]
    Strands {
        bookings: Vec<super::admin::StrandedBooking>,
        submitted: std::collections::BTreeMap<String, String>,
    },
    /// Nobody is signed in.
    #[error("Please log in.")]
    Unauthorized,
    /// The same answer whether or not the email has an account.
    #[error("The email or password is not right.")]
    InvalidCredentials,
    /// Signed in, but not allowed (a customer on a staff route, staff of
    /// another venue), or a state-changing request a browser sent from
    /// another site.
    #[error("You are not allowed to do that.")]
    Forbidden,
    /// An account with this email exists.
    #[error("An account with this email already exists.")]
    EmailInUse,
    /// Too many attempts (failed log-ins, sign-ups from one address):
    /// `Retry-After` says when to try again.
    #[serde(rename = "throttled")]
    #[error("{message}")]
    RateLimited {
        retry_after_seconds: i64,
        message: String,
    },
    /// The database stayed busy or out of reach through every retry, or
    /// password hashing is saturated: try again in a moment.
    #[serde(rename = "busy")]
    #[error("We are very busy right now; please try again.")]
    Unavailable,
    /// The body is larger than the server reads.
    #[error("The request is too large.")]
    TooLarge,
    /// The request itself could not be read (a server-function transport error).
    #[error("The request could not be understood.")]
    BadRequest,
    /// A failure on the server's side, logged where it happened.
    #[error("Something went wrong on our side; please try again.")]
    Internal,
}

impl AppError {
    /// When to try again, for a `Retry-After` header: the throttle's own
    /// time, or a moment for a saturated server.
    pub fn retry_after_seconds(&self) -> Option<i64> {
        match self {
            AppError::RateLimited {
                retry_after_seconds,
                ..
            } => Some(*retry_after_seconds),
            AppError::Unavailable => Some(2),
            _ => None,
        }
    }

    /// The HTTP status this error answers with.
    pub fn status(&self) -> u16 {
        match self {
            AppError::Invalid { .. } | AppError::BadRequest => 400,
            AppError::Unauthorized | AppError::InvalidCredentials => 401,
            AppError::Forbidden => 403,
            AppError::NotFound => 404,
            AppError::SlotTaken { .. }
            | AppError::EmailInUse
            | AppError::Duplicate { .. }
            | AppError::Stale { .. }
            | AppError::Strands { .. } => 409,
            AppError::RateLimited { .. } => 429,
            AppError::Refused { .. }
            | AppError::IdempotencyMismatch { .. }
            | AppError::LimitReached { .. } => 422,
            AppError::TooLarge => 413,
            AppError::Unavailable => 503,
            AppError::Internal => 500,
        }
    }
}

/// Logs an internal failure once, here, and answers the client only
/// "something went wrong": `.map_err(internal("loading bookings"))`.
#[cfg(feature = "ssr")]
pub fn internal<E: std::fmt::Display>(what: &'static str) -> impl FnOnce(E) -> AppError {
    move |e| {
        tracing::error!(error = %e, "{what} failed");
        AppError::Internal
    }
}

impl AppError {
    /// Bad input in `field`, said in words.
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        AppError::Invalid {
            field: field.into(),
            message: message.into(),
            submitted: BTreeMap::new(),
        }
    }
}

impl From<InvalidInput> for AppError {
    fn from(e: InvalidInput) -> Self {
        AppError::invalid(e.field.to_owned(), e.message)
    }
}

/// The engine's answers, as pages and the API both give them: a request
/// naming something the venue does not have, off its grid or too large
/// for its tables is bad input, named by its field (400); a rule of the
/// venue that refuses a well-formed request is a refusal (422).
impl From<BookingError> for AppError {
    fn from(e: BookingError) -> Self {
        use super::booking::RuleViolation as V;
        let invalid = |field: &str, v: V| AppError::invalid(field.to_owned(), v.to_string());
        match e {
            BookingError::Rejected(v @ V::UnknownVenue) => invalid("venue_id", v),
            BookingError::Rejected(v @ V::UnknownService) => invalid("service_id", v),
            BookingError::Rejected(v @ V::UnknownResource) => invalid("resource_id", v),
            BookingError::Rejected(v @ V::OffGrid { .. }) => invalid("start", v),
            BookingError::Rejected(v @ (V::PartyTooLarge { .. } | V::TableTooSmall { .. })) => {
                invalid("party_size", v)
            }
            other @ BookingError::SameTime => {
                AppError::invalid("start".to_owned(), other.to_string())
            }
            BookingError::SlotTaken { alternatives } => AppError::SlotTaken { alternatives },
            other @ (BookingError::HoldLimit { .. } | BookingError::BookingLimit { .. }) => {
                AppError::LimitReached {
                    message: other.to_string(),
                }
            }
            BookingError::NotFound => AppError::NotFound,
            BookingError::Busy => AppError::Unavailable,
            BookingError::Internal => AppError::Internal,
            other @ (BookingError::IdempotencyMismatch
            | BookingError::IdempotencyKeySpent { .. }) => AppError::IdempotencyMismatch {
                message: other.to_string(),
            },
            other @ (BookingError::Rejected(_)
            | BookingError::HoldExpired
            | BookingError::HoldNotMovable
            | BookingError::NotChangeable { .. }
            | BookingError::CancellationClosed { .. }) => AppError::Refused {
                message: other.to_string(),
            },
        }
    }
}

impl leptos::server_fn::error::FromServerFnError for AppError {
    type Encoder = leptos::server_fn::codec::JsonEncoding;

    fn from_server_fn_error(e: leptos::server_fn::error::ServerFnErrorErr) -> Self {
        use leptos::server_fn::error::ServerFnErrorErr as E;
        match e {
            // The arguments could not be read: the caller sent a bad request.
            E::Args(_) | E::MissingArg(_) | E::Deserialization(_) => AppError::BadRequest,
            _ => AppError::Internal,
        }
    }
}
