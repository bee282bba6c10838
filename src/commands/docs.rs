//! COMMAND DOCS argument trees, built from each spec's `args` grammar.
//!
//! A spec carries its arguments the way the Redis documentation prints them
//! (`key value [NX | XX] [GET] [EX seconds | PX milliseconds | KEEPTTL]`),
//! because that is what people read and review. Redis keeps a structured tree
//! in its JSON files instead; COMMAND DOCS reports that tree, and redis-cli
//! 7.0 rebuilds its interactive hints from it. This module turns the first
//! form into the second.
//!
//! The grammar:
//!
//! ```text
//! seq   := item*
//! item  := WORD | '[' alts ']' (optional) | '<' alts '>' (required group)
//! alts  := seq ('|' seq)*
//! ```
//!
//! plus the documentation's repetition idiom: `x [x ...]` (the bracketed
//! part repeats exactly what precedes it) makes `x` *multiple*; `TOKEN value
//! [TOKEN value ...]` is also *multiple_token*. A lone `[x ...]` is an
//! optional multiple.
//!
//! What the tree cannot say on its own is derived by fixed rules:
//! * an all-uppercase word (`NX`, `KEEPTTL`, `*`) is a pure token, named by
//!   its lowercase form;
//! * a token followed by a single value inside a group (`[MATCH pattern]`)
//!   becomes that value's `token`; followed by several, a block named after
//!   the token (`[LIMIT offset count]`);
//! * an argument's type comes from its name: `key`, `*key`, `source`,
//!   `destination` are keys; `unix-time-*` unix times; `*seconds`, `count`,
//!   `offset`... integers; `score`, `longitude`... doubles; `pattern` a
//!   pattern; anything else a string;
//! * unnamed oneofs and blocks are named by joining their members' names with
//!   `_`, as Redis names many of its own (`nosave_save`, `key_value`).
//!
//! Redis's JSON has details this grammar cannot carry (per-argument `since`,
//! `history`, hand-picked names such as `condition`), so those are omitted
//! or differ; clients use the tree's shape, which matches.

use super::{CommandSpec, Ctx};

/// Redis's argument types (`ARG_TYPE_STR`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ArgType {
    String,
    Integer,
    Double,
    Key,
    Pattern,
    UnixTime,
    PureToken,
    OneOf,
    Block,
}

impl ArgType {
    pub fn as_str(self) -> &'static str {
        match self {
            ArgType::String => "string",
            ArgType::Integer => "integer",
            ArgType::Double => "double",
            ArgType::Key => "key",
            ArgType::Pattern => "pattern",
            ArgType::UnixTime => "unix-time",
            ArgType::PureToken => "pure-token",
            ArgType::OneOf => "oneof",
            ArgType::Block => "block",
        }
    }
}

/// One node of a command's argument tree, as COMMAND DOCS reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Arg {
    pub name: String,
    pub kind: ArgType,
    pub token: Option<String>,
    pub optional: bool,
    pub multiple: bool,
    pub multiple_token: bool,
    /// Members of a oneof or block.
    pub args: Vec<Arg>,
}

impl Arg {
    fn leaf(name: &str, kind: ArgType) -> Arg {
        Arg {
            name: name.to_string(),
            kind,
            token: None,
            optional: false,
            multiple: false,
            multiple_token: false,
            args: Vec::new(),
        }
    }

    fn composite(name: String, kind: ArgType, args: Vec<Arg>) -> Arg {
        Arg {
            name,
            kind,
            token: None,
            optional: false,
            multiple: false,
            multiple_token: false,
            args,
        }
    }

    /// A pure token with no flags: one that may still be fused with the
    /// value after it.
    fn is_bare_token(&self) -> bool {
        self.kind == ArgType::PureToken && !self.optional && !self.multiple
    }

    /// Whether a preceding token can become this argument's token.
    fn takes_token(&self) -> bool {
        self.token.is_none() && self.kind != ArgType::PureToken && !self.optional
    }

    /// The names of the flags set, in the order Redis prints them.
    pub fn flag_names(&self) -> Vec<&'static str> {
        let mut v = Vec::new();
        if self.optional {
            v.push("optional");
        }
        if self.multiple {
            v.push("multiple");
        }
        if self.multiple_token {
            v.push("multiple_token");
        }
        v
    }
}

/// Why a grammar string could not be read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GrammarError {
    pub at: usize,
    pub reason: &'static str,
}

impl std::fmt::Display for GrammarError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} at byte {}", self.reason, self.at)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Tok<'a> {
    Open(bool), // true for '[' (optional), false for '<'
    Close(bool),
    Pipe,
    Ellipsis,
    Word(&'a str),
}

fn tokenize(s: &str) -> Vec<(usize, Tok<'_>)> {
    let bytes = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        let single = match c {
            b'[' => Some(Tok::Open(true)),
            b'<' => Some(Tok::Open(false)),
            b']' => Some(Tok::Close(true)),
            b'>' => Some(Tok::Close(false)),
            b'|' => Some(Tok::Pipe),
            _ => None,
        };
        if let Some(t) = single {
            out.push((i, t));
            i += 1;
            continue;
        }
        if c.is_ascii_whitespace() {
            i += 1;
            continue;
        }
        let start = i;
        while i < bytes.len() && !bytes[i].is_ascii_whitespace() && !b"[]<>|".contains(&bytes[i]) {
            i += 1;
        }
        let word = &s[start..i];
        // "arg..." is read as "arg ...".
        match word.strip_suffix("...") {
            Some("") => out.push((start, Tok::Ellipsis)),
            Some(w) => {
                out.push((start, Tok::Word(w)));
                out.push((start + w.len(), Tok::Ellipsis));
            }
            None => out.push((start, Tok::Word(word))),
        }
    }
    out
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Node<'a> {
    Word(&'a str),
    Ellipsis,
    Group {
        optional: bool,
        alts: Vec<Vec<Node<'a>>>,
    },
}

struct Parser<'a> {
    toks: Vec<(usize, Tok<'a>)>,
    pos: usize,
    len: usize,
}

impl<'a> Parser<'a> {
    fn peek(&self) -> Option<Tok<'a>> {
        self.toks.get(self.pos).map(|t| t.1)
    }

    fn at(&self) -> usize {
        self.toks.get(self.pos).map_or(self.len, |t| t.0)
    }

    fn err(&self, reason: &'static str) -> GrammarError {
        GrammarError {
            at: self.at(),
            reason,
        }
    }

    /// Alternatives up to (not including) a closing bracket or the end.
    fn alts(&mut self, depth: usize) -> Result<Vec<Vec<Node<'a>>>, GrammarError> {
        if depth > 32 {
            return Err(self.err("groups nested too deeply"));
        }
        let mut alts = vec![self.seq(depth)?];
        while self.peek() == Some(Tok::Pipe) {
            self.pos += 1;
            alts.push(self.seq(depth)?);
        }
        if alts.iter().any(Vec::is_empty) && alts.len() > 1 {
            return Err(self.err("empty alternative"));
        }
        Ok(alts)
    }

    fn seq(&mut self, depth: usize) -> Result<Vec<Node<'a>>, GrammarError> {
        let mut seq = Vec::new();
        while let Some(t) = self.peek() {
            match t {
                Tok::Word(w) => {
                    self.pos += 1;
                    seq.push(Node::Word(w));
                }
                Tok::Ellipsis => {
                    self.pos += 1;
                    seq.push(Node::Ellipsis);
                }
                Tok::Open(optional) => {
                    self.pos += 1;
                    let alts = self.alts(depth + 1)?;
                    if self.peek() != Some(Tok::Close(optional)) {
                        return Err(self.err("unbalanced bracket"));
                    }
                    if alts.len() == 1 && alts[0].is_empty() {
                        return Err(self.err("empty group"));
                    }
                    self.pos += 1;
                    seq.push(Node::Group { optional, alts });
                }
                Tok::Close(_) | Tok::Pipe => break,
            }
        }
        Ok(seq)
    }
}

/// Parses a spec's `args` grammar into COMMAND DOCS's argument tree.
/// `has_keys` says whether the command has a key spec; without one, names
/// that look like keys are reported as strings (Redis types an argument
/// `key` only when a key spec points at it).
pub fn parse(grammar: &str, has_keys: bool) -> Result<Vec<Arg>, GrammarError> {
    let mut p = Parser {
        toks: tokenize(grammar),
        pos: 0,
        len: grammar.len(),
    };
    let alts = p.alts(0)?;
    if p.pos != p.toks.len() {
        return Err(p.err("unbalanced bracket"));
    }
    let b = Builder { has_keys };
    if alts.len() == 1 {
        let mut args = b.seq(&alts[0])?;
        fuse_tokens(&mut args);
        Ok(args)
    } else {
        Ok(vec![b.oneof(&alts, false)?])
    }
}

/// Converts parsed nodes into arguments.
struct Builder {
    has_keys: bool,
}

impl Builder {
    /// The arguments of a sequence, with `x [x ...]` folded into multiples.
    fn seq(&self, nodes: &[Node]) -> Result<Vec<Arg>, GrammarError> {
        // Units: runs of nodes that become one argument each.
        struct Unit<'n, 'a> {
            nodes: &'n [Node<'a>],
            multiple: bool,
            optional: bool,
        }
        let mut units: Vec<Unit> = Vec::new();
        for (i, node) in nodes.iter().enumerate() {
            match node {
                Node::Ellipsis => {
                    // "arg ..." without brackets: the previous unit repeats.
                    match units.last_mut() {
                        Some(u) => u.multiple = true,
                        None => {
                            return Err(GrammarError {
                                at: 0,
                                reason: "'...' with nothing to repeat",
                            })
                        }
                    }
                }
                Node::Group {
                    optional: true,
                    alts,
                } if alts.len() == 1 && alts[0].last() == Some(&Node::Ellipsis) => {
                    let rep = &alts[0][..alts[0].len() - 1];
                    let n = rep.len();
                    let repeats_previous = n > 0
                        && units.len() >= n
                        && units[units.len() - n..]
                            .iter()
                            .all(|u| u.nodes.len() == 1 && !u.multiple && !u.optional)
                        && i >= n
                        && &nodes[i - n..i] == rep;
                    if repeats_previous {
                        units.truncate(units.len() - n);
                        units.push(Unit {
                            nodes: &nodes[i - n..i],
                            multiple: true,
                            optional: false,
                        });
                    } else if n == 0 {
                        return Err(GrammarError {
                            at: 0,
                            reason: "'...' with nothing to repeat",
                        });
                    } else {
                        units.push(Unit {
                            nodes: rep,
                            multiple: true,
                            optional: true,
                        });
                    }
                }
                _ => units.push(Unit {
                    nodes: std::slice::from_ref(node),
                    multiple: false,
                    optional: false,
                }),
            }
        }
        let mut out = Vec::with_capacity(units.len());
        for u in units {
            let mut arg = if u.nodes.len() == 1 {
                self.node(&u.nodes[0])?
            } else {
                self.single(u.nodes)?
            };
            if u.multiple {
                arg.multiple = true;
                // The token was inside the repeated part: it repeats too.
                arg.multiple_token = arg.token.is_some() && u.nodes.len() > 1;
            }
            if u.optional {
                arg.optional = true;
            }
            out.push(arg);
        }
        Ok(out)
    }

    /// A group's content as one argument.
    fn single(&self, nodes: &[Node]) -> Result<Arg, GrammarError> {
        let mut args = self.seq(nodes)?;
        if args.len() <= 1 {
            return args.pop().ok_or(GrammarError {
                at: 0,
                reason: "empty group",
            });
        }
        if args.first().is_some_and(Arg::is_bare_token) {
            if args.len() == 2 && args[1].takes_token() {
                let token = args.remove(0).token;
                let mut arg = args.remove(0);
                arg.token = token;
                return Ok(arg);
            }
            if !args[1].optional || args.len() > 2 {
                let head = args.remove(0);
                fuse_tokens(&mut args);
                let mut block = Arg::composite(head.name, ArgType::Block, args);
                block.token = head.token;
                return Ok(block);
            }
        }
        fuse_tokens(&mut args);
        Ok(Arg::composite(joined_name(&args), ArgType::Block, args))
    }

    fn node(&self, node: &Node) -> Result<Arg, GrammarError> {
        match node {
            Node::Word(w) => Ok(self.word(w)),
            Node::Ellipsis => Err(GrammarError {
                at: 0,
                reason: "misplaced '...'",
            }),
            Node::Group { optional, alts } => {
                let mut arg = if alts.len() == 1 {
                    self.single(&alts[0])?
                } else {
                    self.oneof(alts, false)?
                };
                if *optional {
                    arg.optional = true;
                }
                Ok(arg)
            }
        }
    }

    fn oneof(&self, alts: &[Vec<Node>], optional: bool) -> Result<Arg, GrammarError> {
        // "TYPE NORMAL | MASTER | PUBSUB" is how the documentation often
        // writes "TYPE <NORMAL | MASTER | PUBSUB>": a leading token followed
        // by a choice among plain tokens.
        if let [Node::Word(head), Node::Word(first)] = alts[0].as_slice() {
            let rest_are_tokens = alts[1..]
                .iter()
                .all(|a| matches!(a.as_slice(), [Node::Word(w)] if is_token(w)));
            if is_token(head) && is_token(first) && rest_are_tokens {
                let mut choices = vec![self.word(first)];
                for a in &alts[1..] {
                    if let [Node::Word(w)] = a.as_slice() {
                        choices.push(self.word(w));
                    }
                }
                let mut arg = Arg::composite(joined_name(&choices), ArgType::OneOf, choices);
                arg.token = Some(head.to_string());
                arg.name = token_name(head);
                arg.optional = optional;
                return Ok(arg);
            }
        }
        let mut choices = Vec::with_capacity(alts.len());
        for a in alts {
            choices.push(self.single(a)?);
        }
        let mut arg = Arg::composite(joined_name(&choices), ArgType::OneOf, choices);
        arg.optional = optional;
        Ok(arg)
    }

    fn word(&self, w: &str) -> Arg {
        if is_token(w) {
            let mut a = Arg::leaf(&token_name(w), ArgType::PureToken);
            a.token = Some(w.to_string());
            return a;
        }
        let mut kind = type_of(w);
        if kind == ArgType::Key && !self.has_keys {
            kind = ArgType::String;
        }
        Arg::leaf(w, kind)
    }
}

/// Merges each bare token with the value right after it (`STREAMS key`).
fn fuse_tokens(args: &mut Vec<Arg>) {
    let mut i = 0;
    while i + 1 < args.len() {
        if args[i].is_bare_token() && args[i + 1].takes_token() {
            let token = args.remove(i).token;
            args[i].token = token;
        }
        i += 1;
    }
}

fn joined_name(args: &[Arg]) -> String {
    let names: Vec<&str> = args.iter().map(|a| a.name.as_str()).collect();
    names.join("_")
}

/// A literal keyword: no lowercase letters (`NX`, `AUTH2`, `*`, `0`).
fn is_token(w: &str) -> bool {
    !w.is_empty() && !w.bytes().any(|b| b.is_ascii_lowercase())
}

fn token_name(w: &str) -> String {
    w.to_ascii_lowercase()
}

const INTEGER_NAMES: &[&str] = &[
    "count",
    "numkeys",
    "offset",
    "start",
    "end",
    "stop",
    "index",
    "index1",
    "index2",
    "timeout",
    "db",
    "destination-db",
    "port",
    "cursor",
    "limit",
    "rank",
    "len",
    "num-matches",
    "client-id",
    "increment",
    "decrement",
    "numreplicas",
    "numlocal",
    "maxlen",
    "bit",
    "protover",
];

const DOUBLE_NAMES: &[&str] = &[
    "score",
    "longitude",
    "latitude",
    "radius",
    "width",
    "height",
];

/// An argument's type from its name (see the module comment).
fn type_of(name: &str) -> ArgType {
    if name.starts_with("unix-time") {
        ArgType::UnixTime
    } else if name == "key" || name.ends_with("key") || name == "source" || name == "destination" {
        ArgType::Key
    } else if name == "pattern" {
        ArgType::Pattern
    } else if name.ends_with("seconds") || INTEGER_NAMES.contains(&name) {
        ArgType::Integer
    } else if DOUBLE_NAMES.contains(&name) {
        ArgType::Double
    } else {
        ArgType::String
    }
}

/// Writes one argument list (an array of maps) as COMMAND DOCS does.
fn write_args(ctx: &mut Ctx, args: &[Arg]) {
    ctx.array(args.len());
    for a in args {
        let composite = matches!(a.kind, ArgType::OneOf | ArgType::Block);
        let flags = a.flag_names();
        let len = 2
            + usize::from(a.kind == ArgType::Key)
            + usize::from(a.token.is_some())
            + usize::from(!flags.is_empty())
            + usize::from(composite);
        ctx.map(len);
        ctx.bulk(b"name");
        ctx.bulk(a.name.as_bytes());
        ctx.bulk(b"type");
        ctx.bulk(a.kind.as_str().as_bytes());
        if a.kind == ArgType::Key {
            // Every key argument belongs to the command's single key spec.
            ctx.bulk(b"key_spec_index");
            ctx.int(0);
        }
        if let Some(t) = &a.token {
            ctx.bulk(b"token");
            ctx.bulk(t.as_bytes());
        }
        if !flags.is_empty() {
            ctx.bulk(b"flags");
            ctx.set_len(flags.len());
            for f in flags {
                ctx.simple(f.as_bytes());
            }
        }
        if composite {
            ctx.bulk(b"arguments");
            write_args(ctx, &a.args);
        }
    }
}

/// Writes the documentation map of one command (or subcommand), with its
/// subcommands nested, in Redis's field order.
pub fn write_command_docs(ctx: &mut Ctx, spec: &CommandSpec) {
    let has_keys = matches!(spec.keys, super::Keys::Range { .. });
    // A grammar that does not parse is a bug caught by the tests; at run
    // time the command is still documented, only without its arguments.
    let args = if spec.args.trim().is_empty() {
        None
    } else {
        parse(spec.args, has_keys).ok().filter(|a| !a.is_empty())
    };
    let len = 3
        + usize::from(!spec.complexity.is_empty())
        + usize::from(args.is_some())
        + usize::from(!spec.doc_flags.is_empty())
        + usize::from(!spec.deprecated_since.is_empty())
        + usize::from(!spec.replaced_by.is_empty())
        + usize::from(!spec.subcommands.is_empty());
    ctx.map(len);
    ctx.bulk(b"summary");
    ctx.bulk(spec.summary.as_bytes());
    ctx.bulk(b"since");
    ctx.bulk(spec.since.as_bytes());
    ctx.bulk(b"group");
    ctx.bulk(spec.group.as_bytes());
    if !spec.complexity.is_empty() {
        ctx.bulk(b"complexity");
        ctx.bulk(spec.complexity.as_bytes());
    }
    if !spec.doc_flags.is_empty() {
        ctx.bulk(b"doc_flags");
        ctx.set_len(spec.doc_flags.len());
        for f in spec.doc_flags {
            ctx.simple(f.as_bytes());
        }
    }
    if !spec.deprecated_since.is_empty() {
        ctx.bulk(b"deprecated_since");
        ctx.bulk(spec.deprecated_since.as_bytes());
    }
    if !spec.replaced_by.is_empty() {
        ctx.bulk(b"replaced_by");
        ctx.bulk(spec.replaced_by.as_bytes());
    }
    if let Some(args) = &args {
        ctx.bulk(b"arguments");
        write_args(ctx, args);
    }
    if !spec.subcommands.is_empty() {
        ctx.bulk(b"subcommands");
        ctx.map(spec.subcommands.len());
        for sub in spec.subcommands {
            ctx.bulk(sub.name.as_bytes());
            write_command_docs(ctx, sub);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// redis-cli 7.0's `cliAddArgument`: how the tree is shown as a hint.
    fn hint(args: &[Arg]) -> String {
        args.iter().map(hint_one).collect::<Vec<_>>().join(" ")
    }

    fn hint_one(a: &Arg) -> String {
        let repeat = match a.kind {
            ArgType::OneOf => a.args.iter().map(hint_one).collect::<Vec<_>>().join("|"),
            ArgType::Block => hint(&a.args),
            ArgType::PureToken => String::new(),
            _ => a.name.clone(),
        };
        let mut token = a.token.clone().unwrap_or_default();
        if !token.is_empty() && a.kind != ArgType::PureToken {
            token.push(' ');
        }
        let mut s = String::new();
        if a.optional {
            s.push('[');
        }
        s.push_str(&token);
        s.push_str(&repeat);
        if a.multiple {
            s.push_str(" [");
            if a.multiple_token {
                s.push_str(&token);
            }
            s.push_str(&repeat);
            s.push_str(" ...]");
        }
        if a.optional {
            s.push(']');
        }
        s
    }

    fn p(g: &str) -> Vec<Arg> {
        parse(g, true).unwrap_or_else(|e| panic!("{g}: {e}"))
    }

    #[test]
    fn set_grammar() {
        let args = p("key value [NX | XX] [GET] [EX seconds | PX milliseconds | \
                      EXAT unix-time-seconds | PXAT unix-time-milliseconds | KEEPTTL]");
        assert_eq!(args.len(), 5);
        assert_eq!(args[0].kind, ArgType::Key);
        assert_eq!(args[1].kind, ArgType::String);
        assert_eq!(args[2].kind, ArgType::OneOf);
        assert!(args[2].optional);
        assert_eq!(args[2].args[0].token.as_deref(), Some("NX"));
        assert_eq!(args[3].kind, ArgType::PureToken);
        assert_eq!(args[3].name, "get");
        let exp = &args[4];
        assert_eq!(exp.kind, ArgType::OneOf);
        assert_eq!(exp.args[0].name, "seconds");
        assert_eq!(exp.args[0].kind, ArgType::Integer);
        assert_eq!(exp.args[0].token.as_deref(), Some("EX"));
        assert_eq!(exp.args[2].kind, ArgType::UnixTime);
        assert_eq!(exp.args[4].kind, ArgType::PureToken);
        assert_eq!(
            hint(&args),
            "key value [NX|XX] [GET] [EX seconds|PX milliseconds|EXAT unix-time-seconds|\
             PXAT unix-time-milliseconds|KEEPTTL]"
        );
    }

    #[test]
    fn repetitions() {
        let args = p("key value [key value ...]");
        assert_eq!(args.len(), 1);
        assert_eq!(args[0].kind, ArgType::Block);
        assert_eq!(args[0].name, "key_value");
        assert!(args[0].multiple);
        assert_eq!(hint(&args), "key value [key value ...]");

        let args = p("key [key ...]");
        assert_eq!(args.len(), 1);
        assert!(args[0].multiple && !args[0].optional);

        let args = p("key [GET pattern [GET pattern ...]]");
        assert_eq!(args[1].name, "pattern");
        assert_eq!(args[1].kind, ArgType::Pattern);
        assert!(args[1].optional && args[1].multiple && args[1].multiple_token);
        assert_eq!(hint(&args), "key [GET pattern [GET pattern ...]]");

        let args = p("[section [section ...]]");
        assert!(args[0].optional && args[0].multiple && !args[0].multiple_token);
        assert_eq!(hint(&args), "[section [section ...]]");

        let args = p("[arg ...]");
        assert!(args[0].optional && args[0].multiple);
    }

    #[test]
    fn tokens_and_blocks() {
        let args = p("cursor [MATCH pattern] [COUNT count] [TYPE type]");
        assert_eq!(args[0].kind, ArgType::Integer);
        assert_eq!(args[1].token.as_deref(), Some("MATCH"));
        assert!(args[1].optional);
        assert_eq!(
            hint(&args),
            "cursor [MATCH pattern] [COUNT count] [TYPE type]"
        );

        let args = p("key start stop [LIMIT offset count]");
        assert_eq!(args[3].kind, ArgType::Block);
        assert_eq!(args[3].name, "limit");
        assert_eq!(args[3].token.as_deref(), Some("LIMIT"));
        assert_eq!(hint(&args), "key start stop [LIMIT offset count]");

        let args = p("[FILTERBY <MODULE module-name | ACLCAT category | PATTERN pattern>]");
        assert_eq!(args.len(), 1);
        assert_eq!(args[0].kind, ArgType::OneOf);
        assert_eq!(args[0].token.as_deref(), Some("FILTERBY"));
        assert!(args[0].optional);
        assert_eq!(
            hint(&args),
            "[FILTERBY MODULE module-name|ACLCAT category|PATTERN pattern]"
        );

        let args = p("[TYPE NORMAL | MASTER | REPLICA | PUBSUB] [ID client-id [client-id ...]]");
        assert_eq!(args[0].kind, ArgType::OneOf);
        assert_eq!(args[0].token.as_deref(), Some("TYPE"));
        assert_eq!(args[0].args.len(), 4);
        assert_eq!(args[1].token.as_deref(), Some("ID"));
        assert!(args[1].multiple && !args[1].multiple_token);

        let args = p("[protover [AUTH username password] [SETNAME clientname]]");
        assert_eq!(args.len(), 1);
        assert_eq!(args[0].kind, ArgType::Block);
        assert_eq!(
            hint(&args),
            "[protover [AUTH username password] [SETNAME clientname]]"
        );

        let args = p("LIB-NAME libname | LIB-VER libver");
        assert_eq!(args.len(), 1);
        assert_eq!(args[0].kind, ArgType::OneOf);
        assert_eq!(hint(&args), "LIB-NAME libname|LIB-VER libver");

        let args = p("[NOSAVE | SAVE] [NOW] [FORCE] [ABORT]");
        assert_eq!(args[0].name, "nosave_save");
        assert_eq!(hint(&args), "[NOSAVE|SAVE] [NOW] [FORCE] [ABORT]");

        let args = p("[COUNT count [ANY]]");
        assert_eq!(args[0].kind, ArgType::Block);
        assert_eq!(hint(&args), "[COUNT count [ANY]]");

        let args = p("[STREAMS key [key ...] id [id ...]]");
        assert_eq!(args[0].kind, ArgType::Block);
        assert_eq!(hint(&args), "[STREAMS key [key ...] id [id ...]]");
    }

    #[test]
    fn junk_never_panics() {
        let alphabet = b"[]<>| .abKEY-";
        let mut x: u64 = 0x2545_f491_4f6c_dd1d;
        for _ in 0..20_000 {
            let len = (x % 12) as usize;
            let mut g = String::new();
            for _ in 0..len {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                g.push(alphabet[(x % alphabet.len() as u64) as usize] as char);
            }
            let _ = parse(&g, true);
        }
    }

    #[test]
    fn keys_need_a_key_spec() {
        let args = parse("key", false).unwrap_or_default();
        assert_eq!(args[0].kind, ArgType::String);
    }

    #[test]
    fn malformed_grammars_are_errors() {
        for g in [
            "[key", "key]", "<a | b]", "[]", "a | | b", "...", "[...]", "[a |]",
        ] {
            assert!(parse(g, true).is_err(), "{g} should not parse");
        }
        assert_eq!(parse("", true), Ok(Vec::new()));
    }
}
