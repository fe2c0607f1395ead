//! Command-line interface of the `pol` binary.

use clap::{Parser, Subcommand};

/// Pol: masked calling for ride-hailing operators.
#[derive(Debug, Parser)]
#[command(name = "pol", version, about)]
pub struct Cli {
    /// What to do (default: serve).
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the web panel and API (the default).
    Serve,
    /// Apply database migrations and exit.
    Migrate,
    /// Print the JSON API's OpenAPI 3.1 document (docs/openapi.json is this output).
    Openapi,
    /// Platform administrators.
    Admin {
        /// What to do with admins.
        #[command(subcommand)]
        command: AdminCommand,
    },
    /// Talk-time credit.
    Credit {
        /// What to do with credit.
        #[command(subcommand)]
        command: CreditCommand,
    },
    /// API tokens.
    Token {
        /// What to do with tokens.
        #[command(subcommand)]
        command: TokenCommand,
    },
    /// Tenants (operators).
    Tenant {
        /// What to do with tenants.
        #[command(subcommand)]
        command: TenantCommand,
    },
}

/// `pol admin …`.
#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Create a platform admin (or promote an existing account), reading the password from stdin.
    Create {
        /// The admin's e-mail.
        #[arg(long)]
        email: String,
        /// Read the password from standard input (required: passwords never go on the command line).
        #[arg(long, required = true)]
        password_stdin: bool,
    },
}

/// `pol tenant …`.
#[derive(Debug, Subcommand)]
pub enum TenantCommand {
    /// Create a tenant and its owner; a new owner gets a link to choose a password.
    Create {
        /// Company name.
        #[arg(long)]
        name: String,
        /// Owner's e-mail.
        #[arg(long)]
        owner_email: String,
    },
}

/// `pol credit …`.
#[derive(Debug, Subcommand)]
pub enum CreditCommand {
    /// Give a tenant free talk time (recorded in the ledger and the audit log).
    Add {
        /// Tenant id, or its exact name.
        #[arg(long)]
        tenant: String,
        /// Minutes to add.
        #[arg(long, value_parser = clap::value_parser!(i64).range(1..=1_000_000))]
        minutes: i64,
        /// Why (required; shown in the ledger).
        #[arg(long)]
        reason: String,
    },
}

/// `pol token …`.
#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Issue an API token for a tenant and print it (it is shown only this once).
    Create {
        /// Tenant id, or its exact name.
        #[arg(long)]
        tenant: String,
        /// A label for the token (e.g. "dispatch server").
        #[arg(long)]
        name: String,
    },
}
