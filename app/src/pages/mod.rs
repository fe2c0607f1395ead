//! One module per area of the panel.

pub mod admin;
pub mod auth;
pub mod billing;
pub mod calls;
pub mod chart;
pub mod docs;
pub mod invite;
pub mod landing;
pub mod not_found;
pub mod panel;
pub mod settings;

use leptos_router::hooks::use_query_map;

/// Whether the query string carries `key` (e.g. `?saved=1` after a successful form).
pub fn query_flag(key: &'static str) -> bool {
    use leptos::prelude::GetUntracked;
    use_query_map().get_untracked().get(key).is_some()
}

/// A query parameter's value.
pub fn query_value(key: &'static str) -> Option<String> {
    use leptos::prelude::GetUntracked;
    use_query_map().get_untracked().get(key)
}
