//! `/docs`: the JSON API for the operator's developers, with examples that use their own base
//! URL and token prefix.

use leptos::prelude::*;

use crate::api::calls::get_api_docs;
use crate::api::{SessionView, UserView};
use crate::components::Panel;

/// The codes every error document may carry.
const ERRORS: [(&str, u16, &str); 11] = [
    (
        "unauthorized",
        401,
        "No token, an unknown token or a revoked one.",
    ),
    (
        "insufficient_credit",
        402,
        "Less than one billing increment of talk time left.",
    ),
    (
        "not_found",
        404,
        "No such call in your account (another tenant's id answers this too).",
    ),
    (
        "invalid_number",
        422,
        "`field` names the party whose number is not an Iranian mobile.",
    ),
    (
        "same_number",
        422,
        "The passenger and the driver have the same number.",
    ),
    (
        "validation",
        422,
        "`errors` lists every bad field; unknown fields are refused.",
    ),
    (
        "idempotency_key_reused",
        422,
        "The Idempotency-Key was used with another body.",
    ),
    ("body_too_large", 413, "Bodies are limited to 16 KiB."),
    (
        "concurrency_limit",
        429,
        "Your calls in progress reached your limit.",
    ),
    (
        "rate_limited",
        429,
        "Too many requests for this token; see Retry-After.",
    ),
    ("internal", 500, "Our fault; it is logged."),
];

/// The sandbox's scripted phones.
const SANDBOX: [(&str, &str); 7] = [
    ("…0001", "busy (SIP 486)"),
    ("…0002", "rings, never answers"),
    ("…0003", "unreachable (SIP 404)"),
    ("…0004", "answers, hangs up 5 s into the conversation"),
    ("…0005", "rings, then declines (SIP 603)"),
    ("…7ddd", "answers and talks ddd seconds (…7061: 61 s)"),
    ("other", "rings 1–4 s, answers, talks 20–90 s"),
];

fn examples(base: &str, token: &str) -> [(&'static str, String); 3] {
    [
        (
            "curl",
            format!(
                "curl -X POST {base}/api/v1/calls \\\n  -H 'Authorization: Bearer {token}' \\\n  -H 'Content-Type: application/json' \\\n  -H 'Idempotency-Key: ride-4711' \\\n  -d '{{\"passenger\": \"09121234567\", \"driver\": \"09351234567\", \"reference\": \"ride-4711\"}}'"
            ),
        ),
        (
            "PHP",
            format!(
                "$ch = curl_init('{base}/api/v1/calls');\ncurl_setopt_array($ch, [\n  CURLOPT_POST => true,\n  CURLOPT_RETURNTRANSFER => true,\n  CURLOPT_HTTPHEADER => [\n    'Authorization: Bearer {token}',\n    'Content-Type: application/json',\n    'Idempotency-Key: ride-4711',\n  ],\n  CURLOPT_POSTFIELDS => json_encode(['passenger' => '09121234567', 'driver' => '09351234567', 'reference' => 'ride-4711']),\n]);\n$call = json_decode(curl_exec($ch), true);\necho $call['id'], ' ', $call['status'];"
            ),
        ),
        (
            "JavaScript",
            format!(
                "const res = await fetch('{base}/api/v1/calls', {{\n  method: 'POST',\n  headers: {{\n    Authorization: 'Bearer {token}',\n    'Content-Type': 'application/json',\n    'Idempotency-Key': 'ride-4711',\n  }},\n  body: JSON.stringify({{ passenger: '09121234567', driver: '09351234567', reference: 'ride-4711' }}),\n}});\nconst call = await res.json(); // 201: {{ id, status: 'queued', max_duration, billing, … }}"
            ),
        ),
    ]
}

/// `/docs`.
#[component]
pub fn ApiDocs() -> impl IntoView {
    let docs = Resource::new(|| (), |_| get_api_docs());
    view! {
        <Panel render=move |s: SessionView, _user: UserView| {
            let lang = s.lang;
            let t = lang.t();
            view! {
                <h1>{t.docs_title}</h1>
                <p class="muted">{t.docs_lead}" "<a href="/api/v1/openapi.json" data-testid="openapi-link">"openapi.json"</a></p>
                <Suspense fallback=move || view! { <p>{t.loading}</p> }>
                    {move || Suspend::new(async move {
                        let d = match docs.await {
                            Ok(d) => d,
                            Err(err) => return view! { <p class="alert error">{err.message(lang)}</p> }.into_any(),
                        };
                        let token = d.token_prefix.clone().map_or_else(|| "pol_…".to_owned(), |p| format!("{p}…"));
                        let operations = d.operations.iter().map(|o| view! {
                            <tr><td><code>{o.method.clone()}</code></td><td><code dir="ltr">{o.path.clone()}</code></td><td dir="ltr">{o.summary.clone()}</td></tr>
                        }).collect_view();
                        let examples = examples(&d.base_url, &token).map(|(name, code)| view! {
                            <h3>{name}</h3>
                            <div class="copy-block">
                                <pre dir="ltr" data-testid=format!("example-{name}")>{code.clone()}</pre>
                                <button type="button" class="button small" data-code=code
                                    onclick="navigator.clipboard&&navigator.clipboard.writeText(this.dataset.code)">{t.token_copy}</button>
                            </div>
                        });
                        let errors = ERRORS.map(|(code, status, meaning)| view! {
                            <tr><td><code>{code}</code></td><td>{lang.int(i64::from(status))}</td><td dir="ltr">{meaning}</td></tr>
                        });
                        let sandbox = SANDBOX.map(|(ending, behaviour)| view! {
                            <tr><td><code dir="ltr">{ending}</code></td><td dir="ltr">{behaviour}</td></tr>
                        });
                        view! {
                            <section class="card">
                                <h2>{t.docs_endpoints}</h2>
                                <table class="table" data-testid="operations" dir="ltr"><tbody>{operations}</tbody></table>
                            </section>
                            <section class="card">
                                <h2>{t.docs_examples}</h2>
                                {d.token_prefix.is_none().then(|| view! { <p class="alert warning">{t.docs_no_token}" "<a href="/settings/tokens">{t.nav_tokens}</a></p> })}
                                {examples}
                            </section>
                            <section class="card">
                                <h2>{t.docs_errors}</h2>
                                <table class="table" dir="ltr"><tbody>{errors}</tbody></table>
                            </section>
                            {d.sandbox.then(|| view! {
                                <section class="card">
                                    <h2>{t.docs_sandbox}</h2>
                                    <table class="table" dir="ltr"><tbody>{sandbox}</tbody></table>
                                </section>
                            })}
                            <section class="card">
                                <h2>{t.docs_webhooks}</h2>
                                <p dir="ltr"><code>"Pol-Signature: t=<unix>,v1=<hex HMAC-SHA256(secret, \"<t>.<body>\")>"</code></p>
                                <p><a href="/settings/webhooks">{t.nav_webhooks}</a></p>
                            </section>
                        }.into_any()
                    })}
                </Suspense>
            }
        } />
    }
}
