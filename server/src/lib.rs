//! The `pol` server: configuration, start-up and the HTTP router around the Leptos app.

pub mod cli;
pub mod routes;
pub mod startup;

pub use app::backend::config::Config;
pub use startup::Application;
