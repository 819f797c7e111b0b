//! Real recorded speech from Debian: the prompts of the Asterisk telephone
//! system, read by professional speakers, with their texts
//! (`asterisk-core-sounds-LANG-g722`: 16 kHz G.722, a 50–7000 Hz band;
//! `asterisk-core-sounds-LANG`: the texts; CC-BY-SA-3.0). Used by the
//! assessor's evaluation (`eval --recorded`) and the transcription
//! evaluation (`eval_transcribe --recorded`).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

type Error = Box<dyn std::error::Error>;

/// One recorded prompt.
pub struct Prompt {
    pub name: String,
    pub text: String,
    pub g722: PathBuf,
}

/// The speaker's directory for a language.
fn voice_dir(lang: &str) -> Option<&'static str> {
    Some(match lang {
        "en" => "en_US_f_Allison",
        "es" => "es_MX_f_Allison",
        "fr" => "fr_CA_f_June",
        "it" => "it_IT_m_Carlo",
        "ru" => "ru_RU_f_IvrvoiceRU",
        _ => return None,
    })
}

/// The prompts of `lang` whose text is plain words (letters, apostrophes,
/// hyphens, punctuation: no digits, brackets like "[beep]" or symbols that
/// would need a reading of their own), in the order of the text file.
pub fn plain(lang: &str) -> Result<Vec<Prompt>, Error> {
    let dir = voice_dir(lang).ok_or_else(|| format!("no recorded prompts for {lang}"))?;
    let install =
        format!("apt-get install asterisk-core-sounds-{lang}-g722 asterisk-core-sounds-{lang}");
    let texts = format!("/usr/share/doc/asterisk-core-sounds-{lang}/core-sounds-{lang}.txt.gz");
    let listing = Command::new("zcat")
        .arg(&texts)
        .stderr(Stdio::null())
        .output()?;
    if !listing.status.success() {
        return Err(format!("{texts} is missing: {install}").into());
    }
    let listing = String::from_utf8(listing.stdout)?;
    let root = Path::new("/usr/share/asterisk/sounds").join(dir);
    let mut out = Vec::new();
    for line in listing.lines() {
        let line = line.trim_start_matches('\u{feff}');
        let Some((name, text)) = line.split_once(':') else {
            continue;
        };
        let (name, text) = (name.trim(), text.trim());
        let plain = text
            .chars()
            .all(|c| c.is_alphabetic() || " '’,.?!-…".contains(c));
        let g722 = root.join(format!("{name}.g722"));
        if line.starts_with(';') || text.is_empty() || !plain || !g722.exists() {
            continue;
        }
        out.push(Prompt {
            name: name.to_owned(),
            text: text.to_owned(),
            g722,
        });
    }
    if out.is_empty() {
        return Err(format!(
            "no recorded prompts found under {}: {install}",
            root.display()
        )
        .into());
    }
    Ok(out)
}

impl Prompt {
    /// Converts the G.722 file into a 16 kHz mono WAV in `dir` (ffmpeg:
    /// the files are raw G.722 without a container to probe).
    pub fn wav(&self, dir: &Path) -> Result<PathBuf, Error> {
        let wav = dir.join(format!("{}.wav", self.name.replace('/', "_")));
        let status = Command::new("ffmpeg")
            .args(["-nostdin", "-loglevel", "error", "-y", "-f", "g722", "-i"])
            .arg(&self.g722)
            .args(["-ar", "16000", "-ac", "1"])
            .arg(&wav)
            .status()?;
        if !status.success() {
            return Err(format!("ffmpeg could not read {}", self.g722.display()).into());
        }
        Ok(wav)
    }
}
