//! Redis-style log lines (`pid:role dd Mon yyyy hh:mm:ss.mmm * message`), to
//! stdout or the configured `logfile`, filtered by `loglevel`.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Mutex;

use crate::config::LogLevel;

static LEVEL: AtomicU8 = AtomicU8::new(2);
// Logging is rare and off the data path; a mutex keeps lines whole.
static FILE: Mutex<Option<File>> = Mutex::new(None);

fn rank(l: LogLevel) -> u8 {
    match l {
        LogLevel::Debug => 0,
        LogLevel::Verbose => 1,
        LogLevel::Notice => 2,
        LogLevel::Warning => 3,
    }
}

pub fn set_level(l: LogLevel) {
    LEVEL.store(rank(l), Ordering::Relaxed);
}

pub fn set_file(path: &str) -> std::io::Result<()> {
    let f = OpenOptions::new().create(true).append(true).open(path)?;
    if let Ok(mut g) = FILE.lock() {
        *g = Some(f);
    }
    Ok(())
}

fn write(level: u8, mark: char, msg: &str) {
    if level < LEVEL.load(Ordering::Relaxed) {
        return;
    }
    let line = format!("{}:M {} {mark} {msg}\n", std::process::id(), timestamp());
    match FILE.lock() {
        Ok(mut g) => match g.as_mut() {
            Some(f) => {
                let _ = f.write_all(line.as_bytes());
            }
            None => {
                let _ = std::io::stdout().write_all(line.as_bytes());
            }
        },
        Err(_) => {
            let _ = std::io::stdout().write_all(line.as_bytes());
        }
    }
}

fn timestamp() -> String {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let ms = crate::server::now_ms();
    let secs = (ms / 1000) as i64;
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // Civil-from-days (proleptic Gregorian), UTC.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{:02} {} {} {:02}:{:02}:{:02}.{:03}",
        day,
        MONTHS[(month - 1) as usize],
        year,
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        ms % 1000
    )
}

pub fn debug(msg: &str) {
    write(0, '.', msg)
}
pub fn verbose(msg: &str) {
    write(1, '-', msg)
}
pub fn notice(msg: &str) {
    write(2, '*', msg)
}
pub fn warning(msg: &str) {
    write(3, '#', msg)
}
