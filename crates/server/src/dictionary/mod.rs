//! The built-in dictionary: FreeDict files imported into the shared
//! `word_cores`/`word_senses` (`echoloop dict import`), and pronunciations
//! made with espeak-ng for words the dictionary does not pronounce.

pub mod freedict;

use std::collections::{HashMap, HashSet};

use futures::StreamExt;
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

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

/// The shared rows of the words one request saves (a `PUT
/// /vocabulary/{id}`, the saved words of a push), looked up before its
/// transaction: the rows there are, and a pronunciation for each word
/// that has none. [`Wanted::take`] then writes what is missing.
pub struct Wanted {
    found: Vec<WordCore>,
    /// Sorted by language and word, without repeats.
    missing: Vec<db::dictionary::NewWord>,
}

/// Looks `words` up (a plain read on a connection of the pool, given back
/// before the caller's transaction begins) and pronounces those without a
/// row or a pronunciation, holding no lock and no connection meanwhile.
pub async fn look_up(pool: &PgPool, words: &[Word]) -> Result<Wanted, sqlx::Error> {
    if words.is_empty() {
        return Ok(Wanted {
            found: Vec::new(),
            missing: Vec::new(),
        });
    }
    let keys: Vec<(String, String)> = words
        .iter()
        .map(|word| (word.language().to_owned(), word.as_str().to_owned()))
        .collect();
    let stored = db::dictionary::find_words(pool, &keys).await?;
    let by_key: HashMap<(&str, &str), &WordCore> = stored
        .iter()
        .map(|core| ((core.language.as_str(), core.word.as_str()), core))
        .collect();
    let mut found = Vec::new();
    let mut unpronounced: Vec<(Word, Option<WordCore>)> = Vec::new();
    let mut seen = HashSet::new();
    for word in words {
        let key = (word.language(), word.as_str());
        if !seen.insert(key) {
            continue;
        }
        match by_key.get(&key) {
            Some(core) if core.ipa.is_some() => found.push((*core).clone()),
            stored => unpronounced.push((word.clone(), stored.map(|core| (*core).clone()))),
        }
    }
    // A few pronunciations at once (espeak-ng runs apart).
    let to_pronounce: Vec<Word> = unpronounced.iter().map(|(word, _)| word.clone()).collect();
    let pronounced: Vec<Option<String>> = futures::stream::iter(to_pronounce)
        .map(|word| async move { pronounce(&word).await })
        .buffered(4)
        .collect()
        .await;
    let mut missing = Vec::new();
    for ((word, stored), ipa) in unpronounced.into_iter().zip(pronounced) {
        match (stored, ipa) {
            // Stored, and still no pronunciation to give it: nothing to write.
            (Some(core), None) => found.push(core),
            (_, ipa) => missing.push(db::dictionary::NewWord {
                language: word.language().to_owned(),
                word: word.as_str().to_owned(),
                ipa,
            }),
        }
    }
    missing.sort_by(|a, b| (&a.language, &a.word).cmp(&(&b.language, &b.word)));
    Ok(Wanted { found, missing })
}

impl Wanted {
    /// Makes the missing rows in `conn`'s transaction, all at once and in
    /// the one order of every writer of several rows (by language, then
    /// word: ARCHITECTURE.md, "Lock order"), before the transaction takes
    /// any other row: two learners saving the same new words in opposite
    /// orders would otherwise each hold a row the other waits for.
    pub async fn take(self, conn: &mut PgConnection) -> Result<WordCores, sqlx::Error> {
        let mut cores = WordCores::default();
        for core in self.found {
            cores.insert(core);
        }
        if !self.missing.is_empty() {
            for (core, inserted) in db::dictionary::upsert_words(&mut *conn, &self.missing).await? {
                if inserted {
                    cores.inserted.push(core.id);
                }
                cores.insert(core);
            }
        }
        Ok(cores)
    }
}

/// The shared rows of a request's words, made where missing
/// ([`Wanted::take`]).
#[derive(Debug, Default)]
pub struct WordCores {
    rows: HashMap<(String, String), WordCore>,
    /// The rows this transaction inserted.
    inserted: Vec<Uuid>,
}

impl WordCores {
    fn insert(&mut self, core: WordCore) {
        self.rows
            .insert((core.language.clone(), core.word.clone()), core);
    }

    /// The word's row: one taken already, or (a word the request did not
    /// name beforehand) found or made now, as [`word_core`] does.
    pub async fn get(&self, conn: &mut PgConnection, word: &Word) -> Result<WordCore, sqlx::Error> {
        let key = (word.language().to_owned(), word.as_str().to_owned());
        match self.rows.get(&key) {
            Some(core) => Ok(core.clone()),
            None => word_core(conn, word).await,
        }
    }

    /// Deletes the rows this transaction made that no saved word of
    /// `user_id` points at in the end (their saves were refused or lost to
    /// a newer write): a refused save leaves no shared row behind.
    pub async fn delete_unsaved(
        &self,
        conn: &mut PgConnection,
        user_id: Uuid,
    ) -> Result<(), sqlx::Error> {
        if !self.inserted.is_empty() {
            db::dictionary::delete_unsaved(conn, user_id, &self.inserted).await?;
        }
        Ok(())
    }
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
