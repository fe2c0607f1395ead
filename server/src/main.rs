//! The `pol` binary.

use clap::Parser;
use std::io::Read;
use std::process::ExitCode;
use tracing_subscriber::EnvFilter;

use server::cli::{AdminCommand, Cli, Command, CreditCommand, TenantCommand, TokenCommand};
use server::{Application, Config};

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,tower_sessions=warn")),
        )
        .init();
    match run(Cli::parse()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    if matches!(cli.command, Some(Command::Openapi)) {
        println!("{}", server::api_v1::openapi().to_pretty_json()?);
        return Ok(());
    }
    let config = Config::load()?;
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => Application::build(config).await?.run().await,
        Command::Openapi => Ok(()),
        Command::Migrate => {
            server::startup::connect(&config).await?;
            println!("migrations applied");
            Ok(())
        }
        Command::Admin {
            command:
                AdminCommand::Create {
                    email,
                    password_stdin: _,
                },
        } => {
            let mut password = String::new();
            std::io::stdin().read_to_string(&mut password)?;
            let password = password.trim_end_matches(['\n', '\r']);
            let state = server::startup::state(config).await?;
            let id =
                app::backend::accounts::create_platform_admin(&state, &email, password).await?;
            println!("platform admin {email} ready (user {id})");
            Ok(())
        }
        Command::Credit {
            command:
                CreditCommand::Add {
                    tenant,
                    minutes,
                    reason,
                },
        } => {
            let state = server::startup::state(config).await?;
            let tenant_id = server::startup::resolve_tenant(&state, &tenant).await?;
            app::backend::billing::admin_credit(&state.db, tenant_id, minutes * 60, &reason, None)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            let summary = app::backend::billing::summary(&state.db, tenant_id)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            println!(
                "tenant {tenant_id}: +{minutes} min, {} min available",
                summary.available_seconds / 60
            );
            Ok(())
        }
        Command::Token {
            command: TokenCommand::Create { tenant, name },
        } => {
            let state = server::startup::state(config).await?;
            let tenant_id = server::startup::resolve_tenant(&state, &tenant).await?;
            let (token, _) = app::backend::api_tokens::create(&state, tenant_id, &name, None)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            println!("{token}");
            Ok(())
        }
        Command::Tenant {
            command: TenantCommand::Create { name, owner_email },
        } => {
            let state = server::startup::state(config).await?;
            let (id, link) =
                app::backend::accounts::create_tenant_for(&state, &name, &owner_email).await?;
            println!("tenant {id} created");
            if let Some(link) = link {
                println!("the owner sets a password here (also e-mailed): {link}");
            }
            Ok(())
        }
    }
}
