//! The assembled command table and name resolution.
//!
//! Families declare `pub const COMMANDS: &[CommandSpec]`; this file is the
//! only list of families. Resolution turns the first argument (and, for a
//! container such as CONFIG, the second) into a spec and applies the checks
//! every command shares: unknown command, unknown subcommand, arity.

use bytes::Bytes;
use hashbrown::HashMap;

use super::{CmdError, CommandSpec};

/// Every family's commands, in the order COMMAND lists them.
pub const FAMILIES: &[&[CommandSpec]] = &[
    super::connection::COMMANDS,
    super::server::COMMANDS,
    super::string::COMMANDS,
    super::keys::COMMANDS,
    super::expire::COMMANDS,
    super::memory::COMMANDS,
    super::set::COMMANDS,
    super::hash::COMMANDS,
    super::list::COMMANDS,
    super::pubsub::COMMANDS,
    super::bloom::COMMANDS,
    super::zset::COMMANDS,
    super::multi::COMMANDS,
    super::throttle::COMMANDS,
];

pub struct CommandTable {
    by_name: HashMap<&'static [u8], &'static CommandSpec, ahash::RandomState>,
}

impl Default for CommandTable {
    fn default() -> Self {
        Self::new()
    }
}

/// Longest command name we look up; longer names are unknown by definition.
const MAX_NAME: usize = 32;

impl CommandTable {
    pub fn new() -> CommandTable {
        let mut by_name = HashMap::with_hasher(ahash::RandomState::new());
        for family in FAMILIES {
            for spec in family.iter() {
                by_name.insert(spec.name.as_bytes(), spec);
            }
        }
        CommandTable { by_name }
    }

    /// Top-level commands, in no particular order.
    pub fn all(&self) -> impl Iterator<Item = &'static CommandSpec> + '_ {
        self.by_name.values().copied()
    }

    pub fn len(&self) -> usize {
        self.by_name.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_name.is_empty()
    }

    /// The spec named `name` (case-insensitive), top level only.
    pub fn get(&self, name: &[u8]) -> Option<&'static CommandSpec> {
        if name.len() > MAX_NAME {
            return None;
        }
        let mut buf = [0u8; MAX_NAME];
        let lower = &mut buf[..name.len()];
        lower.copy_from_slice(name);
        lower.make_ascii_lowercase();
        self.by_name.get(&*lower).copied()
    }

    /// The spec a request runs, after the checks Redis makes before any handler.
    pub fn resolve(&self, args: &[Bytes]) -> Result<&'static CommandSpec, CmdError> {
        let Some(name) = args.first() else {
            return Err(CmdError::Syntax);
        };
        let Some(spec) = self.get(name) else {
            return Err(unknown_command(args));
        };
        if !spec.subcommands.is_empty() {
            if args.len() < 2 {
                // A container with a handler of its own (COMMAND) also
                // runs bare.
                if spec.handler.is_some() && spec.arity_ok(args.len()) {
                    return Ok(spec);
                }
                return Err(CmdError::WrongArity(spec.name));
            }
            let sub = &args[1];
            let found = spec.subcommands.iter().find(|s| {
                s.name
                    .split_once('|')
                    .is_some_and(|(_, n)| n.as_bytes().eq_ignore_ascii_case(sub))
            });
            let Some(sub_spec) = found else {
                return Err(CmdError::UnknownSubcommand {
                    sub: sub.to_vec(),
                    container: spec.name,
                });
            };
            if !sub_spec.arity_ok(args.len()) {
                return Err(CmdError::WrongArity(sub_spec.name));
            }
            return Ok(sub_spec);
        }
        if !spec.arity_ok(args.len()) {
            return Err(CmdError::WrongArity(spec.name));
        }
        Ok(spec)
    }
}

/// Redis 7.0's text: the name and up to 128 bytes of quoted arguments.
fn unknown_command(args: &[Bytes]) -> CmdError {
    let name = String::from_utf8_lossy(&args[0][..args[0].len().min(128)]).into_owned();
    let mut rest = String::new();
    for a in &args[1..] {
        if rest.len() >= 128 {
            break;
        }
        let room = 128 - rest.len();
        rest.push('\'');
        rest.push_str(&String::from_utf8_lossy(&a[..a.len().min(room)]));
        rest.push_str("' ");
    }
    CmdError::msg(format!(
        "ERR unknown command '{name}', with args beginning with: {rest}"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::Keys;

    /// The table and the handlers must agree: every leaf has a handler, every
    /// container has subcommands and no handler, names are unique and well
    /// formed, arities and key specs are plausible. (A handler without an
    /// entry is dead code, which `clippy -D warnings` rejects.)
    #[test]
    fn table_is_consistent() {
        let mut seen = std::collections::HashSet::new();
        for family in FAMILIES {
            for spec in family.iter() {
                assert!(seen.insert(spec.name), "duplicate command {}", spec.name);
                assert_eq!(spec.name, spec.name.to_ascii_lowercase());
                assert!(!spec.summary.is_empty(), "{} lacks a summary", spec.name);
                assert!(spec.arity != 0, "{} has arity 0", spec.name);
                if spec.subcommands.is_empty() {
                    assert!(spec.handler.is_some(), "{} lacks a handler", spec.name);
                } else {
                    // Only a container callable without a subcommand
                    // (COMMAND) has a handler of its own.
                    assert!(
                        spec.handler.is_none() || spec.arity_ok(1),
                        "container {} has a handler",
                        spec.name
                    );
                    for sub in spec.subcommands {
                        let (parent, child) = sub.name.split_once('|').unwrap_or_default();
                        assert_eq!(parent, spec.name, "subcommand {} misnamed", sub.name);
                        assert!(!child.is_empty());
                        assert!(sub.handler.is_some(), "{} lacks a handler", sub.name);
                        assert!(!sub.summary.is_empty(), "{} lacks a summary", sub.name);
                        assert!(sub.arity.unsigned_abs() >= 2, "{} arity", sub.name);
                    }
                }
                if let Keys::Range { first, step, .. } = spec.keys {
                    assert!(first >= 1 && step >= 1, "{} key spec", spec.name);
                }
            }
        }
    }

    #[test]
    fn unknown_command_text_matches_redis() {
        let args: Vec<Bytes> = vec!["foo".into(), "a".into(), "b".into()];
        assert_eq!(
            unknown_command(&args).text(),
            "ERR unknown command 'foo', with args beginning with: 'a' 'b' "
        );
    }
}
