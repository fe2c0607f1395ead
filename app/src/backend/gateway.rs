//! Payment gateways: Zarinpal (v4 REST) and a built-in test gateway for the embedded default.

use async_trait::async_trait;
use serde_json::{json, Value};
use std::time::Duration;

use super::config::Secret;
use super::db::Db;
use super::repo::payments as repo;
use super::{now_ms, tokens};
use crate::domain::Rial;

/// A payment to open at the gateway.
pub struct PaymentRequest<'a> {
    /// Amount in Rial.
    pub amount: Rial,
    /// Shown to the payer.
    pub description: &'a str,
    /// Where the gateway sends the payer back.
    pub callback_url: &'a str,
    /// Payer's e-mail, passed as metadata.
    pub email: Option<&'a str>,
    /// Payer's mobile, passed as metadata.
    pub mobile: Option<&'a str>,
}

/// An opened payment.
#[derive(Debug, Clone)]
pub struct Started {
    /// The gateway's id for it.
    pub authority: String,
    /// Where to send the payer.
    pub redirect_url: String,
}

/// A confirmed payment.
#[derive(Debug, Clone)]
pub struct Verified {
    /// The gateway's receipt number.
    pub ref_id: String,
    /// Masked card number, if the gateway tells.
    pub card_pan: Option<String>,
}

/// Why the gateway did not confirm.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GatewayError {
    /// The gateway answered with a definite no (not paid, amount mismatch, bad merchant…).
    #[error("declined ({code}): {message}")]
    Declined {
        /// The gateway's code.
        code: i64,
        /// What it means.
        message: String,
    },
    /// No answer in time: the outcome is unknown and must be asked again later.
    #[error("the gateway did not answer in time")]
    Timeout,
    /// The gateway could not be reached or answered nonsense; unknown outcome.
    #[error("the gateway is unavailable: {0}")]
    Unavailable(String),
}

/// A payment gateway.
#[async_trait]
pub trait PaymentGateway: Send + Sync {
    /// `zarinpal` or `test`, stored on each payment.
    fn name(&self) -> &'static str;
    /// Opens a payment.
    async fn request(&self, req: PaymentRequest<'_>) -> Result<Started, GatewayError>;
    /// Confirms a payment for exactly `amount`.
    async fn verify(&self, authority: &str, amount: Rial) -> Result<Verified, GatewayError>;
}

/// Zarinpal payment gateway, REST v4.
pub struct Zarinpal {
    base_url: String,
    merchant_id: Secret,
    http: reqwest::Client,
}

/// What Zarinpal's negative codes mean, for the operator.
pub fn zarinpal_message(code: i64) -> &'static str {
    match code {
        -9 => "validation error in the request",
        -10 => "terminal or merchant id is not valid",
        -11 => "merchant is not active",
        -12 => "too many attempts, try again later",
        -15 | -16 => "merchant account is suspended or not at the required level",
        -34..=-30 => "merchant is not allowed this settlement",
        -50 => "amount does not match the payment",
        -51 => "payment was not completed",
        -52 => "unexpected gateway error",
        -53 => "payment does not belong to this merchant",
        -54 => "invalid authority",
        -55 => "payment was not found",
        _ => "the gateway refused the payment",
    }
}

impl Zarinpal {
    /// A client for `base_url` (sandbox, production or any compatible host).
    pub fn new(base_url: &str, merchant_id: Secret, timeout: Duration) -> anyhow::Result<Self> {
        let http = reqwest::Client::builder().timeout(timeout).build()?;
        Ok(Self {
            base_url: base_url.trim_end_matches('/').to_owned(),
            merchant_id,
            http,
        })
    }

    async fn post(&self, path: &str, body: Value) -> Result<Value, GatewayError> {
        let res = self
            .http
            .post(format!("{}{path}", self.base_url))
            .header("accept", "application/json")
            .json(&body)
            .send()
            .await
            .map_err(|e| {
                if e.is_timeout() {
                    GatewayError::Timeout
                } else {
                    GatewayError::Unavailable(e.without_url().to_string())
                }
            })?;
        let status = res.status();
        let value: Value = res.json().await.map_err(|e| {
            if e.is_timeout() {
                GatewayError::Timeout
            } else {
                GatewayError::Unavailable(format!("HTTP {status}: unreadable answer"))
            }
        })?;
        // Errors come as {"data": [], "errors": {"code": -9, "message": "…"}}.
        if let Some(code) = value.pointer("/errors/code").and_then(Value::as_i64) {
            return Err(GatewayError::Declined {
                code,
                message: zarinpal_message(code).into(),
            });
        }
        if status.is_server_error() {
            return Err(GatewayError::Unavailable(format!("HTTP {status}")));
        }
        Ok(value)
    }
}

#[async_trait]
impl PaymentGateway for Zarinpal {
    fn name(&self) -> &'static str {
        "zarinpal"
    }

    async fn request(&self, req: PaymentRequest<'_>) -> Result<Started, GatewayError> {
        let mut metadata = serde_json::Map::new();
        if let Some(email) = req.email {
            metadata.insert("email".into(), json!(email));
        }
        if let Some(mobile) = req.mobile {
            metadata.insert("mobile".into(), json!(mobile));
        }
        let body = json!({
            "merchant_id": self.merchant_id.expose(),
            "amount": req.amount.rial(),
            "currency": "IRR",
            "description": req.description,
            "callback_url": req.callback_url,
            "metadata": metadata,
        });
        let value = self.post("/pg/v4/payment/request.json", body).await?;
        let code = value
            .pointer("/data/code")
            .and_then(Value::as_i64)
            .unwrap_or(0);
        let authority = value.pointer("/data/authority").and_then(Value::as_str);
        match (code, authority) {
            (100, Some(authority)) => Ok(Started {
                authority: authority.to_owned(),
                redirect_url: format!("{}/pg/StartPay/{authority}", self.base_url),
            }),
            _ => Err(GatewayError::Declined {
                code,
                message: zarinpal_message(code).into(),
            }),
        }
    }

    async fn verify(&self, authority: &str, amount: Rial) -> Result<Verified, GatewayError> {
        let body = json!({ "merchant_id": self.merchant_id.expose(), "amount": amount.rial(), "authority": authority });
        let value = self.post("/pg/v4/payment/verify.json", body).await?;
        let code = value
            .pointer("/data/code")
            .and_then(Value::as_i64)
            .unwrap_or(0);
        // 100: verified now; 101: verified before (a repeated verify), also a success.
        if code == 100 || code == 101 {
            let ref_id = match value.pointer("/data/ref_id") {
                Some(Value::Number(n)) => n.to_string(),
                Some(Value::String(s)) => s.clone(),
                _ => {
                    return Err(GatewayError::Unavailable(
                        "verified without a reference".into(),
                    ))
                }
            };
            let card_pan = value
                .pointer("/data/card_pan")
                .and_then(Value::as_str)
                .map(str::to_owned);
            return Ok(Verified { ref_id, card_pan });
        }
        Err(GatewayError::Declined {
            code,
            message: zarinpal_message(code).into(),
        })
    }
}

/// The built-in test gateway: a page in Pol itself where the payer presses "pay" or "cancel".
/// Refused in production unless test doubles are allowed.
pub struct TestGateway {
    db: Db,
    public_url: String,
}

impl TestGateway {
    /// A test gateway keeping its records in `db`.
    pub fn new(db: Db, public_url: &str) -> Self {
        Self {
            db,
            public_url: public_url.to_owned(),
        }
    }

    /// The payer's decision on the test page; false if the charge is unknown or decided.
    pub async fn decide(db: &Db, authority: &str, pay: bool) -> sqlx::Result<bool> {
        let mut tx = db.begin().await?;
        let ref_id = pay.then(|| format!("{}", 100_000_000 + rand::random::<u32>() % 900_000_000));
        let changed = repo::decide_test_charge(
            &mut tx.conn(),
            authority,
            if pay { "paid" } else { "canceled" },
            ref_id.as_deref(),
        )
        .await?;
        tx.commit().await?;
        Ok(changed)
    }
}

#[async_trait]
impl PaymentGateway for TestGateway {
    fn name(&self) -> &'static str {
        "test"
    }

    async fn request(&self, req: PaymentRequest<'_>) -> Result<Started, GatewayError> {
        let (token, _) = tokens::generate();
        let authority = format!("T{token}");
        let insert = async {
            let mut tx = self.db.begin().await?;
            repo::insert_test_charge(&mut tx.conn(), &authority, req.amount.rial(), now_ms())
                .await?;
            tx.commit().await
        };
        insert
            .await
            .map_err(|e| GatewayError::Unavailable(e.to_string()))?;
        Ok(Started {
            redirect_url: format!("{}/pay/test/{authority}", self.public_url),
            authority,
        })
    }

    async fn verify(&self, authority: &str, amount: Rial) -> Result<Verified, GatewayError> {
        let found = async {
            let mut tx = self.db.read().await?;
            repo::find_test_charge(&mut tx.conn(), authority).await
        };
        let charge = found
            .await
            .map_err(|e| GatewayError::Unavailable(e.to_string()))?;
        match charge {
            Some(c) if c.amount_rial != amount.rial() => Err(GatewayError::Declined {
                code: -50,
                message: zarinpal_message(-50).into(),
            }),
            Some(c) if c.status == "paid" => Ok(Verified {
                ref_id: c.ref_id.unwrap_or_default(),
                card_pan: Some("603799******0000".into()),
            }),
            Some(_) => Err(GatewayError::Declined {
                code: -51,
                message: zarinpal_message(-51).into(),
            }),
            None => Err(GatewayError::Declined {
                code: -54,
                message: zarinpal_message(-54).into(),
            }),
        }
    }
}
