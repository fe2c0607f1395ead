//! The dashboard.

use leptos::prelude::*;
use leptos_router::components::A;

use super::query_flag;
use crate::api::{get_dashboard, SessionView, SetLowBalance, UserView};
use crate::components::{Csrf, Field, Notice, Panel};
use crate::domain::Rial;

/// `/dashboard`.
#[component]
pub fn Dashboard() -> impl IntoView {
    let resent = query_flag("resent");
    let numbers = Resource::new(|| (), |_| get_dashboard());
    let threshold = ServerAction::<SetLowBalance>::new();
    let threshold_errors = crate::components::form_errors(threshold);
    let threshold_saved = query_flag("threshold");
    view! {
        <Panel render=move |s: SessionView, user: UserView| {
            let lang = s.lang;
            let t = lang.t();
            let tenant = user.tenant.clone();
            let csrf = s.csrf.clone();
            view! {
                <h1>{t.dashboard_title}</h1>
                {resent.then(|| view! { <Notice text=t.verify_resent /> })}
                {(!user.verified).then(|| view! {
                    <div class="alert warning" data-testid="unverified-banner">
                        <span>{t.verify_banner}</span>
                        <form method="post" action="/api/resend_verification" class="inline">
                            <Csrf token=s.csrf.clone() />
                            <button type="submit" class="link">{t.verify_resend}</button>
                        </form>
                    </div>
                })}
                <div class="cards">
                    <div class="stat">
                        <span class="stat-label">{t.company}</span>
                        <span class="stat-value" data-testid="dashboard-tenant">{tenant.as_ref().map(|t| t.name.clone())}</span>
                        <span class="stat-note">{t.your_role}": "{tenant.as_ref().map(|x| t.role(x.role))}</span>
                    </div>
                    <Suspense fallback=move || view! { <div class="stat">{t.loading}</div> }>
                        {move || { let csrf = csrf.clone(); Suspend::new(async move {
                            match numbers.await {
                                Ok(n) => view! {
                                    {n.low_balance.then(|| view! {
                                        <p class="alert warning low-balance" data-testid="low-balance">
                                            {t.low_balance}" "<A href="/billing">{t.nav_top_up}</A>
                                        </p>
                                    })}
                                    <div class="stat">
                                        <span class="stat-label">{t.balance}</span>
                                        <span class="stat-value" data-testid="balance-minutes">{format!("{} {}", lang.int(n.available_seconds / 60), t.minutes)}</span>
                                        <span class="stat-note">{t.balance_value}": "{Rial::new(n.value_rial).display_toman(lang)}</span>
                                    </div>
                                    {
                                        let today = n.days.last().cloned();
                                        let calls = today.as_ref().map_or(0, |d| d.calls);
                                        let answered = today.as_ref().map_or(0, |d| d.answered);
                                        let rate = if calls > 0 { format!("{}٪", lang.int(answered * 100 / calls)) } else { "—".into() };
                                        let rate = if lang == crate::i18n::Lang::En { rate.replace('٪', "%") } else { rate };
                                        let minutes = today.as_ref().map_or(0, |d| (d.billed_seconds + 59) / 60);
                                        let spent = today.as_ref().map_or(0, |d| d.cost_rial);
                                        view! {
                                            <div class="stat">
                                                <span class="stat-label">{t.today_calls}</span>
                                                <span class="stat-value" data-testid="today-calls">{lang.int(calls)}</span>
                                                <span class="stat-note">{t.answer_rate}": "{rate}</span>
                                            </div>
                                            <div class="stat">
                                                <span class="stat-label">{t.minutes_today}</span>
                                                <span class="stat-value">{lang.int(minutes)}</span>
                                                <span class="stat-note">{t.spent_today}": "{Rial::new(spent).display_toman(lang)}</span>
                                            </div>
                                            <div class="stat">
                                                <span class="stat-label">{t.days_left}</span>
                                                <span class="stat-value" data-testid="days-left">{n.days_left.map_or_else(|| "—".to_owned(), |d| lang.int(d))}</span>
                                                <span class="stat-note">{t.days_left_note}</span>
                                            </div>
                                        }
                                    }
                                    <section class="card chart-card">
                                        <h2>{t.chart_title}</h2>
                                        <div class="chart-wrap" dir="ltr" data-testid="activity-chart" inner_html=crate::pages::chart::activity_svg(lang, &n.days)></div>
                                        <p class="legend"><span class="key calls"></span>{t.chart_calls}" "<span class="key minutes"></span>{t.chart_minutes}</p>
                                    </section>
                                    <div class="stat">
                                        <ActionForm action=threshold>
                                            <Csrf token=csrf.clone() />
                                            <Field label=t.low_balance_setting name="minutes" errors=threshold_errors lang ltr=true
                                                value=n.low_balance_minutes.to_string() />
                                            {threshold_saved.then(|| view! { <small class="hint">{t.saved}</small> })}
                                            <button type="submit" class="button small">{t.save}</button>
                                        </ActionForm>
                                    </div>
                                }.into_any(),
                                Err(err) => view! { <p class="alert error">{err.message(lang)}</p> }.into_any(),
                            }
                        })}}
                    </Suspense>
                </div>
            }
        } />
    }
}
