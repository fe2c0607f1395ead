//! The `pol` server: configuration, start-up and the HTTP router around the Leptos app.

pub mod api_v1;
pub mod body_limit;
pub mod cli;
pub mod media;
pub mod reports;
pub mod resources;
pub mod routes;
pub mod startup;
pub mod welcome;

pub use app::backend::config::Config;
pub use startup::Application;
