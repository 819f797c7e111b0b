//! Points the link at the prebuilt CTranslate2 that `scripts/fetch-ctranslate2.sh`
//! unpacks (ct2rs's `system` feature only says `-lctranslate2`), and records
//! where it is so that binaries find it at run time without
//! `LD_LIBRARY_PATH`. Why prebuilt: docs/decisions/0015-prebuilt-ctranslate2.md.

use std::env;
use std::path::{Path, PathBuf};
use std::process::exit;

/// The CTranslate2 version whose headers ct2rs =0.10.3 vendors. The C++
/// classes cross the boundary by value, so a library of another version would
/// link and then misbehave; the check below refuses it at build time.
const VERSION: &str = "4.8.4";

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=ECHOLOOP_CTRANSLATE2_DIR");
    println!("cargo:rerun-if-env-changed=HOME");

    let dir = library_dir();
    let link = dir.join("libctranslate2.so");
    println!("cargo:rerun-if-changed={}", link.display());
    if let Err(problem) = check(&link) {
        eprintln!(
            "\nerror: {problem}\n\
             The speech crate links a prebuilt CTranslate2 {VERSION}; install it with\n\
             \n    scripts/install-deps.sh   (or only: scripts/fetch-ctranslate2.sh)\n\
             \nor point ECHOLOOP_CTRANSLATE2_DIR at a directory holding libctranslate2.so.\n"
        );
        exit(1);
    }

    // Link-search paths reach every final link that includes this crate
    // (the server's binary and tests too); link arguments only reach this
    // crate's own tests and examples, so the directory is also handed to
    // dependents' build scripts (`DEP_ECHOLOOP_CTRANSLATE2_RPATH`, from the
    // `links` key) for them to set the same run-time path.
    println!("cargo:rustc-link-search=native={}", dir.display());
    let rpath = rpath(&dir);
    println!("cargo:rustc-link-arg=-Wl,-rpath,{rpath}");
    println!("cargo:rpath={rpath}");
}

/// `ECHOLOOP_CTRANSLATE2_DIR`, else where the fetch script puts it.
fn library_dir() -> PathBuf {
    if let Some(dir) = env::var_os("ECHOLOOP_CTRANSLATE2_DIR").filter(|d| !d.is_empty()) {
        return PathBuf::from(dir);
    }
    let home = env::var_os("HOME").map_or_else(|| PathBuf::from("/"), PathBuf::from);
    home.join(".cache/echoloop")
        .join(format!("ctranslate2-{VERSION}"))
}

/// The link name must resolve to a library of the pinned version (the wheel's
/// file is `libctranslate2-<hash>.so.<version>`).
fn check(link: &Path) -> Result<(), String> {
    let target = std::fs::canonicalize(link)
        .map_err(|_| format!("CTranslate2 not found: {} is missing", link.display()))?;
    let name = target
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default();
    if name.ends_with(&format!(".so.{VERSION}")) {
        Ok(())
    } else {
        Err(format!(
            "{} is {name}, not CTranslate2 {VERSION} (ct2rs 0.10.3's headers)",
            link.display()
        ))
    }
}

/// First next to the binary (how a shipped binary carries the library), then
/// the directory it was linked against (development builds and tests).
fn rpath(dir: &Path) -> String {
    format!("$ORIGIN:{}", dir.display())
}
