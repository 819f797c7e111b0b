//! `echoloop-native-json FILE` prints `echoloop_core::subtitles::import_to_json`
//! of FILE (default options, file name passed as the browser passes it).

use std::process::ExitCode;

use echoloop_core::subtitles::{ImportOptions, import_to_json};

fn main() -> ExitCode {
    let Some(path) = std::env::args().nth(1) else {
        eprintln!("usage: echoloop-native-json FILE");
        return ExitCode::from(2);
    };
    let bytes = match std::fs::read(&path) {
        Ok(bytes) => bytes,
        Err(error) => {
            eprintln!("{path}: {error}");
            return ExitCode::from(2);
        }
    };
    let name = std::path::Path::new(&path).file_name().and_then(|n| n.to_str());
    match import_to_json(&bytes, name, &ImportOptions::default()) {
        Ok(json) => {
            print!("{json}");
            ExitCode::SUCCESS
        }
        Err(error) => {
            print!("ERROR: {error}");
            ExitCode::from(1)
        }
    }
}
