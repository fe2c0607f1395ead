//! API tokens: `pol_live_…` (real telephony) or `pol_test_…` (sandbox), 256 bits of randomness,
//! shown once and stored as a SHA-256 hash with a visible prefix.

use base64::Engine;
use rand::RngCore;

use super::now_ms;
use super::repo::api_tokens::{self as repo, TokenRow};
use super::state::AppState;
use super::tokens;

/// Characters of a token shown in lists (`pol_test_` plus four).
const VISIBLE: usize = 13;
/// `last_used_at` is written at most this often per token.
const TOUCH_RESOLUTION_MS: i64 = 60_000;

/// Who a valid bearer token speaks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TokenAuth {
    /// The token.
    pub api_token_id: i64,
    /// Its tenant.
    pub tenant_id: i64,
}

/// Why a token could not be issued.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    /// The name is empty or longer than 80 characters.
    #[error("a token needs a name of 1 to 80 characters")]
    InvalidName,
    /// No such token in this tenant.
    #[error("not found")]
    NotFound,
    /// The database failed.
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

/// A fresh token string for the installation's mode.
fn generate(sandbox: bool) -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let body = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
    let mode = if sandbox { "test" } else { "live" };
    format!("pol_{mode}_{body}")
}

/// Issues a token; returns the token itself (shown once) and its row.
#[tracing::instrument(skip(state))]
pub async fn create(
    state: &AppState,
    tenant_id: i64,
    name: &str,
    user_id: Option<i64>,
) -> Result<(String, TokenRow), TokenError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 80 || name.chars().any(char::is_control) {
        return Err(TokenError::InvalidName);
    }
    let token = generate(state.engine.is_sandbox());
    let prefix: String = token.chars().take(VISIBLE).collect();
    let now = now_ms();
    let mut tx = state.db.begin().await?;
    let id = repo::insert(
        &mut tx.conn(),
        tenant_id,
        name,
        &prefix,
        &tokens::hash(&token),
        user_id,
        now,
    )
    .await?;
    crate::backend::repo::audit::record(
        &mut tx.conn(),
        Some(tenant_id),
        user_id,
        "api_token.created",
        &prefix,
        now,
    )
    .await?;
    tx.commit().await?;
    let row = TokenRow {
        api_token_id: id,
        tenant_id,
        name: name.to_owned(),
        prefix,
        created_at: now,
        last_used_at: None,
        revoked_at: None,
    };
    Ok((token, row))
}

/// The tenant's tokens, newest first.
pub async fn list(state: &AppState, tenant_id: i64) -> Result<Vec<TokenRow>, TokenError> {
    let mut tx = state.db.read().await?;
    Ok(repo::for_tenant(&mut tx.conn(), tenant_id).await?)
}

/// Revokes a token at once.
#[tracing::instrument(skip(state))]
pub async fn revoke(
    state: &AppState,
    tenant_id: i64,
    api_token_id: i64,
    user_id: Option<i64>,
) -> Result<(), TokenError> {
    let now = now_ms();
    let mut tx = state.db.begin().await?;
    if !repo::revoke(&mut tx.conn(), tenant_id, api_token_id, now).await? {
        return Err(TokenError::NotFound);
    }
    crate::backend::repo::audit::record(
        &mut tx.conn(),
        Some(tenant_id),
        user_id,
        "api_token.revoked",
        &api_token_id.to_string(),
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The tenant a bearer token speaks for, if it is a live token.
pub async fn authenticate(state: &AppState, bearer: &str) -> Result<Option<TokenAuth>, TokenError> {
    let bearer = bearer.trim();
    if !(bearer.starts_with("pol_live_") || bearer.starts_with("pol_test_")) || bearer.len() > 100 {
        return Ok(None);
    }
    let hash = tokens::hash(bearer);
    let row = {
        let mut tx = state.db.read().await?;
        repo::find_live(&mut tx.conn(), &hash).await?
    };
    let Some(row) = row else {
        return Ok(None);
    };
    let now = now_ms();
    if row
        .last_used_at
        .is_none_or(|at| at < now - TOUCH_RESOLUTION_MS)
    {
        let mut tx = state.db.begin().await?;
        repo::touch(&mut tx.conn(), row.api_token_id, now, TOUCH_RESOLUTION_MS).await?;
        tx.commit().await?;
    }
    Ok(Some(TokenAuth {
        api_token_id: row.api_token_id,
        tenant_id: row.tenant_id,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_carry_their_mode_and_enough_randomness() {
        let test = generate(true);
        let live = generate(false);
        assert!(test.starts_with("pol_test_"));
        assert!(live.starts_with("pol_live_"));
        assert_eq!(test.len(), "pol_test_".len() + 43);
        assert_ne!(generate(true), generate(true));
    }
}
