//! Outgoing e-mail through lettre: SMTP in production, `.eml` files in a directory by default.

use anyhow::Context;
use lettre::message::header::{ContentTransferEncoding, ContentType};
use lettre::message::{Mailbox, SinglePart};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use std::path::PathBuf;

use super::config::{Config, MailTransport};
use crate::domain::Email;
use crate::i18n::Lang;

/// Sends e-mail.
#[derive(Clone)]
pub struct Mailer {
    from: Mailbox,
    transport: Transport,
}

#[derive(Clone)]
enum Transport {
    Outbox(PathBuf),
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
}

/// A message ready to send.
pub struct Mail {
    /// Recipient.
    pub to: Email,
    /// Subject line.
    pub subject: String,
    /// Plain-text body.
    pub body: String,
}

impl Mailer {
    /// Builds the mailer the configuration asks for.
    pub fn from_config(config: &Config) -> anyhow::Result<Self> {
        let from: Mailbox = config
            .mail_from
            .parse()
            .context("POL_MAIL_FROM is not a valid mailbox")?;
        let transport = match &config.mail {
            MailTransport::Outbox(dir) => Transport::Outbox(dir.clone()),
            MailTransport::Smtp(url) => Transport::Smtp(
                AsyncSmtpTransport::<Tokio1Executor>::from_url(url.expose())
                    .context("SMTP_URL is not a valid SMTP URL")?
                    .build(),
            ),
        };
        Ok(Self { from, transport })
    }

    /// Sends a message; with the outbox, writes `<time>-<n>.eml` and logs where.
    #[tracing::instrument(skip_all, fields(to = %mail.to.masked(), subject = %mail.subject))]
    pub async fn send(&self, mail: Mail) -> anyhow::Result<()> {
        let to: Mailbox = mail
            .to
            .as_str()
            .parse()
            .context("failed to parse a recipient")?;
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(mail.subject)
            .singlepart(
                SinglePart::builder()
                    .header(ContentType::TEXT_PLAIN)
                    .header(ContentTransferEncoding::QuotedPrintable)
                    .body(mail.body),
            )
            .context("failed to build an e-mail")?;
        match &self.transport {
            Transport::Outbox(dir) => {
                tokio::fs::create_dir_all(dir)
                    .await
                    .with_context(|| format!("failed to create {}", dir.display()))?;
                let name = format!("{}-{:08x}.eml", super::now_ms(), rand::random::<u32>());
                let path = dir.join(name);
                // Written aside and renamed into place, so a reader never sees half a mail.
                let partial = path.with_extension("partial");
                tokio::fs::write(&partial, message.formatted())
                    .await
                    .with_context(|| format!("failed to write {}", partial.display()))?;
                tokio::fs::rename(&partial, &path)
                    .await
                    .with_context(|| format!("failed to write {}", path.display()))?;
                tracing::info!(path = %path.display(), "e-mail written to the outbox");
            }
            Transport::Smtp(smtp) => {
                smtp.send(message)
                    .await
                    .context("failed to send an e-mail over SMTP")?;
                tracing::info!("e-mail sent");
            }
        }
        Ok(())
    }
}

/// The e-mails Pol sends, in the recipient's language.
pub mod templates {
    use super::*;

    fn greeting(lang: Lang, name: &str) -> String {
        match lang {
            Lang::Fa => format!("{name} گرامی،"),
            Lang::En => format!("Hello {name},"),
        }
    }

    fn signature(lang: Lang) -> &'static str {
        match lang {
            Lang::Fa => "پل — تماس امن برای تاکسی‌های اینترنتی",
            Lang::En => "Pol — safe calls for ride-hailing operators",
        }
    }

    /// "Confirm your e-mail".
    pub fn verify_email(lang: Lang, to: Email, name: &str, link: &str) -> Mail {
        let (subject, text) = match lang {
            Lang::Fa => (
                "ایمیل خود را در پل تأیید کنید",
                "برای تأیید ایمیل حساب پل، این پیوند را باز کنید (۴۸ ساعت اعتبار دارد):",
            ),
            Lang::En => (
                "Confirm your e-mail for Pol",
                "Open this link to confirm your Pol account's e-mail (valid for 48 hours):",
            ),
        };
        Mail {
            to,
            subject: subject.into(),
            body: format!(
                "{}\n\n{text}\n\n{link}\n\n{}\n",
                greeting(lang, name),
                signature(lang)
            ),
        }
    }

    /// "Reset your password".
    pub fn reset_password(lang: Lang, to: Email, name: &str, link: &str) -> Mail {
        let (subject, text, ignore) = match lang {
            Lang::Fa => (
                "بازیابی رمز عبور پل",
                "برای گزیدن رمز عبور تازه این پیوند را باز کنید (یک ساعت اعتبار دارد):",
                "اگر شما درخواست نکرده‌اید، این ایمیل را نادیده بگیرید.",
            ),
            Lang::En => (
                "Reset your Pol password",
                "Open this link to choose a new password (valid for one hour):",
                "If you did not ask for this, ignore this e-mail.",
            ),
        };
        Mail {
            to,
            subject: subject.into(),
            body: format!(
                "{}\n\n{text}\n\n{link}\n\n{ignore}\n\n{}\n",
                greeting(lang, name),
                signature(lang)
            ),
        }
    }

    /// "You are invited to join <tenant>".
    pub fn invitation(lang: Lang, to: Email, inviter: &str, tenant: &str, link: &str) -> Mail {
        let (subject, text) = match lang {
            Lang::Fa => (
                format!("دعوت به تیم {tenant} در پل"),
                format!("{inviter} شما را به تیم «{tenant}» در پل دعوت کرده است. برای پذیرفتن، این پیوند را باز کنید (۷ روز اعتبار دارد):"),
            ),
            Lang::En => (
                format!("Join {tenant} on Pol"),
                format!("{inviter} invited you to the team of \"{tenant}\" on Pol. Open this link to accept (valid for 7 days):"),
            ),
        };
        Mail {
            to,
            subject,
            body: format!("{text}\n\n{link}\n\n{}\n", signature(lang)),
        }
    }

    /// "Payment received": the receipt of a top-up.
    pub fn receipt(
        lang: Lang,
        to: Email,
        tenant: &str,
        amount: crate::domain::Rial,
        minutes: i64,
        ref_id: &str,
        link: &str,
    ) -> Mail {
        let (subject, body) = match lang {
            Lang::Fa => (
                format!("رسید پرداخت پل — {}", lang.num(ref_id)),
                format!(
                    "پرداخت شما برای «{tenant}» انجام شد.\n\nمبلغ: {}\nزمان مکالمه: {} دقیقه\nشماره‌ی پیگیری: {}\n\nرسید: {link}",
                    amount.display_toman(lang),
                    lang.int(minutes),
                    lang.num(ref_id)
                ),
            ),
            Lang::En => (
                format!("Pol payment receipt — {ref_id}"),
                format!(
                    "Your payment for \"{tenant}\" went through.\n\nAmount: {}\nTalk time: {minutes} min\nReference: {ref_id}\n\nReceipt: {link}",
                    amount.display_toman(lang)
                ),
            ),
        };
        Mail {
            to,
            subject,
            body: format!("{body}\n\n{}\n", signature(lang)),
        }
    }

    /// "Your talk time is running low".
    pub fn low_balance(lang: Lang, to: Email, tenant: &str, minutes_left: i64, link: &str) -> Mail {
        let (subject, body) = match lang {
            Lang::Fa => (
                format!("اعتبار «{tenant}» در پل رو به پایان است"),
                format!("تنها {} دقیقه مکالمه برای «{tenant}» مانده است. تماس‌ها بدون اعتبار برقرار نمی‌شوند.\n\nخرید اعتبار: {link}", lang.int(minutes_left)),
            ),
            Lang::En => (
                format!("Talk time for \"{tenant}\" is running low"),
                format!("Only {minutes_left} min of talk time left for \"{tenant}\". Calls are refused without credit.\n\nTop up: {link}"),
            ),
        };
        Mail {
            to,
            subject,
            body: format!("{body}\n\n{}\n", signature(lang)),
        }
    }
}
