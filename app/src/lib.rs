//! Pol's web panel: Leptos pages and server functions, plus (with `ssr`) the services behind them.

#![recursion_limit = "256"]

pub mod api;
pub mod components;
pub mod domain;
pub mod error;
pub mod i18n;
pub mod pages;

#[cfg(feature = "ssr")]
pub mod backend;

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags, Stylesheet, Title};
use leptos_router::components::{Route, Router, Routes};
use leptos_router::hooks::use_location;
use leptos_router::{path, SsrMode};

use crate::api::{get_session, SessionView};
use crate::error::AppError;
use crate::i18n::Lang;
use crate::pages::{
    admin, auth, billing, calls, docs, invite, landing, not_found::NotFound, panel, settings,
};

/// The language of the current request, for the `<html>` element rendered before the app.
#[cfg(feature = "ssr")]
fn request_lang() -> Lang {
    use_context::<http::request::Parts>()
        .and_then(|parts| {
            parts
                .extensions
                .get::<backend::context::Ctx>()
                .map(|ctx| ctx.lang)
        })
        .unwrap_or_default()
}

/// The HTML document around the app (server only).
pub fn shell(options: LeptosOptions) -> impl IntoView {
    #[cfg(feature = "ssr")]
    let lang = request_lang();
    #[cfg(not(feature = "ssr"))]
    let lang = Lang::default();
    view! {
        <!DOCTYPE html>
        <html lang=lang.code() dir=lang.dir()>
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <meta name="color-scheme" content="light" />
                <link rel="icon" href="/favicon.svg" type="image/svg+xml" />
                <AutoReload options=options.clone() />
                <HydrationScripts options />
                <MetaTags />
            </head>
            <body>
                <App />
            </body>
        </html>
    }
}

/// The session as every page reads it: refetched whenever the URL changes.
#[derive(Clone, Copy)]
pub struct SessionResource(pub Resource<Result<SessionView, AppError>>);

/// The session resource provided by [`App`].
pub fn use_session() -> Resource<Result<SessionView, AppError>> {
    expect_context::<SessionResource>().0
}

/// The application: routes and the session.
#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    view! {
        <Stylesheet id="leptos" href="/pkg/pol.css" />
        <Title text="Pol" />
        <Router>
            <SessionProvider>
                <Routes fallback=|| view! { <NotFound /> }>
                    <Route path=path!("/") view=landing::Landing ssr=SsrMode::Async />
                    <Route path=path!("/signup") view=auth::Signup ssr=SsrMode::Async />
                    <Route path=path!("/login") view=auth::Login ssr=SsrMode::Async />
                    <Route path=path!("/forgot-password") view=auth::ForgotPassword ssr=SsrMode::Async />
                    <Route path=path!("/reset-password") view=auth::ResetPassword ssr=SsrMode::Async />
                    <Route path=path!("/verify-email") view=auth::VerifyEmail ssr=SsrMode::Async />
                    <Route path=path!("/invite") view=invite::Invite ssr=SsrMode::Async />
                    <Route path=path!("/dashboard") view=panel::Dashboard ssr=SsrMode::Async />
                    <Route path=path!("/admin") view=admin::AdminTenants ssr=SsrMode::Async />
                    <Route path=path!("/admin/tariffs") view=admin::AdminTariffs ssr=SsrMode::Async />
                    <Route path=path!("/billing") view=billing::TopUp ssr=SsrMode::Async />
                    <Route path=path!("/billing/payments") view=billing::Payments ssr=SsrMode::Async />
                    <Route path=path!("/billing/payments/:id") view=billing::Payment ssr=SsrMode::Async />
                    <Route path=path!("/pay/test/:authority") view=billing::TestGatewayPage ssr=SsrMode::Async />
                    <Route path=path!("/settings") view=settings::Profile ssr=SsrMode::Async />
                    <Route path=path!("/settings/profile") view=settings::Profile ssr=SsrMode::Async />
                    <Route path=path!("/settings/security") view=settings::Security ssr=SsrMode::Async />
                    <Route path=path!("/settings/team") view=settings::Team ssr=SsrMode::Async />
                    <Route path=path!("/settings/team/:id") view=settings::Member ssr=SsrMode::Async />
                    <Route path=path!("/settings/companies") view=settings::Companies ssr=SsrMode::Async />
                    <Route path=path!("/settings/calls") view=settings::CallSettings ssr=SsrMode::Async />
                    <Route path=path!("/settings/tokens") view=settings::Tokens ssr=SsrMode::Async />
                    <Route path=path!("/settings/webhooks") view=settings::Webhooks ssr=SsrMode::Async />
                    <Route path=path!("/calls") view=calls::Calls ssr=SsrMode::Async />
                    <Route path=path!("/docs") view=docs::ApiDocs ssr=SsrMode::Async />
                    <Route path=path!("/calls/:id") view=calls::CallDetail ssr=SsrMode::Async />
                </Routes>
            </SessionProvider>
        </Router>
    }
}

/// Loads the session for every page below it.
#[component]
fn SessionProvider(children: Children) -> impl IntoView {
    let location = use_location();
    let session = Resource::new(
        move || (location.pathname.get(), location.search.get()),
        |_| get_session(),
    );
    provide_context(SessionResource(session));
    children()
}

/// Entry point of the WASM bundle: hydrates the server-rendered page.
#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_body(App);
    // Lets browser tests (and curious developers) see that the page is live.
    if let Some(body) = leptos::prelude::document().body() {
        let _ = body.set_attribute("data-hydrated", "true");
    }
}
