//! Slotkeeper: book a therapist or a table; never sell a slot twice.

pub mod api;
pub mod components;
pub mod domain;
pub mod pages;

#[cfg(feature = "ssr")]
pub mod auth;
#[cfg(feature = "ssr")]
pub mod backend;
#[cfg(feature = "ssr")]
pub mod one_time;
#[cfg(feature = "ssr")]
pub mod state;

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags, Stylesheet, Title};
use leptos_router::components::{Route, Router, Routes};
use leptos_router::{ParamSegment, SsrMode, StaticSegment};

/// The HTML document around every page.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <AutoReload options=options.clone()/>
                <HydrationScripts options/>
                <link rel="icon" href="/favicon.svg" type="image/svg+xml"/>
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    view! {
        <Stylesheet id="leptos" href="/pkg/slotkeeper.css"/>
        <Title formatter=|page: String| format!("{page} · Slotkeeper")/>
        <Router>
            <components::layout::Header/>
            <main id="main">
                <Routes fallback=pages::not_found::NotFound>
                    // Pages render whole on the server before they are sent, so that
                    // they read the same with JavaScript off.
                    <Route path=StaticSegment("") view=pages::home::HomePage ssr=SsrMode::Async/>
                    <Route path=StaticSegment("login") view=pages::login::LoginPage ssr=SsrMode::Async/>
                    <Route path=StaticSegment("register") view=pages::login::RegisterPage ssr=SsrMode::Async/>
                    <Route path=StaticSegment("claim") view=pages::login::ClaimPage ssr=SsrMode::Async/>
                    <Route path=(StaticSegment("venues"), ParamSegment("id")) view=pages::venue::VenuePage ssr=SsrMode::Async/>
                    <Route path=(StaticSegment("holds"), ParamSegment("id")) view=pages::hold::HoldPage ssr=SsrMode::Async/>
                    <Route path=StaticSegment("bookings") view=pages::bookings::BookingsPage ssr=SsrMode::Async/>
                    <Route path=(StaticSegment("bookings"), ParamSegment("id"), StaticSegment("reschedule")) view=pages::reschedule::ReschedulePage ssr=SsrMode::Async/>
                    <Route path=(StaticSegment("bookings"), ParamSegment("id"), StaticSegment("cancel")) view=pages::bookings::CancelPage ssr=SsrMode::Async/>
                    <Route path=StaticSegment("admin") view=pages::admin::AdminHome ssr=SsrMode::Async/>
                    <Route path=(StaticSegment("admin"), StaticSegment("stats")) view=pages::admin::AdminStatsPage ssr=SsrMode::Async/>
                    <Route path=(StaticSegment("admin"), StaticSegment("staff")) view=pages::admin::AdminStaffPage ssr=SsrMode::Async/>
                    <Route path=(StaticSegment("admin"), StaticSegment("bookings"), ParamSegment("id")) view=pages::admin::AdminBookingPage ssr=SsrMode::Async/>
                    <Route path=(StaticSegment("admin"), StaticSegment("venues"), ParamSegment("id"), StaticSegment("day")) view=pages::admin::AdminDayPage ssr=SsrMode::Async/>
                    <Route path=(StaticSegment("admin"), StaticSegment("venues"), ParamSegment("id"), StaticSegment("setup")) view=pages::admin::AdminSetupPage ssr=SsrMode::Async/>
                    <Route path=(StaticSegment("admin"), StaticSegment("venues"), ParamSegment("id"), StaticSegment("audit")) view=pages::admin::AdminAuditPage ssr=SsrMode::Async/>
                </Routes>
            </main>
        </Router>
    }
}
