//! Integration tests: the real server on port 0, against SQLite and PostgreSQL.

mod accounts;
mod helpers;
mod security;
mod team;
