//! `echoloop dict import` of Debian's FreeDict English–German files and
//! `GET /api/v1/dictionary/{language}/{word}`.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{TestApp, TestDb, assert_problem, cluster, spawn_app};

/// Debian's `dict-freedict-eng-deu` (scripts/install-deps.sh installs it).
const FREEDICT_INDEX: &str = "/usr/share/dictd/freedict-eng-deu.index";

/// The real index and decompressed dictionary, read once per test process.
fn freedict() -> &'static (String, Vec<u8>) {
    static FILES: OnceLock<(String, Vec<u8>)> = OnceLock::new();
    FILES.get_or_init(|| {
        let missing = "install Debian's dict-freedict-eng-deu (scripts/install-deps.sh)";
        let index = std::fs::read_to_string(FREEDICT_INDEX).expect(missing);
        let mut dict = Vec::new();
        flate2::read::GzDecoder::new(
            std::fs::File::open(FREEDICT_INDEX.replace(".index", ".dict.dz")).expect(missing),
        )
        .read_to_end(&mut dict)
        .expect("decompress the FreeDict dictionary");
        (index, dict)
    })
}

fn decode(digits: &str) -> usize {
    digits.bytes().fold(0, |n, b| {
        let digit = match b {
            b'A'..=b'Z' => b - b'A',
            b'a'..=b'z' => b - b'a' + 26,
            b'0'..=b'9' => b - b'0' + 52,
            b'+' => 62,
            _ => 63,
        };
        n * 64 + usize::from(digit)
    })
}

fn encode(mut n: usize) -> String {
    const DIGITS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = vec![DIGITS[n % 64]];
    n /= 64;
    while n > 0 {
        out.push(DIGITS[n % 64]);
        n /= 64;
    }
    out.reverse();
    String::from_utf8(out).unwrap()
}

/// A dictd pair (`freedict-eng-deu.index` + `.dict.dz`) holding the real
/// Debian entries of `words` only, as gzip, in a directory of its own.
pub fn freedict_excerpt(words: &[&str]) -> tempfile::TempDir {
    let (index, dict) = freedict();
    let mut out_index = String::new();
    let mut out_dict = Vec::new();
    for line in index.lines() {
        let mut fields = line.split('\t');
        let (Some(word), Some(offset), Some(length)) =
            (fields.next(), fields.next(), fields.next())
        else {
            continue;
        };
        if !words.contains(&word) {
            continue;
        }
        let (offset, length) = (decode(offset), decode(length));
        out_index.push_str(&format!(
            "{word}\t{}\t{}\n",
            encode(out_dict.len()),
            encode(length)
        ));
        out_dict.extend_from_slice(&dict[offset..offset + length]);
    }
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("freedict-eng-deu.index"), out_index).unwrap();
    let mut gz = flate2::write::GzEncoder::new(
        std::fs::File::create(dir.path().join("freedict-eng-deu.dict.dz")).unwrap(),
        flate2::Compression::fast(),
    );
    gz.write_all(&out_dict).unwrap();
    gz.finish().unwrap();
    dir
}

pub fn index_in(dir: &Path) -> PathBuf {
    dir.join("freedict-eng-deu.index")
}

/// `echoloop dict import --from eng --to deu FILE` on `db`.
pub fn import(db: &TestDb, file: &Path) -> Output {
    let url = format!(
        "postgres://echoloop@localhost/{}?host={}",
        db.name,
        cluster().socket_dir().display()
    );
    Command::new(env!("CARGO_BIN_EXE_echoloop"))
        .args(["dict", "import", "--from", "eng", "--to", "deu"])
        .arg(file)
        .env("DATABASE_URL", url)
        .env("ECHOLOOP_LOG", "warn")
        .output()
        .expect("run the echoloop binary")
}

fn succeeded(output: &Output) -> String {
    assert!(
        output.status.success(),
        "stderr: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// The house/go/run/beautiful part of the dictionary, imported into `app`'s database.
pub async fn with_dictionary(app: &TestApp) {
    let dir = freedict_excerpt(&["house", "houses", "go", "run", "beautiful"]);
    let db = &app.db;
    succeeded(&import(db, &index_in(dir.path())));
}

async fn dictionary_rows(db: &TestDb) -> Value {
    sqlx::query_scalar(
        "SELECT jsonb_build_object(
            'words', (SELECT jsonb_agg(to_jsonb(w) ORDER BY word) FROM word_cores w),
            'senses', (SELECT jsonb_agg(to_jsonb(s) ORDER BY w.word, s.part_of_speech)
                       FROM word_senses s JOIN word_cores w ON w.id = s.word_core_id))",
    )
    .fetch_one(&db.pool)
    .await
    .unwrap()
}

#[tokio::test]
async fn importing_debians_freedict_twice_gives_the_same_rows() {
    let db = TestDb::new().await;
    let dir = freedict_excerpt(&["house", "go", "run", "beautiful", "i"]);
    let first = succeeded(&import(&db, &index_in(dir.path())));
    assert!(first.contains("source freedict-eng-deu"), "{first}");
    assert!(first.contains("senses: "), "{first}");
    let rows = dictionary_rows(&db).await;
    let words = rows["words"].as_array().unwrap();
    let house = words.iter().find(|w| w["word"] == "house").unwrap();
    assert_eq!(house["language"], "en");
    assert_eq!(house["ipa"], "hˈaʊs");
    assert_eq!(house["parts_of_speech"], json!(["noun"]));
    // "I" is keyed in lower case; the iodine entry also indexed under "i"
    // is iodine's.
    assert!(words.iter().any(|w| w["word"] == "i"));
    assert!(words.iter().any(|w| w["word"] == "iodine"));
    let senses = rows["senses"].as_array().unwrap();
    assert!(
        senses
            .iter()
            .all(|s| s["to_language"] == "de" && s["source"] == "freedict-eng-deu")
    );

    let second = succeeded(&import(&db, &index_in(dir.path())));
    assert!(
        second.contains("words: 0 new, 0 updated; senses: 0 new, 0 updated"),
        "{second}"
    );
    assert_eq!(dictionary_rows(&db).await, rows);
}

#[tokio::test]
async fn a_bad_index_line_is_named_and_nothing_is_written() {
    let db = TestDb::new().await;
    let dir = freedict_excerpt(&["house", "go"]);
    let index = index_in(dir.path());
    let lines = std::fs::read_to_string(&index).unwrap().lines().count();
    let mut file = std::fs::OpenOptions::new()
        .append(true)
        .open(&index)
        .unwrap();
    writeln!(file, "broken\tnot base64!").unwrap();
    drop(file);
    let output = import(&db, &index);
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(&format!("freedict-eng-deu.index:{}: ", lines + 1)),
        "{stderr}"
    );
    assert_eq!(app_count(&db, "word_cores").await, 0);
    assert_eq!(app_count(&db, "word_senses").await, 0);
}

#[tokio::test]
async fn a_damaged_dictionary_or_a_missing_file_is_named_and_nothing_is_written() {
    let db = TestDb::new().await;
    let dir = freedict_excerpt(&["house", "go"]);
    let dz = dir.path().join("freedict-eng-deu.dict.dz");
    let bytes = std::fs::read(&dz).unwrap();
    std::fs::write(&dz, &bytes[..bytes.len() / 2]).unwrap();
    let output = import(&db, &index_in(dir.path()));
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("freedict-eng-deu.dict.dz"), "{stderr}");

    let output = import(&db, &dir.path().join("missing.index"));
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("cannot read") && stderr.contains("missing.index"),
        "{stderr}"
    );
    assert_eq!(app_count(&db, "word_cores").await, 0);
}

async fn app_count(db: &TestDb, table: &str) -> i64 {
    sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT count(*) FROM {table}")))
        .fetch_one(&db.pool)
        .await
        .unwrap()
}

#[tokio::test]
async fn looking_up_a_word_gives_its_pronunciation_and_meanings() {
    let app = spawn_app().await;
    with_dictionary(&app).await;
    let user = app.register_user().await;
    let body: Value = app
        .get_json("/dictionary/en/House?to=de", &user.token)
        .await;
    assert_eq!(body["word"], "house");
    assert_eq!(body["language"], "en");
    assert_eq!(body["ipa"], "hˈaʊs");
    assert_eq!(body["parts_of_speech"], json!(["noun"]));
    let sense = &body["senses"][0];
    assert_eq!(sense["to"], "de");
    assert_eq!(sense["part_of_speech"], "noun");
    assert_eq!(sense["source"], "freedict-eng-deu");
    assert_eq!(
        sense["definitions"][0], "Haus",
        "the usual meaning first: {body}"
    );

    // A region or another spelling of the same word finds the same entry.
    let again: Value = app
        .get_json("/dictionary/en-GB/%20HOUSE%20?to=de-AT", &user.token)
        .await;
    assert_eq!(again, body);
    let go: Value = app.get_json("/dictionary/en/go?to=de", &user.token).await;
    assert_eq!(go["parts_of_speech"], json!(["verb"]));
    assert!(
        go["senses"][0]["definitions"]
            .as_array()
            .unwrap()
            .contains(&json!("gehen"))
    );
}

#[tokio::test]
async fn the_meanings_are_in_the_native_language_unless_asked_otherwise() {
    let app = spawn_app().await;
    with_dictionary(&app).await;
    let user = app.register_user().await;
    // Registered with native language zh-CN: no English–Chinese dictionary here.
    let body: Value = app.get_json("/dictionary/en/house", &user.token).await;
    assert_eq!(body["senses"], json!([]));
    assert_eq!(body["ipa"], "hˈaʊs");
    let response = app
        .authed(Method::PATCH, "/me", &user.token)
        .json(&json!({ "native_language": "de-CH" }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let body: Value = app.get_json("/dictionary/en/house", &user.token).await;
    assert_eq!(body["senses"][0]["to"], "de");
}

#[tokio::test]
async fn a_word_the_dictionary_lacks_is_pronounced_but_stored_only_once_saved() {
    let app = spawn_app().await;
    let user = app.register_user().await;
    let body: Value = app
        .get_json("/dictionary/en/Shadowing?to=de", &user.token)
        .await;
    assert_eq!(body["word"], "shadowing");
    assert_eq!(body["senses"], json!([]));
    assert_eq!(body["parts_of_speech"], json!([]));
    let ipa = body["ipa"].as_str().expect("espeak-ng's pronunciation");
    assert!(ipa.starts_with("ʃ"), "{ipa}");
    // Asking alone adds nothing to the shared table.
    assert_eq!(app.count("SELECT count(*) FROM word_cores").await, 0);

    // Saving the word stores it with its pronunciation, once for everyone.
    let response = app
        .authed(
            reqwest::Method::PUT,
            &format!("/vocabulary/{}", uuid::Uuid::new_v4()),
            &user.token,
        )
        .json(&json!({"word": "Shadowing", "language": "en"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    let stored: Option<String> = sqlx::query_scalar(
        "SELECT ipa FROM word_cores WHERE language = 'en' AND word = 'shadowing'",
    )
    .fetch_one(&app.db.pool)
    .await
    .unwrap();
    assert_eq!(stored.as_deref(), Some(ipa));

    // A later lookup reads it: it is not made again.
    sqlx::query("UPDATE word_cores SET ipa = 'marked' WHERE word = 'shadowing'")
        .execute(&app.db.pool)
        .await
        .unwrap();
    let again: Value = app.get_json("/dictionary/en/shadowing", &user.token).await;
    assert_eq!(again["ipa"], "marked");
    assert_eq!(app.count("SELECT count(*) FROM word_cores").await, 1);

    // German words are pronounced with espeak-ng's German voice.
    let haus: Value = app.get_json("/dictionary/de/Haus?to=en", &user.token).await;
    assert_eq!(
        (haus["word"].as_str(), haus["ipa"].as_str()),
        (Some("haus"), Some("hˈaʊs"))
    );
}

#[tokio::test]
async fn bad_languages_and_words_are_refused_naming_the_field() {
    let app = spawn_app().await;
    let user = app.register_user().await;
    let long = "a".repeat(201);
    for (path, field) in [
        ("/dictionary/english/house".to_owned(), "language"),
        ("/dictionary/xx/house".to_owned(), "language"),
        ("/dictionary/en/%20%20".to_owned(), "word"),
        (format!("/dictionary/en/{long}"), "word"),
        ("/dictionary/en/house?to=klingon".to_owned(), "to"),
        ("/dictionary/en/house?from=de".to_owned(), "from"),
    ] {
        let response = app
            .authed(Method::GET, &path, &user.token)
            .send()
            .await
            .unwrap();
        let problem = assert_problem(response, 422, "validation_failed").await;
        assert_eq!(problem["field"], field, "{path}: {problem}");
    }
    assert_eq!(app.count("SELECT count(*) FROM word_cores").await, 0);
    let response = app
        .client
        .get(app.url("/api/v1/dictionary/en/house"))
        .send()
        .await
        .unwrap();
    assert_problem(response, 401, "unauthorized").await;
}
