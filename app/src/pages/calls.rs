//! Call reports: the list with filters and a test-call form, and one call's detail with its
//! timeline and recording.

use leptos::prelude::*;
use leptos_meta::Meta;
use leptos_router::components::A;
use leptos_router::hooks::{use_params_map, use_query_map};

use super::not_found::NotFoundBody;
use crate::api::calls::{get_call, list_calls, CallSummaryView, PlaceTestCall};
use crate::api::{SessionView, UserView};
use crate::components::{
    action_error, form_errors, url_encode, Csrf, Field, FormAlert, Panel, Submit,
};
use crate::domain::{CallStatus, Rial};
use crate::error::AppError;
use crate::i18n::Lang;

/// The report's filters, as they appear in the URL.
const FILTERS: [&str; 5] = ["status", "from", "to", "number", "reference"];

fn status_badge(lang: Lang, status: CallStatus) -> impl IntoView {
    view! { <span class=format!("status status-{}", status.code()) data-testid="call-status">{lang.t().call_status(status)}</span> }
}

fn talk(lang: Lang, seconds: Option<i64>) -> String {
    seconds.map(|s| lang.duration(s)).unwrap_or_default()
}

fn cost(lang: Lang, rial: Option<i64>) -> String {
    rial.map(|r| Rial::new(r).display_toman(lang))
        .unwrap_or_default()
}

fn row(lang: Lang, call: CallSummaryView) -> impl IntoView {
    let t = lang.t();
    let first_is_driver = call.first_party == "driver";
    view! {
        <tr>
            <td><A href=format!("/calls/{}", call.id)>{lang.datetime(call.created_at)}</A></td>
            <td><bdi dir="ltr" class:first=!first_is_driver>{lang.phone(&call.passenger)}</bdi></td>
            <td><bdi dir="ltr" class:first=first_is_driver>{lang.phone(&call.driver)}</bdi></td>
            <td>
                {status_badge(lang, call.status)}
                {call.sandbox.then(|| view! { " "<span class="badge">{t.badge_sandbox}</span> })}
            </td>
            <td>{talk(lang, call.talk_seconds)}</td>
            <td>{cost(lang, call.cost_rial)}</td>
            <td><bdi>{call.reference.clone()}</bdi></td>
        </tr>
    }
}

/// A date filter: Jalali as typed text in Persian (`۱۴۰۵/۰۹/۱۴`), the browser's date picker in
/// English.
fn date_input(lang: Lang, name: &'static str, value: String) -> impl IntoView {
    match lang {
        Lang::Fa => view! { <input id=name name=name inputmode="numeric" dir="ltr" placeholder="۱۴۰۵/۰۹/۱۴" value=value /> }.into_any(),
        Lang::En => view! { <input id=name name=name type="date" value=value /> }.into_any(),
    }
}

/// The report's filters: a plain GET form, so the URL carries them and works without JavaScript.
fn filter_form(lang: Lang, current: &leptos_router::params::ParamsMap) -> impl IntoView {
    let t = lang.t();
    let value = |key: &str| current.get(key).unwrap_or_default();
    let status_now = value("status");
    let options = CallStatus::ALL.map(|status| {
        let selected = status_now == status.code();
        view! { <option value=status.code() selected=selected>{t.call_status(status)}</option> }
    });
    let filters: String = FILTERS
        .iter()
        .filter_map(|key| {
            current
                .get(key)
                .filter(|v| !v.is_empty())
                .map(|v| format!("{key}={}", url_encode(&v)))
        })
        .collect::<Vec<_>>()
        .join("&");
    let export = format!("/calls/export.csv?{filters}");
    view! {
        <form method="get" action="/calls" class="card filters" data-testid="filters">
            <div class="field">
                <label for="status">{t.col_status}</label>
                <select id="status" name="status">
                    <option value="">{t.filter_all}</option>
                    {options}
                </select>
            </div>
            <div class="field">
                <label for="from">{t.filter_from}</label>
                {date_input(lang, "from", value("from"))}
            </div>
            <div class="field">
                <label for="to">{t.filter_to}</label>
                {date_input(lang, "to", value("to"))}
            </div>
            <div class="field">
                <label for="number">{t.filter_number}</label>
                <input id="number" name="number" inputmode="numeric" dir="ltr" value=value("number") />
            </div>
            <div class="field">
                <label for="reference">{t.col_reference}</label>
                <input id="reference" name="reference" dir="auto" value=value("reference") />
            </div>
            <div class="actions">
                <button type="submit" class="button small">{t.filter_submit}</button>
                <A href="/calls">{t.newest_calls}</A>
                <a href=export download="pol-calls.csv" data-testid="export-csv">{t.export_csv}</a>
            </div>
        </form>
    }
}

/// `/calls`: the call report.
#[component]
pub fn Calls() -> impl IntoView {
    let query = use_query_map();
    let page = Resource::new(
        move || query.get(),
        |q| {
            list_calls(
                q.get("status"),
                q.get("from"),
                q.get("to"),
                q.get("number"),
                q.get("reference"),
                q.get("cursor"),
            )
        },
    );
    let action = ServerAction::<PlaceTestCall>::new();
    let errors = form_errors(action);
    let error = action_error(action);
    view! {
        <Panel render=move |s: SessionView, _user: UserView| {
            let lang = s.lang;
            let t = lang.t();
            let csrf = s.csrf.clone();
            let current = query.get_untracked();
            let filters: String = FILTERS
                .iter()
                .filter_map(|key| current.get(key).filter(|v| !v.is_empty()).map(|v| format!("{key}={}", url_encode(&v))))
                .collect::<Vec<_>>()
                .join("&");
            view! {
                <h1>{t.calls_title}</h1>
                <Suspense fallback=move || view! { <p>{t.loading}</p> }>
                    {move || {
                        let csrf = csrf.clone();
                        let filters = filters.clone();
                        let current = current.clone();
                        Suspend::new(async move {
                            let page = match page.await {
                                Ok(page) => page,
                                Err(err) => return view! { <p class="alert error">{err.message(lang)}</p> }.into_any(),
                            };
                            let next = page.next_cursor.clone().map(|cursor| {
                                let sep = if filters.is_empty() { "" } else { "&" };
                                format!("/calls?{filters}{sep}cursor={cursor}")
                            });
                            let empty = page.calls.is_empty();
                            let rows = page.calls.into_iter().map(|c| row(lang, c)).collect_view();
                            view! {
                                {page.sandbox.then(|| view! { <p class="alert info" data-testid="sandbox-notice">{t.calls_sandbox}</p> })}
                                {filter_form(lang, &current)}
                                {page.invalid_filters.then(|| view! { <p class="alert warning">{t.invalid_filters}</p> })}
                                {if empty {
                                    view! { <p class="muted" data-testid="calls-empty">{t.calls_empty}</p> }.into_any()
                                } else {
                                    view! {
                                        <div class="table-wrap">
                                            <table class="table" data-testid="calls">
                                                <thead><tr>
                                                    <th>{t.col_time}</th><th>{t.col_passenger}</th><th>{t.col_driver}</th>
                                                    <th>{t.col_status}</th><th>{t.col_talk}</th><th>{t.col_cost}</th><th>{t.col_reference}</th>
                                                </tr></thead>
                                                <tbody>{rows}</tbody>
                                            </table>
                                        </div>
                                    }.into_any()
                                }}
                                {next.map(|href| view! { <p class="pager"><a href=href data-testid="older-calls">{t.older_calls}" ›"</a></p> })}
                                {page.can_call.then(|| view! {
                                    <section class="card">
                                        <h2>{t.test_call_title}</h2>
                                        <p class="muted">{t.test_call_lead}</p>
                                        <FormAlert error lang />
                                        <ActionForm action attr:class="inline-fields">
                                            <Csrf token=csrf.clone() />
                                            <Field label=t.col_passenger name="passenger" kind="tel" errors lang ltr=true autocomplete="off" />
                                            <Field label=t.col_driver name="driver" kind="tel" errors lang ltr=true autocomplete="off" />
                                            <Submit label=t.test_call_submit pending=action.pending().into() />
                                        </ActionForm>
                                    </section>
                                })}
                            }.into_any()
                        })
                    }}
                </Suspense>
            }
        } />
    }
}

/// `/calls/:id`: one call.
#[component]
pub fn CallDetail() -> impl IntoView {
    let params = use_params_map();
    let detail = Resource::new(move || params.get().get("id").unwrap_or_default(), get_call);
    view! {
        <Panel render=move |s: SessionView, _user: UserView| {
            let lang = s.lang;
            let t = lang.t();
            view! {
                <p><A href="/calls">"‹ "{t.back_to_calls}</A></p>
                <Suspense fallback=move || view! { <p>{t.loading}</p> }>
                    {move || Suspend::new(async move {
                        let d = match detail.await {
                            Ok(d) => d,
                            Err(AppError::NotFound) => return view! { <NotFoundBody lang /> }.into_any(),
                            Err(err) => return view! { <p class="alert error">{err.message(lang)}</p> }.into_any(),
                        };
                        let live = !d.call.status.is_terminal();
                        let first_is_driver = d.call.first_party == "driver";
                        let stamp = move |ms: Option<i64>| ms.map(|ms| lang.clock(ms)).unwrap_or_default();
                        let legs = d.legs.iter().map(|leg| {
                            let cause = leg.cause.as_deref().map(|c| t.cause(c).to_owned()).unwrap_or_default();
                            let sip = leg.sip_code.map(|c| format!(" (SIP {c})")).unwrap_or_default();
                            view! {
                                <tr>
                                    <td>{if leg.position == "first" { t.leg_first } else { t.leg_second }}" · "{t.party(&leg.party)}</td>
                                    <td><bdi dir="ltr">{lang.phone(&leg.number)}</bdi></td>
                                    <td>{stamp(leg.dialled_at)}</td>
                                    <td>{stamp(leg.ringing_at)}</td>
                                    <td>{stamp(leg.answered_at)}</td>
                                    <td>{stamp(leg.ended_at)}</td>
                                    <td>{cause}{sip}</td>
                                </tr>
                            }
                        }).collect_view();
                        let events = d.events.iter().map(|e| {
                            let leg = e.leg.as_deref().map(|l| format!(" · {}", if l == "first" { t.leg_first } else { t.leg_second })).unwrap_or_default();
                            let detail = if e.kind == "leg_ended" || e.call_ended() {
                                t.cause(&e.detail).to_owned()
                            } else if e.kind == "queued" {
                                e.detail.parse::<i64>().map(|n| t.ev_held.replace("{n}", &lang.int(n))).unwrap_or_default()
                            } else {
                                lang.num(&e.detail)
                            };
                            view! {
                                <li>
                                    <time>{lang.clock(e.at)}</time>
                                    <span>{t.event(&e.kind).to_owned()}{leg}</span>
                                    <bdi class="muted" dir="auto">{detail}</bdi>
                                </li>
                            }
                        }).collect_view();
                        let recording = match &d.recording {
                            Some(r) => view! {
                                <audio controls=true preload="metadata" src=r.url.clone() data-testid="recording"></audio>
                                <p><a href=r.url.clone() download=format!("{}.wav", d.call.id)>{t.call_download}</a>
                                   {r.bytes.map(|b| format!(" · {} KB", lang.int(b / 1024)))}</p>
                            }.into_any(),
                            None => view! { <p class="muted">{t.call_no_recording}</p> }.into_any(),
                        };
                        view! {
                            {live.then(|| view! { <Meta http_equiv="refresh" content="2" /> <p class="alert info">{t.call_live}</p> })}
                            <h1>{t.call_title}" "<bdi dir="ltr" class="muted small">{d.call.id.clone()}</bdi></h1>
                            <p>
                                {status_badge(lang, d.call.status)}
                                {d.call.sandbox.then(|| view! { " "<span class="badge" data-testid="sandbox-badge">{t.badge_sandbox}</span> })}
                            </p>
                            <dl class="facts">
                                <dt>{t.call_placed}</dt><dd>{lang.datetime(d.call.created_at)}</dd>
                                <dt>{t.col_passenger}</dt><dd><bdi dir="ltr">{lang.phone(&d.call.passenger)}</bdi>{(!first_is_driver).then(|| format!(" ({})", t.leg_first))}</dd>
                                <dt>{t.col_driver}</dt><dd><bdi dir="ltr">{lang.phone(&d.call.driver)}</bdi>{first_is_driver.then(|| format!(" ({})", t.leg_first))}</dd>
                                <dt>{t.col_talk}</dt><dd data-testid="talk">{talk(lang, d.call.talk_seconds)}</dd>
                                <dt>{t.call_billed}</dt><dd>{d.billed_seconds.map(|b| format!("{} {}", lang.int(b), t.seconds_short))}</dd>
                                <dt>{t.col_cost}</dt><dd>{cost(lang, d.call.cost_rial)}</dd>
                                <dt>{t.call_limit}</dt><dd>{lang.duration(d.max_duration)}</dd>
                                <dt>{t.col_cause}</dt><dd>{d.end_cause.as_deref().map(|c| t.cause(c).to_owned())}</dd>
                                <dt>{t.col_reference}</dt><dd><bdi>{d.call.reference.clone()}</bdi></dd>
                            </dl>
                            <section class="card">
                                <h2>{t.call_recording}</h2>
                                {recording}
                            </section>
                            <h2>{t.call_legs}</h2>
                            <div class="table-wrap">
                                <table class="table">
                                    <thead><tr><th></th><th></th><th>{t.col_dialled}</th><th>{t.col_ringing}</th><th>{t.col_answered}</th><th>{t.col_ended}</th><th>{t.col_cause}</th></tr></thead>
                                    <tbody>{legs}</tbody>
                                </table>
                            </div>
                            <h2>{t.call_timeline}</h2>
                            <ol class="timeline" data-testid="timeline">{events}</ol>
                        }.into_any()
                    })}
                </Suspense>
            }
        } />
    }
}
