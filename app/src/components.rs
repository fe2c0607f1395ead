//! Building blocks shared by the pages: layouts, form fields, notices.

use leptos::prelude::*;
use leptos_router::components::{Redirect, A};
use leptos_router::hooks::use_location;

use crate::api::{SessionView, UserView};
use crate::error::{AppError, FormErrors};
use crate::i18n::Lang;
use crate::use_session;

/// Renders `render(session)` once the session is loaded.
#[component]
pub fn WithSession<F, V>(render: F) -> impl IntoView
where
    F: Fn(SessionView) -> V + Send + Sync + Clone + 'static,
    V: IntoView + 'static,
{
    let session = use_session();
    view! {
        <Suspense fallback=|| view! { <p class="loading">"…"</p> }>
            {move || {
                let render = render.clone();
                Suspend::new(async move {
                    match session.await {
                        Ok(s) => render(s).into_any(),
                        Err(err) => view! { <ErrorPage err /> }.into_any(),
                    }
                })
            }}
        </Suspense>
    }
}

/// Like [`WithSession`] for panel pages: sends visitors who are not signed in to the login page.
#[component]
pub fn Panel<F, V>(render: F) -> impl IntoView
where
    F: Fn(SessionView, UserView) -> V + Send + Sync + Clone + 'static,
    V: IntoView + 'static,
{
    let location = use_location();
    view! {
        <WithSession render=move |s: SessionView| {
            match s.user.clone() {
                Some(user) => {
                    let content = render(s.clone(), user.clone());
                    view! { <PanelLayout session=s user>{content}</PanelLayout> }.into_any()
                }
                None => {
                    let here = format!("{}{}", location.pathname.get_untracked(), location.search.get_untracked());
                    let to = format!("/login?next={}", url_encode(&here));
                    view! { <Redirect path=to /> }.into_any()
                }
            }
        } />
    }
}

/// Percent-encodes a query value.
pub fn url_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// A page for an error that stops the whole page.
#[component]
pub fn ErrorPage(err: AppError) -> impl IntoView {
    let lang = Lang::default();
    view! { <main class="narrow"><p class="alert error">{err.message(lang)}</p></main> }
}

/// The language switch: a plain form, so it works without JavaScript and reloads the page in the
/// other language.
#[component]
pub fn LangSwitch(csrf: String, lang: Lang) -> impl IntoView {
    view! {
        <form method="post" action="/api/set_language" class="inline">
            <input type="hidden" name="csrf" value=csrf />
            <input type="hidden" name="lang" value=lang.other().code() />
            <button type="submit" class="link" data-testid="switch-language" lang=lang.other().code()>
                {lang.t().switch_language}
            </button>
        </form>
    }
}

/// Header, content and footer of the public pages.
#[component]
pub fn PublicLayout(session: SessionView, children: Children) -> impl IntoView {
    let lang = session.lang;
    let t = lang.t();
    view! {
        <header class="topbar">
            <A href="/" attr:class="brand">
                <span class="logo" aria-hidden="true">"◗"</span>
                {t.brand}
            </A>
            <nav class="topnav">
                {match &session.user {
                    Some(_) => view! { <A href="/dashboard">{t.nav_dashboard}</A> }.into_any(),
                    None => view! {
                        <A href="/login">{t.nav_login}</A>
                        <A href="/signup" attr:class="button small">{t.nav_signup}</A>
                    }.into_any(),
                }}
                <LangSwitch csrf=session.csrf.clone() lang />
            </nav>
        </header>
        <main>{children()}</main>
        <footer class="footer">{t.footer}</footer>
    }
}

/// Header, navigation and content of the signed-in panel.
#[component]
pub fn PanelLayout(session: SessionView, user: UserView, children: Children) -> impl IntoView {
    let lang = session.lang;
    let t = lang.t();
    let tenant_name = user
        .tenant
        .as_ref()
        .map(|t| t.name.clone())
        .unwrap_or_default();
    // Viewers read reports; tokens, webhooks and the API docs are for those who run the account.
    let operates = user.tenant.as_ref().is_some_and(|t| t.role.operates());
    view! {
        <header class="topbar">
            <A href="/dashboard" attr:class="brand">
                <span class="logo" aria-hidden="true">"◗"</span>
                {t.brand}
            </A>
            <A href="/settings/companies" attr:class="tenant-name" attr:data-testid="tenant-name">{tenant_name}</A>
            <nav class="topnav">
                <span class="user-name">{user.name.clone()}</span>
                <LangSwitch csrf=session.csrf.clone() lang />
                <form method="post" action="/api/logout" class="inline">
                    <input type="hidden" name="csrf" value=session.csrf.clone() />
                    <button type="submit" class="link" data-testid="logout">{t.nav_logout}</button>
                </form>
            </nav>
        </header>
        <div class="panel">
            <nav class="sidenav" aria-label=t.nav_settings>
                <A href="/dashboard">{t.nav_dashboard}</A>
                <A href="/calls">{t.nav_calls}</A>
                <A href="/billing" exact=true>{t.nav_top_up}</A>
                <A href="/billing/payments">{t.nav_payments}</A>
                <span class="sidenav-heading">{t.nav_settings}</span>
                <A href="/settings/calls">{t.nav_call_settings}</A>
                {operates.then(|| view! {
                    <A href="/settings/tokens">{t.nav_tokens}</A>
                    <A href="/settings/webhooks">{t.nav_webhooks}</A>
                    <A href="/docs">{t.nav_docs}</A>
                })}
                <A href="/settings/profile">{t.nav_profile}</A>
                <A href="/settings/security">{t.nav_security}</A>
                <A href="/settings/team">{t.nav_team}</A>
                <A href="/settings/companies">{t.nav_companies}</A>
                {user.platform_admin.then(|| view! {
                    <span class="sidenav-heading">{t.nav_admin}</span>
                    <A href="/admin" exact=true>{t.admin_title}</A>
                    <A href="/admin/tariffs">{t.admin_tariffs}</A>
                })}
            </nav>
            <main class="content">{children()}</main>
        </div>
    }
}

/// The errors of the last submission of `action`, as a signal.
pub fn form_errors<S>(action: ServerAction<S>) -> Signal<Option<FormErrors>>
where
    S: leptos::server_fn::ServerFn<Error = AppError> + Send + Sync + Clone + 'static,
    S::Output: Send + Sync + Clone + 'static,
{
    Signal::derive(move || {
        action
            .value()
            .get()
            .and_then(|r| r.err())
            .and_then(|e| e.form().cloned())
    })
}

/// A banner for the last submission's error (field errors show under their fields too).
#[component]
pub fn FormAlert(error: Signal<Option<AppError>>, lang: Lang) -> impl IntoView {
    move || {
        error.get().map(|err| {
            view! { <p class="alert error" role="alert" data-testid="form-error">{err.message(lang)}</p> }
        })
    }
}

/// The last error of `action`, as a signal.
pub fn action_error<S>(action: ServerAction<S>) -> Signal<Option<AppError>>
where
    S: leptos::server_fn::ServerFn<Error = AppError> + Send + Sync + Clone + 'static,
    S::Output: Send + Sync + Clone + 'static,
{
    Signal::derive(move || action.value().get().and_then(|r| r.err()))
}

/// A labelled input with its error under it.
#[component]
pub fn Field(
    /// Label text.
    label: &'static str,
    /// Form field name (= server function argument).
    name: &'static str,
    /// Field errors of the form.
    errors: Signal<Option<FormErrors>>,
    /// Language of the messages.
    lang: Lang,
    /// Input type.
    #[prop(default = "text")]
    kind: &'static str,
    /// Initial value.
    #[prop(optional, into)]
    value: Option<String>,
    /// Help text under the field.
    #[prop(optional)]
    hint: Option<&'static str>,
    /// `autocomplete` attribute.
    #[prop(default = "off")]
    autocomplete: &'static str,
    /// Left-to-right input (e-mail, phone) even in Persian.
    #[prop(default = false)]
    ltr: bool,
    /// Mark as required.
    #[prop(default = true)]
    required: bool,
) -> impl IntoView {
    let problem = move || {
        errors
            .get()
            .and_then(|f| f.problem(name))
            .map(|p| lang.t().problem(p))
    };
    let refill = errors
        .get_untracked()
        .and_then(|f| f.value(name).map(str::to_owned))
        .or(value);
    let error_id = format!("{name}-error");
    view! {
        <div class="field" class:invalid=move || problem().is_some()>
            <label for=name>{label}</label>
            <input
                id=name
                name=name
                type=kind
                value=refill
                autocomplete=autocomplete
                dir=if ltr { "ltr" } else { "auto" }
                required=required
                aria-invalid=move || if problem().is_some() { "true" } else { "false" }
                aria-describedby=error_id.clone()
            />
            {hint.map(|h| view! { <small class="hint">{h}</small> })}
            <small class="field-error" id=error_id data-testid=format!("error-{name}")>{problem}</small>
        </div>
    }
}

/// A password input with a show/hide button (the button needs JavaScript; the field does not).
#[component]
pub fn PasswordField(
    /// Label text.
    label: &'static str,
    /// Form field name.
    name: &'static str,
    /// Field errors of the form.
    errors: Signal<Option<FormErrors>>,
    /// Language.
    lang: Lang,
    /// `current-password` or `new-password`.
    autocomplete: &'static str,
    /// Help text.
    #[prop(optional)]
    hint: Option<&'static str>,
) -> impl IntoView {
    let t = lang.t();
    let (shown, set_shown) = signal(false);
    let problem = move || {
        errors
            .get()
            .and_then(|f| f.problem(name))
            .map(|p| t.problem(p))
    };
    view! {
        <div class="field" class:invalid=move || problem().is_some()>
            <label for=name>{label}</label>
            <div class="password">
                <input
                    id=name
                    name=name
                    type=move || if shown.get() { "text" } else { "password" }
                    autocomplete=autocomplete
                    dir="ltr"
                    required=true
                    data-testid=format!("input-{name}")
                />
                <button
                    type="button"
                    class="toggle"
                    data-testid=format!("toggle-{name}")
                    aria-pressed=move || if shown.get() { "true" } else { "false" }
                    on:click=move |_| set_shown.update(|s| *s = !*s)
                >
                    {move || if shown.get() { t.hide_password } else { t.show_password }}
                </button>
            </div>
            {hint.map(|h| view! { <small class="hint">{h}</small> })}
            <small class="field-error" data-testid=format!("error-{name}")>{problem}</small>
        </div>
    }
}

/// A submit button that shows progress while the action runs.
#[component]
pub fn Submit(label: &'static str, pending: Signal<bool>) -> impl IntoView {
    view! {
        <button type="submit" class="button" disabled=move || pending.get() aria-busy=move || if pending.get() { "true" } else { "false" }>
            {move || if pending.get() { "…" } else { label }}
        </button>
    }
}

/// A success notice.
#[component]
pub fn Notice(text: &'static str) -> impl IntoView {
    view! { <p class="alert success" role="status" data-testid="notice">{text}</p> }
}

/// The anti-forgery token as a hidden field.
#[component]
pub fn Csrf(token: String) -> impl IntoView {
    view! { <input type="hidden" name="csrf" value=token /> }
}
