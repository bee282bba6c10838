//! Key expiry commands: EXPIRE, PEXPIRE, EXPIREAT, PEXPIREAT, TTL, PTTL,
//! EXPIRETIME, PEXPIRETIME and PERSIST.
//!
//! An expiry is stored as an absolute Unix time in milliseconds on the entry
//! (0 meaning none) and mirrored in the db's volatile-key index through
//! `Db::set_expire`, which the active expiry cycle samples. Setting a time
//! that has already passed deletes the key at once, as Redis does on a
//! master. Times are compared against the shard's clock sampled once per
//! batch, Redis's `commandTimeSnapshot`, so one pipeline sees one "now".

use bytes::Bytes;

use super::keys::lookup_notouch;
use super::{arg_i64, eq_ic, flag, CmdError, CmdResult, CommandSpec, Ctx, Keys};
use crate::config::KeyspaceEvents;

const FIRST_KEY: Keys = Keys::Range {
    first: 1,
    last: 1,
    step: 1,
};

pub const COMMANDS: &[CommandSpec] = &[
    CommandSpec {
        name: "expire",
        arity: -3,
        flags: flag::WRITE | flag::FAST,
        keys: FIRST_KEY,
        acl: &["keyspace"],
        summary: "Set a key's time to live in seconds",
        args: "key seconds [NX | XX | GT | LT]",
        handler: Some(expire),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "pexpire",
        arity: -3,
        flags: flag::WRITE | flag::FAST,
        keys: FIRST_KEY,
        acl: &["keyspace"],
        since: "2.6.0",
        summary: "Set a key's time to live in milliseconds",
        args: "key milliseconds [NX | XX | GT | LT]",
        handler: Some(pexpire),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "expireat",
        arity: -3,
        flags: flag::WRITE | flag::FAST,
        keys: FIRST_KEY,
        acl: &["keyspace"],
        since: "1.2.0",
        summary: "Set the expiration for a key as a UNIX timestamp",
        args: "key unix-time-seconds [NX | XX | GT | LT]",
        handler: Some(expireat),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "pexpireat",
        arity: -3,
        flags: flag::WRITE | flag::FAST,
        keys: FIRST_KEY,
        acl: &["keyspace"],
        since: "2.6.0",
        summary: "Set the expiration for a key as a UNIX timestamp specified in milliseconds",
        args: "key unix-time-milliseconds [NX | XX | GT | LT]",
        handler: Some(pexpireat),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "ttl",
        arity: 2,
        flags: flag::READONLY | flag::FAST,
        keys: FIRST_KEY,
        acl: &["keyspace"],
        summary: "Get the time to live for a key in seconds",
        args: "key",
        handler: Some(ttl),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "pttl",
        arity: 2,
        flags: flag::READONLY | flag::FAST,
        keys: FIRST_KEY,
        acl: &["keyspace"],
        since: "2.6.0",
        summary: "Get the time to live for a key in milliseconds",
        args: "key",
        handler: Some(pttl),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "expiretime",
        arity: 2,
        flags: flag::READONLY | flag::FAST,
        keys: FIRST_KEY,
        acl: &["keyspace"],
        since: "7.0.0",
        summary: "Get the expiration Unix timestamp for a key",
        args: "key",
        handler: Some(expiretime),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "pexpiretime",
        arity: 2,
        flags: flag::READONLY | flag::FAST,
        keys: FIRST_KEY,
        acl: &["keyspace"],
        since: "7.0.0",
        summary: "Get the expiration Unix timestamp for a key in milliseconds",
        args: "key",
        handler: Some(pexpiretime),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "persist",
        arity: 2,
        flags: flag::WRITE | flag::FAST,
        keys: FIRST_KEY,
        acl: &["keyspace"],
        since: "2.2.0",
        summary: "Remove the expiration from a key",
        args: "key",
        handler: Some(persist),
        ..CommandSpec::DEFAULT
    },
];

/// The NX | XX | GT | LT condition of the EXPIRE family.
#[derive(Default, Clone, Copy)]
struct Condition {
    nx: bool,
    xx: bool,
    gt: bool,
    lt: bool,
}

impl Condition {
    /// Parses the options after the time. Redis checks them before the time
    /// argument, so `EXPIRE k abc FOO` reports the option, not the number.
    fn parse(opts: &[Bytes]) -> Result<Condition, CmdError> {
        let mut c = Condition::default();
        for opt in opts {
            if eq_ic(opt, "nx") {
                c.nx = true;
            } else if eq_ic(opt, "xx") {
                c.xx = true;
            } else if eq_ic(opt, "gt") {
                c.gt = true;
            } else if eq_ic(opt, "lt") {
                c.lt = true;
            } else {
                return Err(CmdError::msg(format!(
                    "ERR Unsupported option {}",
                    String::from_utf8_lossy(opt)
                )));
            }
        }
        if c.nx && (c.xx || c.gt || c.lt) {
            return Err(CmdError::msg(
                "ERR NX and XX, GT or LT options at the same time are not compatible",
            ));
        }
        if c.gt && c.lt {
            return Err(CmdError::msg(
                "ERR GT and LT options at the same time are not compatible",
            ));
        }
        Ok(c)
    }

    /// Whether a key whose current expiry is `current` (None: persistent)
    /// may get the new expiry `when`. A persistent key counts as having an
    /// infinite TTL: GT never beats it, LT always does.
    fn allows(self, current: Option<i64>, when: i64) -> bool {
        if self.nx && current.is_some() {
            return false;
        }
        if self.xx && current.is_none() {
            return false;
        }
        if self.gt && current.is_none_or(|cur| when <= cur) {
            return false;
        }
        if self.lt && current.is_some_and(|cur| when >= cur) {
            return false;
        }
        true
    }
}

fn expire(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let now = ctx.now_ms as i64;
    expire_generic(ctx, args, now, true)
}

fn pexpire(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let now = ctx.now_ms as i64;
    expire_generic(ctx, args, now, false)
}

fn expireat(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    expire_generic(ctx, args, 0, true)
}

fn pexpireat(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    expire_generic(ctx, args, 0, false)
}

/// The four setters: `basetime` is now for the relative forms and 0 for the
/// absolute ones. Any overflow of the millisecond result is refused with
/// Redis's "invalid expire time" (negative results are fine: they delete).
fn expire_generic(ctx: &mut Ctx, args: &[Bytes], basetime: i64, seconds: bool) -> CmdResult {
    let condition = Condition::parse(&args[3..])?;
    let amount = arg_i64(&args[2])?;
    let invalid = || {
        CmdError::msg(format!(
            "ERR invalid expire time in '{}' command",
            ctx.spec.name
        ))
    };
    let amount = if seconds {
        amount.checked_mul(1000).ok_or_else(invalid)?
    } else {
        amount
    };
    // Redis refuses only overflow past the top: basetime is never negative.
    let when = amount.checked_add(basetime).ok_or_else(invalid)?;

    let key = &args[1];
    let Some(e) = ctx.write(key) else {
        ctx.int(0);
        return Ok(());
    };
    let current = (e.expire_at != 0).then(|| ms_as_i64(e.expire_at));
    if !condition.allows(current, when) {
        ctx.int(0);
        return Ok(());
    }
    let now = ctx.now_ms;
    let db = ctx.db(key);
    match u64::try_from(when) {
        Ok(at) if at > now => {
            db.set_expire(key, at);
            db.notify_event(KeyspaceEvents::GENERIC, "expire", key);
        }
        _ => {
            db.remove(key);
            db.notify_event(KeyspaceEvents::GENERIC, "del", key);
        }
    }
    ctx.int(1);
    Ok(())
}

fn ms_as_i64(ms: u64) -> i64 {
    i64::try_from(ms).unwrap_or(i64::MAX)
}

fn ttl(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    ttl_generic(ctx, args, false, false)
}

fn pttl(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    ttl_generic(ctx, args, true, false)
}

fn expiretime(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    ttl_generic(ctx, args, false, true)
}

fn pexpiretime(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    ttl_generic(ctx, args, true, true)
}

/// TTL, PTTL, EXPIRETIME, PEXPIRETIME: -2 for a missing key, -1 for one
/// without expiry. Seconds are rounded to the nearest (Redis adds 500 ms
/// before dividing, for the absolute forms too).
fn ttl_generic(ctx: &mut Ctx, args: &[Bytes], millis: bool, absolute: bool) -> CmdResult {
    let now = ctx.now_ms as i64;
    let Some(e) = lookup_notouch(ctx, &args[1]) else {
        ctx.int(-2);
        return Ok(());
    };
    if e.expire_at == 0 {
        ctx.int(-1);
        return Ok(());
    }
    let at = ms_as_i64(e.expire_at);
    let ms = if absolute { at } else { at - now }.max(0);
    // Redis's rounding runs in unsigned arithmetic near i64::MAX (PEXPIREAT
    // k 9223372036854775807 then EXPIRETIME answers 9223372036854776).
    let rounded = (ms.unsigned_abs() + 500) / 1000;
    ctx.int(if millis { ms } else { rounded as i64 });
    Ok(())
}

fn persist(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let key = &args[1];
    let volatile = ctx.write(key).is_some_and(|e| e.expire_at != 0);
    if volatile {
        ctx.db(key).set_expire(key, 0);
        ctx.notify(KeyspaceEvents::GENERIC, "persist", key);
    }
    ctx.int(i64::from(volatile));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cond(opts: &[&str]) -> Result<Condition, CmdError> {
        let opts: Vec<Bytes> = opts.iter().map(|o| Bytes::from(o.to_string())).collect();
        Condition::parse(&opts)
    }

    #[test]
    fn conditions_follow_redis() {
        let gt = cond(&["gt"]).unwrap();
        assert!(!gt.allows(None, 10), "GT never beats a persistent key");
        assert!(gt.allows(Some(5), 10));
        assert!(!gt.allows(Some(10), 10));
        let lt = cond(&["LT"]).unwrap();
        assert!(lt.allows(None, 10), "LT always beats a persistent key");
        assert!(!lt.allows(Some(10), 10));
        assert!(lt.allows(Some(11), 10));
        let xx_gt = cond(&["xx", "gt"]).unwrap();
        assert!(!xx_gt.allows(None, 10));
        assert!(xx_gt.allows(Some(1), 10));
        assert!(cond(&["nx"]).unwrap().allows(None, 1));
        assert!(!cond(&["nx"]).unwrap().allows(Some(1), 1));
        assert!(cond(&["nx", "nx"]).is_ok());
        assert_eq!(
            cond(&["nx", "lt"]).err().unwrap().text(),
            "ERR NX and XX, GT or LT options at the same time are not compatible"
        );
        assert_eq!(
            cond(&["gt", "lt"]).err().unwrap().text(),
            "ERR GT and LT options at the same time are not compatible"
        );
        assert_eq!(
            cond(&["gt", "bogus"]).err().unwrap().text(),
            "ERR Unsupported option bogus"
        );
    }
}
