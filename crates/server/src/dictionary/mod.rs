//! The built-in dictionary: FreeDict files imported into the shared
//! `word_cores`/`word_senses` (`echoloop dict import`), and pronunciations
//! made with espeak-ng for words the dictionary does not pronounce.

pub mod freedict;

use sqlx::PgConnection;

use crate::db;
use crate::db::dictionary::WordCore;
use crate::domain::Word;

/// The word's shared row, made when missing (a learner saves it). A word
/// without a pronunciation gets espeak-ng's, stored once for every user.
///
/// Made in the saving transaction (`conn`): a refused save leaves no
/// shared row behind, and a request holds one connection. Taking a second
/// one from the pool while the transaction holds the learner's locks
/// starved the pool when many devices pushed at once (every connection
/// held by a transaction waiting for the one that waited for a connection).
pub async fn word_core(conn: &mut PgConnection, word: &Word) -> Result<WordCore, sqlx::Error> {
    if let Some(core) = known_word(&mut *conn, word).await? {
        return Ok(core);
    }
    let ipa = pronounce(word).await;
    db::dictionary::upsert_word(conn, word.language(), word.as_str(), ipa.as_deref()).await
}

/// The word's shared row when there is one (a word of the dictionary, or
/// one a learner saved), with a pronunciation made once where it had
/// none. `None`: nobody has it; lookups alone never add rows, so asking
/// cannot fill the shared table (saving a word does, `word_core`).
pub async fn known_word(
    conn: &mut PgConnection,
    word: &Word,
) -> Result<Option<WordCore>, sqlx::Error> {
    match db::dictionary::find_word(&mut *conn, word.language(), word.as_str()).await? {
        Some(core) if core.ipa.is_none() => {
            let ipa = pronounce(word).await;
            db::dictionary::upsert_word(conn, word.language(), word.as_str(), ipa.as_deref())
                .await
                .map(Some)
        }
        found => Ok(found),
    }
}

/// espeak-ng's IPA, or `None` (no voice for the language, espeak-ng
/// missing): a word is still looked up and saved without one.
pub async fn pronounce(word: &Word) -> Option<String> {
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
