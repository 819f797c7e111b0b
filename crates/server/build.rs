//! Rebuilds on new migrations, and gives the run-time library path.
//!
//! The `echoloop` binary and the server's tests link the prebuilt CTranslate2
//! through the speech crate; this gives them the run-time path to it that
//! the speech crate's build script found (link arguments do not travel to
//! dependents by themselves). Why prebuilt: docs/decisions/0015-prebuilt-ctranslate2.md.

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    // `sqlx::migrate!` embeds the migrations, but cargo does not see a new
    // file in that directory by itself: the build script's rerun rebuilds
    // the crate when one is added.
    println!("cargo:rerun-if-changed=../../migrations");
    println!("cargo:rerun-if-env-changed=DEP_ECHOLOOP_CTRANSLATE2_RPATH");
    if let Ok(rpath) = std::env::var("DEP_ECHOLOOP_CTRANSLATE2_RPATH") {
        println!("cargo:rustc-link-arg=-Wl,-rpath,{rpath}");
        // The directory itself, for tests that ship the binary elsewhere
        // with its libraries beside it (the `$ORIGIN` entry).
        if let Some(dir) = rpath.split(':').find(|entry| !entry.starts_with("$ORIGIN")) {
            println!("cargo:rustc-env=ECHOLOOP_CTRANSLATE2_LIB_DIR={dir}");
        }
    }
}
