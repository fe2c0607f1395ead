//! The operator's welcome message: decoded from an upload (off the async runtime, under a time
//! limit), stored as the 8 kHz PCM the call engine plays plus a WAV preview for the browser.

use std::path::PathBuf;
use std::time::Duration;

use telephony::prompt::{self, PromptError};
use telephony::Prompt;

use super::now_ms;
use super::repo::welcome::{self as repo, WelcomeRow};
use super::state::AppState;

/// How long decoding may take before the upload is refused.
const DECODE_TIMEOUT: Duration = Duration::from_secs(15);

/// Why an upload was not stored.
#[derive(Debug, thiserror::Error)]
pub enum WelcomeError {
    /// The file is not a usable message.
    #[error(transparent)]
    Prompt(#[from] PromptError),
    /// Decoding took too long (a hostile or pathological file).
    #[error("decoding took too long")]
    TimedOut,
    /// Writing the files failed.
    #[error("failed to store the message: {0}")]
    Io(#[from] std::io::Error),
    /// The database failed.
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

fn paths(tenant_id: i64, stamp: i64) -> (PathBuf, PathBuf) {
    let dir = PathBuf::from("welcome").join(tenant_id.to_string());
    (
        dir.join(format!("{stamp}.pcm")),
        dir.join(format!("{stamp}.wav")),
    )
}

/// Decodes and stores an upload, replacing the tenant's previous message.
#[tracing::instrument(skip(state, bytes), fields(bytes = bytes.len()))]
pub async fn upload(
    state: &AppState,
    tenant_id: i64,
    name: &str,
    bytes: Vec<u8>,
) -> Result<WelcomeRow, WelcomeError> {
    let original_bytes = i64::try_from(bytes.len()).unwrap_or(i64::MAX);
    let decoding = tokio::task::spawn_blocking(move || prompt::decode(&bytes));
    let prompt = match tokio::time::timeout(DECODE_TIMEOUT, decoding).await {
        Err(_) => return Err(WelcomeError::TimedOut),
        Ok(Err(join)) => {
            tracing::error!(error = %join, "the decoder panicked");
            return Err(WelcomeError::Prompt(PromptError::Corrupt));
        }
        Ok(Ok(result)) => result?,
    };
    let stamp = now_ms();
    let (pcm, preview) = paths(tenant_id, stamp);
    let root = state.engine.media_root().to_path_buf();
    let samples = prompt.samples().to_vec();
    let (pcm_abs, preview_abs) = (root.join(&pcm), root.join(&preview));
    tokio::task::spawn_blocking(move || -> std::io::Result<()> {
        if let Some(dir) = pcm_abs.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let raw: Vec<u8> = samples.iter().flat_map(|s| s.to_le_bytes()).collect();
        std::fs::write(&pcm_abs, raw)?;
        telephony::audio::write_wav_mono(&preview_abs, &samples)?;
        Ok(())
    })
    .await
    .map_err(|_| WelcomeError::Io(std::io::Error::other("writer stopped")))??;
    let name: String = name.chars().filter(|c| !c.is_control()).take(200).collect();
    let row = WelcomeRow {
        tenant_id,
        pcm_path: pcm.to_string_lossy().into_owned(),
        preview_path: preview.to_string_lossy().into_owned(),
        duration_ms: i64::try_from(prompt.duration().as_millis()).unwrap_or(i64::MAX),
        original_name: name,
        original_bytes,
        created_at: stamp,
    };
    let mut tx = state.db.begin().await?;
    let previous = repo::find(&mut tx.conn(), tenant_id).await?;
    repo::upsert(&mut tx.conn(), &row).await?;
    tx.commit().await?;
    if let Some(old) = previous {
        remove_files(state, &old).await;
    }
    Ok(row)
}

async fn remove_files(state: &AppState, row: &WelcomeRow) {
    for path in [&row.pcm_path, &row.preview_path] {
        let _ = tokio::fs::remove_file(state.engine.media_root().join(path)).await;
    }
}

/// Deletes the tenant's message; calls fall back to the built-in chime.
pub async fn delete(state: &AppState, tenant_id: i64) -> Result<bool, WelcomeError> {
    let mut tx = state.db.begin().await?;
    let previous = repo::find(&mut tx.conn(), tenant_id).await?;
    let deleted = repo::delete(&mut tx.conn(), tenant_id).await?;
    tx.commit().await?;
    if let Some(old) = previous {
        remove_files(state, &old).await;
    }
    Ok(deleted)
}

/// The tenant's message, if any.
pub async fn info(state: &AppState, tenant_id: i64) -> Result<Option<WelcomeRow>, WelcomeError> {
    let mut tx = state.db.read().await?;
    Ok(repo::find(&mut tx.conn(), tenant_id).await?)
}

/// The prompt calls of this tenant play (none: the built-in chime).
pub async fn prompt_for(state: &AppState, tenant_id: i64) -> Option<Prompt> {
    let row = info(state, tenant_id).await.ok().flatten()?;
    let bytes = tokio::fs::read(state.engine.media_root().join(&row.pcm_path))
        .await
        .map_err(|err| tracing::warn!(tenant_id, error = %err, "welcome message file missing"))
        .ok()?;
    let samples = bytes
        .chunks_exact(2)
        .map(|c| i16::from_le_bytes([c[0], c[1]]))
        .collect();
    Some(Prompt::from_samples(samples))
}
