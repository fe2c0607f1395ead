//! SQL, one module per table. Every function takes a [`Conn`](super::db::Conn) so services can
//! compose several in one transaction. Tenant-scoped functions take the tenant id first.

pub mod api_tokens;
pub mod audit;
pub mod billing;
pub mod calls;
pub mod email_tokens;
pub mod invitations;
pub mod memberships;
pub mod payments;
pub mod tenants;
pub mod throttle;
pub mod users;
pub mod webhooks;
pub mod welcome;

/// A column list (`"a, b, c"`) qualified with a table alias (`"t.a, t.b, t.c"`), for joins over
/// a module's column constant.
pub fn qualified(columns: &str, alias: &str) -> String {
    columns
        .split(',')
        .map(|c| format!("{alias}.{}", c.trim()))
        .collect::<Vec<_>>()
        .join(", ")
}
