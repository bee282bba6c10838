//! parse_frame and Frame::encode.

use bytes::Bytes;
use shoal_protocol::frame::MAX_DEPTH;
use shoal_protocol::{parse_frame, Frame, ProtocolError};

fn b(s: &[u8]) -> Bytes {
    Bytes::copy_from_slice(s)
}

fn encoded(frame: &Frame) -> Vec<u8> {
    let mut out = Vec::new();
    frame.encode(&mut out);
    out
}

/// Parses `wire` whole, checks every strict prefix is incomplete and that re-encoding gives `wire` back.
fn check(wire: &[u8], want: Frame) {
    assert_eq!(
        parse_frame(wire),
        Ok(Some((want.clone(), wire.len()))),
        "{:?}",
        String::from_utf8_lossy(wire)
    );
    for cut in 0..wire.len() {
        assert_eq!(
            parse_frame(&wire[..cut]),
            Ok(None),
            "prefix {cut} of {:?}",
            String::from_utf8_lossy(wire)
        );
    }
    assert_eq!(encoded(&want), wire);
    let mut padded = wire.to_vec();
    padded.extend_from_slice(b"+next\r\n");
    assert_eq!(parse_frame(&padded), Ok(Some((want, wire.len()))));
}

#[test]
fn resp2_types() {
    check(b"+OK\r\n", Frame::Simple(b(b"OK")));
    check(b"+\r\n", Frame::Simple(b(b"")));
    check(
        b"-ERR unknown command\r\n",
        Frame::Error(b(b"ERR unknown command")),
    );
    check(b":0\r\n", Frame::Integer(0));
    check(b":-9223372036854775808\r\n", Frame::Integer(i64::MIN));
    check(b":9223372036854775807\r\n", Frame::Integer(i64::MAX));
    check(b"$5\r\nhello\r\n", Frame::Bulk(b(b"hello")));
    check(b"$0\r\n\r\n", Frame::Bulk(b(b"")));
    check(b"$4\r\n\r\n\r\n\r\n", Frame::Bulk(b(b"\r\n\r\n")));
    check(b"$-1\r\n", Frame::NullBulk);
    check(b"*-1\r\n", Frame::NullArray);
    check(b"*0\r\n", Frame::Array(vec![]));
    check(
        b"*3\r\n:1\r\n*2\r\n+a\r\n$-1\r\n$1\r\nx\r\n",
        Frame::Array(vec![
            Frame::Integer(1),
            Frame::Array(vec![Frame::Simple(b(b"a")), Frame::NullBulk]),
            Frame::Bulk(b(b"x")),
        ]),
    );
}

#[test]
fn resp3_types() {
    check(b"_\r\n", Frame::Null);
    check(b"#t\r\n", Frame::Boolean(true));
    check(b"#f\r\n", Frame::Boolean(false));
    check(b",1.5\r\n", Frame::Double(1.5));
    check(b",-0.10000000000000001\r\n", Frame::Double(-0.1));
    check(b",inf\r\n", Frame::Double(f64::INFINITY));
    check(b",-inf\r\n", Frame::Double(f64::NEG_INFINITY));
    check(b",1.0000000000000001e+300\r\n", Frame::Double(1e300));
    check(
        b"(3492890328409238509324850943850943825024385\r\n",
        Frame::BigNumber(b(b"3492890328409238509324850943850943825024385")),
    );
    check(b"(-1\r\n", Frame::BigNumber(b(b"-1")));
    check(
        b"=15\r\ntxt:Some string\r\n",
        Frame::Verbatim {
            format: b(b"txt"),
            text: b(b"Some string"),
        },
    );
    check(
        b"=4\r\nmkd:\r\n",
        Frame::Verbatim {
            format: b(b"mkd"),
            text: b(b""),
        },
    );
    check(
        b"!21\r\nSYNTAX invalid syntax\r\n",
        Frame::BulkError(b(b"SYNTAX invalid syntax")),
    );
    check(
        b"%2\r\n+first\r\n:1\r\n+second\r\n_\r\n",
        Frame::Map(vec![
            (Frame::Simple(b(b"first")), Frame::Integer(1)),
            (Frame::Simple(b(b"second")), Frame::Null),
        ]),
    );
    check(
        b"~2\r\n+a\r\n#f\r\n",
        Frame::Set(vec![Frame::Simple(b(b"a")), Frame::Boolean(false)]),
    );
    check(
        b">3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$2\r\nhi\r\n",
        Frame::Push(vec![
            Frame::Bulk(b(b"message")),
            Frame::Bulk(b(b"ch")),
            Frame::Bulk(b(b"hi")),
        ]),
    );
    check(
        b"|1\r\n+key-popularity\r\n%1\r\n$1\r\na\r\n,0.1923\r\n",
        Frame::Attribute(vec![(
            Frame::Simple(b(b"key-popularity")),
            Frame::Map(vec![(Frame::Bulk(b(b"a")), Frame::Double(0.1923))]),
        )]),
    );
}

#[test]
fn nan_doubles() {
    for wire in [&b",nan\r\n"[..], b",-nan\r\n", b",NaN\r\n"] {
        match parse_frame(wire) {
            Ok(Some((Frame::Double(v), n))) => {
                assert!(v.is_nan());
                assert_eq!(n, wire.len());
            }
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(encoded(&Frame::Double(f64::NAN)), b",nan\r\n");
}

#[test]
fn malformed_frames() {
    let cases: &[(&[u8], ProtocolError)] = &[
        (b"x\r\n", ProtocolError::InvalidFrameType(b'x')),
        (b"\r\n", ProtocolError::InvalidFrameType(b'\r')),
        (b":abc\r\n", ProtocolError::InvalidFrame("invalid integer")),
        (b":\r\n", ProtocolError::InvalidFrame("invalid integer")),
        (
            b":99999999999999999999\r\n",
            ProtocolError::InvalidFrame("invalid integer"),
        ),
        (
            b"+OK\rX",
            ProtocolError::InvalidFrame("line not terminated by CRLF"),
        ),
        (
            b"$3\r\nabcde\r\n",
            ProtocolError::InvalidFrame("bulk data not terminated by CRLF"),
        ),
        (b"$-2\r\n", ProtocolError::InvalidFrame("invalid length")),
        (b"$x\r\n", ProtocolError::InvalidFrame("invalid length")),
        (
            b"$?\r\n",
            ProtocolError::InvalidFrame("streamed types are not supported"),
        ),
        (
            b"*?\r\n",
            ProtocolError::InvalidFrame("streamed types are not supported"),
        ),
        (b"%-1\r\n", ProtocolError::InvalidFrame("invalid length")),
        (b"~-1\r\n", ProtocolError::InvalidFrame("invalid length")),
        (b"!-1\r\n", ProtocolError::InvalidFrame("invalid length")),
        (b"_x\r\n", ProtocolError::InvalidFrame("invalid null")),
        (b"#x\r\n", ProtocolError::InvalidFrame("invalid boolean")),
        (b"#\r\n", ProtocolError::InvalidFrame("invalid boolean")),
        (b",1.2.3\r\n", ProtocolError::InvalidFrame("invalid double")),
        (b",\r\n", ProtocolError::InvalidFrame("invalid double")),
        (
            b"(12a\r\n",
            ProtocolError::InvalidFrame("invalid big number"),
        ),
        (b"(\r\n", ProtocolError::InvalidFrame("invalid big number")),
        (
            b"=3\r\ntxt\r\n",
            ProtocolError::InvalidFrame("invalid verbatim string"),
        ),
        (
            b"=5\r\ntxt;a\r\n",
            ProtocolError::InvalidFrame("invalid verbatim string"),
        ),
        (b"*2\r\n:1\r\n?\r\n", ProtocolError::InvalidFrameType(b'?')),
    ];
    for (wire, want) in cases {
        assert_eq!(
            parse_frame(wire),
            Err(want.clone()),
            "{:?}",
            String::from_utf8_lossy(wire)
        );
    }
    assert_eq!(
        ProtocolError::InvalidFrame("invalid integer").to_string(),
        "Protocol error: invalid integer"
    );
}

#[test]
fn nesting_is_limited() {
    let nested = |depth: usize| {
        let mut wire = b"*1\r\n".repeat(depth);
        wire.extend_from_slice(b":1\r\n");
        wire
    };
    let ok = nested(MAX_DEPTH);
    let (frame, used) = parse_frame(&ok)
        .ok()
        .flatten()
        .unwrap_or_else(|| panic!("depth {MAX_DEPTH} rejected"));
    assert_eq!(used, ok.len());
    assert_eq!(encoded(&frame), ok);
    assert_eq!(
        parse_frame(&nested(MAX_DEPTH + 1)),
        Err(ProtocolError::NestingTooDeep)
    );
    // Far deeper hostile input fails the same way rather than overflowing the stack.
    assert_eq!(
        parse_frame(&b"%1\r\n".repeat(100_000)),
        Err(ProtocolError::NestingTooDeep)
    );
    assert_eq!(
        parse_frame(&b"*1\r\n".repeat(100_000)),
        Err(ProtocolError::NestingTooDeep)
    );
}

#[test]
fn hostile_counts_do_not_preallocate() {
    assert_eq!(parse_frame(b"*9223372036854775807\r\n:1\r\n"), Ok(None));
    assert_eq!(parse_frame(b"%9223372036854775807\r\n"), Ok(None));
    assert_eq!(parse_frame(b"$9223372036854775807\r\nabc"), Ok(None));
    assert_eq!(parse_frame(b"*4\r\n+a\r\n+b\r\n+c\r\n"), Ok(None));
}

#[test]
fn pipelined_frames() {
    let wire = b"+OK\r\n:1\r\n$3\r\nfoo\r\n*-1\r\n_\r\n";
    let mut pos = 0;
    let mut frames = Vec::new();
    while let Ok(Some((frame, used))) = parse_frame(&wire[pos..]) {
        frames.push(frame);
        pos += used;
    }
    assert_eq!(pos, wire.len());
    assert_eq!(
        frames,
        vec![
            Frame::Simple(b(b"OK")),
            Frame::Integer(1),
            Frame::Bulk(b(b"foo")),
            Frame::NullArray,
            Frame::Null
        ]
    );
}

#[test]
fn agrees_with_redis_protocol_crate_on_resp2() {
    use redis_protocol::resp2::types::OwnedFrame;
    fn convert(f: OwnedFrame) -> Frame {
        match f {
            OwnedFrame::SimpleString(s) => Frame::Simple(Bytes::from(s)),
            OwnedFrame::Error(s) => Frame::Error(Bytes::from(s.into_bytes())),
            OwnedFrame::Integer(i) => Frame::Integer(i),
            OwnedFrame::BulkString(s) => Frame::Bulk(Bytes::from(s)),
            OwnedFrame::Array(items) => Frame::Array(items.into_iter().map(convert).collect()),
            OwnedFrame::Null => Frame::NullBulk,
        }
    }
    let wire: &[u8] = b"*4\r\n+OK\r\n-ERR x\r\n:42\r\n*2\r\n$3\r\nfoo\r\n$0\r\n\r\n";
    let theirs = redis_protocol::resp2::decode::decode(wire)
        .ok()
        .flatten()
        .map(|(f, n)| (convert(f), n));
    assert_eq!(parse_frame(wire).ok().flatten(), theirs);
}
