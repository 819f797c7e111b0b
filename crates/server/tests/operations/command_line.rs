use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

use crate::{postmaster_pid, reachable_tempdir};

const BIN: &str = env!("CARGO_BIN_EXE_echoloop");

fn echoloop() -> Command {
    let mut command = Command::new(BIN);
    command
        .env_remove("DATABASE_URL")
        .env("ECHOLOOP_LOG", "warn");
    command
}

/// The process failed, and said why in exactly one `echoloop: error:` line.
fn assert_one_clear_error(output: &Output, reason: &str) {
    assert!(!output.status.success(), "exit status {:?}", output.status);
    let stderr = String::from_utf8_lossy(&output.stderr);
    let errors: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("echoloop: error:"))
        .collect();
    assert_eq!(errors.len(), 1, "one error line in:\n{stderr}");
    assert!(
        errors[0].contains(reason),
        "{:?} mentions {reason:?}",
        errors[0]
    );
}

/// Alive and not a zombie waiting for a reaper.
fn is_alive(pid: i32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map(|stat| {
            !stat
                .rsplit_once(") ")
                .is_some_and(|(_, rest)| rest.starts_with('Z'))
        })
        .unwrap_or(false)
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn wait_ready(port: u16) {
    let deadline = Instant::now() + Duration::from_secs(60);
    let url = format!("http://127.0.0.1:{port}/readyz");
    while Instant::now() < deadline {
        if let Ok(response) = reqwest::blocking_get(&url)
            && response == 200
        {
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("server on port {port} never became ready");
}

mod reqwest {
    /// A tiny blocking GET so these tests need no async runtime.
    pub fn blocking_get(url: &str) -> Result<u16, ()> {
        let rest = url.strip_prefix("http://").ok_or(())?;
        let (host, path) = rest.split_once('/').ok_or(())?;
        let mut stream = std::net::TcpStream::connect(host).map_err(|_| ())?;
        stream
            .set_read_timeout(Some(std::time::Duration::from_secs(5)))
            .map_err(|_| ())?;
        use std::io::{Read, Write};
        write!(
            stream,
            "GET /{path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
        )
        .map_err(|_| ())?;
        let mut response = String::new();
        stream.read_to_string(&mut response).map_err(|_| ())?;
        response
            .split(' ')
            .nth(1)
            .and_then(|code| code.parse().ok())
            .ok_or(())
    }
}

fn spawn_serve(data_dir: &std::path::Path, port: u16, extra: &[&str]) -> Child {
    echoloop()
        .args([
            "serve",
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--data-dir",
        ])
        .arg(data_dir)
        .args(extra)
        .env("ECHOLOOP_LOG", "info")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

#[test]
fn help_documents_every_option_with_its_environment_variable() {
    let output = echoloop().args(["serve", "--help"]).output().unwrap();
    assert!(output.status.success());
    let help = String::from_utf8_lossy(&output.stdout);
    for (option, env) in [
        ("--data-dir", "ECHOLOOP_DATA"),
        ("--database-url", "DATABASE_URL"),
        ("--listen", "ECHOLOOP_LISTEN"),
        ("--web-dir", "ECHOLOOP_WEB_DIR"),
        ("--max-body-bytes", "ECHOLOOP_MAX_BODY_BYTES"),
        ("--log-format", "ECHOLOOP_LOG_FORMAT"),
        ("--db-max-connections", "ECHOLOOP_DB_MAX_CONNECTIONS"),
        ("--shutdown-grace-secs", "ECHOLOOP_SHUTDOWN_GRACE_SECS"),
    ] {
        assert!(help.contains(option), "{option} documented");
        assert!(help.contains(&format!("env: {env}")), "{env} documented");
    }
}

#[test]
fn an_unusable_data_directory_is_one_clear_error() {
    let dir = reachable_tempdir();
    let file = dir.path().join("not-a-directory");
    std::fs::write(&file, "x").unwrap();
    let output = echoloop()
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(file.join("data"))
        .output()
        .unwrap();
    assert_one_clear_error(&output, "cannot prepare data directory");
}

#[test]
fn a_malformed_database_url_is_one_clear_error() {
    let output = echoloop()
        .args(["serve", "--listen", "127.0.0.1:0"])
        .env("DATABASE_URL", "mysql://nope")
        .output()
        .unwrap();
    assert_one_clear_error(&output, "DATABASE_URL is not a valid PostgreSQL URL");
}

#[test]
fn half_configured_stripe_is_one_clear_error_before_anything_starts() {
    let output = echoloop()
        .args(["serve", "--listen", "127.0.0.1:0"])
        .env("DATABASE_URL", "mysql://not-even-looked-at")
        .env("STRIPE_SECRET_KEY", "sk_test_only_the_key")
        .env_remove("STRIPE_WEBHOOK_SECRET")
        .output()
        .unwrap();
    assert_one_clear_error(&output, "STRIPE_WEBHOOK_SECRET");
}

#[test]
fn an_unreachable_database_is_one_clear_error() {
    let port = free_port();
    let output = echoloop()
        .args(["migrate"])
        .env(
            "DATABASE_URL",
            format!("postgres://echoloop@127.0.0.1:{port}/echoloop"),
        )
        .output()
        .unwrap();
    assert_one_clear_error(&output, "cannot connect to the database");
}

#[test]
fn a_port_in_use_is_one_clear_error() {
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let dir = reachable_tempdir();
    let output = echoloop()
        .args([
            "serve",
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--data-dir",
        ])
        .arg(dir.path())
        .output()
        .unwrap();
    assert_one_clear_error(&output, &format!("cannot listen on 127.0.0.1:{port}"));
}

#[test]
fn serve_restarts_a_killed_postgres_and_stops_it_on_sigterm_with_json_logs() {
    let dir = reachable_tempdir();
    let port = free_port();
    let mut server = spawn_serve(dir.path(), port, &["--log-format", "json"]);
    wait_ready(port);
    let cluster_dir = dir.path().join("postgres/cluster");
    let first = postmaster_pid(&cluster_dir).unwrap();

    kill(Pid::from_raw(first), Signal::SIGKILL).unwrap();
    // The supervisor notices within seconds and starts a new postmaster;
    // readiness while it is down is asserted deterministically in
    // embedded_cluster.rs, so here only the recovery is required.
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        let restarted =
            postmaster_pid(&cluster_dir).is_some_and(|pid| pid != first && is_alive(pid));
        if restarted && reqwest::blocking_get(&format!("http://127.0.0.1:{port}/readyz")) == Ok(200)
        {
            break;
        }
        if Instant::now() >= deadline {
            let _ = server.kill();
            panic!("postgres was not restarted within 90 s");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let second = postmaster_pid(&cluster_dir).unwrap();
    assert_ne!(first, second, "a new postmaster serves");

    kill(Pid::from_raw(server.id() as i32), Signal::SIGTERM).unwrap();
    let status = server.wait().unwrap();
    assert!(status.success(), "clean exit after SIGTERM: {status:?}");
    assert!(
        !cluster_dir.join("postmaster.pid").exists(),
        "postgres was stopped"
    );
    assert!(!is_alive(second), "no postmaster left running");

    let stderr = BufReader::new(server.stderr.take().unwrap());
    let mut lines = 0;
    for line in stderr.lines() {
        let line = line.unwrap();
        let parsed: serde_json::Value =
            serde_json::from_str(&line).unwrap_or_else(|_| panic!("JSON log line: {line}"));
        assert!(parsed.get("level").is_some(), "{line}");
        lines += 1;
    }
    assert!(lines > 3, "the server logged its life cycle");
}

#[test]
fn a_command_beside_a_serving_server_leaves_its_database_running() {
    let dir = reachable_tempdir();
    let port = free_port();
    let mut server = spawn_serve(dir.path(), port, &[]);
    wait_ready(port);
    let cluster_dir = dir.path().join("postgres/cluster");
    let serving = postmaster_pid(&cluster_dir).unwrap();

    // What an operator (or `make run`'s dictionary import) runs meanwhile.
    for args in [&["migrate"][..], &["user", "list"][..]] {
        let output = echoloop()
            .args(args)
            .arg("--data-dir")
            .arg(dir.path())
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        assert_eq!(
            postmaster_pid(&cluster_dir),
            Some(serving),
            "{args:?} stopped the server's PostgreSQL"
        );
        assert!(is_alive(serving));
    }
    assert_eq!(
        reqwest::blocking_get(&format!("http://127.0.0.1:{port}/readyz")),
        Ok(200)
    );

    kill(Pid::from_raw(server.id() as i32), Signal::SIGTERM).unwrap();
    assert!(server.wait().unwrap().success());
    assert!(!is_alive(serving), "the server stops what it started");
}

#[test]
fn migrate_applies_the_schema_to_the_embedded_cluster_and_stops_it() {
    let dir = reachable_tempdir();
    let output = echoloop()
        .args(["migrate", "--data-dir"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let cluster_dir = dir.path().join("postgres/cluster");
    assert!(cluster_dir.join("PG_VERSION").exists());
    assert!(
        !cluster_dir.join("postmaster.pid").exists(),
        "migrate leaves no server running"
    );
    let again = echoloop()
        .args(["migrate", "--data-dir"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(again.status.success(), "re-running migrations is a no-op");
}

#[test]
fn a_normal_user_runs_the_embedded_cluster_as_itself() {
    use std::os::unix::process::CommandExt;
    if !nix::unistd::geteuid().is_root() {
        // Already a normal user: every other test here covers this case.
        let dir = reachable_tempdir();
        let output = echoloop()
            .args(["migrate", "--data-dir"])
            .arg(dir.path())
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        return;
    }
    let nobody = nix::unistd::User::from_name("nobody")
        .unwrap()
        .expect("user nobody");
    let dir = reachable_tempdir();
    // The build directory may sit under root's private home; copy the
    // binary, and the prebuilt CTranslate2 beside it as an operator ships
    // it (docs/decisions/0015-prebuilt-ctranslate2.md: found through `$ORIGIN`).
    let bin = dir.path().join("echoloop");
    std::fs::copy(BIN, &bin).unwrap();
    if let Some(libs) = option_env!("ECHOLOOP_CTRANSLATE2_LIB_DIR") {
        for entry in std::fs::read_dir(libs).unwrap() {
            let entry = entry.unwrap();
            std::fs::copy(entry.path(), dir.path().join(entry.file_name())).unwrap();
        }
    }
    let data = dir.path().join("data");
    std::fs::create_dir(&data).unwrap();
    nix::unistd::chown(&data, Some(nobody.uid), Some(nobody.gid)).unwrap();
    let output = Command::new(&bin)
        .args(["migrate", "--data-dir"])
        .arg(&data)
        .env_remove("DATABASE_URL")
        .env("ECHOLOOP_LOG", "warn")
        .current_dir(dir.path())
        .uid(nobody.uid.as_raw())
        .gid(nobody.gid.as_raw())
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let cluster = std::fs::metadata(data.join("postgres/cluster")).unwrap();
    use std::os::unix::fs::MetadataExt;
    assert_eq!(
        cluster.uid(),
        nobody.uid.as_raw(),
        "the cluster belongs to the user who ran it"
    );
}

#[test]
fn sigterm_lets_an_in_flight_request_finish_before_exiting() {
    use std::io::{Read, Write};
    let dir = reachable_tempdir();
    let port = free_port();
    let mut server = spawn_serve(dir.path(), port, &[]);
    wait_ready(port);

    let body = r#"{"email":"drain@example.com","password":"correct horse battery","native_language":"en"}"#;
    let (first_half, second_half) = body.split_at(body.len() / 2);
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    write!(
        stream,
        "POST /api/v1/accounts HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{first_half}",
        body.len()
    )
    .unwrap();
    stream.flush().unwrap();
    std::thread::sleep(Duration::from_millis(300));

    // The request is half received when the signal arrives.
    kill(Pid::from_raw(server.id() as i32), Signal::SIGTERM).unwrap();
    std::thread::sleep(Duration::from_millis(500));
    assert!(
        server.try_wait().unwrap().is_none(),
        "the server waits for the request"
    );
    let refused = std::net::TcpStream::connect(("127.0.0.1", port));
    assert!(refused.is_err(), "no new connections while draining");

    stream.write_all(second_half.as_bytes()).unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    assert!(
        response.starts_with("HTTP/1.1 201"),
        "the in-flight request completed: {response}"
    );

    let status = server.wait().unwrap();
    assert!(status.success(), "clean exit once drained: {status:?}");
}

fn workspace_root() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

#[test]
fn subtitles_import_prints_the_segments_the_web_client_gets() {
    let dir = reachable_tempdir();
    let file = dir.path().join("film.srt");
    std::fs::write(
        &file,
        "1\r\n00:00:01,000 --> 00:00:02,500\r\nHello there.\r\n\r\n2\r\n00:00:03,000 --> 00:00:04,000\r\nHow are you?\r\n",
    )
    .unwrap();
    let output = echoloop()
        .args(["subtitles", "import"])
        .arg(&file)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(json["format"], "srt");
    assert_eq!(json["segments"][0]["startTime"], 1000);
    assert_eq!(json["segments"][0]["endTime"], 2500);
    assert_eq!(json["segments"][1]["text"], "How are you?");

    let not_subtitles = dir.path().join("notes.txt");
    std::fs::write(&not_subtitles, "just some words\n").unwrap();
    let output = echoloop()
        .args(["subtitles", "import"])
        .arg(&not_subtitles)
        .output()
        .unwrap();
    assert_one_clear_error(&output, "not in a subtitle format we know");
}

/// What `echoloop ARGS FILE` prints as JSON, run in the workspace (where
/// its models are); the command must succeed.
fn json_output(args: &[&str], file: &std::path::Path) -> serde_json::Value {
    let output = echoloop()
        .current_dir(workspace_root())
        .args(args)
        .arg(file)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

#[test]
fn assess_scores_a_correct_take_high_and_names_an_omitted_word() {
    let dir = reachable_tempdir();
    let speak = |name: &str, text: &str| {
        let path = dir.path().join(name);
        let status = Command::new("espeak-ng")
            .args(["-v", "en-us", "-w"])
            .arg(&path)
            .arg(text)
            .status()
            .unwrap();
        assert!(status.success());
        path
    };
    let text = "The quick brown fox jumps over the lazy dog.";
    let correct = speak("correct.wav", text);
    let missing = speak("missing.wav", "The quick brown fox jumps over the dog.");
    let assess_with = |take: &std::path::Path, extra: &[&str]| {
        let mut args = vec!["assess", "--json", "--text", text];
        args.extend_from_slice(extra);
        json_output(&args, take)
    };
    let assess = |take: &std::path::Path| assess_with(take, &[]);
    let good = assess(&correct);
    // Cross-checked with the Whisper transcript by default.
    assert_eq!(good["engine"], "builtin-hama+whisper-tiny.en", "{good}");
    assert!(
        good["scores"]["overall"].as_f64().unwrap() >= 80.0,
        "{good}"
    );
    let omitted = assess(&missing);
    let lazy = omitted["words"]
        .as_array()
        .unwrap()
        .iter()
        .find(|w| w["word"] == "lazy")
        .unwrap();
    assert_eq!(lazy["error"], "Omission", "{omitted}");
    assert!(omitted["scores"]["completeness"].as_f64() < good["scores"]["completeness"].as_f64());
    // --no-transcript: the phone recogniser alone, which finds it too.
    let acoustic = assess_with(&missing, &["--no-transcript"]);
    assert_eq!(acoustic["engine"], "builtin-hama", "{acoustic}");
    let lazy = acoustic["words"]
        .as_array()
        .unwrap()
        .iter()
        .find(|w| w["word"] == "lazy")
        .unwrap();
    assert_eq!(lazy["error"], "Omission", "{acoustic}");

    assert!(good.get("takeIssues").is_none(), "{good}");

    // Two seconds of nothing: the recording is said to be at fault.
    let silent = dir.path().join("silent.wav");
    let status = Command::new("ffmpeg")
        .args(["-nostdin", "-loglevel", "error", "-f", "lavfi"])
        .args(["-i", "anullsrc=r=16000:cl=mono", "-t", "2"])
        .arg(&silent)
        .status()
        .unwrap();
    assert!(status.success());
    assert_eq!(
        assess(&silent)["takeIssues"],
        serde_json::json!(["no_speech"])
    );
    let output = echoloop()
        .current_dir(workspace_root())
        .args(["assess", "--text", text])
        .arg(&silent)
        .output()
        .unwrap();
    assert!(output.status.success());
    let printed = String::from_utf8_lossy(&output.stdout);
    assert!(
        printed.contains("the recording: no speech was heard"),
        "{printed}"
    );

    let not_audio = dir.path().join("notes.txt");
    std::fs::write(&not_audio, "not audio at all").unwrap();
    let output = echoloop()
        .current_dir(workspace_root())
        .args(["assess", "--text", "hi"])
        .arg(&not_audio)
        .output()
        .unwrap();
    assert_one_clear_error(&output, "unsupported or unrecognised audio format");
}

#[test]
fn transcribe_gives_the_same_text_twice_even_when_whisper_samples() {
    // Five sentences said four times: the first window's text is so
    // repetitive that Whisper's loop check rejects it and samples again.
    let dir = reachable_tempdir();
    let round = [
        "We took the early train to the city.",
        "Nobody knew where the old map had come from.",
        "The children played in the garden until dark.",
        "She wrote a long letter to her grandmother.",
        "The market opens at seven on Saturdays.",
    ]
    .join(" <break time=\"1200ms\"/> ");
    let ssml = format!(
        "<speak>{}</speak>",
        vec![round; 4].join(" <break time=\"1200ms\"/> ")
    );
    let talk = dir.path().join("talk.wav");
    let status = Command::new("espeak-ng")
        .args(["-m", "-v", "en-us", "-w"])
        .arg(&talk)
        .arg(ssml)
        .status()
        .unwrap();
    assert!(status.success());
    let transcribe = || {
        json_output(
            &["transcribe", "--model", "tiny.en", "--format", "json"],
            &talk,
        )
    };
    let first = transcribe();
    let text = first["text"].as_str().unwrap();
    assert_eq!(text.matches("grandmother").count(), 4, "{text}");
    for _ in 0..2 {
        assert_eq!(transcribe()["segments"], first["segments"]);
    }
}
