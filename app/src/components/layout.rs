use leptos::prelude::*;

/// The site header, with a link past it for keyboard and screen-reader users.
#[component]
pub fn Header() -> impl IntoView {
    view! {
        <a class="skip-link" href="#main">"Skip to content"</a>
        <header class="site-header">
            <a class="brand" href="/">"Slotkeeper"</a>
        </header>
    }
}
