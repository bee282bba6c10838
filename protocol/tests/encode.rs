//! The reply encoders, and `%.17g` against a table of glibc's output.

use shoal_protocol::{encode, parse_frame, Frame};

fn with(f: impl FnOnce(&mut Vec<u8>)) -> Vec<u8> {
    let mut out = Vec::new();
    f(&mut out);
    out
}

#[test]
fn simple_replies() {
    assert_eq!(with(encode::ok), b"+OK\r\n");
    assert_eq!(with(|o| encode::simple(o, b"PONG")), b"+PONG\r\n");
    assert_eq!(with(|o| encode::integer(o, 0)), b":0\r\n");
    assert_eq!(with(|o| encode::integer(o, -42)), b":-42\r\n");
    assert_eq!(
        with(|o| encode::integer(o, i64::MIN)),
        b":-9223372036854775808\r\n"
    );
    assert_eq!(with(|o| encode::bulk(o, b"")), b"$0\r\n\r\n");
    assert_eq!(with(|o| encode::bulk(o, b"a\r\nb")), b"$4\r\na\r\nb\r\n");
    assert_eq!(with(|o| encode::array_len(o, 3)), b"*3\r\n");
    assert_eq!(with(|o| encode::array_len(o, 0)), b"*0\r\n");
}

#[test]
fn errors_stay_on_one_line() {
    assert_eq!(
        with(|o| encode::error(o, b"ERR syntax error")),
        b"-ERR syntax error\r\n"
    );
    assert_eq!(
        with(|o| encode::error(o, b"ERR unknown command 'a\r\nb\n'")),
        b"-ERR unknown command 'a  b '\r\n"
    );
    assert_eq!(
        with(|o| encode::error(o, b"WRONGTYPE x")),
        b"-WRONGTYPE x\r\n"
    );
    // Appends: what was already in the buffer is left alone.
    let mut out = b"\r\n".to_vec();
    encode::error(&mut out, b"E\n");
    assert_eq!(out, b"\r\n-E \r\n");
}

#[test]
fn resp2_and_resp3_forms() {
    let both = |f: &dyn Fn(&mut Vec<u8>, bool)| (with(|o| f(o, false)), with(|o| f(o, true)));
    assert_eq!(
        both(&|o, r| encode::null(o, r)),
        (b"$-1\r\n".to_vec(), b"_\r\n".to_vec())
    );
    assert_eq!(
        both(&|o, r| encode::null_array(o, r)),
        (b"*-1\r\n".to_vec(), b"_\r\n".to_vec())
    );
    assert_eq!(
        both(&|o, r| encode::map_len(o, 2, r)),
        (b"*4\r\n".to_vec(), b"%2\r\n".to_vec())
    );
    assert_eq!(
        both(&|o, r| encode::set_len(o, 5, r)),
        (b"*5\r\n".to_vec(), b"~5\r\n".to_vec())
    );
    assert_eq!(
        both(&|o, r| encode::push_len(o, 3, r)),
        (b"*3\r\n".to_vec(), b">3\r\n".to_vec())
    );
    assert_eq!(
        both(&|o, r| encode::boolean(o, true, r)),
        (b":1\r\n".to_vec(), b"#t\r\n".to_vec())
    );
    assert_eq!(
        both(&|o, r| encode::boolean(o, false, r)),
        (b":0\r\n".to_vec(), b"#f\r\n".to_vec())
    );
    assert_eq!(
        both(&|o, r| encode::verbatim(o, b"txt", b"hello", r)),
        (b"$5\r\nhello\r\n".to_vec(), b"=9\r\ntxt:hello\r\n".to_vec())
    );
    assert_eq!(
        both(&|o, r| encode::big_number(o, b"-12345678901234567890", r)),
        (
            b"$21\r\n-12345678901234567890\r\n".to_vec(),
            b"(-12345678901234567890\r\n".to_vec()
        )
    );
}

#[test]
fn doubles_as_redis_7_0_writes_them() {
    let both = |v: f64| {
        (
            with(|o| encode::double(o, v, false)),
            with(|o| encode::double(o, v, true)),
        )
    };
    assert_eq!(both(1.5), (b"$3\r\n1.5\r\n".to_vec(), b",1.5\r\n".to_vec()));
    assert_eq!(
        both(1.1),
        (
            b"$18\r\n1.1000000000000001\r\n".to_vec(),
            b",1.1000000000000001\r\n".to_vec()
        )
    );
    assert_eq!(both(3.0), (b"$1\r\n3\r\n".to_vec(), b",3\r\n".to_vec()));
    assert_eq!(
        both(f64::INFINITY),
        (b"$3\r\ninf\r\n".to_vec(), b",inf\r\n".to_vec())
    );
    assert_eq!(
        both(f64::NEG_INFINITY),
        (b"$4\r\n-inf\r\n".to_vec(), b",-inf\r\n".to_vec())
    );
    assert_eq!(
        both(f64::NAN),
        (b"$3\r\nnan\r\n".to_vec(), b",nan\r\n".to_vec())
    );
    assert_eq!(both(-0.0), (b"$2\r\n-0\r\n".to_vec(), b",-0\r\n".to_vec()));
}

#[test]
fn encoders_produce_frames_that_parse() {
    let mut out = Vec::new();
    encode::map_len(&mut out, 2, true);
    encode::bulk(&mut out, b"k");
    encode::double(&mut out, 0.5, true);
    encode::simple(&mut out, b"s");
    encode::set_len(&mut out, 1, true);
    encode::big_number(&mut out, b"1", true);
    let (frame, used) = parse_frame(&out)
        .ok()
        .flatten()
        .unwrap_or_else(|| panic!("did not parse"));
    assert_eq!(used, out.len());
    assert_eq!(
        frame,
        Frame::Map(vec![
            (Frame::Bulk("k".into()), Frame::Double(0.5)),
            (
                Frame::Simple("s".into()),
                Frame::Set(vec![Frame::BigNumber("1".into())])
            ),
        ])
    );
}

/// `tests/data/g17.txt` holds bit patterns and glibc's `printf("%.17g")` of them (generated with Python's
/// `'%.17g' % x` and checked against a C program once): special values, every power of two in steps, mantissas
/// across all decimal exponents, random bit patterns, short decimals and exact ties at the 18th digit.
#[test]
fn g17_matches_glibc_table() {
    let table = include_str!("data/g17.txt");
    let mut checked = 0;
    let mut out = Vec::new();
    for line in table
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
    {
        let (hex, want) = line
            .split_once(' ')
            .unwrap_or_else(|| panic!("bad line {line:?}"));
        let bits =
            u64::from_str_radix(hex, 16).unwrap_or_else(|e| panic!("bad line {line:?}: {e}"));
        let v = f64::from_bits(bits);
        out.clear();
        encode::fmt_double_g17(v, &mut out);
        assert_eq!(String::from_utf8_lossy(&out), want, "bits {hex} ({v:e})");
        // 17 significant digits always read back as the same double.
        let back: f64 = want.parse().unwrap_or_else(|e| panic!("{want}: {e}"));
        assert_eq!(back.to_bits(), bits);
        checked += 1;
    }
    assert!(checked > 6000, "only {checked} values in the table");
}

#[test]
fn g17_appends() {
    let mut out = b"x=".to_vec();
    encode::fmt_double_g17(0.25, &mut out);
    assert_eq!(out, b"x=0.25");
}
