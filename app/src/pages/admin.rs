//! Platform admin: tenants with their credit, manual adjustments, tariff tiers. Anyone who is not
//! a platform admin gets the 404 page.

use leptos::prelude::*;
use leptos_router::components::A;

use super::not_found::NotFoundBody;
use super::query_flag;
use crate::api::{
    admin_tenants, admin_tiers, AdminAddTier, AdminAdjust, AdminSetCallerId, SessionView, UserView,
};
use crate::components::{action_error, form_errors, Csrf, Field, FormAlert, Notice, Panel, Submit};
use crate::domain::Rial;

/// `/admin`: every tenant, its balance, and a manual credit/debit form.
#[component]
pub fn AdminTenants() -> impl IntoView {
    let tenants = Resource::new(|| (), |_| admin_tenants());
    let adjust = ServerAction::<AdminAdjust>::new();
    let errors = form_errors(adjust);
    let error = action_error(adjust);
    let adjusted = query_flag("adjusted");
    let caller = ServerAction::<AdminSetCallerId>::new();
    let caller_errors = form_errors(caller);
    let caller_error = action_error(caller);
    let caller_saved = query_flag("caller_id");
    view! {
        <Panel render=move |s: SessionView, user: UserView| {
            let lang = s.lang;
            let t = lang.t();
            if !user.platform_admin {
                return view! { <NotFoundBody lang /> }.into_any();
            }
            let csrf = s.csrf.clone();
            view! {
                <h1>{t.admin_title}</h1>
                <p><A href="/admin/tariffs">{t.admin_tariffs}</A></p>
                {adjusted.then(|| view! { <Notice text=t.admin_adjusted /> })}
                {caller_saved.then(|| view! { <Notice text=t.admin_caller_id_saved /> })}
                <Suspense fallback=move || view! { <p>{t.loading}</p> }>
                    {move || {
                        let csrf = csrf.clone();
                        Suspend::new(async move {
                            let list = match tenants.await {
                                Ok(list) => list,
                                Err(err) => return view! { <p class="alert error">{err.message(lang)}</p> }.into_any(),
                            };
                            let choices: Vec<(String, String)> = list.iter().map(|x| (x.id.to_string(), format!("{} (#{})", x.name, x.id))).collect();
                            let options = || choices.iter().map(|(id, label)| view! { <option value=id.clone()>{label.clone()}</option> }).collect_view();
                            let (adjust_options, caller_options) = (options(), options());
                            let (adjust_csrf, caller_csrf) = (csrf.clone(), csrf.clone());
                            let rows = list.into_iter().map(|x| view! {
                                <tr>
                                    <td>{lang.int(x.id)}</td>
                                    <td>{x.name.clone()}</td>
                                    <td data-testid=format!("tenant-{}-minutes", x.id)>{format!("{} {}", lang.int(x.available_seconds / 60), t.minutes)}</td>
                                    <td>{format!("{} {}", lang.int(x.held_seconds / 60), t.minutes)}</td>
                                    <td>{lang.datetime(x.created_at)}</td>
                                    <td dir="ltr" data-testid=format!("tenant-{}-caller-id", x.id)>{x.caller_id.clone().map(|n| lang.num(&n)).unwrap_or_default()}</td>
                                </tr>
                            }).collect_view();
                            view! {
                                <table class="table" data-testid="admin-tenants">
                                    <thead><tr><th>"#"</th><th>{t.company}</th><th>{t.balance}</th><th>{t.admin_held}</th><th>{t.payment_date}</th><th>{t.field_caller_id}</th></tr></thead>
                                    <tbody>{rows}</tbody>
                                </table>
                                <section class="card">
                                    <h2>{t.admin_adjust}</h2>
                                    <FormAlert error lang />
                                    <ActionForm action=adjust>
                                        <Csrf token=adjust_csrf />
                                        <div class="field">
                                            <label for="tenant_id">{t.company}</label>
                                            <select id="tenant_id" name="tenant_id">{adjust_options}</select>
                                        </div>
                                        <Field label=t.admin_minutes name="minutes" errors lang ltr=true />
                                        <Field label=t.admin_reason name="reason" errors lang />
                                        <Submit label=t.admin_apply pending=adjust.pending().into() />
                                    </ActionForm>
                                </section>
                                <section class="card">
                                    <h2>{t.admin_caller_id}</h2>
                                    <FormAlert error=caller_error lang />
                                    <ActionForm action=caller>
                                        <Csrf token=caller_csrf />
                                        <div class="field">
                                            <label for="caller_tenant_id">{t.company}</label>
                                            <select id="caller_tenant_id" name="tenant_id">{caller_options}</select>
                                        </div>
                                        <Field label=t.field_caller_id name="caller_id" errors=caller_errors lang ltr=true hint=t.admin_caller_id_hint />
                                        <Submit label=t.save pending=caller.pending().into() />
                                    </ActionForm>
                                </section>
                            }.into_any()
                        })
                    }}
                </Suspense>
            }.into_any()
        } />
    }
}

/// `/admin/tariffs`: tiers in force and a form to add one from now on.
#[component]
pub fn AdminTariffs() -> impl IntoView {
    let tiers = Resource::new(|| (), |_| admin_tiers());
    let add = ServerAction::<AdminAddTier>::new();
    let errors = form_errors(add);
    let error = action_error(add);
    let saved = query_flag("saved");
    view! {
        <Panel render=move |s: SessionView, user: UserView| {
            let lang = s.lang;
            let t = lang.t();
            if !user.platform_admin {
                return view! { <NotFoundBody lang /> }.into_any();
            }
            let csrf = s.csrf.clone();
            view! {
                <h1>{t.admin_tariffs}</h1>
                {saved.then(|| view! { <Notice text=t.saved /> })}
                <Suspense fallback=move || view! { <p>{t.loading}</p> }>
                    {move || Suspend::new(async move {
                        match tiers.await {
                            Ok(list) => {
                                let rows = list.into_iter().map(|tier| view! {
                                    <tr>
                                        <td>{Rial::new(tier.min_amount_rial).display_toman(lang)}</td>
                                        <td>{Rial::new(tier.rate_rial_per_minute).display_toman(lang)}</td>
                                    </tr>
                                }).collect_view();
                                view! {
                                    <table class="table" data-testid="tiers">
                                        <thead><tr><th>{t.admin_tier_min}</th><th>{t.admin_tier_rate}</th></tr></thead>
                                        <tbody>{rows}</tbody>
                                    </table>
                                }.into_any()
                            }
                            Err(err) => view! { <p class="alert error">{err.message(lang)}</p> }.into_any(),
                        }
                    })}
                </Suspense>
                <section class="card">
                    <h2>{t.admin_tier_add}</h2>
                    <p class="muted">{t.admin_tier_note}</p>
                    <FormAlert error lang />
                    <ActionForm action=add>
                        <Csrf token=csrf />
                        <Field label=t.admin_tier_min name="min_amount" errors lang ltr=true />
                        <Field label=t.admin_tier_rate name="rate" errors lang ltr=true />
                        <Field label=t.admin_tier_increment name="increment" errors lang ltr=true value="60" />
                        <Submit label=t.save pending=add.pending().into() />
                    </ActionForm>
                </section>
            }.into_any()
        } />
    }
}
