//! Configuration from environment variables, with an optional TOML file underneath.

use anyhow::{bail, Context};
use std::collections::HashMap;
use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

/// A secret value. No `Serialize`, and `Debug` prints a placeholder, so it never reaches a log.
#[derive(Clone)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The secret itself; call only where it is used.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret([redacted])")
    }
}

/// Development (the embedded default) or production.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Environment {
    /// Test doubles allowed, secret generated on first start.
    Development,
    /// Refuses to start with test doubles or a default secret.
    Production,
}

/// Where outgoing mail goes.
#[derive(Debug, Clone)]
pub enum MailTransport {
    /// `.eml` files in a directory (the embedded default, a test double).
    Outbox(PathBuf),
    /// A real SMTP server, e.g. `smtps://user:pass@smtp.example.com:465`.
    Smtp(Secret),
}

/// How operators pay.
#[derive(Debug, Clone)]
pub enum PaymentConfig {
    /// The built-in test gateway (a test double).
    Test,
    /// Zarinpal, REST v4.
    Zarinpal {
        /// The gateway's base URL (its sandbox, production or any compatible host).
        base_url: String,
        /// Merchant id.
        merchant_id: Secret,
        /// How long to wait for an answer.
        timeout: std::time::Duration,
    },
}

/// Which telephony backend places calls.
#[derive(Debug, Clone, PartialEq)]
pub enum TelephonyConfig {
    /// Simulated phones (a test double), with time running `time_scale` times real time
    /// (`0.01` makes a minute last 0.6 s; for tests).
    Sandbox {
        /// Between 0.001 and 1.
        time_scale: f64,
    },
    /// Real calls through a SIP trunk.
    Sip(Box<telephony::sip::SipConfig>),
}

/// Everything the server reads from its environment.
#[derive(Debug, Clone)]
pub struct Config {
    /// Development or production.
    pub env: Environment,
    /// `sqlite://…` or `postgres://…`.
    pub database_url: String,
    /// Root of local state: the SQLite file, media, the mail outbox.
    pub data_dir: PathBuf,
    /// Address the HTTP server listens on.
    pub site_addr: SocketAddr,
    /// Base URL put in e-mailed links, without a trailing slash.
    pub public_url: String,
    /// Signs session cookies.
    pub secret: Secret,
    /// Where e-mail goes.
    pub mail: MailTransport,
    /// `From:` header of outgoing e-mail.
    pub mail_from: String,
    /// Take the client address from `X-Forwarded-For` (only behind a proxy you run).
    pub trust_proxy: bool,
    /// Allow test doubles in production (for staging installs).
    pub allow_test_doubles: bool,
    /// Payment gateway.
    pub payment: PaymentConfig,
    /// Telephony backend.
    pub telephony: TelephonyConfig,
    /// Calls of an engine silent this long are reconciled by another.
    pub engine_stale_after: std::time::Duration,
    /// API requests per second allowed per token (bursts of twice as many).
    pub api_rate_limit: u32,
    /// First webhook retry delay; each retry doubles it (up to an hour).
    pub webhook_backoff: std::time::Duration,
}

/// Reads settings from the environment first, then from the optional config file.
struct Source {
    file: HashMap<String, String>,
}

impl Source {
    fn get(&self, key: &str) -> Option<String> {
        std::env::var(key)
            .ok()
            .or_else(|| self.file.get(key).cloned())
            .filter(|v| !v.trim().is_empty())
    }

    fn flag(&self, key: &str) -> anyhow::Result<bool> {
        match self.get(key).as_deref() {
            None => Ok(false),
            Some("1" | "true" | "yes" | "on") => Ok(true),
            Some("0" | "false" | "no" | "off") => Ok(false),
            Some(other) => bail!("{key} must be true or false, not {other:?}"),
        }
    }
}

/// The secret a development install uses when `POL_SECRET` is unset: random, kept under the data
/// directory so sessions survive restarts.
fn development_secret(data_dir: &Path) -> anyhow::Result<Secret> {
    use rand::RngCore;
    let path = data_dir.join("secret");
    if let Ok(existing) = std::fs::read_to_string(&path) {
        if existing.trim().len() >= 32 {
            return Ok(Secret::new(existing.trim()));
        }
    }
    let mut bytes = [0u8; 48];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let secret = hex::encode(bytes);
    std::fs::create_dir_all(data_dir)
        .with_context(|| format!("failed to create {}", data_dir.display()))?;
    std::fs::write(&path, &secret)
        .with_context(|| format!("failed to write {}", path.display()))?;
    Ok(Secret::new(secret))
}

/// The SIP backend's settings (`POL_SIP_*`, `POL_RTP_*`).
fn sip_config(src: &Source) -> anyhow::Result<telephony::sip::SipConfig> {
    use telephony::sip::{Password, SipConfig, Trunk};
    let trunk = src.get("POL_SIP_TRUNK").context(
        "POL_SIP_TRUNK must be set with POL_TELEPHONY=sip (sip:host:port;transport=udp)",
    )?;
    let trunk = Trunk::parse(&trunk).map_err(|why| anyhow::anyhow!("POL_SIP_TRUNK: {why}"))?;
    let mut config = SipConfig::new(trunk);
    config.username = src.get("POL_SIP_USERNAME");
    config.password = src.get("POL_SIP_PASSWORD").map(Password);
    if let Some(bind) = src.get("POL_SIP_BIND") {
        config.bind = bind
            .parse()
            .context("POL_SIP_BIND must be an address and port, like 0.0.0.0:5060")?;
    }
    if let Some(ip) = src.get("POL_SIP_PUBLIC_IP") {
        config.public_ip = Some(
            ip.parse()
                .context("POL_SIP_PUBLIC_IP must be an IP address")?,
        );
    }
    if let Some(ports) = src.get("POL_RTP_PORTS") {
        config.rtp_ports = SipConfig::parse_ports(&ports)
            .map_err(|why| anyhow::anyhow!("POL_RTP_PORTS: {why}"))?;
    }
    if let Some(codecs) = src.get("POL_SIP_CODECS") {
        config.codecs = SipConfig::parse_codecs(&codecs)
            .map_err(|why| anyhow::anyhow!("POL_SIP_CODECS: {why}"))?;
    }
    if let Some(max) = src.get("POL_SIP_MAX_CALLS") {
        config.max_calls = max
            .parse::<usize>()
            .ok()
            .filter(|m| *m > 0)
            .context("POL_SIP_MAX_CALLS must be a positive whole number")?;
    }
    if let Some(prefix) = src.get("POL_SIP_DIAL_PREFIX") {
        if !prefix.chars().all(|c| c.is_ascii_digit() || c == '+') {
            bail!("POL_SIP_DIAL_PREFIX must be digits (like 0 or 98), not {prefix:?}");
        }
        config.dial_prefix = prefix;
    }
    config.caller_id = src.get("POL_SIP_CALLER_ID");
    config.register = src.flag("POL_SIP_REGISTER")?;
    if let Some(seconds) = src.get("POL_SIP_REGISTER_EXPIRES") {
        let seconds = seconds
            .parse::<u64>()
            .ok()
            .filter(|s| (60..=86_400).contains(s))
            .context("POL_SIP_REGISTER_EXPIRES must be a number of seconds from 60 to 86400")?;
        config.register_expires = std::time::Duration::from_secs(seconds);
    }
    if let Some(seconds) = src.get("POL_RTP_TIMEOUT") {
        let seconds = seconds
            .parse::<f64>()
            .ok()
            .filter(|s| s.is_finite() && *s >= 0.5)
            .context("POL_RTP_TIMEOUT must be a number of seconds (at least 0.5)")?;
        config.media_timeout = std::time::Duration::from_secs_f64(seconds);
    }
    config.encoders = std::thread::available_parallelism()
        .map(|n| (n.get() / 2).max(1))
        .unwrap_or(1);
    config.advertised_ip().map_err(|why| anyhow::anyhow!(why))?;
    Ok(config)
}

impl Config {
    /// Loads the configuration: environment variables override `POL_CONFIG` (a TOML file whose
    /// keys are the same names, e.g. `DATABASE_URL = "postgres://…"`).
    pub fn load() -> anyhow::Result<Self> {
        let file = match std::env::var("POL_CONFIG") {
            Ok(path) if !path.is_empty() => {
                let text = std::fs::read_to_string(&path)
                    .with_context(|| format!("failed to read config file {path}"))?;
                let table: toml::Table = text
                    .parse()
                    .with_context(|| format!("failed to parse config file {path}"))?;
                table
                    .into_iter()
                    .map(|(k, v)| {
                        let v = match v {
                            toml::Value::String(s) => s,
                            other => other.to_string(),
                        };
                        (k, v)
                    })
                    .collect()
            }
            _ => HashMap::new(),
        };
        Self::from_source(&Source { file })
    }

    fn from_source(src: &Source) -> anyhow::Result<Self> {
        let env = match src.get("POL_ENV").as_deref() {
            None | Some("development" | "dev") => Environment::Development,
            Some("production" | "prod") => Environment::Production,
            Some(other) => bail!("POL_ENV must be development or production, not {other:?}"),
        };
        let data_dir = PathBuf::from(src.get("POL_DATA_DIR").unwrap_or_else(|| "./data".into()));
        let database_url = src
            .get("DATABASE_URL")
            .unwrap_or_else(|| format!("sqlite://{}/pol.db", data_dir.display()));
        let site_addr: SocketAddr = src
            .get("LEPTOS_SITE_ADDR")
            .unwrap_or_else(|| "127.0.0.1:3000".into())
            .parse()
            .context("LEPTOS_SITE_ADDR must be an address like 127.0.0.1:3000")?;
        let public_url = src
            .get("POL_PUBLIC_URL")
            .unwrap_or_else(|| format!("http://{site_addr}"))
            .trim_end_matches('/')
            .to_owned();
        if !(public_url.starts_with("http://") || public_url.starts_with("https://")) {
            bail!("POL_PUBLIC_URL must start with http:// or https://");
        }
        let secret = match src.get("POL_SECRET") {
            Some(secret) if secret.len() < 32 => bail!("POL_SECRET must be at least 32 characters"),
            Some(secret) => Secret::new(secret),
            None if env == Environment::Production => {
                bail!("POL_SECRET must be set in production (at least 32 random characters)")
            }
            None => development_secret(&data_dir)?,
        };
        let mail = match src.get("SMTP_URL") {
            Some(url) => MailTransport::Smtp(Secret::new(url)),
            None => MailTransport::Outbox(data_dir.join("outbox")),
        };
        let payment =
            match src.get("POL_PAYMENT").as_deref() {
                None | Some("test") => PaymentConfig::Test,
                Some("zarinpal") => PaymentConfig::Zarinpal {
                    base_url: src
                        .get("POL_ZARINPAL_BASE_URL")
                        .context("POL_ZARINPAL_BASE_URL must be set with POL_PAYMENT=zarinpal")?
                        .trim_end_matches('/')
                        .to_owned(),
                    merchant_id: Secret::new(src.get("POL_ZARINPAL_MERCHANT_ID").context(
                        "POL_ZARINPAL_MERCHANT_ID must be set with POL_PAYMENT=zarinpal",
                    )?),
                    timeout: std::time::Duration::from_millis(
                        src.get("POL_ZARINPAL_TIMEOUT_MS")
                            .map(|v| v.parse::<u64>())
                            .transpose()
                            .context("POL_ZARINPAL_TIMEOUT_MS must be a number of milliseconds")?
                            .unwrap_or(10_000),
                    ),
                },
                Some(other) => bail!("POL_PAYMENT must be test or zarinpal, not {other:?}"),
            };
        let telephony = match src.get("POL_TELEPHONY").as_deref() {
            None | Some("sandbox") => TelephonyConfig::Sandbox {
                time_scale: match src.get("POL_SANDBOX_TIME_SCALE") {
                    None => 1.0,
                    Some(v) => v
                        .parse::<f64>()
                        .ok()
                        .filter(|f| (0.001..=1.0).contains(f))
                        .context("POL_SANDBOX_TIME_SCALE must be a number between 0.001 and 1")?,
                },
            },
            Some("sip") => TelephonyConfig::Sip(Box::new(sip_config(src)?)),
            Some(other) => bail!("POL_TELEPHONY must be sandbox or sip, not {other:?}"),
        };
        let number = |key: &str, default: u64| -> anyhow::Result<u64> {
            src.get(key)
                .map(|v| v.parse::<u64>())
                .transpose()
                .with_context(|| format!("{key} must be a whole number"))
                .map(|v| v.unwrap_or(default))
        };
        let config = Self {
            telephony,
            engine_stale_after: std::time::Duration::from_secs(
                number("POL_ENGINE_STALE_SECONDS", 30)?.max(1),
            ),
            api_rate_limit: u32::try_from(number("POL_API_RATE_LIMIT", 20)?.clamp(1, 100_000))
                .unwrap_or(20),
            webhook_backoff: std::time::Duration::from_millis(
                number("POL_WEBHOOK_BACKOFF_MS", 10_000)?.max(1),
            ),
            payment,
            env,
            database_url,
            public_url,
            site_addr,
            secret,
            mail,
            mail_from: src
                .get("POL_MAIL_FROM")
                .unwrap_or_else(|| "Pol <no-reply@pol.localhost>".into()),
            trust_proxy: src.flag("POL_TRUST_PROXY")?,
            allow_test_doubles: src.flag("POL_ALLOW_TEST_DOUBLES")?,
            data_dir,
        };
        config.check_production()?;
        Ok(config)
    }

    /// Production refuses test doubles unless explicitly allowed.
    fn check_production(&self) -> anyhow::Result<()> {
        if self.env != Environment::Production || self.allow_test_doubles {
            return Ok(());
        }
        if matches!(self.mail, MailTransport::Outbox(_)) {
            bail!("production mode needs SMTP_URL: the file outbox is a test double (set POL_ALLOW_TEST_DOUBLES=true to allow it)");
        }
        if matches!(self.payment, PaymentConfig::Test) {
            bail!("production mode needs POL_PAYMENT=zarinpal: the test gateway is a test double (set POL_ALLOW_TEST_DOUBLES=true to allow it)");
        }
        if matches!(self.telephony, TelephonyConfig::Sandbox { .. }) {
            bail!("production mode needs real telephony (POL_TELEPHONY): the sandbox is a test double (set POL_ALLOW_TEST_DOUBLES=true to allow it)");
        }
        Ok(())
    }

    /// Whether cookies must carry `Secure`.
    pub fn https(&self) -> bool {
        self.public_url.starts_with("https://")
    }

    /// A configuration for tests: development mode, everything under `data_dir`.
    pub fn for_tests(database_url: String, data_dir: PathBuf) -> Self {
        Self {
            env: Environment::Development,
            database_url,
            site_addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            public_url: "http://127.0.0.1".into(),
            secret: Secret::new("test-secret-test-secret-test-secret-0123"),
            mail: MailTransport::Outbox(data_dir.join("outbox")),
            mail_from: "Pol <no-reply@pol.localhost>".into(),
            trust_proxy: false,
            allow_test_doubles: false,
            payment: PaymentConfig::Test,
            telephony: TelephonyConfig::Sandbox { time_scale: 0.01 },
            engine_stale_after: std::time::Duration::from_secs(30),
            api_rate_limit: 1000,
            webhook_backoff: std::time::Duration::from_millis(50),
            data_dir,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn source(pairs: &[(&str, &str)]) -> Source {
        // Only the file map is used so tests do not depend on the process environment; keys
        // that the environment might also set are not used here.
        Source {
            file: pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        }
    }

    #[test]
    fn production_refuses_to_start_without_a_secret() {
        let err = Config::from_source(&source(&[
            ("POL_ENV", "production"),
            ("SMTP_URL", "smtp://x"),
        ]))
        .unwrap_err();
        assert!(err.to_string().contains("POL_SECRET"), "{err}");
    }

    #[test]
    fn production_refuses_the_file_outbox() {
        let secret = "s".repeat(40);
        let err = Config::from_source(&source(&[
            ("POL_ENV", "production"),
            ("POL_SECRET", &secret),
        ]))
        .unwrap_err();
        assert!(err.to_string().contains("SMTP_URL"), "{err}");
    }

    #[test]
    fn production_refuses_the_test_gateway() {
        let secret = "s".repeat(40);
        let err = Config::from_source(&source(&[
            ("POL_ENV", "production"),
            ("POL_SECRET", &secret),
            ("SMTP_URL", "smtp://x"),
        ]))
        .unwrap_err();
        assert!(err.to_string().contains("POL_PAYMENT"), "{err}");
    }

    /// A production environment with real mail and payments (telephony left to the test).
    fn production(secret: &str) -> Vec<(&'static str, &str)> {
        vec![
            ("POL_ENV", "production"),
            ("POL_SECRET", secret),
            ("POL_PAYMENT", "zarinpal"),
            ("POL_ZARINPAL_BASE_URL", "https://gateway.example.com/"),
            (
                "POL_ZARINPAL_MERCHANT_ID",
                "00000000-0000-0000-0000-000000000000",
            ),
            ("SMTP_URL", "smtp://mail.example.com"),
        ]
    }

    #[test]
    fn production_refuses_the_sandbox_telephony() {
        let secret = "s".repeat(40);
        let err = Config::from_source(&source(&production(&secret))).unwrap_err();
        assert!(err.to_string().contains("POL_TELEPHONY"), "{err}");
    }

    #[test]
    fn production_runs_on_a_sip_trunk_configured_from_the_environment() {
        let secret = "s".repeat(40);
        let mut env = production(&secret);
        env.extend([
            ("POL_TELEPHONY", "sip"),
            ("POL_SIP_TRUNK", "sip:trunk.example.ir:5080;transport=tcp"),
            ("POL_SIP_USERNAME", "2191000000"),
            ("POL_SIP_PASSWORD", "hunter2"),
            ("POL_SIP_PUBLIC_IP", "203.0.113.7"),
            ("POL_RTP_PORTS", "30000-30999"),
            ("POL_SIP_CODECS", "PCMU"),
            ("POL_SIP_DIAL_PREFIX", "98"),
            ("POL_RTP_TIMEOUT", "45"),
            ("POL_SIP_REGISTER", "true"),
            ("POL_SIP_REGISTER_EXPIRES", "300"),
        ]);
        let config = Config::from_source(&source(&env)).unwrap();
        let TelephonyConfig::Sip(sip) = &config.telephony else {
            panic!("not SIP: {:?}", config.telephony);
        };
        assert_eq!(sip.trunk.port, 5080);
        assert_eq!(sip.username.as_deref(), Some("2191000000"));
        assert_eq!(sip.rtp_ports, (30000, 30999));
        assert_eq!(sip.codecs, [telephony::g711::Law::Mu]);
        assert_eq!(sip.dialled("+989121234567"), "989121234567");
        assert_eq!(sip.media_timeout, std::time::Duration::from_secs(45));
        assert!(sip.register);
        assert_eq!(sip.register_expires, std::time::Duration::from_secs(300));
        assert!(
            !format!("{config:?}").contains("hunter2"),
            "the password never shows"
        );
    }

    #[test]
    fn sip_settings_that_make_no_sense_name_their_variable() {
        for (key, value) in [
            ("POL_SIP_TRUNK", "trunk.example.ir"),
            ("POL_SIP_BIND", "everywhere"),
            ("POL_SIP_PUBLIC_IP", "my-ip"),
            ("POL_RTP_PORTS", "9-8"),
            ("POL_SIP_DIAL_PREFIX", "zero"),
            ("POL_RTP_TIMEOUT", "0"),
            ("POL_SIP_MAX_CALLS", "0"),
            ("POL_SIP_REGISTER_EXPIRES", "5"),
        ] {
            let mut pairs = vec![
                ("POL_TELEPHONY", "sip"),
                ("POL_SIP_TRUNK", "sip:127.0.0.1"),
                ("POL_SIP_PUBLIC_IP", "127.0.0.1"),
            ];
            pairs.retain(|(k, _)| *k != key);
            pairs.push((key, value));
            let err = Config::from_source(&source(&pairs)).unwrap_err();
            assert!(err.to_string().contains(key), "{key}: {err}");
        }
    }

    #[test]
    fn a_staging_install_may_run_production_mode_on_the_sandbox() {
        let secret = "s".repeat(40);
        let mut env = production(&secret);
        env.extend([
            ("POL_PUBLIC_URL", "https://pol.example.com/"),
            ("POL_ALLOW_TEST_DOUBLES", "true"),
        ]);
        let config = Config::from_source(&source(&env)).unwrap();
        assert!(config.https());
        assert_eq!(config.public_url, "https://pol.example.com");
    }

    #[test]
    fn the_sandbox_time_scale_is_bounded() {
        let config = Config::from_source(&source(&[("POL_SANDBOX_TIME_SCALE", "0.01")])).unwrap();
        assert_eq!(
            config.telephony,
            TelephonyConfig::Sandbox { time_scale: 0.01 }
        );
        assert!(Config::from_source(&source(&[("POL_SANDBOX_TIME_SCALE", "0")])).is_err());
        assert!(Config::from_source(&source(&[("POL_SANDBOX_TIME_SCALE", "fast")])).is_err());
        assert!(Config::from_source(&source(&[("POL_TELEPHONY", "carrier-pigeon")])).is_err());
    }

    #[test]
    fn a_short_secret_is_refused() {
        assert!(Config::from_source(&source(&[("POL_SECRET", "short")])).is_err());
    }

    #[test]
    fn secrets_do_not_leak_through_debug() {
        let printed = format!("{:?}", Secret::new("hunter2-hunter2"));
        assert!(!printed.contains("hunter2"));
    }
}
