//! The 404 page.

use leptos::prelude::*;
use leptos_router::components::A;

use crate::api::SessionView;
use crate::components::{PublicLayout, WithSession};

/// Sets the response status to 404 when rendered on the server.
pub fn set_not_found_status() {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(http::StatusCode::NOT_FOUND);
    }
}

/// "Not found", with status 404.
#[component]
pub fn NotFound() -> impl IntoView {
    set_not_found_status();
    view! {
        <WithSession render=|s: SessionView| {
            view! {
                <PublicLayout session=s.clone()>
                    <NotFoundBody lang=s.lang />
                </PublicLayout>
            }
        } />
    }
}

/// The body of the 404 page, also used inside the panel for foreign ids.
#[component]
pub fn NotFoundBody(lang: crate::i18n::Lang) -> impl IntoView {
    set_not_found_status();
    let t = lang.t();
    view! {
        <section class="narrow center" data-testid="not-found">
            <h1>{t.not_found_title}</h1>
            <p>{t.not_found_lead}</p>
            <A href="/">{t.back_home}</A>
        </section>
    }
}
