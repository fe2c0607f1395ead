//! The public landing page: what Pol does and what it costs.

use leptos::prelude::*;
use leptos_router::components::A;

use crate::api::SessionView;
use crate::components::{PublicLayout, WithSession};
use crate::domain::tariff::{seconds_for, tier_for, DEFAULT_TIERS, PACKAGES_TOMAN};
use crate::domain::Rial;

/// `/`.
#[component]
pub fn Landing() -> impl IntoView {
    view! {
        <WithSession render=|s: SessionView| {
            let lang = s.lang;
            let t = lang.t();
            let rows = PACKAGES_TOMAN
                .iter()
                .filter_map(|&toman| {
                    let amount = Rial::from_toman(toman);
                    let tier = tier_for(&DEFAULT_TIERS, amount)?;
                    let minutes = seconds_for(amount, tier.rate_per_minute) / 60;
                    Some(view! {
                        <tr>
                            <td>{amount.display_toman(lang)}</td>
                            <td>{format!("{} {}", lang.int(minutes), t.minutes)}</td>
                            <td>{tier.rate_per_minute.display_toman(lang)}</td>
                        </tr>
                    })
                })
                .collect_view();
            view! {
                <PublicLayout session=s.clone()>
                    <section class="hero">
                        <h1>{t.tagline}</h1>
                        <p class="lead">{t.hero_lead}</p>
                        <A href="/signup" attr:class="button large">{t.cta_start}</A>
                    </section>
                    <section class="how">
                        <h2>{t.how_title}</h2>
                        <ol class="steps">
                            <li>{t.how_1}</li>
                            <li>{t.how_2}</li>
                            <li>{t.how_3}</li>
                            <li>{t.how_4}</li>
                        </ol>
                    </section>
                    <section class="prices">
                        <h2>{t.prices_title}</h2>
                        <p>{t.prices_lead}</p>
                        <table class="table" data-testid="price-list">
                            <thead>
                                <tr>
                                    <th>{t.price_package}</th>
                                    <th>{t.price_minutes}</th>
                                    <th>{t.price_rate}</th>
                                </tr>
                            </thead>
                            <tbody>{rows}</tbody>
                        </table>
                    </section>
                </PublicLayout>
            }
        } />
    }
}
