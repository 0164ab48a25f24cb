use crate::domain::error::AppError;
use leptos::prelude::*;

/// The message of a failed form submission, announced to screen readers.
/// `Invalid` errors name their field; the form shows them next to it.
#[component]
pub fn FormError(#[prop(into)] error: Signal<Option<AppError>>) -> impl IntoView {
    move || {
        error.get().map(|e| {
            let text = match &e {
                AppError::Unauthorized => "Please log in first.".to_owned(),
                other => other.to_string(),
            };
            view! { <p class="form-error" role="alert">{text}</p> }
        })
    }
}

/// The error of a server action, if its last run failed.
pub fn action_error<S>(value: S) -> Signal<Option<AppError>>
where
    S: Get<Value = Option<Result<(), AppError>>> + Send + Sync + 'static,
{
    Signal::derive(move || value.get().and_then(|r| r.err()))
}

/// The message for one field, when the last error named it.
pub fn field_error(
    error: Signal<Option<AppError>>,
    field: impl Into<String>,
) -> impl Fn() -> Option<String> + Send + Sync + Clone + 'static {
    let field = field.into();
    move || match error.get() {
        Some(AppError::Invalid {
            field: f, message, ..
        }) if f == field => Some(message),
        _ => None,
    }
}
