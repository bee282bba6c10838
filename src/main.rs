//! `shoal-server [CONFIG_FILE] [--directive value ...]`, as redis-server.

use std::process::ExitCode;

use shoal::config::{Config, Startup};

fn main() -> ExitCode {
    let args: Vec<std::ffi::OsString> = std::env::args_os().skip(1).collect();
    let config_file = args
        .first()
        .filter(|a| !a.to_string_lossy().starts_with('-'))
        .map(std::path::PathBuf::from);
    match Config::from_args(args) {
        Ok(Startup::Run(config)) => match shoal::server::run(config, config_file) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("{e}");
                ExitCode::FAILURE
            }
        },
        Ok(Startup::PrintVersion) => {
            println!("{}", Config::version_text());
            ExitCode::SUCCESS
        }
        Ok(Startup::PrintHelp) => {
            println!("{}", Config::help_text());
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("{e}");
            ExitCode::FAILURE
        }
    }
}
