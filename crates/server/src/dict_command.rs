//! `echoloop dict import`: loads a FreeDict dictionary (dictd files as
//! Debian's `dict-freedict-*` packages install them) into the shared
//! dictionary tables. The whole file is read and checked first, so a bad
//! file writes nothing; then it is written in batches, one transaction
//! each. Importing the same file again changes nothing.

use std::path::PathBuf;
use std::time::Instant;

use clap::{Args, Subcommand};

use crate::cli::DatabaseArgs;
use crate::database;
use crate::db;
use crate::db::dictionary::ImportCounts;
use crate::dictionary::freedict;
use crate::domain::LanguageTag;
use crate::startup::Database;

#[derive(Debug, Subcommand)]
pub enum DictCommand {
    /// Import a FreeDict dictionary, e.g.
    /// `echoloop dict import --from eng --to deu /usr/share/dictd/freedict-eng-deu.index`.
    Import(ImportArgs),
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    #[command(flatten)]
    pub database: DatabaseArgs,
    /// Language of the headwords (ISO 639-3 as FreeDict names it, e.g. eng, or ISO 639-1).
    #[arg(long)]
    pub from: String,
    /// Language of the translations (e.g. deu).
    #[arg(long)]
    pub to: String,
    /// The dictd index (`NAME.index`); `NAME.dict.dz` (or `NAME.dict`) must be beside it.
    pub file: PathBuf,
    /// Name of the source stored with each sense. Default: `freedict-<from>-<to>`.
    #[arg(long)]
    pub source: Option<String>,
    /// Headwords written per transaction.
    #[arg(long, default_value_t = 2000, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub batch_size: u32,
}

pub async fn run(command: DictCommand) -> anyhow::Result<()> {
    let DictCommand::Import(args) = command;
    let from = language(&args.from, "--from")?;
    let to = language(&args.to, "--to")?;
    let source = match &args.source {
        Some(source) => source.clone(),
        None => format!(
            "freedict-{}-{}",
            args.from.to_ascii_lowercase(),
            args.to.to_ascii_lowercase()
        ),
    };
    if !valid_source(&source) {
        anyhow::bail!(
            "--source {source:?}: use 1 to 64 lower-case letters, digits, '.', '_' or '-'"
        );
    }
    let started = Instant::now();
    let file = args.file.clone();
    let language = from.primary().to_owned();
    let dictionary =
        tokio::task::spawn_blocking(move || freedict::read(&file, &language)).await??;
    let read_in = started.elapsed();
    let db = Database::open(&args.database).await?;
    let result = match database::migrations_current(&db.pool).await {
        Ok(true) => {
            write(
                &db,
                &dictionary,
                from.primary(),
                to.primary(),
                &source,
                args.batch_size,
            )
            .await
        }
        Ok(false) => Err(anyhow::anyhow!(
            "the database is missing migrations; run `echoloop migrate` first"
        )),
        Err(error) => {
            Err(anyhow::Error::new(error).context("cannot read the database's migrations"))
        }
    };
    db.close().await;
    let counts = result?;
    let senses: usize = dictionary.headwords.iter().map(|h| h.senses.len()).sum();
    println!(
        "{}: {} entries ({} skipped) → {} words, {} senses ({} → {}, source {source})",
        args.file.display(),
        dictionary.entries,
        dictionary.skipped,
        dictionary.headwords.len(),
        senses,
        from.primary(),
        to.primary(),
    );
    println!(
        "words: {} new, {} updated; senses: {} new, {} updated; read in {:.1} s, total {:.1} s",
        counts.words_inserted,
        counts.words_updated,
        counts.senses_inserted,
        counts.senses_updated,
        read_in.as_secs_f64(),
        started.elapsed().as_secs_f64(),
    );
    Ok(())
}

async fn write(
    db: &Database,
    dictionary: &freedict::Dictionary,
    from: &str,
    to: &str,
    source: &str,
    batch_size: u32,
) -> anyhow::Result<ImportCounts> {
    let mut counts = ImportCounts::default();
    let batches = dictionary.headwords.chunks(batch_size as usize);
    for (number, batch) in batches.enumerate() {
        counts += db::dictionary::import_batch(&db.pool, from, to, source, batch)
            .await
            .map_err(|error| {
                anyhow::Error::new(error).context(format!(
                    "writing batch {} (the batches before it are stored; importing again resumes)",
                    number + 1
                ))
            })?;
    }
    Ok(counts)
}

/// `eng` → `en`; a tag that is not a known language is refused.
fn language(code: &str, option: &str) -> anyhow::Result<LanguageTag> {
    LanguageTag::parse(freedict::iso639_1(code.trim()))
        .map_err(|detail| anyhow::anyhow!("{option} {code:?}: {detail}"))
}

/// As `word_senses_source_check` allows.
fn valid_source(source: &str) -> bool {
    (1..=64).contains(&source.len())
        && source.starts_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
        && source
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-'))
}
