//! `cargo run -p echoloop-speech --example assess -- TAKE "TEXT" [ORIGINAL FROM_MS TO_MS]`
//! prints the assessment as JSON (what `echoloop assess` will print).

use std::path::Path;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [take, text, rest @ ..] = args.as_slice() else {
        return Err("usage: assess TAKE TEXT [ORIGINAL FROM_MS TO_MS]".into());
    };
    let original = match rest {
        [path, from, to] => Some((Path::new(path.as_str()), from.parse()?, to.parse()?)),
        _ => None,
    };
    let started = std::time::Instant::now();
    // ECHOLOOP_NO_TRANSCRIPT=1: the phone recogniser alone.
    let transcript = std::env::var_os("ECHOLOOP_NO_TRANSCRIPT").is_none();
    let result = echoloop_speech::assess(Path::new(take), text, "en", original, transcript)?;
    println!("{}", serde_json::to_string_pretty(&result)?);
    eprintln!("assessed in {:?}", started.elapsed());
    Ok(())
}
