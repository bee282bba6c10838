//! Redis Cluster key-to-slot mapping (CLUSTER KEYSLOT and key routing).

/// Number of hash slots in a Redis Cluster.
pub const SLOTS: u16 = 16384;

/// CRC16-CCITT (XMODEM): polynomial 0x1021, initial value 0, no reflection,
/// no final XOR, which is the variant Redis Cluster hashes keys with.
const POLY: u16 = 0x1021;

const CRC16_TABLE: [u16; 256] = build_table();

const fn build_table() -> [u16; 256] {
    let mut table = [0u16; 256];
    let mut i = 0;
    while i < 256 {
        let mut crc = (i as u16) << 8;
        let mut bit = 0;
        while bit < 8 {
            crc = if crc & 0x8000 != 0 {
                (crc << 1) ^ POLY
            } else {
                crc << 1
            };
            bit += 1;
        }
        table[i] = crc;
        i += 1;
    }
    table
}

/// CRC16 as Redis Cluster computes it.
pub fn crc16(data: &[u8]) -> u16 {
    data.iter().fold(0u16, |crc, &b| {
        (crc << 8) ^ CRC16_TABLE[usize::from((crc >> 8) as u8 ^ b)]
    })
}

/// Redis `keyHashSlot`: if the key contains a `{` followed later by a `}`
/// with at least one byte between them, only the bytes between the first
/// `{` and the first `}` after it are hashed; otherwise the whole key is.
pub fn key_slot(key: &[u8]) -> u16 {
    crc16(hash_tag(key)) & (SLOTS - 1)
}

fn hash_tag(key: &[u8]) -> &[u8] {
    let Some(open) = key.iter().position(|&b| b == b'{') else {
        return key;
    };
    let inner = &key[open + 1..];
    match inner.iter().position(|&b| b == b'}') {
        Some(close) if close > 0 => &inner[..close],
        _ => key,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn crc16_bitwise(data: &[u8]) -> u16 {
        let mut crc = 0u16;
        for &b in data {
            crc ^= u16::from(b) << 8;
            for _ in 0..8 {
                crc = if crc & 0x8000 != 0 {
                    (crc << 1) ^ POLY
                } else {
                    crc << 1
                };
            }
        }
        crc
    }

    #[test]
    fn crc16_check_value() {
        assert_eq!(crc16(b"123456789"), 0x31C3);
        assert_eq!(crc16(b""), 0);
    }

    #[test]
    fn table_agrees_with_bitwise_definition() {
        let mut data = Vec::new();
        for i in 0..2000u32 {
            data.push((i.wrapping_mul(2_654_435_761) >> 13) as u8);
            assert_eq!(crc16(&data), crc16_bitwise(&data));
        }
    }

    #[test]
    fn known_slots() {
        // Values from CLUSTER KEYSLOT on Redis 7.0.
        let cases: &[(&[u8], u16)] = &[
            (b"foo", 12182),
            (b"bar", 5061),
            (b"key", 12539),
            (b"", 0),
            (b"{user1000}.following", 3443),
            (b"{user1000}.followers", 3443),
            (b"user1000", 3443),
            (b"foo{}{bar}", 8363),
            (b"foo{{bar}}zap", 4015),
            (b"foo{bar}{zap}", 5061),
            (b"{}", 15257),
            (b"{", 4092),
            (b"}", 12090),
            (b"}{a}", 15495),
            (b"{a", 10276),
            (b"a{b}c", 3300),
            (b"123456789", 12739),
        ];
        for (key, slot) in cases {
            assert_eq!(key_slot(key), *slot, "{:?}", String::from_utf8_lossy(key));
        }
    }

    #[test]
    fn hash_tags() {
        assert_eq!(
            key_slot(b"{user1000}.following"),
            key_slot(b"{user1000}.followers")
        );
        assert_eq!(key_slot(b"{user1000}.following"), key_slot(b"user1000"));
        assert_eq!(key_slot(b"foo{}{bar}"), crc16(b"foo{}{bar}") & 0x3FFF);
        assert_eq!(key_slot(b"foo{{bar}}zap"), key_slot(b"{bar"));
        assert_eq!(key_slot(b"foo{bar}{zap}"), key_slot(b"bar"));
        assert_eq!(key_slot(b"x{y"), crc16(b"x{y") & 0x3FFF);
        assert_eq!(key_slot(b"}x{y}"), key_slot(b"y"));
    }

    #[test]
    fn slots_are_in_range() {
        for i in 0..10_000u32 {
            assert!(key_slot(i.to_string().as_bytes()) < SLOTS);
        }
    }
}
