//! CL.THROTTLE: a native rate limiter compatible with the redis-cell module.
//!
//! The generic cell rate algorithm (GCRA) as redis-cell implements it: a
//! limiter is one key holding its theoretical arrival time (TAT) in Unix
//! nanoseconds as a plain string, expiring by itself when the bucket is
//! full again. Each call is O(1) and atomic (it runs on the shard owning
//! the key), so redis-cell's compare-and-swap retries are not needed.
//!
//! Replies are redis-cell's: `[limited, limit, remaining, retry_after,
//! reset_after]`, the two durations in seconds rounded up (retry_after -1
//! when allowed). Errors keep redis-cell's texts ("Cell error: ..."); on top
//! of redis-cell, negative arguments and parameters whose durations do not
//! fit in 64-bit nanoseconds are refused rather than computed with.

use std::time::{SystemTime, UNIX_EPOCH};

use bytes::Bytes;

use super::{flag, CmdError, CmdResult, CommandSpec, Ctx, Keys};
use crate::shard::db::Value;

pub const COMMANDS: &[CommandSpec] = &[CommandSpec {
    name: "cl.throttle",
    // redis-cell registers no arity (module commands have -1) and answers
    // a wrong argument count with its usage text.
    arity: -1,
    flags: flag::WRITE | flag::DENYOOM,
    keys: Keys::Range {
        first: 1,
        last: 1,
        step: 1,
    },
    group: "module",
    since: "7.0.0",
    complexity: "O(1)",
    summary: "Rate-limits an action with the generic cell rate algorithm, as redis-cell does",
    args: "key max_burst count_per_period period [quantity]",
    handler: Some(throttle),
    ..CommandSpec::DEFAULT
}];

const NANOS_PER_SEC: i128 = 1_000_000_000;

fn cell_error(msg: impl std::fmt::Display) -> CmdError {
    CmdError::msg(format!("Cell error: Store error: {msg}"))
}

/// redis-cell's argument parsing: Rust's i64 grammar (an optional sign,
/// digits), its text on failure, and (Shoal's addition) no negatives.
fn parse_arg(arg: &[u8], name: &str) -> Result<i64, CmdError> {
    let text = String::from_utf8_lossy(arg);
    let n: i64 = text
        .parse()
        .map_err(|_| cell_error(format!("Couldn't parse as integer: {text}")))?;
    if n < 0 {
        return Err(cell_error(format!("{name} must not be negative")));
    }
    Ok(n)
}

fn now_ns() -> i128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as i128)
}

/// A duration in seconds as redis-cell replies it: whole seconds, plus one
/// when at least a millisecond is left over.
fn reply_seconds(ns: i128) -> i64 {
    let mut secs = ns / NANOS_PER_SEC;
    if (ns % NANOS_PER_SEC) / 1_000_000 > 0 {
        secs += 1;
    }
    secs as i64
}

/// The limiter's parameters in nanoseconds.
struct Quota {
    /// The time between two actions at the sustained rate.
    emission_interval: i128,
    /// How far ahead of the schedule the TAT may run: the bucket's size.
    delay_tolerance: i128,
    limit: i64,
}

fn quota(max_burst: i64, count: i64, period: i64) -> Result<Quota, CmdError> {
    let out_of_range = || cell_error("rate limit parameters out of range");
    let period_ns =
        i64::try_from(i128::from(period) * NANOS_PER_SEC).map_err(|_| out_of_range())?;
    // redis-cell divides in floating point and truncates to nanoseconds.
    let emission_interval = if count == 0 || period_ns == 0 {
        0
    } else {
        (period_ns as f64 / count as f64) as i64
    };
    if emission_interval == 0 {
        return Err(cell_error("Zero rates are not supported"));
    }
    let limit = max_burst.checked_add(1).ok_or_else(out_of_range)?;
    let delay_tolerance = i128::from(emission_interval) * i128::from(limit);
    // The TAT must stay a 64-bit nanosecond time for centuries to come.
    if delay_tolerance > i128::from(i64::MAX / 4) {
        return Err(out_of_range());
    }
    Ok(Quota {
        emission_interval: i128::from(emission_interval),
        delay_tolerance,
        limit,
    })
}

/// The TAT a limiter key holds, read as redis-cell does (a decimal string),
/// with its error texts for anything else; WRONGTYPE for non-strings.
fn stored_tat(value: &Value) -> Result<i64, CmdError> {
    match value {
        Value::Int(v) => Ok(*v),
        Value::Str(s) => {
            let text = std::str::from_utf8(s.as_slice())
                .map_err(|e| CmdError::msg(format!("Cell error: {e}")))?;
            text.parse()
                .map_err(|e| CmdError::msg(format!("Cell error: {e}")))
        }
        _ => Err(CmdError::WrongType),
    }
}

struct Decision {
    limited: bool,
    remaining: i64,
    retry_after: i128,
    reset_after: i128,
    /// The TAT to store when the action is allowed.
    new_tat: Option<i128>,
}

/// One GCRA step at `now` for a limiter whose TAT is `tat` (None: no key).
fn decide(q: &Quota, tat: Option<i64>, now: i128, quantity: i64) -> Decision {
    let increment = q.emission_interval * i128::from(quantity);
    let tat = tat.map_or(now, i128::from);
    let new_tat = now.max(tat) + increment;
    let allow_at = new_tat - q.delay_tolerance;
    let diff = now - allow_at;
    let (limited, ttl, retry_after, new_tat) = if diff < 0 {
        // A request larger than the whole bucket can never pass: no
        // retry time is given for it.
        let retry = if increment <= q.delay_tolerance {
            -diff
        } else {
            -NANOS_PER_SEC
        };
        (true, tat - now, retry, None)
    } else {
        (false, new_tat - now, -NANOS_PER_SEC, Some(new_tat))
    };
    let next = q.delay_tolerance - ttl;
    let remaining = if next > -q.emission_interval {
        // redis-cell divides whole microseconds in floating point.
        ((next / 1000) as f64 / (q.emission_interval / 1000) as f64) as i64
    } else {
        0
    };
    Decision {
        limited,
        remaining,
        retry_after,
        reset_after: ttl,
        new_tat,
    }
}

fn throttle(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    if args.len() != 5 && args.len() != 6 {
        return Err(cell_error(
            "Usage: cl.throttle <key> <max_burst> <count per period> <period> [<quantity>]",
        ));
    }
    let key = &args[1][..];
    let max_burst = parse_arg(&args[2], "max_burst")?;
    let count = parse_arg(&args[3], "count per period")?;
    let period = parse_arg(&args[4], "period")?;
    let quantity = match args.get(5) {
        Some(q) => parse_arg(q, "quantity")?,
        None => 1,
    };
    let q = quota(max_burst, count, period)?;

    let tat = match ctx.write(key) {
        Some(e) => Some(stored_tat(&e.value)?),
        None => None,
    };
    let now = now_ns();
    let d = decide(&q, tat, now, quantity);

    if let Some(new_tat) = d.new_tat {
        let value = Value::Int(new_tat as i64);
        // The key lives until its TAT: the bucket is full again then.
        let expire_at = (new_tat + 999_999).div_euclid(1_000_000).max(1) as u64;
        match ctx.write(key) {
            Some(e) => {
                e.set_value(value);
                ctx.db(key).set_expire(key, expire_at);
            }
            None => {
                let mut entry = ctx.entry(value);
                entry.expire_at = expire_at;
                ctx.db(key).insert(key, entry);
            }
        }
        // No keyspace event (redis-cell raises none), but WATCH sees it.
        ctx.notify(0, "cl.throttle", key);
    }

    ctx.array(5);
    ctx.int(i64::from(d.limited));
    ctx.int(q.limit);
    ctx.int(d.remaining);
    ctx.int(reply_seconds(d.retry_after));
    ctx.int(reply_seconds(d.reset_after));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const SEC: i128 = NANOS_PER_SEC;
    const MS: i128 = 1_000_000;

    /// redis-cell's own table of cases: 5 per second, burst 4, at a
    /// controlled clock.
    #[test]
    fn matches_redis_cell_reference_cases() {
        let q = quota(4, 1, 1).unwrap();
        let start: i128 = 1_700_000_000 * SEC;
        // (offset, quantity, limited, remaining, reset_after, retry_after)
        let cases: &[(i128, i64, bool, i64, i128, i128)] = &[
            (0, 6, true, 5, 0, -SEC),
            (0, 1, false, 4, SEC, -SEC),
            (0, 1, false, 3, 2 * SEC, -SEC),
            (0, 1, false, 2, 3 * SEC, -SEC),
            (0, 1, false, 1, 4 * SEC, -SEC),
            (0, 1, false, 0, 5 * SEC, -SEC),
            (0, 1, true, 0, 5 * SEC, SEC),
            (3000 * MS, 1, false, 2, 3000 * MS, -SEC),
            (3100 * MS, 1, false, 1, 3900 * MS, -SEC),
            (4000 * MS, 1, false, 1, 4000 * MS, -SEC),
            (8000 * MS, 1, false, 4, 1000 * MS, -SEC),
            (9500 * MS, 1, false, 4, 1000 * MS, -SEC),
            (9500 * MS, 0, false, 4, SEC, -SEC),
            (9500 * MS, 2, false, 2, 3 * SEC, -SEC),
            (9500 * MS, 5, true, 2, 3 * SEC, 3 * SEC),
        ];
        let mut tat: Option<i64> = None;
        for (i, &(offset, quantity, limited, remaining, reset, retry)) in cases.iter().enumerate() {
            let d = decide(&q, tat, start + offset, quantity);
            assert_eq!(d.limited, limited, "case {i}");
            assert_eq!(d.remaining, remaining, "case {i}");
            assert_eq!(d.reset_after, reset, "case {i}");
            assert_eq!(d.retry_after, retry, "case {i}");
            if let Some(t) = d.new_tat {
                tat = Some(t as i64);
            }
        }
    }

    #[test]
    fn seconds_round_up_from_a_millisecond() {
        assert_eq!(reply_seconds(-SEC), -1);
        assert_eq!(reply_seconds(0), 0);
        assert_eq!(reply_seconds(999_999), 0);
        assert_eq!(reply_seconds(MS), 1);
        assert_eq!(reply_seconds(SEC), 1);
        assert_eq!(reply_seconds(SEC + MS), 2);
        assert_eq!(reply_seconds(-MS), 0);
    }

    #[test]
    fn quotas() {
        let q = quota(15, 30, 60).unwrap();
        assert_eq!(q.emission_interval, 2 * SEC);
        assert_eq!(q.limit, 16);
        assert_eq!(q.delay_tolerance, 32 * SEC);
        assert!(quota(1, 0, 1).is_err());
        assert!(quota(1, 1, 0).is_err());
        // Faster than one action per nanosecond rounds to a zero rate.
        assert!(quota(1, 2_000_000_000, 1).is_err());
        assert!(quota(i64::MAX, 1, 1).is_err());
        assert!(quota(1, 1, i64::MAX).is_err());
    }
}
