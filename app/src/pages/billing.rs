//! Buying talk time: the top-up page, payment history, the payment result and receipt, and the
//! built-in test gateway's page.

use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_params_map;

use super::not_found::NotFoundBody;
use crate::api::{
    get_payment, get_test_charge, get_top_up_options, list_payments, PaymentView, SessionView,
    StartTopUp, TopUpView, UserView,
};
use crate::components::{
    action_error, form_errors, Csrf, FormAlert, Panel, PublicLayout, Submit, WithSession,
};
use crate::domain::digits::normalize_digits;
use crate::domain::tariff::seconds_for;
use crate::domain::Rial;
use crate::error::AppError;
use crate::i18n::Lang;

/// Minutes and rate a Toman amount buys at the tiers shown.
fn offer(view: &TopUpView, toman: i64) -> Option<(i64, Rial)> {
    let amount = Rial::from_toman(toman);
    let tier = view
        .tiers
        .iter()
        .rev()
        .find(|t| amount.rial() >= t.min_amount_rial)?;
    let rate = Rial::new(tier.rate_rial_per_minute);
    Some((seconds_for(amount, rate) / 60, rate))
}

/// `/billing`: packages and a custom amount with a live "you get N minutes".
#[component]
pub fn TopUp() -> impl IntoView {
    let options = Resource::new(|| (), |_| get_top_up_options());
    let action = ServerAction::<StartTopUp>::new();
    let errors = form_errors(action);
    let error = action_error(action);
    view! {
        <Panel render=move |s: SessionView, _user: UserView| {
            let lang = s.lang;
            let t = lang.t();
            let csrf = s.csrf.clone();
            view! {
                <h1>{t.top_up_title}</h1>
                <p class="muted">{t.top_up_lead}</p>
                <FormAlert error lang />
                <Suspense fallback=move || view! { <p>{t.loading}</p> }>
                    {move || {
                        let csrf = csrf.clone();
                        Suspend::new(async move {
                            let view_data = match options.await {
                                Ok(v) => v,
                                Err(err) => return view! { <p class="alert error">{err.message(lang)}</p> }.into_any(),
                            };
                            let packages = view_data.packages_toman.iter().map(|&toman| {
                                let (minutes, rate) = offer(&view_data, toman).unwrap_or((0, Rial::new(0)));
                                let token = csrf.clone();
                                view! {
                                    <ActionForm action attr:class="package">
                                        <Csrf token />
                                        <input type="hidden" name="amount" value=toman.to_string() />
                                        <span class="package-minutes">{format!("{} {}", lang.int(minutes), t.minutes)}</span>
                                        <span class="package-price">{Rial::from_toman(toman).display_toman(lang)}</span>
                                        <span class="muted">{rate.display_toman(lang)}" "{t.top_up_per_minute}</span>
                                        <button type="submit" class="button" data-testid=format!("buy-{toman}")>{t.top_up_pay}</button>
                                    </ActionForm>
                                }
                            }).collect_view();
                            let typed = RwSignal::new(String::new());
                            let live = {
                                let view_data = view_data.clone();
                                move || {
                                    let toman: i64 = normalize_digits(&typed.get()).chars().filter(char::is_ascii_digit).collect::<String>().parse().ok()?;
                                    (toman >= 10_000).then(|| offer(&view_data, toman)).flatten()
                                }
                            };
                            view! {
                                {view_data.test_mode.then(|| view! { <p class="alert warning" data-testid="test-mode">{t.test_mode}</p> })}
                                <div class="packages">{packages}</div>
                                <section class="card">
                                    <h2>{t.top_up_custom}</h2>
                                    <ActionForm action>
                                        <Csrf token=csrf.clone() />
                                        <div class="field" class:invalid=move || errors.get().and_then(|f| f.problem("amount")).is_some()>
                                            <label for="amount">{t.top_up_custom}</label>
                                            <input id="amount" name="amount" inputmode="numeric" dir="ltr" required=true
                                                on:input=move |ev| typed.set(event_target_value(&ev)) />
                                            <small class="hint" data-testid="live-offer">
                                                {move || live().map(|(minutes, rate)| format!("{} {} {} {} {}", t.top_up_you_get, lang.int(minutes), t.minutes, t.top_up_at, rate.display_toman(lang)))}
                                            </small>
                                            <small class="field-error">{move || errors.get().and_then(|f| f.problem("amount")).map(|p| t.problem(p))}</small>
                                        </div>
                                        <Submit label=t.top_up_pay pending=action.pending().into() />
                                    </ActionForm>
                                </section>
                            }.into_any()
                        })
                    }}
                </Suspense>
            }
        } />
    }
}

fn status_badge(lang: Lang, status: &str) -> impl IntoView {
    view! { <span class=format!("status status-{status}")>{lang.t().payment_status(status)}</span> }
}

/// `/billing/payments`: the history.
#[component]
pub fn Payments() -> impl IntoView {
    let payments = Resource::new(|| (), |_| list_payments());
    view! {
        <Panel render=move |s: SessionView, _user: UserView| {
            let lang = s.lang;
            let t = lang.t();
            view! {
                <h1>{t.payments_title}</h1>
                <Suspense fallback=move || view! { <p>{t.loading}</p> }>
                    {move || Suspend::new(async move {
                        match payments.await {
                            Ok(list) if list.is_empty() => view! { <p class="muted">{t.payments_empty}</p> }.into_any(),
                            Ok(list) => {
                                let rows = list.into_iter().map(|p| view! {
                                    <tr>
                                        <td><A href=format!("/billing/payments/{}", p.id)>{lang.datetime(p.created_at)}</A></td>
                                        <td>{Rial::new(p.amount_rial).display_toman(lang)}</td>
                                        <td>{format!("{} {}", lang.int(p.seconds / 60), t.minutes)}</td>
                                        <td>{status_badge(lang, &p.status)}</td>
                                        <td><bdi>{p.ref_id.clone().map(|r| lang.num(r))}</bdi></td>
                                    </tr>
                                }).collect_view();
                                view! {
                                    <table class="table" data-testid="payments">
                                        <thead><tr><th>{t.payment_date}</th><th>{t.payment_amount}</th><th>{t.payment_minutes}</th><th>{t.payment_status}</th><th>{t.payment_ref}</th></tr></thead>
                                        <tbody>{rows}</tbody>
                                    </table>
                                }.into_any()
                            }
                            Err(err) => view! { <p class="alert error">{err.message(lang)}</p> }.into_any(),
                        }
                    })}
                </Suspense>
            }
        } />
    }
}

fn receipt(lang: Lang, p: &PaymentView) -> impl IntoView {
    let t = lang.t();
    view! {
        <dl class="receipt" data-testid="receipt">
            <dt>{t.company}</dt><dd>{p.tenant_name.clone()}</dd>
            <dt>{t.payment_amount}</dt><dd>{Rial::new(p.amount_rial).display_toman(lang)}</dd>
            <dt>{t.payment_minutes}</dt><dd>{format!("{} {}", lang.int(p.seconds / 60), t.minutes)}</dd>
            <dt>{t.price_rate}</dt><dd>{Rial::new(p.rate_rial_per_minute).display_toman(lang)}</dd>
            <dt>{t.payment_status}</dt><dd>{status_badge(lang, &p.status)}</dd>
            <dt>{t.payment_ref}</dt><dd data-testid="ref-id"><bdi>{p.ref_id.clone().map(|r| lang.num(r)).unwrap_or_else(|| "—".into())}</bdi></dd>
            <dt>{t.payment_card}</dt><dd><bdi dir="ltr">{p.card_pan.clone().unwrap_or_else(|| "—".into())}</bdi></dd>
            <dt>{t.payment_date}</dt><dd>{lang.datetime(p.created_at)}</dd>
        </dl>
    }
}

/// `/billing/payments/{id}`: the result of a payment and its printable receipt.
#[component]
pub fn Payment() -> impl IntoView {
    let params = use_params_map();
    let payment = Resource::new(
        move || params.read().get("id").unwrap_or_default(),
        get_payment,
    );
    view! {
        <Panel render=move |s: SessionView, _user: UserView| {
            let lang = s.lang;
            let t = lang.t();
            view! {
                <Suspense fallback=move || view! { <p>{t.loading}</p> }>
                    {move || Suspend::new(async move {
                        match payment.await {
                            Ok(p) => {
                                let (class, lead) = match p.status.as_str() {
                                    "paid" => ("alert success", t.payment_success),
                                    "pending" => ("alert warning", t.payment_pending_lead),
                                    _ => ("alert error", t.payment_failed_lead),
                                };
                                let retry = matches!(p.status.as_str(), "failed" | "canceled");
                                view! {
                                    <h1>{t.payment_title}" #"{lang.int(p.id)}</h1>
                                    <p class=class role="status" data-testid="payment-result">{lead}</p>
                                    <section class="card">{receipt(lang, &p)}</section>
                                    <div class="actions no-print">
                                        {retry.then(|| view! { <A href="/billing" attr:class="button">{t.payment_retry}</A> })}
                                        <button type="button" class="button secondary" on:click=|_| { let _ = window().print(); }>{t.payment_print}</button>
                                    </div>
                                }.into_any()
                            }
                            Err(AppError::NotFound) => view! { <NotFoundBody lang /> }.into_any(),
                            Err(err) => view! { <p class="alert error">{err.message(lang)}</p> }.into_any(),
                        }
                    })}
                </Suspense>
            }
        } />
    }
}

/// `/pay/test/{authority}`: the built-in test gateway, clearly marked.
#[component]
pub fn TestGatewayPage() -> impl IntoView {
    let params = use_params_map();
    let charge = Resource::new(
        move || params.read().get("authority").unwrap_or_default(),
        get_test_charge,
    );
    view! {
        <WithSession render=move |s: SessionView| {
            let lang = s.lang;
            let t = lang.t();
            let csrf = s.csrf.clone();
            view! {
                <PublicLayout session=s.clone()>
                    <section class="card narrow test-gateway">
                        <p class="alert warning">{t.test_mode}</p>
                        <h1>{t.test_gateway_title}</h1>
                        <Suspense fallback=move || view! { <p>{t.loading}</p> }>
                            {move || {
                                let csrf = csrf.clone();
                                Suspend::new(async move {
                                    match charge.await {
                                        Ok(c) if c.open => {
                                            let form = |decision: &'static str, label: &'static str, class: &'static str| view! {
                                                <form method="post" action="/api/test_gateway_decide" class="inline">
                                                    <Csrf token=csrf.clone() />
                                                    <input type="hidden" name="authority" value=c.authority.clone() />
                                                    <input type="hidden" name="decision" value=decision />
                                                    <button type="submit" class=class data-testid=format!("test-{decision}")>{label}</button>
                                                </form>
                                            };
                                            view! {
                                                <p>{t.test_gateway_lead}</p>
                                                <p class="stat-value">{Rial::new(c.amount_rial).display_toman(lang)}</p>
                                                <div class="actions">
                                                    {form("pay", t.test_gateway_pay, "button")}
                                                    {form("cancel", t.test_gateway_cancel, "button danger")}
                                                </div>
                                            }.into_any()
                                        }
                                        Ok(_) => view! { <p class="alert error">{t.err_link}</p> }.into_any(),
                                        Err(_) => view! { <NotFoundBody lang /> }.into_any(),
                                    }
                                })
                            }}
                        </Suspense>
                    </section>
                </PublicLayout>
            }
        } />
    }
}
