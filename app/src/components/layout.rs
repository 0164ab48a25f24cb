use crate::api::account::{current_user, LogOut};
use leptos::prelude::*;
use leptos_router::hooks::use_location;

/// The site header: the brand, and who is signed in. With a link past it
/// for keyboard and screen-reader users.
#[component]
pub fn Header() -> impl IntoView {
    let location = use_location();
    // Read again after each navigation, so the header follows a log-in.
    let user = Resource::new(move || location.pathname.get(), |_| current_user());
    let log_out = ServerAction::<LogOut>::new();
    view! {
        <a class="skip-link" href="#main">"Skip to content"</a>
        <header class="site-header">
            <a class="brand" href="/">"Slotkeeper"</a>
            <nav aria-label="Account">
                <Transition fallback=|| ()>
                    {move || Suspend::new(async move {
                        match user.await {
                            Ok(Some(u)) => { let staff = u.is_staff; view! {
                                <Show when=move || staff>
                                    <a href="/admin">"Admin"</a>
                                </Show>
                                <a href="/bookings">"My bookings"</a>
                                <span class="who">{u.name}</span>
                                <ActionForm action=log_out attr:class="inline-form">
                                    <button type="submit" class="link-button">"Log out"</button>
                                </ActionForm>
                            }.into_any() }
                            _ => view! {
                                <a href="/login">"Log in"</a>
                                <a href="/register">"Register"</a>
                            }.into_any(),
                        }
                    })}
                </Transition>
            </nav>
        </header>
    }
}
