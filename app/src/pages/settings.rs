//! Settings: profile, password, team, companies.

use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_params_map;

use super::not_found::NotFoundBody;
use super::query_flag;
use crate::api::{
    get_member, get_team, ChangePassword, CreateTenant, InviteMember, RemoveMember, SessionView,
    SetMemberRole, UpdateProfile, UserView,
};
use crate::components::{
    action_error, form_errors, Csrf, Field, FormAlert, Notice, Panel, PasswordField, Submit,
};
use crate::domain::Role;
use crate::error::AppError;
use crate::i18n::Lang;

/// `/settings/profile`.
#[component]
pub fn Profile() -> impl IntoView {
    let action = ServerAction::<UpdateProfile>::new();
    let errors = form_errors(action);
    let error = action_error(action);
    let saved = query_flag("saved");
    view! {
        <Panel render=move |s: SessionView, user: UserView| {
            let lang = s.lang;
            let t = lang.t();
            view! {
                <h1>{t.profile_title}</h1>
                {saved.then(|| view! { <Notice text=t.saved /> })}
                <section class="card">
                    <FormAlert error lang />
                    <ActionForm action>
                        <Csrf token=s.csrf.clone() />
                        <div class="field">
                            <label>{t.field_email}</label>
                            <output dir="ltr">{user.email.clone()}</output>
                        </div>
                        <Field label=t.field_name name="full_name" errors lang value=user.name.clone() autocomplete="name" />
                        <Field label=t.field_mobile name="mobile" kind="tel" errors lang ltr=true required=false
                            value=user.mobile.as_deref().and_then(|m| crate::domain::PhoneNumber::parse(m).ok()).map(|p| p.local()).unwrap_or_default()
                            autocomplete="tel" />
                        <Submit label=t.save pending=action.pending().into() />
                    </ActionForm>
                </section>
            }
        } />
    }
}

/// `/settings/security`.
#[component]
pub fn Security() -> impl IntoView {
    let action = ServerAction::<ChangePassword>::new();
    let errors = form_errors(action);
    let error = action_error(action);
    let saved = query_flag("saved");
    view! {
        <Panel render=move |s: SessionView, _user: UserView| {
            let lang = s.lang;
            let t = lang.t();
            view! {
                <h1>{t.security_title}</h1>
                {saved.then(|| view! { <Notice text=t.saved /> })}
                <section class="card">
                    <p>{t.security_lead}</p>
                    <FormAlert error lang />
                    <ActionForm action>
                        <Csrf token=s.csrf.clone() />
                        <PasswordField label=t.field_current_password name="current_password" errors lang autocomplete="current-password" />
                        <PasswordField label=t.field_new_password name="new_password" errors lang autocomplete="new-password" hint=t.password_hint />
                        <Submit label=t.save pending=action.pending().into() />
                    </ActionForm>
                </section>
            }
        } />
    }
}

fn role_options(lang: Lang, selected: Role) -> impl IntoView {
    [Role::Viewer, Role::Admin, Role::Owner]
        .into_iter()
        .map(|r| view! { <option value=r.as_str() selected=r == selected>{lang.t().role(r)}</option> })
        .collect_view()
}

/// `/settings/team`.
#[component]
pub fn Team() -> impl IntoView {
    let invite = ServerAction::<InviteMember>::new();
    let errors = form_errors(invite);
    let error = action_error(invite);
    let team = Resource::new(|| (), |_| get_team());
    let invited = query_flag("invited");
    let removed = query_flag("removed");
    view! {
        <Panel render=move |s: SessionView, _user: UserView| {
            let lang = s.lang;
            let t = lang.t();
            let csrf = s.csrf.clone();
            view! {
                <h1>{t.team_title}</h1>
                {invited.then(|| view! { <Notice text=t.team_invited /> })}
                {removed.then(|| view! { <Notice text=t.member_removed /> })}
                <Suspense fallback=move || view! { <p>{t.loading}</p> }>
                    {move || {
                        let csrf = csrf.clone();
                        Suspend::new(async move {
                            let team = match team.await {
                                Ok(team) => team,
                                Err(err) => return view! { <p class="alert error">{err.message(lang)}</p> }.into_any(),
                            };
                            let can_manage = team.can_manage;
                            let rows = team.members.into_iter().map(|m| view! {
                                <tr>
                                    <td>{m.name.clone()}</td>
                                    <td dir="ltr">{m.email.clone()}{(!m.verified).then(|| view! { <span class="badge">{t.unverified}</span> })}</td>
                                    <td>{t.role(m.role)}</td>
                                    <td>{lang.datetime(m.joined_at)}</td>
                                    <td>{can_manage.then(|| view! { <A href=format!("/settings/team/{}", m.id)>{t.team_manage}</A> })}</td>
                                </tr>
                            }).collect_view();
                            let pending = team.invitations.into_iter().map(|i| {
                                let csrf = csrf.clone();
                                view! {
                                    <li>
                                        <span dir="ltr">{i.email.clone()}</span>" — "{t.role(i.role)}" — "{lang.datetime(i.sent_at)}
                                        <form method="post" action="/api/revoke_invitation" class="inline">
                                            <Csrf token=csrf />
                                            <input type="hidden" name="id" value=i.id.to_string() />
                                            <button type="submit" class="link danger">{t.team_revoke}</button>
                                        </form>
                                    </li>
                                }
                            }).collect_view();
                            view! {
                                <table class="table" data-testid="members">
                                    <thead><tr><th>{t.field_name}</th><th>{t.field_email}</th><th>{t.field_role}</th><th>{t.joined_at}</th><th></th></tr></thead>
                                    <tbody>{rows}</tbody>
                                </table>
                                {if can_manage {
                                    view! {
                                        <h2>{t.team_pending}</h2>
                                        <ul class="plain">{pending}</ul>
                                        <section class="card">
                                            <h2>{t.team_invite}</h2>
                                            <FormAlert error lang />
                                            <ActionForm action=invite>
                                                <Csrf token=csrf.clone() />
                                                <Field label=t.field_email name="email" kind="email" errors lang ltr=true />
                                                <div class="field">
                                                    <label for="role">{t.field_role}</label>
                                                    <select id="role" name="role">{role_options(lang, Role::Viewer)}</select>
                                                </div>
                                                <Submit label=t.team_invite_submit pending=invite.pending().into() />
                                            </ActionForm>
                                        </section>
                                    }.into_any()
                                } else {
                                    view! { <p class="muted">{t.team_only_owner}</p> }.into_any()
                                }}
                            }.into_any()
                        })
                    }}
                </Suspense>
            }
        } />
    }
}

/// `/settings/team/{id}`: one member; another tenant's id is a 404.
#[component]
pub fn Member() -> impl IntoView {
    let params = use_params_map();
    let member = Resource::new(
        move || params.read().get("id").unwrap_or_default(),
        get_member,
    );
    let set_role = ServerAction::<SetMemberRole>::new();
    let remove = ServerAction::<RemoveMember>::new();
    let role_errors = form_errors(set_role);
    let remove_error = action_error(remove);
    let role_error = action_error(set_role);
    let saved = query_flag("saved");
    view! {
        <Panel render=move |s: SessionView, _user: UserView| {
            let lang = s.lang;
            let t = lang.t();
            let csrf = s.csrf.clone();
            view! {
                <Suspense fallback=move || view! { <p>{t.loading}</p> }>
                    {move || {
                        let csrf = csrf.clone();
                        Suspend::new(async move {
                            match member.await {
                                Ok(m) => {
                                    let csrf2 = csrf.clone();
                                    view! {
                                    <h1>{t.member_title}": "{m.name.clone()}</h1>
                                    {saved.then(|| view! { <Notice text=t.saved /> })}
                                    <section class="card" data-testid="member">
                                        <p dir="ltr">{m.email.clone()}</p>
                                        <p>{t.joined_at}": "{lang.datetime(m.joined_at)}</p>
                                        <FormAlert error=role_error lang />
                                        <ActionForm action=set_role>
                                            <Csrf token=csrf.clone() />
                                            <input type="hidden" name="id" value=m.id.to_string() />
                                            <div class="field" class:invalid=move || role_errors.get().and_then(|f| f.problem("role")).is_some()>
                                                <label for="role">{t.field_role}</label>
                                                <select id="role" name="role">{role_options(lang, m.role)}</select>
                                                <small class="field-error">{move || role_errors.get().and_then(|f| f.problem("role")).map(|p| t.problem(p))}</small>
                                            </div>
                                            <Submit label=t.member_change_role pending=set_role.pending().into() />
                                        </ActionForm>
                                        <FormAlert error=remove_error lang />
                                        <ActionForm action=remove>
                                            <Csrf token=csrf2 />
                                            <input type="hidden" name="id" value=m.id.to_string() />
                                            <button type="submit" class="button danger">{t.member_remove}</button>
                                        </ActionForm>
                                    </section>
                                }.into_any()
                                }
                                Err(AppError::NotFound) => view! { <NotFoundBody lang /> }.into_any(),
                                Err(err) => view! { <p class="alert error">{err.message(lang)}</p> }.into_any(),
                            }
                        })
                    }}
                </Suspense>
            }
        } />
    }
}

/// `/settings/companies`: the person's tenants, switching, and creating another.
#[component]
pub fn Companies() -> impl IntoView {
    let create = ServerAction::<CreateTenant>::new();
    let errors = form_errors(create);
    let error = action_error(create);
    view! {
        <Panel render=move |s: SessionView, user: UserView| {
            let lang = s.lang;
            let t = lang.t();
            let current = user.tenant.as_ref().map(|t| t.id);
            let rows = user.tenants.iter().map(|tenant| {
                let is_current = Some(tenant.id) == current;
                view! {
                    <li class:current=is_current>
                        <strong>{tenant.name.clone()}</strong>" — "{t.role(tenant.role)}
                        {if is_current {
                            view! { <span class="badge">{t.companies_current}</span> }.into_any()
                        } else {
                            view! {
                                <form method="post" action="/api/switch_tenant" class="inline">
                                    <Csrf token=s.csrf.clone() />
                                    <input type="hidden" name="tenant_id" value=tenant.id.to_string() />
                                    <button type="submit" class="link">{t.companies_switch}</button>
                                </form>
                            }.into_any()
                        }}
                    </li>
                }
            }).collect_view();
            view! {
                <h1>{t.companies_title}</h1>
                <ul class="plain" data-testid="companies">{rows}</ul>
                <section class="card">
                    <h2>{t.companies_new}</h2>
                    <FormAlert error lang />
                    <ActionForm action=create>
                        <Csrf token=s.csrf.clone() />
                        <Field label=t.field_company name="company" errors lang />
                        <Submit label=t.companies_create pending=create.pending().into() />
                    </ActionForm>
                </section>
            }
        } />
    }
}

/// Uploads the chosen file as the request body so the browser can report progress; plain
/// JavaScript in the attribute, so it works however the page was loaded.
const UPLOAD_SCRIPT: &str = "const f=document.getElementById('welcome-file').files[0];if(!f)return;\
const p=document.getElementById('welcome-progress');const m=document.getElementById('welcome-error');\
m.textContent='';p.hidden=false;p.value=0;const x=new XMLHttpRequest();x.open('POST','/settings/welcome');\
x.setRequestHeader('x-csrf-token',this.dataset.csrf);x.setRequestHeader('x-filename',encodeURIComponent(f.name));\
x.upload.onprogress=e=>{if(e.lengthComputable)p.value=Math.round(e.loaded*100/e.total)};\
x.onload=()=>{let r={};try{r=JSON.parse(x.responseText)}catch(e){}\
if(x.status==200){location.href='/settings/calls?welcome=1'}else{p.hidden=true;m.textContent=r.message||(x.status==413?this.dataset.tooLarge:x.statusText)}};\
x.onerror=()=>{p.hidden=true;m.textContent='…'};x.send(f);";

/// The welcome-message card: preview, delete, and upload with a progress bar.
fn welcome_card(
    lang: crate::i18n::Lang,
    csrf: &str,
    c: &crate::api::calls::CallSettingsView,
    delete: ServerAction<crate::api::calls::DeleteWelcome>,
) -> impl IntoView {
    let t = lang.t();
    let (csrf_delete, csrf_upload) = (csrf.to_owned(), csrf.to_owned());
    let current = match &c.welcome_message {
        Some(w) => view! {
            <p><bdi>{w.name.clone()}</bdi>" · "{lang.duration((w.duration_ms + 999) / 1000)}</p>
            <audio controls=true preload="metadata" src=format!("/settings/welcome/preview?v={}", w.uploaded_at) data-testid="welcome-preview"></audio>
            {c.can_manage.then(|| view! {
                <ActionForm action=delete attr:class="inline">
                    <Csrf token=csrf_delete />
                    <button type="submit" class="link danger">{t.welcome_delete}</button>
                </ActionForm>
            })}
        }.into_any(),
        None => view! { <p class="muted">{t.welcome_none}</p> }.into_any(),
    };
    view! {
        <section class="card">
            <h2>{t.welcome_title}</h2>
            <p class="muted">{t.welcome_lead}</p>
            {query_flag("welcome").then(|| view! { <Notice text=t.welcome_saved /> })}
            {current}
            {c.can_manage.then(|| view! {
                <div class="inline-fields">
                    <input type="file" id="welcome-file" accept="audio/*,.wav,.mp3,.ogg,.oga,.flac" />
                    <button type="button" class="button small" data-csrf=csrf_upload data-too-large=t.welcome_too_large onclick=UPLOAD_SCRIPT data-testid="welcome-upload">{t.welcome_upload}</button>
                </div>
                <progress id="welcome-progress" max="100" value="0" hidden=true></progress>
                <p class="field-error" id="welcome-error" role="alert" data-testid="welcome-error"></p>
            })}
        </section>
    }
}

/// `/settings/calls`: leg order, limits, recording and welcome message.
#[component]
pub fn CallSettings() -> impl IntoView {
    use crate::api::calls::{get_call_settings, DeleteWelcome, SaveCallSettings};
    let delete_welcome = ServerAction::<DeleteWelcome>::new();
    let settings = Resource::new(
        move || delete_welcome.version().get(),
        |_| get_call_settings(),
    );
    let action = ServerAction::<SaveCallSettings>::new();
    let errors = form_errors(action);
    let error = action_error(action);
    let saved = query_flag("saved");
    view! {
        <Panel render=move |s: SessionView, _user: UserView| {
            let lang = s.lang;
            let t = lang.t();
            let csrf = s.csrf.clone();
            view! {
                <h1>{t.call_settings_title}</h1>
                {saved.then(|| view! { <Notice text=t.saved /> })}
                <Suspense fallback=move || view! { <p>{t.loading}</p> }>
                    {move || { let csrf = csrf.clone(); Suspend::new(async move {
                        let c = match settings.await {
                            Ok(c) => c,
                            Err(err) => return view! { <p class="alert error">{err.message(lang)}</p> }.into_any(),
                        };
                        let passenger_first = c.first_party != "driver";
                        let welcome_card = welcome_card(lang, &csrf, &c, delete_welcome);
                        view! {
                            {welcome_card}
                            <section class="card">
                                <FormAlert error lang />
                                <ActionForm action>
                                    <Csrf token=csrf />
                                    <fieldset class="field" disabled=!c.can_manage>
                                        <legend>{t.field_first_party}</legend>
                                        <label class="choice"><input type="radio" name="first_party" value="passenger" checked=passenger_first />{t.party_passenger}</label>
                                        <label class="choice"><input type="radio" name="first_party" value="driver" checked=!passenger_first />{t.party_driver}</label>
                                    </fieldset>
                                    <Field label=t.field_max_duration name="max_duration" errors lang ltr=true value=c.max_duration.to_string() hint=t.hint_max_duration />
                                    <Field label=t.field_ring_timeout name="ring_timeout" errors lang ltr=true value=c.ring_timeout.to_string() hint=t.hint_ring_timeout />
                                    <div class="field" data-testid="caller-id">
                                        <strong>{t.field_caller_id}": "</strong>
                                        {match c.caller_id.clone() {
                                            Some(number) => view! { <bdi dir="ltr">{lang.num(&number)}</bdi> }.into_any(),
                                            None => view! { <span>{t.caller_id_default}</span> }.into_any(),
                                        }}
                                        <small class="hint">{t.hint_caller_id}</small>
                                    </div>
                                    <label class="choice"><input type="checkbox" name="record" value="on" checked=c.record />{t.field_record}</label>
                                    <label class="choice"><input type="checkbox" name="welcome" value="on" checked=c.welcome />{t.field_welcome}</label>
                                    <label class="choice"><input type="checkbox" name="welcome_second" value="on" checked=c.welcome_to_second />{t.field_welcome_second}</label>
                                    <p class="muted" data-testid="concurrency">{t.concurrency_note.replace("{n}", &lang.int(c.max_concurrent_calls))}</p>
                                    {c.can_manage.then(|| view! { <Submit label=t.save pending=action.pending().into() /> })}
                                </ActionForm>
                            </section>
                        }.into_any()
                    })}}
                </Suspense>
            }
        } />
    }
}

/// `/settings/tokens`: API tokens, each shown once.
#[component]
pub fn Tokens() -> impl IntoView {
    use crate::api::calls::{get_tokens, CreateApiToken, RevokeApiToken};
    let create = ServerAction::<CreateApiToken>::new();
    let revoke = ServerAction::<RevokeApiToken>::new();
    let tokens = Resource::new(
        move || (create.version().get(), revoke.version().get()),
        |_| get_tokens(),
    );
    let errors = form_errors(create);
    let error = action_error(create);
    view! {
        <Panel render=move |s: SessionView, _user: UserView| {
            let lang = s.lang;
            let t = lang.t();
            let csrf = s.csrf.clone();
            view! {
                <h1>{t.tokens_title}</h1>
                <p class="muted">{t.tokens_lead}</p>
                <Suspense fallback=move || view! { <p>{t.loading}</p> }>
                    {move || { let csrf = csrf.clone(); Suspend::new(async move {
                        let list = match tokens.await {
                            Ok(list) => list,
                            Err(err) => return view! { <p class="alert error">{err.message(lang)}</p> }.into_any(),
                        };
                        let fresh = list.fresh.clone().map(|token| {
                            let example = format!(
                                "curl -X POST {}/api/v1/calls -H 'Authorization: Bearer {token}' -H 'Content-Type: application/json' -d '{{\"passenger\":\"09121234567\",\"driver\":\"09351234567\"}}'",
                                list.api_base
                            );
                            view! {
                                <div class="alert success fresh-token">
                                    <p>{t.token_fresh}</p>
                                    <p class="copy-row">
                                        <code dir="ltr" data-testid="fresh-token">{token.clone()}</code>
                                        <button type="button" class="button small" data-token=token.clone()
                                            onclick="navigator.clipboard&&navigator.clipboard.writeText(this.dataset.token)">{t.token_copy}</button>
                                    </p>
                                    <p class="muted">{t.token_example}</p>
                                    <pre dir="ltr">{example}</pre>
                                </div>
                            }
                        });
                        let rows = list.tokens.iter().map(|tok| {
                            let id = tok.id.to_string();
                            let csrf = csrf.clone();
                            view! {
                                <tr class:revoked=tok.revoked_at.is_some()>
                                    <td>{tok.name.clone()}</td>
                                    <td><code dir="ltr">{format!("{}…", tok.prefix)}</code></td>
                                    <td>{lang.datetime(tok.created_at)}</td>
                                    <td>{tok.last_used_at.map_or_else(|| t.token_never.to_owned(), |at| lang.datetime(at))}</td>
                                    <td>{match tok.revoked_at {
                                        Some(_) => view! { <span class="status status-failed">{t.token_revoked}</span> }.into_any(),
                                        None => view! {
                                            <ActionForm action=revoke attr:class="inline">
                                                <Csrf token=csrf />
                                                <input type="hidden" name="id" value=id />
                                                <button type="submit" class="link danger" data-testid="revoke-token">{t.token_revoke}</button>
                                            </ActionForm>
                                        }.into_any(),
                                    }}</td>
                                </tr>
                            }
                        }).collect_view();
                        view! {
                            {fresh}
                            <section class="card">
                                <FormAlert error lang />
                                <ActionForm action=create attr:class="inline-fields">
                                    <Csrf token=csrf.clone() />
                                    <Field label=t.token_name name="name" errors lang />
                                    <Submit label=t.token_create pending=create.pending().into() />
                                </ActionForm>
                            </section>
                            {if list.tokens.is_empty() {
                                view! { <p class="muted">{t.tokens_empty}</p> }.into_any()
                            } else {
                                view! {
                                    <table class="table" data-testid="tokens">
                                        <thead><tr><th>{t.token_name}</th><th>{t.token_prefix}</th><th>{t.token_created}</th><th>{t.token_last_used}</th><th></th></tr></thead>
                                        <tbody>{rows}</tbody>
                                    </table>
                                }.into_any()
                            }}
                        }.into_any()
                    })}}
                </Suspense>
            }
        } />
    }
}

/// How an operator's server checks `Pol-Signature`, in the languages dispatch systems use.
const VERIFY_PHP: &str = r#"$body = file_get_contents('php://input');
parse_str(str_replace(',', '&', $_SERVER['HTTP_POL_SIGNATURE']), $sig);
$expected = hash_hmac('sha256', $sig['t'] . '.' . $body, $secret);
$fresh = abs(time() - (int) $sig['t']) < 300;
if (!$fresh || !hash_equals($expected, $sig['v1'])) { http_response_code(400); exit; }"#;
const VERIFY_PYTHON: &str = r#"import hmac, hashlib, time
sig = dict(part.split("=", 1) for part in request.headers["Pol-Signature"].split(","))
expected = hmac.new(secret.encode(), f"{sig['t']}.".encode() + request.body, hashlib.sha256).hexdigest()
if abs(time.time() - int(sig["t"])) > 300 or not hmac.compare_digest(expected, sig["v1"]):
    abort(400)"#;
const VERIFY_JS: &str = r#"const crypto = require('node:crypto');
const sig = Object.fromEntries(req.headers['pol-signature'].split(',').map((p) => p.split('=')));
const expected = crypto.createHmac('sha256', secret).update(`${sig.t}.${rawBody}`).digest('hex');
const ok = Math.abs(Date.now() / 1000 - Number(sig.t)) < 300 &&
  crypto.timingSafeEqual(Buffer.from(expected), Buffer.from(sig.v1));"#;

/// `/settings/webhooks`: endpoint, secret, test event and the delivery log.
#[component]
pub fn Webhooks() -> impl IntoView {
    use crate::api::webhooks::{
        get_webhooks, ResendWebhook, RotateWebhookSecret, SaveWebhook, TestWebhook,
    };
    let save = ServerAction::<SaveWebhook>::new();
    let rotate = ServerAction::<RotateWebhookSecret>::new();
    let test = ServerAction::<TestWebhook>::new();
    let resend = ServerAction::<ResendWebhook>::new();
    let hooks = Resource::new(
        move || {
            (
                save.version().get(),
                rotate.version().get(),
                test.version().get(),
                resend.version().get(),
            )
        },
        |_| get_webhooks(),
    );
    let errors = form_errors(save);
    let error = action_error(save);
    let test_error = action_error(test);
    // Reactive, so the notice also appears when the form's redirect is followed in the page.
    let query = leptos_router::hooks::use_query_map();
    let flag = move |key: &str| query.with(|q| q.get(key).is_some());
    view! {
        <Panel render=move |s: SessionView, _user: UserView| {
            let lang = s.lang;
            let t = lang.t();
            let csrf = s.csrf.clone();
            view! {
                <h1>{t.webhooks_title}</h1>
                <p class="muted">{t.webhooks_lead}</p>
                {move || {
                    let text = if flag("rotated") {
                        Some(t.webhook_rotated)
                    } else if flag("sent") {
                        Some(t.webhook_sent)
                    } else if flag("saved") {
                        Some(t.saved)
                    } else {
                        None
                    };
                    text.map(|text| view! { <Notice text /> })
                }}
                <Suspense fallback=move || view! { <p>{t.loading}</p> }>
                    {move || { let csrf = csrf.clone(); Suspend::new(async move {
                        let w = match hooks.await {
                            Ok(w) => w,
                            Err(err) => return view! { <p class="alert error">{err.message(lang)}</p> }.into_any(),
                        };
                        let empty = w.deliveries.is_empty();
                        let (csrf_save, csrf_rotate, csrf_test) = (csrf.clone(), csrf.clone(), csrf.clone());
                        let rows = w.deliveries.clone().into_iter().map(|d| {
                            let status = match d.status.as_str() {
                                "delivered" => t.delivery_delivered,
                                "failed" => t.delivery_failed,
                                _ => t.delivery_pending,
                            };
                            let badge = match d.status.as_str() {
                                "delivered" => "completed",
                                "failed" => "failed",
                                _ => "pending",
                            };
                            let answer = format!(
                                "{}{}",
                                d.status_code.map(|c| format!("HTTP {c} · ")).unwrap_or_default(),
                                d.response_ms.map(|ms| format!("{ms} ms")).unwrap_or_default(),
                            );
                            let csrf = csrf.clone();
                            view! {
                                <tr>
                                    <td>{lang.datetime(d.created_at)}</td>
                                    <td><code dir="ltr">{d.event.clone()}</code></td>
                                    <td><span class=format!("status status-{badge}")>{status}</span></td>
                                    <td>{lang.int(d.attempts)}</td>
                                    <td dir="ltr" class="small">{answer}<br/><span class="muted">{d.response.clone().map(|r| r.chars().take(120).collect::<String>())}</span></td>
                                    <td>
                                        <ActionForm action=resend attr:class="inline">
                                            <Csrf token=csrf />
                                            <input type="hidden" name="id" value=d.id.to_string() />
                                            <button type="submit" class="link">{t.webhook_resend}</button>
                                        </ActionForm>
                                    </td>
                                </tr>
                            }
                        }).collect_view();
                        view! {
                            <section class="card">
                                <FormAlert error lang />
                                <ActionForm action=save attr:class="inline-fields">
                                    <Csrf token=csrf_save />
                                    <Field label=t.webhook_url name="url" kind="url" errors lang ltr=true required=false value=w.url.clone().unwrap_or_default() />
                                    <Submit label=t.save pending=save.pending().into() />
                                </ActionForm>
                                <div class="field">
                                    <label>{t.webhook_secret}</label>
                                    <p class="copy-row">
                                        <code dir="ltr" data-testid="webhook-secret">{w.secret.clone()}</code>
                                        <button type="button" class="button small" data-token=w.secret.clone()
                                            onclick="navigator.clipboard&&navigator.clipboard.writeText(this.dataset.token)">{t.token_copy}</button>
                                    </p>
                                </div>
                                <FormAlert error=test_error lang />
                                <div class="actions">
                                    <ActionForm action=rotate attr:class="inline">
                                        <Csrf token=csrf_rotate />
                                        <button type="submit" class="button secondary small">{t.webhook_rotate}</button>
                                    </ActionForm>
                                    <ActionForm action=test attr:class="inline">
                                        <Csrf token=csrf_test />
                                        <button type="submit" class="button small" data-testid="send-test-webhook">{t.webhook_test}</button>
                                    </ActionForm>
                                </div>
                            </section>
                            <h2>{t.webhook_log}</h2>
                            {if empty {
                                view! { <p class="muted">{t.webhook_empty}</p> }.into_any()
                            } else {
                                view! {
                                    <div class="table-wrap">
                                        <table class="table" data-testid="deliveries">
                                            <thead><tr><th>{t.col_time}</th><th>{t.webhook_event}</th><th>{t.col_status}</th><th>{t.webhook_attempts}</th><th>{t.webhook_answer}</th><th></th></tr></thead>
                                            <tbody>{rows}</tbody>
                                        </table>
                                    </div>
                                }.into_any()
                            }}
                            <section class="card">
                                <h2>{t.webhook_verify}</h2>
                                <p class="muted" dir="ltr">"Pol-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, \"<t>.<body>\")>"</p>
                                <h3>"PHP"</h3><pre dir="ltr">{VERIFY_PHP}</pre>
                                <h3>"Python"</h3><pre dir="ltr">{VERIFY_PYTHON}</pre>
                                <h3>"JavaScript (Node.js)"</h3><pre dir="ltr">{VERIFY_JS}</pre>
                            </section>
                        }.into_any()
                    })}}
                </Suspense>
            }
        } />
    }
}
