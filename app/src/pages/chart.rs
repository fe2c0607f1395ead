//! The dashboard's 30-day chart, drawn on the server as SVG (no chart library in the WASM).

use crate::api::DayView;
use crate::i18n::Lang;

const WIDTH: f64 = 720.0;
const HEIGHT: f64 = 220.0;
const LEFT: f64 = 36.0;
const RIGHT: f64 = 44.0;
const TOP: f64 = 12.0;
const BOTTOM: f64 = 28.0;

/// A round axis maximum at or above `value` whose quarters are whole numbers (4 · 1, 2, 5 ×
/// 10ⁿ), so the four grid lines carry distinct labels.
fn nice_max(value: i64) -> i64 {
    let value = value.max(1);
    let mut step = 1;
    loop {
        for factor in [4, 8, 20] {
            if factor * step >= value {
                return factor * step;
            }
        }
        step *= 10;
    }
}

/// Calls per day as bars (left axis) and talk minutes as a line (right axis). Time runs left to
/// right in both languages, as Persian business charts do; labels use the language's digits and
/// calendar, and every bar has a tooltip.
pub fn activity_svg(lang: Lang, days: &[DayView]) -> String {
    let t = lang.t();
    let plot_w = WIDTH - LEFT - RIGHT;
    let plot_h = HEIGHT - TOP - BOTTOM;
    let max_calls = nice_max(days.iter().map(|d| d.calls).max().unwrap_or(0));
    let max_minutes = nice_max(
        days.iter()
            .map(|d| (d.billed_seconds + 59) / 60)
            .max()
            .unwrap_or(0),
    );
    let slot = plot_w / days.len().max(1) as f64;
    let y_calls = |v: i64| TOP + plot_h - plot_h * v as f64 / max_calls as f64;
    let y_minutes = |v: i64| TOP + plot_h - plot_h * v as f64 / max_minutes as f64;
    let mut svg = format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{}" class="chart">"#,
        t.chart_title
    );
    // Grid and axes labels.
    for i in 0..=4 {
        let y = TOP + plot_h * f64::from(i) / 4.0;
        let calls = max_calls * i64::from(4 - i) / 4;
        let minutes = max_minutes * i64::from(4 - i) / 4;
        svg.push_str(&format!(
            r#"<line x1="{LEFT}" x2="{}" y1="{y:.1}" y2="{y:.1}" class="grid"/><text x="{}" y="{:.1}" class="axis calls" text-anchor="end">{}</text><text x="{}" y="{:.1}" class="axis minutes" text-anchor="start">{}</text>"#,
            WIDTH - RIGHT,
            LEFT - 6.0,
            y + 4.0,
            lang.int(calls),
            WIDTH - RIGHT + 6.0,
            y + 4.0,
            lang.int(minutes),
        ));
    }
    let mut line = String::new();
    for (i, day) in days.iter().enumerate() {
        let x = LEFT + slot * i as f64;
        let top = y_calls(day.calls);
        let minutes = (day.billed_seconds + 59) / 60;
        svg.push_str(&format!(
            r#"<rect x="{:.1}" y="{top:.1}" width="{:.1}" height="{:.1}" class="bar"><title>{}: {} {}, {} {}</title></rect>"#,
            x + slot * 0.15,
            slot * 0.7,
            (TOP + plot_h - top).max(0.0),
            lang.day_label(day.start_ms),
            lang.int(day.calls),
            t.chart_calls,
            lang.int(minutes),
            t.chart_minutes,
        ));
        line.push_str(&format!(
            "{}{:.1},{:.1}",
            if i == 0 { "M" } else { " L" },
            x + slot / 2.0,
            y_minutes(minutes)
        ));
        if i % 5 == (days.len() + 4) % 5 {
            svg.push_str(&format!(
                r#"<text x="{:.1}" y="{}" class="axis" text-anchor="middle">{}</text>"#,
                x + slot / 2.0,
                HEIGHT - 8.0,
                lang.day_label(day.start_ms)
            ));
        }
    }
    svg.push_str(&format!(r#"<path d="{line}" class="line"/></svg>"#));
    svg
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(i: i64, calls: i64, billed: i64) -> DayView {
        DayView {
            start_ms: 1_796_416_200_000 + i * 86_400_000,
            calls,
            answered: calls,
            billed_seconds: billed,
            cost_rial: 0,
        }
    }

    #[test]
    fn axes_end_on_round_numbers() {
        assert_eq!(nice_max(0), 4);
        assert_eq!(nice_max(7), 8);
        assert_eq!(nice_max(12), 20);
        assert_eq!(nice_max(480), 800);
        for value in [1, 3, 9, 33, 150, 7000] {
            assert_eq!(nice_max(value) % 4, 0);
        }
    }

    #[test]
    fn every_day_gets_a_bar_with_a_tooltip_in_the_users_language() {
        let days: Vec<DayView> = (0..30).map(|i| day(i, i % 4, i * 60)).collect();
        let fa = activity_svg(Lang::Fa, &days);
        assert_eq!(fa.matches("<rect").count(), 30);
        assert!(
            fa.contains("۹/۱۴: ۰ تماس‌ها"),
            "Jalali labels with Persian digits"
        );
        assert_eq!(fa.matches("<path").count(), 1);
        let en = activity_svg(Lang::En, &days);
        assert!(en.contains("12/05: 0 Calls"));
        assert!(!en.contains("NaN"));
    }

    #[test]
    fn a_quiet_month_still_draws() {
        let days: Vec<DayView> = (0..30).map(|i| day(i, 0, 0)).collect();
        let svg = activity_svg(Lang::Fa, &days);
        assert!(!svg.contains("NaN") && !svg.contains("inf"));
    }
}
