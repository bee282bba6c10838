//! The incomplete path of RequestParser::parse must not allocate. A counting allocator, in a test binary of its
//! own with a single test so nothing else allocates meanwhile.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use bytes::BytesMut;
use shoal_protocol::{Limits, RequestParser};

struct Counting;

static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: forwards the caller's contract unchanged to the system allocator.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: ptr was allocated by System through alloc above, with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: as for alloc and dealloc.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn request_with(nargs: usize) -> Vec<u8> {
    let mut out = format!("*{nargs}\r\n").into_bytes();
    for i in 0..nargs {
        let arg = format!("argument-{i}");
        out.extend_from_slice(format!("${}\r\n{arg}\r\n", arg.len()).as_bytes());
    }
    out
}

#[test]
fn incomplete_requests_do_not_allocate() {
    let mut inputs = vec![
        request_with(3),
        request_with(2000),
        b"SET key \"a quoted value\" 'and more'\r\n".to_vec(),
    ];
    let mut big = b"*2\r\n$3\r\nGET\r\n$100000\r\n".to_vec();
    big.extend(std::iter::repeat_n(b'x', 100_000));
    big.extend_from_slice(b"\r\n");
    inputs.push(big);

    let mut parser = RequestParser::new(Limits::default());
    let mut args = Vec::with_capacity(4096);
    for input in &inputs {
        // The buffer is allocated up front so that feeding it does not count.
        let mut buf = BytesMut::with_capacity(input.len());
        for (i, &b) in input.iter().enumerate() {
            buf.extend_from_slice(&[b]);
            let before = ALLOCATIONS.load(Ordering::Relaxed);
            let result = parser.parse(&mut buf, &mut args);
            let after = ALLOCATIONS.load(Ordering::Relaxed);
            if i + 1 < input.len() {
                assert_eq!(result, Ok(false));
                assert_eq!(
                    after,
                    before,
                    "allocated while incomplete, at byte {i} of {}",
                    input.len()
                );
            } else {
                assert_eq!(result, Ok(true));
            }
        }
    }
}
