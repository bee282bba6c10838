//! `shoal-server [CONFIG_FILE] [--directive value ...]`, as redis-server.

use std::process::ExitCode;

use shoal::config::{Config, Startup};

fn main() -> ExitCode {
    let args: Vec<std::ffi::OsString> = std::env::args_os().skip(1).collect();
    match Config::from_args(args) {
        Ok(Startup::Run(config)) => match shoal::server::run(config) {
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
