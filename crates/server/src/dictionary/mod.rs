//! The built-in dictionary: FreeDict files imported into the shared
//! `word_cores`/`word_senses` (`echoloop dict import`), and pronunciations
//! made with espeak-ng for words the dictionary does not pronounce.

pub mod freedict;

use sqlx::PgPool;

use crate::db;
use crate::db::dictionary::WordCore;
use crate::domain::Word;

/// The word's shared row, made when missing. A word without a
/// pronunciation gets espeak-ng's, stored once for every user.
pub async fn word_core(pool: &PgPool, word: &Word) -> Result<WordCore, sqlx::Error> {
    let found = db::dictionary::find_word(pool, word.language(), word.as_str()).await?;
    if let Some(core) = found
        && core.ipa.is_some()
    {
        return Ok(core);
    }
    let ipa = pronounce(word).await;
    db::dictionary::upsert_word(pool, word.language(), word.as_str(), ipa.as_deref()).await
}

/// espeak-ng's IPA, or `None` (no voice for the language, espeak-ng
/// missing): a word is still looked up and saved without one.
async fn pronounce(word: &Word) -> Option<String> {
    let text = word.as_str().to_owned();
    let language = word.language().to_owned();
    let made =
        tokio::task::spawn_blocking(move || echoloop_speech::reference::ipa(&text, &language))
            .await;
    match made {
        Ok(Ok(ipa)) if !ipa.is_empty() && ipa.chars().count() <= 500 => Some(ipa),
        Ok(Ok(_)) => None,
        Ok(Err(error)) => {
            tracing::warn!(language = word.language(), error = %error, "no pronunciation made");
            None
        }
        Err(error) => {
            tracing::warn!(error = %error, "the pronunciation task failed");
            None
        }
    }
}
