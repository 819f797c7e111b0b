use std::process::ExitCode;

use clap::Parser;
use echoloop_server::cli::{Cli, Command};
use echoloop_server::{dict_command, startup, telemetry, tools_command, user_command};

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Err(error) = telemetry::init(cli.log_format, &cli.log) {
        eprintln!("echoloop: error: {error:#}");
        return ExitCode::FAILURE;
    }
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("echoloop: error: cannot start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        match cli.command {
            Command::Serve(args) => startup::serve(args).await,
            Command::Migrate(args) => startup::migrate(args).await,
            Command::User(command) => user_command::run(command).await,
            Command::Assess(args) => tools_command::assess(args),
            Command::Transcribe(args) => tools_command::transcribe(args),
            Command::Subtitles(command) => tools_command::subtitles(command),
            Command::Models(command) => tools_command::models(command),
            Command::Dict(command) => dict_command::run(command).await,
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            // One line that says what is wrong, for operators and scripts.
            eprintln!("echoloop: error: {error:#}");
            ExitCode::FAILURE
        }
    }
}
