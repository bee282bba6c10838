//! Connection commands: PING, ECHO, ...

use bytes::Bytes;

use super::{flag, CmdResult, CommandSpec, Ctx};

pub const COMMANDS: &[CommandSpec] = &[
    CommandSpec {
        name: "ping",
        arity: -1,
        flags: flag::FAST | flag::SENTINEL,
        acl: &["connection"],
        group: "connection",
        summary: "Ping the server",
        args: "[message]",
        handler: Some(ping),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "echo",
        arity: 2,
        flags: flag::FAST,
        acl: &["connection"],
        group: "connection",
        summary: "Echo the given string",
        args: "message",
        handler: Some(echo),
        ..CommandSpec::DEFAULT
    },
];

fn ping(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    match args.len() {
        1 => ctx.simple(b"PONG"),
        2 => ctx.bulk(&args[1]),
        _ => return Err(super::CmdError::WrongArity("ping")),
    }
    Ok(())
}

fn echo(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    ctx.bulk(&args[1]);
    Ok(())
}
