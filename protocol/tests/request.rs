//! RequestParser: Redis 7.0's request semantics, error texts, incremental feeding and zero-copy.

use bytes::{Bytes, BytesMut};
use shoal_protocol::{Limits, ProtocolError, RequestParser};

type Command = Vec<Vec<u8>>;

/// Everything the parser produced for `input` delivered in chunks of `chunk` bytes: the commands, the error it
/// stopped on (if any) and the unconsumed bytes.
fn run_chunked(
    input: &[u8],
    chunk: usize,
    limits: Limits,
) -> (Vec<Command>, Option<ProtocolError>, Vec<u8>) {
    let mut parser = RequestParser::new(limits);
    let mut buf = BytesMut::new();
    let mut args = Vec::new();
    let mut commands = Vec::new();
    for piece in input.chunks(chunk.max(1)) {
        buf.extend_from_slice(piece);
        loop {
            match parser.parse(&mut buf, &mut args) {
                Ok(true) => commands.push(args.iter().map(|a| a.to_vec()).collect()),
                Ok(false) => break,
                // What is left after an error depends on the split and is of no use: the connection closes.
                Err(e) => return (commands, Some(e), Vec::new()),
            }
        }
    }
    (commands, None, buf.to_vec())
}

fn run(input: &[u8]) -> (Vec<Command>, Option<ProtocolError>, Vec<u8>) {
    run_chunked(input, input.len(), Limits::default())
}

/// Parses `input` whole, byte by byte and in a few other splits, asserting they all agree, and returns the
/// result.
fn run_all_ways(input: &[u8], limits: Limits) -> (Vec<Command>, Option<ProtocolError>, Vec<u8>) {
    let whole = run_chunked(input, input.len(), limits);
    for chunk in [1, 2, 3, 7, 16] {
        assert_eq!(
            run_chunked(input, chunk, limits),
            whole,
            "chunk {chunk}, input {:?}",
            String::from_utf8_lossy(input)
        );
    }
    whole
}

fn cmd(parts: &[&[u8]]) -> Command {
    parts.iter().map(|p| p.to_vec()).collect()
}

fn multibulk(parts: &[&[u8]]) -> Vec<u8> {
    let mut out = format!("*{}\r\n", parts.len()).into_bytes();
    for p in parts {
        out.extend_from_slice(format!("${}\r\n", p.len()).as_bytes());
        out.extend_from_slice(p);
        out.extend_from_slice(b"\r\n");
    }
    out
}

fn error_of(input: &[u8]) -> ProtocolError {
    error_with(input, Limits::default())
}

fn error_with(input: &[u8], limits: Limits) -> ProtocolError {
    let (_, err, _) = run_chunked(input, input.len(), limits);
    err.unwrap_or_else(|| panic!("no error for {:?}", String::from_utf8_lossy(input)))
}

#[test]
fn default_limits_are_redis_7_0() {
    let l = Limits::default();
    assert_eq!(l.max_bulk_len, 512 * 1024 * 1024);
    assert_eq!(l.max_multibulk_len, i32::MAX as usize);
    assert_eq!(l.max_inline_len, 64 * 1024);
}

#[test]
fn parses_one_multibulk_command() {
    let mut parser = RequestParser::new(Limits::default());
    let mut buf = BytesMut::from(&b"*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$5\r\nvalue\r\n"[..]);
    let mut args = vec![Bytes::from_static(b"stale")];
    assert_eq!(parser.parse(&mut buf, &mut args), Ok(true));
    assert_eq!(args, vec![&b"SET"[..], b"key", b"value"]);
    assert!(buf.is_empty());
    assert_eq!(parser.parse(&mut buf, &mut args), Ok(false));
}

#[test]
fn empty_and_binary_arguments() {
    let input = multibulk(&[b"SET", b"", b"\r\n\0\xff$*"]);
    let (commands, err, rest) = run_all_ways(&input, Limits::default());
    assert_eq!(commands, vec![cmd(&[b"SET", b"", b"\r\n\0\xff$*"])]);
    assert_eq!(err, None);
    assert!(rest.is_empty());
}

#[test]
fn pipelined_commands_come_out_one_per_call() {
    let mut input = Vec::new();
    for i in 0..50 {
        input.extend(multibulk(&[b"SET", format!("key:{i}").as_bytes(), b"v"]));
        input.extend_from_slice(format!("GET key:{i}\r\n").as_bytes());
    }
    let mut parser = RequestParser::new(Limits::default());
    let mut buf = BytesMut::from(&input[..]);
    let mut args = Vec::new();
    for i in 0..50 {
        assert_eq!(parser.parse(&mut buf, &mut args), Ok(true));
        assert_eq!(args, vec![&b"SET"[..], format!("key:{i}").as_bytes(), b"v"]);
        assert_eq!(parser.parse(&mut buf, &mut args), Ok(true));
        assert_eq!(args, vec![&b"GET"[..], format!("key:{i}").as_bytes()]);
    }
    assert_eq!(parser.parse(&mut buf, &mut args), Ok(false));
    assert!(buf.is_empty());
    let (commands, err, _) = run_all_ways(&input, Limits::default());
    assert_eq!(commands.len(), 100);
    assert_eq!(err, None);
}

#[test]
fn byte_by_byte_feeding_matches_whole_buffer() {
    let mut input = Vec::new();
    input.extend(multibulk(&[b"MSET", b"a", b"1", b"b", b"22", b"c", b""]));
    input.extend_from_slice(b"SET k \"quoted value\"\r\n");
    input.extend_from_slice(b"\r\n\n   \r\n*0\r\n*-1\r\n");
    input.extend(multibulk(&[b"PING"]));
    input.extend_from_slice(b"ECHO 'it\\'s'\n");
    let (commands, err, rest) = run_all_ways(&input, Limits::default());
    assert_eq!(
        commands,
        vec![
            cmd(&[b"MSET", b"a", b"1", b"b", b"22", b"c", b""]),
            cmd(&[b"SET", b"k", b"quoted value"]),
            cmd(&[b"PING"]),
            cmd(&[b"ECHO", b"it's"]),
        ]
    );
    assert_eq!(err, None);
    assert!(rest.is_empty());
}

#[test]
fn incomplete_request_consumes_nothing_and_keeps_args() {
    let full = multibulk(&[b"GET", b"somekey"]);
    let mut parser = RequestParser::new(Limits::default());
    let mut args = vec![Bytes::from_static(b"previous")];
    for cut in 0..full.len() {
        parser.reset();
        let mut buf = BytesMut::from(&full[..cut]);
        assert_eq!(parser.parse(&mut buf, &mut args), Ok(false), "cut at {cut}");
        assert_eq!(&buf[..], &full[..cut]);
        assert_eq!(args, vec![Bytes::from_static(b"previous")]);
        buf.extend_from_slice(&full[cut..]);
        assert_eq!(parser.parse(&mut buf, &mut args), Ok(true));
        assert_eq!(args, vec![&b"GET"[..], b"somekey"]);
        args = vec![Bytes::from_static(b"previous")];
    }
}

#[test]
fn no_op_requests_are_skipped_and_consumed() {
    for noop in [
        &b"\r\n"[..],
        b"\n",
        b"   \t \r\n",
        b"*0\r\n",
        b"*-1\r\n",
        b"*-7\r\n",
        b"\0junk\r\n",
    ] {
        let mut parser = RequestParser::new(Limits::default());
        let mut buf = BytesMut::from(noop);
        let mut args = Vec::new();
        assert_eq!(parser.parse(&mut buf, &mut args), Ok(false), "{noop:?}");
        assert!(buf.is_empty(), "{noop:?}");
        let mut input = noop.to_vec();
        input.extend_from_slice(b"PING\r\n");
        let (commands, err, rest) = run_all_ways(&input, Limits::default());
        assert_eq!(commands, vec![cmd(&[b"PING"])]);
        assert_eq!(err, None);
        assert!(rest.is_empty());
    }
}

#[test]
fn inline_commands_split_like_sdssplitargs() {
    let cases: &[(&[u8], &[&[u8]])] = &[
        (b"PING\r\n", &[b"PING"]),
        (b"PING\n", &[b"PING"]),
        (b"SET a \"b c\"\r\n", &[b"SET", b"a", b"b c"]),
        (b"  SET\ta   b  \r\n", &[b"SET", b"a", b"b"]),
        (
            b"SET k \"\\x41\\x62\\n\\r\\t\\b\\a\\\\\\\"\"\r\n",
            &[b"SET", b"k", b"Ab\n\r\t\x08\x07\\\""],
        ),
        (b"SET k 'a\\'b \"c\"'\r\n", &[b"SET", b"k", b"a'b \"c\""]),
        (b"SET k \"\"\r\n", &[b"SET", b"k", b""]),
        (b"SET k ''\n", &[b"SET", b"k", b""]),
        (b"SET k\"a b\"\r\n", &[b"SET", b"ka b"]),
        (b"a\rb\r\n", &[b"a", b"b"]),
        (b"a\x0bb\n", &[b"a\x0bb"]),
        (b"SET a\0b c\r\n", &[b"SET", b"a"]),
        (b"GET \"\\xzz\"\r\n", &[b"GET", b"xzz"]),
        (b"GET \"\xff\xfe\"\r\n", &[b"GET", b"\xff\xfe"]),
        (b"x\r\r\n", &[b"x"]),
    ];
    for (input, want) in cases {
        let (commands, err, rest) = run_all_ways(input, Limits::default());
        assert_eq!(err, None, "{:?}", String::from_utf8_lossy(input));
        assert_eq!(
            commands,
            vec![cmd(want)],
            "{:?}",
            String::from_utf8_lossy(input)
        );
        assert!(rest.is_empty());
    }
}

#[test]
fn error_texts_are_redis_7_0s() {
    let cases: &[(&[u8], &str)] = &[
        (b"*abc\r\n", "Protocol error: invalid multibulk length"),
        (b"*\r\n", "Protocol error: invalid multibulk length"),
        (b"*-0\r\n", "Protocol error: invalid multibulk length"),
        (b"*01\r\n", "Protocol error: invalid multibulk length"),
        (b"*+1\r\n", "Protocol error: invalid multibulk length"),
        (b"* 1\r\n", "Protocol error: invalid multibulk length"),
        (b"*1 \r\n", "Protocol error: invalid multibulk length"),
        (
            b"*2147483648\r\n",
            "Protocol error: invalid multibulk length",
        ),
        (
            b"*9223372036854775808\r\n",
            "Protocol error: invalid multibulk length",
        ),
        (b"*1\r\n$abc\r\n", "Protocol error: invalid bulk length"),
        (b"*1\r\n$\r\n", "Protocol error: invalid bulk length"),
        (b"*1\r\n$-1\r\n", "Protocol error: invalid bulk length"),
        (b"*1\r\n$-0\r\n", "Protocol error: invalid bulk length"),
        (b"*1\r\n$01\r\n", "Protocol error: invalid bulk length"),
        (b"*1\r\n$+3\r\n", "Protocol error: invalid bulk length"),
        (b"*1\r\n$3 \r\n", "Protocol error: invalid bulk length"),
        (
            b"*1\r\n$536870913\r\n",
            "Protocol error: invalid bulk length",
        ),
        (
            b"*1\r\n$99999999999999999999\r\n",
            "Protocol error: invalid bulk length",
        ),
        (
            b"*1\r\n$9223372036854775807\r\n",
            "Protocol error: invalid bulk length",
        ),
        (b"*1\r\nx\r\n", "Protocol error: expected '$', got 'x'"),
        (b"*1\r\n:3\r\n", "Protocol error: expected '$', got ':'"),
        (
            b"*2\r\n$3\r\nGET\r\n*1\r\n",
            "Protocol error: expected '$', got '*'",
        ),
        (b"*1\r\n\r\n", "Protocol error: expected '$', got ' '"),
        (b"*1\r\n\n$3\r\n", "Protocol error: expected '$', got ' '"),
        (
            b"GET \"abc\r\n",
            "Protocol error: unbalanced quotes in request",
        ),
        (
            b"GET 'abc\r\n",
            "Protocol error: unbalanced quotes in request",
        ),
        (
            b"GET \"a\"b\r\n",
            "Protocol error: unbalanced quotes in request",
        ),
        (
            b"GET 'a'b\r\n",
            "Protocol error: unbalanced quotes in request",
        ),
        (
            b"GET \"a\\\"\r\n",
            "Protocol error: unbalanced quotes in request",
        ),
        (
            b"GET \"a\0\"\r\n",
            "Protocol error: unbalanced quotes in request",
        ),
    ];
    for (input, text) in cases {
        let err = error_of(input);
        assert_eq!(
            err.to_string(),
            *text,
            "{:?}",
            String::from_utf8_lossy(input)
        );
        // The error does not depend on how the input was split.
        let (_, err2, _) = run_all_ways(input, Limits::default());
        assert_eq!(err2, Some(err));
    }
}

#[test]
fn errors_before_the_full_line_arrives_wait_like_redis() {
    // Redis looks for the line's end before judging it: these are not errors yet.
    for input in [
        &b"*1\r\nx"[..],
        b"*abc",
        b"*1\r\n$abc",
        b"*1\r\n$-1",
        b"GET \"abc",
    ] {
        let (commands, err, rest) = run(input);
        assert!(commands.is_empty());
        assert_eq!(err, None, "{:?}", String::from_utf8_lossy(input));
        assert_eq!(rest, input);
    }
}

#[test]
fn too_big_lines() {
    let limits = Limits::default();
    // Inline: a 64 KiB line still has a chance, one byte more without a newline does not.
    let mut input = vec![b'a'; 64 * 1024];
    let (_, err, _) = run(&input);
    assert_eq!(err, None);
    input.push(b'a');
    assert_eq!(
        error_of(&input).to_string(),
        "Protocol error: too big inline request"
    );
    // A newline anywhere in the buffer makes a long line fine, as in Redis.
    let mut long = vec![b'x'; 100 * 1024];
    long.extend_from_slice(b"\r\n");
    let (commands, err, _) = run(&long);
    assert_eq!(err, None);
    assert_eq!(commands[0][0].len(), 100 * 1024);

    let mut input = b"*".to_vec();
    input.extend(std::iter::repeat_n(b'1', 64 * 1024));
    assert_eq!(
        error_of(&input).to_string(),
        "Protocol error: too big mbulk count string"
    );
    let mut input = b"*1\r\n$".to_vec();
    input.extend(std::iter::repeat_n(b'1', 64 * 1024));
    assert_eq!(
        error_of(&input).to_string(),
        "Protocol error: too big bulk count string"
    );
    // Exactly at the limit: still waiting.
    let mut input = b"*1\r\n$".to_vec();
    input.extend(std::iter::repeat_n(b'1', 64 * 1024 - 1));
    assert_eq!(run(&input).1, None);

    let small = Limits {
        max_inline_len: 10,
        ..limits
    };
    assert_eq!(
        error_with(b"GET 12345678", small),
        ProtocolError::TooBigInlineRequest
    );
    assert_eq!(
        error_with(b"*1234567890", small),
        ProtocolError::TooBigMultibulkCount
    );
    assert_eq!(
        error_with(b"*1\r\n$1234567890", small),
        ProtocolError::TooBigBulkCount
    );
    // The check is on what is buffered without a newline, '\r' included, as in Redis: fed byte by byte, the
    // first line fits, the second is rejected at its 11th byte although whole it would pass.
    assert_eq!(run_chunked(b"GET 12345\r\n", 1, small).1, None);
    assert_eq!(
        run_chunked(b"GET 123456\r\n", 1, small).1,
        Some(ProtocolError::TooBigInlineRequest)
    );
    assert_eq!(run_chunked(b"GET 123456\r\n", 100, small).1, None);
}

#[test]
fn configurable_limits() {
    let limits = Limits {
        max_bulk_len: 5,
        max_multibulk_len: 2,
        max_inline_len: 64 * 1024,
    };
    assert_eq!(
        run_all_ways(&multibulk(&[b"GET", b"12345"]), limits).1,
        None
    );
    assert_eq!(
        error_with(&multibulk(&[b"GET", b"123456"]), limits),
        ProtocolError::InvalidBulkLength
    );
    assert_eq!(
        error_with(&multibulk(&[b"A", b"B", b"C"]), limits),
        ProtocolError::InvalidMultibulkLength
    );
    let mut parser = RequestParser::new(Limits::default());
    parser.set_limits(limits);
    assert_eq!(parser.limits(), limits);
    let mut buf = BytesMut::from(&multibulk(&[b"GET", b"123456"])[..]);
    assert_eq!(
        parser.parse(&mut buf, &mut Vec::new()),
        Err(ProtocolError::InvalidBulkLength)
    );
}

#[test]
fn unauthenticated_limits() {
    let mut parser = RequestParser::new(Limits::default());
    parser.set_auth_required(true);
    let mut args = Vec::new();
    let ten: Vec<&[u8]> = vec![b"x"; 10];
    let mut buf = BytesMut::from(&multibulk(&ten)[..]);
    assert_eq!(parser.parse(&mut buf, &mut args), Ok(true));
    let eleven: Vec<&[u8]> = vec![b"x"; 11];
    let mut buf = BytesMut::from(&multibulk(&eleven)[..]);
    let err = parser.parse(&mut buf, &mut args).unwrap_err();
    assert_eq!(
        err.to_string(),
        "Protocol error: unauthenticated multibulk length"
    );
    let mut buf = BytesMut::from(&b"*1\r\n$16384\r\n"[..]);
    assert_eq!(parser.parse(&mut buf, &mut args), Ok(false));
    parser.reset();
    let mut buf = BytesMut::from(&b"*1\r\n$16385\r\n"[..]);
    let err = parser.parse(&mut buf, &mut args).unwrap_err();
    assert_eq!(
        err.to_string(),
        "Protocol error: unauthenticated bulk length"
    );
    // An invalid count is reported as such even when unauthenticated.
    let mut buf = BytesMut::from(&b"*x\r\n"[..]);
    assert_eq!(
        parser.parse(&mut buf, &mut args),
        Err(ProtocolError::InvalidMultibulkLength)
    );
    parser.set_auth_required(false);
    let mut buf = BytesMut::from(&multibulk(&eleven)[..]);
    assert_eq!(parser.parse(&mut buf, &mut args), Ok(true));
}

#[test]
fn write_reply_is_byte_exact() {
    let mut out = Vec::new();
    ProtocolError::InvalidBulkLength.write_reply(&mut out);
    assert_eq!(out, b"-ERR Protocol error: invalid bulk length\r\n");
    out.clear();
    ProtocolError::ExpectedBulk(0xe9).write_reply(&mut out);
    assert_eq!(out, b"-ERR Protocol error: expected '$', got '\xe9'\r\n");
    out.clear();
    ProtocolError::ExpectedBulk(b'\n').write_reply(&mut out);
    assert_eq!(out, b"-ERR Protocol error: expected '$', got ' '\r\n");
    assert_eq!(
        ProtocolError::ExpectedBulk(0xe9).to_string(),
        "Protocol error: expected '$', got '\u{e9}'"
    );
}

#[test]
fn huge_declared_lengths_wait_without_allocating_much() {
    // The largest accepted count and length: nothing is reserved up front, the parser just waits.
    let (commands, err, rest) = run(b"*2147483647\r\n$536870912\r\nabc");
    assert!(commands.is_empty());
    assert_eq!(err, None);
    assert_eq!(rest.len(), 28);
}

#[test]
fn large_bulk_in_many_chunks() {
    let value = vec![b'v'; 3 * 1024 * 1024 + 17];
    let input = multibulk(&[b"SET", b"big", &value]);
    let mut parser = RequestParser::new(Limits::default());
    let mut buf = BytesMut::new();
    let mut args = Vec::new();
    let mut calls = 0;
    let header_len = input.len() - value.len() - 2;
    for piece in input.chunks(1000) {
        buf.extend_from_slice(piece);
        calls += 1;
        match parser.parse(&mut buf, &mut args) {
            Ok(true) => break,
            Ok(false) => {
                if buf.len() > header_len {
                    assert_eq!(parser.pending_bulk_end(), Some(input.len()));
                }
            }
            Err(e) => panic!("{e}"),
        }
    }
    assert_eq!(calls, input.len().div_ceil(1000));
    assert_eq!(args.len(), 3);
    assert_eq!(args[2].len(), value.len());
    assert!(buf.is_empty());
    assert_eq!(parser.pending_bulk_end(), None);
}

#[test]
fn many_arguments_beyond_scratch_space() {
    for n in [15usize, 16, 17, 255, 256, 257, 1000, 5000] {
        let owned: Vec<Vec<u8>> = (0..n).map(|i| format!("arg{i}").into_bytes()).collect();
        let parts: Vec<&[u8]> = owned.iter().map(|v| &v[..]).collect();
        let mut input = multibulk(&parts);
        input.extend(multibulk(&parts));
        input.extend(multibulk(&[b"PING"]));
        let (commands, err, rest) = run_chunked(&input, input.len(), Limits::default());
        assert_eq!(err, None);
        assert!(rest.is_empty());
        assert_eq!(commands.len(), 3, "n = {n}");
        assert_eq!(commands[0], owned);
        assert_eq!(commands[1], owned);
        assert_eq!(commands[2], cmd(&[b"PING"]));
        assert_eq!(run_chunked(&input, 13, Limits::default()).0, commands);
    }
}

#[test]
fn bytes_after_bulk_data_are_skipped_unchecked_like_redis() {
    // Redis neither checks the CRLF after an argument's data nor the '\n' after a length line's '\r'.
    let (commands, err, _) = run_all_ways(b"*2\r\n$3\r\nGETXY$1\r\nkAB", Limits::default());
    assert_eq!(err, None);
    assert_eq!(commands, vec![cmd(&[b"GET", b"k"])]);
    let (commands, err, _) = run_all_ways(b"*1\rX$4\r-PING\r\n", Limits::default());
    assert_eq!(err, None);
    assert_eq!(commands, vec![cmd(&[b"PING"])]);
}

#[test]
fn parser_is_usable_after_an_error_and_after_misuse() {
    let mut parser = RequestParser::new(Limits::default());
    let mut args = Vec::new();
    let mut buf = BytesMut::from(&b"*1\r\n$x\r\n"[..]);
    assert!(parser.parse(&mut buf, &mut args).is_err());
    let mut buf = BytesMut::from(&b"PING\r\n"[..]);
    assert_eq!(parser.parse(&mut buf, &mut args), Ok(true));
    // Handing over a shorter buffer mid-request breaks the contract; the parser starts over instead of panicking.
    let mut buf = BytesMut::from(&b"*2\r\n$3\r\nGET\r\n$10\r\nabc"[..]);
    assert_eq!(parser.parse(&mut buf, &mut args), Ok(false));
    let mut buf = BytesMut::from(&b"PING\r\n"[..]);
    assert_eq!(parser.parse(&mut buf, &mut args), Ok(true));
    assert_eq!(args, vec![&b"PING"[..]]);
}

/// Checks that every argument points into the allocation the request was read into.
fn assert_zero_copy(input: &[u8], expected: &[&[u8]]) {
    let mut parser = RequestParser::new(Limits::default());
    let mut buf = BytesMut::with_capacity(input.len() + 64);
    buf.extend_from_slice(input);
    let start = buf.as_ptr() as usize;
    let end = start + buf.capacity();
    let mut args = Vec::new();
    assert_eq!(parser.parse(&mut buf, &mut args), Ok(true));
    assert_eq!(
        args,
        expected
            .iter()
            .map(|e| Bytes::copy_from_slice(e))
            .collect::<Vec<_>>()
    );
    for a in &args {
        let p = a.as_ptr() as usize;
        assert!(
            a.is_empty() || (p >= start && p + a.len() <= end),
            "argument {a:?} was copied"
        );
    }
}

#[test]
fn arguments_are_zero_copy_slices_of_the_buffer() {
    assert_zero_copy(
        &multibulk(&[b"SET", b"key", b"value"]),
        &[b"SET", b"key", b"value"],
    );
    assert_zero_copy(b"SET key value\r\n", &[b"SET", b"key", b"value"]);
    // Even quoted and escaped inline arguments: they are unescaped in place.
    assert_zero_copy(
        b"SET \"k e y\" 'v\\'al' \"\\x41\\n\"\r\n",
        &[b"SET", b"k e y", b"v'al", b"A\n"],
    );
    let owned: Vec<Vec<u8>> = (0..300).map(|i| format!("{i}").into_bytes()).collect();
    let parts: Vec<&[u8]> = owned.iter().map(|v| &v[..]).collect();
    assert_zero_copy(&multibulk(&parts), &parts);
}

#[test]
fn agrees_with_redis_protocol_crate_on_valid_requests() {
    let mut seed = 0x1234_5678u32;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 17;
        seed ^= seed << 5;
        seed
    };
    for _ in 0..200 {
        let n = (next() % 6 + 1) as usize;
        let owned: Vec<Vec<u8>> = (0..n)
            .map(|_| {
                let len = (next() % 40) as usize;
                (0..len).map(|_| next() as u8).collect()
            })
            .collect();
        let parts: Vec<&[u8]> = owned.iter().map(|v| &v[..]).collect();
        let input = multibulk(&parts);
        let theirs = match redis_protocol::resp2::decode::decode(&input) {
            Ok(Some((redis_protocol::resp2::types::OwnedFrame::Array(items), used))) => {
                assert_eq!(used, input.len());
                items
                    .into_iter()
                    .map(|f| match f {
                        redis_protocol::resp2::types::OwnedFrame::BulkString(b) => b,
                        other => panic!("unexpected {other:?}"),
                    })
                    .collect::<Vec<_>>()
            }
            other => panic!("redis-protocol failed: {other:?}"),
        };
        let (ours, err, _) = run_chunked(&input, (next() % 9 + 1) as usize, Limits::default());
        assert_eq!(err, None);
        assert_eq!(ours, vec![theirs]);
    }
}

/// Random splits of random mixes of valid and invalid requests must not change the outcome (bar the "too big"
/// errors, which depend on what is buffered in Redis too; these inputs are far below that limit).
#[test]
fn random_splits_do_not_change_the_outcome() {
    let pieces: &[&[u8]] = &[
        b"*2\r\n$3\r\nGET\r\n$1\r\nk\r\n",
        b"PING\r\n",
        b"SET a \"b\\x41 c\"\n",
        b"\r\n",
        b"*0\r\n",
        b"*-1\r\n",
        b"*1\r\n$0\r\n\r\n",
        b"ECHO 'x y'\r\n",
        b"*1\r\n$x\r\n",
        b"GET \"oops\r\n",
        b"*1\r\n+3\r\n",
        b"*3\r\n$3\r\nSET\r\n$2\r\nkk\r\n$10\r\n0123456789\r\n",
    ];
    let mut seed = 0xdead_beefu32;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 17;
        seed ^= seed << 5;
        seed as usize
    };
    for _ in 0..300 {
        let mut input = Vec::new();
        for _ in 0..next() % 8 + 1 {
            input.extend_from_slice(pieces[next() % pieces.len()]);
        }
        let whole = run(&input);
        for _ in 0..4 {
            let chunk = next() % 12 + 1;
            assert_eq!(run_chunked(&input, chunk, Limits::default()), whole);
        }
    }
}
