//! LZF, the compressor Redis applies to RDB strings (`rdbcompression yes`).
//!
//! LZF is a byte-oriented LZ77: the output is a sequence of literal runs
//! (`000LLLLL` then L+1 bytes) and back references to the last 8 KiB of
//! output (`LLLooooo oooooooo` for 3..8 bytes, `111ooooo LLLLLLLL
//! oooooooo` for longer), found through a 64 Ki-slot hash table of the
//! three bytes at each position. [`compress`] follows liblzf 3.6 as Redis
//! builds it (`HLOG 16`, `VERY_FAST`, not `ULTRA_FAST`) step for step, so a
//! string Redis would compress is compressed to the same bytes here (Redis
//! leaves its table uninitialised, so in principle its output can vary;
//! ours starts from zero). [`decompress`] checks every reference and
//! length: a corrupt file is an error, never a panic.

/// Bits of the hash table index (liblzf's `HLOG`).
const HLOG: u32 = 16;
const HSIZE: usize = 1 << HLOG;
/// Longest literal run one control byte can announce.
const MAX_LIT: usize = 1 << 5;
/// Furthest a back reference can reach.
const MAX_OFF: usize = 1 << 13;
/// Longest back reference.
const MAX_REF: usize = (1 << 8) + (1 << 3);

fn first(data: &[u8], p: usize) -> u32 {
    (u32::from(data[p]) << 8) | u32::from(data[p + 1])
}

fn next(h: u32, data: &[u8], p: usize) -> u32 {
    (h << 8) | u32::from(data[p + 2])
}

fn slot(h: u32) -> usize {
    ((h >> (3 * 8 - HLOG)).wrapping_sub(h.wrapping_mul(5)) as usize) & (HSIZE - 1)
}

/// Reusable compressor state: the hash table, 256 KiB, allocated once per
/// writer rather than once per string.
pub struct Compressor {
    /// Position + 1 of the last occurrence of each hashed triple; 0 = none
    /// (position 0 can never be referenced, as in liblzf).
    table: Box<[u32]>,
}

impl Default for Compressor {
    fn default() -> Self {
        Compressor::new()
    }
}

impl Compressor {
    pub fn new() -> Compressor {
        Compressor {
            table: vec![0u32; HSIZE].into_boxed_slice(),
        }
    }

    /// Compresses `input` into `out`, which is cleared first. Returns
    /// false (with `out` unspecified) when the result would not fit in
    /// `max_out` bytes, which is how Redis asks "does it save space".
    pub fn compress(&mut self, input: &[u8], max_out: usize, out: &mut Vec<u8>) -> bool {
        out.clear();
        if input.is_empty() || max_out == 0 {
            return false;
        }
        // Inputs above 4 GiB are not compressed (slot positions are u32);
        // Redis strings that large are rare and stay correct uncompressed.
        if u32::try_from(input.len()).is_err() {
            return false;
        }
        self.table.fill(0);
        out.resize(max_out, 0);
        let n = compress_into(&mut self.table, input, out);
        match n {
            Some(n) => {
                out.truncate(n);
                true
            }
            None => false,
        }
    }
}

/// liblzf's lzf_compress over `out.len()` bytes of room; `None` when the
/// output would not fit.
fn compress_into(table: &mut [u32], input: &[u8], out: &mut [u8]) -> Option<usize> {
    let in_end = input.len();
    let out_end = out.len();
    let mut ip = 0usize;
    // `op` is one past the control byte of the current literal run.
    let mut op = 1usize;
    let mut lit = 0usize;

    let mut hval = if in_end >= 2 { first(input, 0) } else { 0 };
    while in_end >= 3 && ip < in_end - 2 {
        hval = next(hval, input, ip);
        let h = slot(hval);
        let stored = table[h] as usize;
        table[h] = (ip + 1) as u32;
        // `stored` is the reference's position + 1; liblzf also refuses a
        // reference at position 0 (`ref > in_data`).
        let matched = stored > 1 && {
            let r = stored - 1;
            let off = ip - r - 1;
            off < MAX_OFF
                && input[r + 2] == input[ip + 2]
                && input[r] == input[ip]
                && input[r + 1] == input[ip + 1]
        };
        if matched {
            let r = stored - 1;
            let off = ip - r - 1;
            let mut len = 2usize;
            let maxlen = (in_end - ip - len).min(MAX_REF);
            if op + 3 + 1 >= out_end && op - usize::from(lit == 0) + 3 + 1 >= out_end {
                return None;
            }
            *out.get_mut(op - lit - 1)? = (lit as u8).wrapping_sub(1);
            op -= usize::from(lit == 0);
            // liblzf first compares up to 16 bytes unrolled when the match
            // may be long, which can run one or two bytes past `maxlen`;
            // reproduce that so the output is the same.
            let mut done = false;
            if maxlen > 16 {
                for _ in 0..16 {
                    len += 1;
                    if input.get(r + len) != input.get(ip + len) {
                        done = true;
                        break;
                    }
                }
            }
            if !done {
                loop {
                    len += 1;
                    if !(len < maxlen && input[r + len] == input[ip + len]) {
                        break;
                    }
                }
            }
            len -= 2;
            ip += 1;
            if len < 7 {
                *out.get_mut(op)? = ((off >> 8) + (len << 5)) as u8;
                op += 1;
            } else {
                *out.get_mut(op)? = ((off >> 8) + (7 << 5)) as u8;
                *out.get_mut(op + 1)? = (len - 7) as u8;
                op += 2;
            }
            *out.get_mut(op)? = off as u8;
            op += 1;
            lit = 0;
            op += 1;
            ip += len + 1;
            if ip >= in_end - 2 {
                break;
            }
            // VERY_FAST: hash the two positions before the new one.
            ip -= 2;
            hval = first(input, ip);
            hval = next(hval, input, ip);
            table[slot(hval)] = (ip + 1) as u32;
            ip += 1;
            hval = next(hval, input, ip);
            table[slot(hval)] = (ip + 1) as u32;
            ip += 1;
        } else {
            if op >= out_end {
                return None;
            }
            lit += 1;
            out[op] = input[ip];
            op += 1;
            ip += 1;
            if lit == MAX_LIT {
                *out.get_mut(op - lit - 1)? = (lit - 1) as u8;
                lit = 0;
                op += 1;
            }
        }
    }
    if op + 3 > out_end {
        return None;
    }
    while ip < in_end {
        lit += 1;
        *out.get_mut(op)? = input[ip];
        op += 1;
        ip += 1;
        if lit == MAX_LIT {
            *out.get_mut(op - lit - 1)? = (lit - 1) as u8;
            lit = 0;
            op += 1;
        }
    }
    *out.get_mut(op - lit - 1)? = (lit as u8).wrapping_sub(1);
    op -= usize::from(lit == 0);
    Some(op)
}

/// Why compressed data could not be expanded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DecompressError {
    /// The data ends inside a literal run or a reference.
    Truncated,
    /// A reference points before the start of the output.
    BadReference,
    /// The data expands to more or fewer bytes than announced.
    WrongLength,
}

impl DecompressError {
    pub fn text(self) -> &'static str {
        match self {
            DecompressError::Truncated => "LZF data ends inside a run",
            DecompressError::BadReference => "LZF back reference before the start of the data",
            DecompressError::WrongLength => "LZF data does not expand to its stated length",
        }
    }
}

/// Expands `input` into `out` (cleared first), which must come to exactly
/// `expected` bytes. `out` is reserved for `expected` up front: callers
/// bound `expected` by what `input` could expand to.
pub fn decompress(input: &[u8], expected: usize, out: &mut Vec<u8>) -> Result<(), DecompressError> {
    out.clear();
    out.reserve(expected);
    let mut ip = 0;
    while ip < input.len() {
        let ctrl = usize::from(input[ip]);
        ip += 1;
        if ctrl < 1 << 5 {
            let run = ctrl + 1;
            let lit = input.get(ip..ip + run).ok_or(DecompressError::Truncated)?;
            if out.len() + run > expected {
                return Err(DecompressError::WrongLength);
            }
            out.extend_from_slice(lit);
            ip += run;
        } else {
            let mut len = ctrl >> 5;
            if len == 7 {
                len += usize::from(*input.get(ip).ok_or(DecompressError::Truncated)?);
                ip += 1;
            }
            let low = usize::from(*input.get(ip).ok_or(DecompressError::Truncated)?);
            ip += 1;
            let back = ((ctrl & 0x1f) << 8) + low + 1;
            let len = len + 2;
            if back > out.len() {
                return Err(DecompressError::BadReference);
            }
            if out.len() + len > expected {
                return Err(DecompressError::WrongLength);
            }
            let start = out.len() - back;
            if back >= len {
                out.extend_from_within(start..start + len);
            } else {
                // Overlapping: the run repeats bytes it is writing.
                for i in 0..len {
                    let b = out[start + i];
                    out.push(b);
                }
            }
        }
    }
    if out.len() != expected {
        return Err(DecompressError::WrongLength);
    }
    Ok(())
}

/// The most bytes `compressed` LZF bytes can expand to: a 3-byte reference
/// yields at most 264. Used to refuse absurd stated lengths before
/// allocating for them.
pub fn max_expansion(compressed: usize) -> usize {
    compressed.saturating_mul(MAX_REF.div_ceil(3) + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn roundtrip(data: &[u8]) -> Option<usize> {
        let mut c = Compressor::new();
        let mut out = Vec::new();
        if !c.compress(data, data.len().saturating_sub(4).max(1), &mut out) {
            return None;
        }
        let mut back = Vec::new();
        decompress(&out, data.len(), &mut back).expect("decompresses");
        assert_eq!(back, data);
        assert!(out.len() <= max_expansion(out.len()));
        Some(out.len())
    }

    #[test]
    fn compressible_inputs_round_trip() {
        assert!(roundtrip(&[b'a'; 100]).is_some_and(|n| n < 20));
        let text = b"the quick brown fox jumps over the lazy dog; ".repeat(50);
        assert!(roundtrip(&text).is_some_and(|n| n < text.len() / 4));
        let mut mixed = Vec::new();
        for i in 0..20_000u32 {
            mixed.extend_from_slice(format!("key:{}:{}|", i % 97, i % 13).as_bytes());
        }
        assert!(roundtrip(&mixed).is_some());
        // Long runs: references up to the maximum length, and overlaps.
        let mut runs = vec![0u8; 70_000];
        runs.extend(std::iter::repeat_n(7u8, 1000));
        assert!(roundtrip(&runs).is_some());
    }

    #[test]
    fn every_length_near_the_unrolled_compare() {
        // Matches ending 0..3 bytes before the end exercise liblzf's
        // unrolled comparison reaching past `maxlen`.
        for n in 20..80usize {
            let mut data: Vec<u8> = (0..n).map(|i| b"abcdefgh"[i % 8]).collect();
            data[0] = b'X';
            let mut c = Compressor::new();
            let mut out = Vec::new();
            assert!(c.compress(&data, n + 64, &mut out));
            let mut back = Vec::new();
            decompress(&out, n, &mut back).expect("decompresses");
            assert_eq!(back, data, "n = {n}");
        }
    }

    #[test]
    fn incompressible_input_is_refused() {
        let mut x = 0x1234_5678_u64;
        let noise: Vec<u8> = (0..200)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x as u8
            })
            .collect();
        assert_eq!(roundtrip(&noise), None);
    }

    #[test]
    fn corrupt_input_is_an_error() {
        let mut out = Vec::new();
        assert_eq!(
            decompress(&[5, b'a'], 6, &mut out),
            Err(DecompressError::Truncated)
        );
        assert_eq!(
            decompress(&[0x20, 0x00], 3, &mut out),
            Err(DecompressError::BadReference)
        );
        assert_eq!(
            decompress(&[0, b'a', 0x20, 0x00], 10, &mut out),
            Err(DecompressError::WrongLength)
        );
        assert_eq!(
            decompress(&[0, b'a', 0xe0], 10, &mut out),
            Err(DecompressError::Truncated)
        );
        assert_eq!(
            decompress(&[1, b'a', b'b'], 1, &mut out),
            Err(DecompressError::WrongLength)
        );
    }
}
