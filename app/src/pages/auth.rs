//! Sign-up, login, password reset and e-mail verification.

use leptos::prelude::*;
use leptos_router::components::A;

use super::{query_flag, query_value};
use crate::api::{
    ForgotPassword as ForgotPasswordFn, Login as LoginFn, ResetPassword as ResetPasswordFn,
    SessionView, Signup as SignupFn,
};
use crate::components::{
    action_error, form_errors, Csrf, Field, FormAlert, Notice, PasswordField, PublicLayout, Submit,
    WithSession,
};

/// `/signup`.
#[component]
pub fn Signup() -> impl IntoView {
    let action = ServerAction::<SignupFn>::new();
    let errors = form_errors(action);
    let error = action_error(action);
    view! {
        <WithSession render=move |s: SessionView| {
            let lang = s.lang;
            let t = lang.t();
            view! {
                <PublicLayout session=s.clone()>
                    <section class="card narrow">
                        <h1>{t.signup_title}</h1>
                        <FormAlert error lang />
                        <ActionForm action>
                            <Csrf token=s.csrf.clone() />
                            <Field label=t.field_company name="company" errors lang autocomplete="organization" />
                            <Field label=t.field_name name="full_name" errors lang autocomplete="name" />
                            <Field label=t.field_email name="email" kind="email" errors lang autocomplete="email" ltr=true />
                            <Field label=t.field_mobile name="mobile" kind="tel" errors lang autocomplete="tel" ltr=true hint=t.mobile_hint />
                            <PasswordField label=t.field_password name="password" errors lang autocomplete="new-password" hint=t.password_hint />
                            <Submit label=t.signup_submit pending=action.pending().into() />
                        </ActionForm>
                        <p class="aside">{t.have_account}" "<A href="/login">{t.nav_login}</A></p>
                    </section>
                </PublicLayout>
            }
        } />
    }
}

/// `/login`.
#[component]
pub fn Login() -> impl IntoView {
    let action = ServerAction::<LoginFn>::new();
    let errors = form_errors(action);
    let error = action_error(action);
    let next = query_value("next");
    let reset_done = query_flag("reset");
    view! {
        <WithSession render=move |s: SessionView| {
            let lang = s.lang;
            let t = lang.t();
            let next = next.clone().unwrap_or_default();
            view! {
                <PublicLayout session=s.clone()>
                    <section class="card narrow">
                        <h1>{t.login_title}</h1>
                        {reset_done.then(|| view! { <Notice text=t.reset_done /> })}
                        <FormAlert error lang />
                        <ActionForm action>
                            <Csrf token=s.csrf.clone() />
                            <input type="hidden" name="next" value=next />
                            <Field label=t.field_email name="email" kind="email" errors lang autocomplete="email" ltr=true />
                            <PasswordField label=t.field_password name="password" errors lang autocomplete="current-password" />
                            <Submit label=t.login_submit pending=action.pending().into() />
                        </ActionForm>
                        <p class="aside"><A href="/forgot-password">{t.forgot_link}</A></p>
                        <p class="aside">{t.no_account}" "<A href="/signup">{t.nav_signup}</A></p>
                    </section>
                </PublicLayout>
            }
        } />
    }
}

/// `/forgot-password`.
#[component]
pub fn ForgotPassword() -> impl IntoView {
    let action = ServerAction::<ForgotPasswordFn>::new();
    let errors = form_errors(action);
    let error = action_error(action);
    let sent = query_flag("sent");
    view! {
        <WithSession render=move |s: SessionView| {
            let lang = s.lang;
            let t = lang.t();
            view! {
                <PublicLayout session=s.clone()>
                    <section class="card narrow">
                        <h1>{t.forgot_title}</h1>
                        {if sent {
                            view! { <Notice text=t.forgot_sent /> }.into_any()
                        } else {
                            view! {
                                <p>{t.forgot_lead}</p>
                                <FormAlert error lang />
                                <ActionForm action>
                                    <Csrf token=s.csrf.clone() />
                                    <Field label=t.field_email name="email" kind="email" errors lang autocomplete="email" ltr=true />
                                    <Submit label=t.forgot_submit pending=action.pending().into() />
                                </ActionForm>
                            }.into_any()
                        }}
                    </section>
                </PublicLayout>
            }
        } />
    }
}

/// `/reset-password?token=…`.
#[component]
pub fn ResetPassword() -> impl IntoView {
    let action = ServerAction::<ResetPasswordFn>::new();
    let errors = form_errors(action);
    let error = action_error(action);
    let token = query_value("token").unwrap_or_default();
    view! {
        <WithSession render=move |s: SessionView| {
            let lang = s.lang;
            let t = lang.t();
            let token = token.clone();
            view! {
                <PublicLayout session=s.clone()>
                    <section class="card narrow">
                        <h1>{t.reset_title}</h1>
                        <FormAlert error lang />
                        <ActionForm action>
                            <Csrf token=s.csrf.clone() />
                            <input type="hidden" name="token" value=token />
                            <PasswordField label=t.field_new_password name="password" errors lang autocomplete="new-password" hint=t.password_hint />
                            <Submit label=t.reset_submit pending=action.pending().into() />
                        </ActionForm>
                        <p class="aside"><A href="/forgot-password">{t.forgot_link}</A></p>
                    </section>
                </PublicLayout>
            }
        } />
    }
}

/// `/verify-email?token=…`: confirms the address as the page loads.
#[component]
pub fn VerifyEmail() -> impl IntoView {
    let token = query_value("token").unwrap_or_default();
    let result = Resource::new(move || token.clone(), crate::api::verify_email);
    view! {
        <WithSession render=move |s: SessionView| {
            let lang = s.lang;
            let t = lang.t();
            view! {
                <PublicLayout session=s.clone()>
                    <section class="card narrow" data-testid="verify-result">
                        <h1>{t.verify_title}</h1>
                        <Suspense fallback=move || view! { <p>{t.loading}</p> }>
                            {move || Suspend::new(async move {
                                match result.await {
                                    Ok(()) => view! {
                                        <Notice text=t.verify_done />
                                        <A href="/dashboard" attr:class="button">{t.to_dashboard}</A>
                                    }.into_any(),
                                    Err(err) => view! { <p class="alert error" role="alert">{err.message(lang)}</p> }.into_any(),
                                }
                            })}
                        </Suspense>
                    </section>
                </PublicLayout>
            }
        } />
    }
}
