//! Feeds arbitrary bytes, split into arbitrary chunks, to `RequestParser`, and the same bytes to `parse_frame`.
//!
//! Beyond "no panic", it checks that every call makes progress and that splitting the input never changes the
//! commands parsed or the error reached (except for the "too big" errors, which Redis too only raises when a
//! read leaves a long line unterminated, and so depend on the split).
#![no_main]

use bytes::{Bytes, BytesMut};
use libfuzzer_sys::fuzz_target;
use shoal_protocol::{parse_frame, Frame, Limits, ProtocolError, RequestParser};

/// The first bytes of the input steer the run; the rest is the stream.
const CONTROL_LEN: usize = 4;

struct Outcome {
    commands: Vec<Vec<Bytes>>,
    error: Option<ProtocolError>,
}

fn split_dependent(e: &Option<ProtocolError>) -> bool {
    matches!(
        e,
        Some(
            ProtocolError::TooBigInlineRequest
                | ProtocolError::TooBigMultibulkCount
                | ProtocolError::TooBigBulkCount
        )
    )
}

fn run(
    limits: Limits,
    auth: bool,
    stream: &[u8],
    mut next_chunk: impl FnMut() -> usize,
) -> Outcome {
    let mut parser = RequestParser::new(limits);
    parser.set_auth_required(auth);
    let mut buf = BytesMut::new();
    let mut args = Vec::new();
    let mut out = Outcome {
        commands: Vec::new(),
        error: None,
    };
    let mut fed = 0;
    while fed < stream.len() {
        let n = next_chunk().clamp(1, stream.len() - fed);
        buf.extend_from_slice(&stream[fed..fed + n]);
        fed += n;
        loop {
            let before = buf.len();
            match parser.parse(&mut buf, &mut args) {
                Ok(true) => {
                    assert!(
                        buf.len() < before,
                        "a command was parsed without consuming input"
                    );
                    assert!(!args.is_empty(), "a command without arguments");
                    out.commands.push(args.clone());
                }
                Ok(false) => {
                    assert!(buf.len() <= before);
                    break;
                }
                Err(e) => {
                    out.error = Some(e);
                    return out;
                }
            }
        }
    }
    out
}

fn check_frame(data: &[u8]) {
    let Ok(Some((frame, used))) = parse_frame(data) else {
        return;
    };
    assert!(used > 0 && used <= data.len());
    // Any strict prefix of a complete frame is merely incomplete.
    assert_eq!(parse_frame(&data[..used - 1]), Ok(None));
    let mut wire = Vec::new();
    frame.encode(&mut wire);
    let (again, again_used): (Frame, usize) = match parse_frame(&wire) {
        Ok(Some(v)) => v,
        other => panic!("re-encoded frame did not parse: {other:?}"),
    };
    assert_eq!(again_used, wire.len());
    let mut wire2 = Vec::new();
    again.encode(&mut wire2);
    assert_eq!(wire, wire2);
}

fuzz_target!(|data: &[u8]| {
    check_frame(data);
    if data.len() < CONTROL_LEN {
        return;
    }
    let (control, stream) = data.split_at(CONTROL_LEN);
    // Small limits so that the limit checks are reached without megabytes of input.
    let limits = Limits {
        max_bulk_len: [8, 1024, 512 * 1024 * 1024][control[0] as usize % 3],
        max_multibulk_len: [4, 1024, i32::MAX as usize][(control[0] / 3) as usize % 3],
        max_inline_len: [16, 256, 64 * 1024][(control[0] / 9) as usize % 3],
    };
    let auth = control[0] >= 27 * 8;
    let max_chunk = usize::from(control[1] % 64) + 1;
    let mut seed = u32::from_le_bytes([control[1], control[2], control[3], 0x5a]) | 1;

    let whole = run(limits, auth, stream, || usize::MAX);
    let split = run(limits, auth, stream, || {
        seed ^= seed << 13;
        seed ^= seed >> 17;
        seed ^= seed << 5;
        (seed as usize % max_chunk) + 1
    });
    if split_dependent(&whole.error) || split_dependent(&split.error) {
        let n = whole.commands.len().min(split.commands.len());
        assert_eq!(whole.commands[..n], split.commands[..n]);
    } else {
        assert_eq!(whole.commands, split.commands);
        assert_eq!(whole.error, split.error);
    }
});
