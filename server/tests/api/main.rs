//! Integration tests: the real server on port 0, against SQLite and PostgreSQL.

// A failed unwrap is a failed test with a clear message; that is what these are for.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod accounts;
mod admin;
mod billing;
mod calls;
mod cli;
mod helpers;
mod openapi;
mod payments;
mod reports;
mod security;
mod sip;
mod team;
mod webhooks;
mod welcome;
