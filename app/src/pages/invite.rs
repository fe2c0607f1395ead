//! `/invite?token=…`: joining a team from an e-mailed invitation.

use leptos::prelude::*;
use leptos_router::components::A;

use super::query_value;
use crate::api::{get_invitation, AcceptInvitation, InviteStep, SessionView};
use crate::components::{
    action_error, form_errors, url_encode, Csrf, Field, FormAlert, PasswordField, PublicLayout,
    Submit, WithSession,
};

/// The invitation page.
#[component]
pub fn Invite() -> impl IntoView {
    let token = query_value("token").unwrap_or_default();
    let preview = Resource::new(
        {
            let token = token.clone();
            move || token.clone()
        },
        get_invitation,
    );
    let action = ServerAction::<AcceptInvitation>::new();
    let errors = form_errors(action);
    let error = action_error(action);
    view! {
        <WithSession render=move |s: SessionView| {
            let lang = s.lang;
            let t = lang.t();
            let token = token.clone();
            let csrf = s.csrf.clone();
            view! {
                <PublicLayout session=s.clone()>
                    <section class="card narrow" data-testid="invitation">
                        <h1>{t.invite_title}</h1>
                        <Suspense fallback=move || view! { <p>{t.loading}</p> }>
                            {move || {
                                let token = token.clone();
                                let csrf = csrf.clone();
                                Suspend::new(async move {
                                    let p = match preview.await {
                                        Ok(p) => p,
                                        Err(err) => return view! { <p class="alert error" role="alert">{err.message(lang)}</p> }.into_any(),
                                    };
                                    let here = format!("/invite?token={token}");
                                    let body = match p.step {
                                        InviteStep::Accept => view! {
                                            <ActionForm action>
                                                <Csrf token=csrf.clone() />
                                                <input type="hidden" name="token" value=token.clone() />
                                                <Submit label=t.invite_accept pending=action.pending().into() />
                                            </ActionForm>
                                        }.into_any(),
                                        InviteStep::WrongAccount => view! { <p class="alert warning">{t.invite_other_account}</p> }.into_any(),
                                        InviteStep::LogIn => view! {
                                            <p>{t.invite_login_first}</p>
                                            <A href=format!("/login?next={}", url_encode(&here)) attr:class="button">{t.nav_login}</A>
                                        }.into_any(),
                                        InviteStep::CreateAccount => view! {
                                            <p>{t.invite_create_account}</p>
                                            <ActionForm action>
                                                <Csrf token=csrf.clone() />
                                                <input type="hidden" name="token" value=token.clone() />
                                                <Field label=t.field_name name="full_name" errors lang autocomplete="name" />
                                                <PasswordField label=t.field_password name="password" errors lang autocomplete="new-password" hint=t.password_hint />
                                                <Submit label=t.invite_accept pending=action.pending().into() />
                                            </ActionForm>
                                        }.into_any(),
                                    };
                                    view! {
                                        <p>{t.invite_lead}</p>
                                        <p class="invite-tenant"><strong>{p.tenant_name.clone()}</strong>" — "{t.role(p.role)}</p>
                                        <p dir="ltr" class="muted">{p.email.clone()}</p>
                                        <FormAlert error lang />
                                        {body}
                                    }.into_any()
                                })
                            }}
                        </Suspense>
                    </section>
                </PublicLayout>
            }
        } />
    }
}
