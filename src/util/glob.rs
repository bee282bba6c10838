//! Glob-style matching with the exact semantics of Redis 7.0's
//! `stringmatchlen` (KEYS, SCAN MATCH, PSUBSCRIBE, CONFIG GET, ...).
//!
//! Compatibility notes, all deliberate because clients can observe them:
//! - A non-empty pattern never matches the empty string, not even `*`.
//!   Redis's callers (KEYS, SCAN) short-circuit the literal pattern `*`
//!   themselves; callers here must do the same where Redis does.
//! - Bytes are compared as C `char`, which is signed on x86_64 Linux, so in
//!   ranges such as `[a-\xff]` bytes >= 0x80 sort before ASCII.
//! - Case folding follows glibc's `tolower` in the C locale, including its
//!   quirk of mapping negative `char` values (except -1/EOF) to `c + 256`.
//! - After 1000 nested `*` the matcher gives up and reports "no match", as
//!   Redis does since the CVE-2022-36021 fix.

/// Redis's recursion limit for `*`; beyond it a branch counts as a mismatch.
const MAX_NESTING: u32 = 1000;

/// Matches `string` against the glob `pattern` exactly like Redis 7.0.
///
/// Work is O(pattern.len() * string.len()): once any `*` has tried every
/// remaining suffix without success, no outer `*` can succeed either, so the
/// whole search is abandoned instead of backtracking.
pub fn glob_match(pattern: &[u8], string: &[u8], nocase: bool) -> bool {
    let mut give_up = false;
    match_from(pattern, string, nocase, &mut give_up, 0)
}

/// A byte as the value a signed C `char` promotes to.
fn signed(b: u8) -> i32 {
    b as i8 as i32
}

/// glibc `tolower` in the C locale applied to a promoted signed `char`.
fn c_tolower(c: i32) -> i32 {
    match c {
        65..=90 => c + 32,
        // glibc's table answers for -128..-2 with the unsigned byte value;
        // -1 is EOF and maps to itself.
        -128..=-2 => c + 256,
        _ => c,
    }
}

fn bytes_eq(a: u8, b: u8, nocase: bool) -> bool {
    if nocase {
        a.eq_ignore_ascii_case(&b)
    } else {
        a == b
    }
}

/// `pattern` always extends to the end of the caller's pattern, so reading
/// one past its end stands in for Redis reading the sds NUL terminator.
fn match_from(
    pattern: &[u8],
    string: &[u8],
    nocase: bool,
    give_up: &mut bool,
    nesting: u32,
) -> bool {
    if nesting > MAX_NESTING {
        return false;
    }
    let at = |i: usize| pattern.get(i).copied().unwrap_or(0);
    let plen = pattern.len();
    let slen = string.len();
    let mut p = 0usize;
    let mut s = 0usize;

    while p < plen && s < slen {
        match pattern[p] {
            b'*' => {
                while p < plen && at(p + 1) == b'*' {
                    p += 1;
                }
                if plen - p == 1 {
                    return true;
                }
                while s < slen {
                    if match_from(
                        &pattern[p + 1..],
                        &string[s..],
                        nocase,
                        give_up,
                        nesting + 1,
                    ) {
                        return true;
                    }
                    if *give_up {
                        return false;
                    }
                    s += 1;
                }
                // The rest of the pattern fits no suffix; letting an outer
                // `*` swallow more characters only leaves shorter suffixes.
                *give_up = true;
                return false;
            }
            b'?' => s += 1,
            b'[' => {
                p += 1;
                let negate = at(p) == b'^';
                if negate {
                    p += 1;
                }
                let c = string[s];
                let mut matched = false;
                loop {
                    let rest = plen - p;
                    if at(p) == b'\\' && rest >= 2 {
                        p += 1;
                        // Escaped members ignore `nocase`, as in Redis.
                        if pattern[p] == c {
                            matched = true;
                        }
                    } else if at(p) == b']' {
                        break;
                    } else if rest == 0 {
                        // Unterminated class: step back so the shared
                        // advance below lands exactly on the end.
                        p -= 1;
                        break;
                    } else if rest >= 3 && pattern[p + 1] == b'-' {
                        let mut start = signed(pattern[p]);
                        let mut end = signed(pattern[p + 2]);
                        let mut ch = signed(c);
                        if start > end {
                            std::mem::swap(&mut start, &mut end);
                        }
                        if nocase {
                            start = c_tolower(start);
                            end = c_tolower(end);
                            ch = c_tolower(ch);
                        }
                        p += 2;
                        if ch >= start && ch <= end {
                            matched = true;
                        }
                    } else if bytes_eq(pattern[p], c, nocase) {
                        matched = true;
                    }
                    p += 1;
                }
                if negate {
                    matched = !matched;
                }
                if !matched {
                    return false;
                }
                s += 1;
            }
            first => {
                let lit = if first == b'\\' && plen - p >= 2 {
                    p += 1;
                    pattern[p]
                } else {
                    first
                };
                if !bytes_eq(lit, string[s], nocase) {
                    return false;
                }
                s += 1;
            }
        }
        p += 1;
        if s == slen {
            while at(p) == b'*' {
                p += 1;
            }
            break;
        }
    }
    p == plen && s == slen
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(p: &str, s: &str) -> bool {
        glob_match(p.as_bytes(), s.as_bytes(), false)
    }

    fn mi(p: &str, s: &str) -> bool {
        glob_match(p.as_bytes(), s.as_bytes(), true)
    }

    #[test]
    fn literals_and_wildcards() {
        assert!(m("", ""));
        assert!(!m("", "a"));
        assert!(m("abc", "abc"));
        assert!(!m("abc", "abd"));
        assert!(!m("abc", "ab"));
        assert!(!m("ab", "abc"));
        assert!(m("a?c", "abc"));
        assert!(!m("a?c", "ac"));
        assert!(m("???", "abc"));
        assert!(!m("???", "ab"));
        assert!(m("a*", "a"));
        assert!(m("a*", "abcdef"));
        assert!(m("*c", "abc"));
        assert!(m("a*c", "abbbbc"));
        assert!(m("a*c", "ac"));
        assert!(!m("a*c", "acb"));
        assert!(m("*a*b*", "xxaxxbxx"));
        assert!(m("h*llo", "hello"));
        assert!(m("h*llo", "heeeello"));
        assert!(m("h?llo", "hallo"));
        assert!(m("a**b", "ab"));
        assert!(m("a**b", "axxb"));
        assert!(m("a*?b", "axb"));
        assert!(!m("a*?b", "ab"));
        assert!(m("*?", "a"));
        assert!(!m("?*", ""));
    }

    #[test]
    fn empty_string_never_matches_nonempty_pattern() {
        assert!(!m("*", ""));
        assert!(!m("**", ""));
        assert!(!m("?", ""));
        assert!(!m("[a]", ""));
        assert!(m("*", "x"));
        assert!(m("**", "x"));
    }

    #[test]
    fn trailing_stars_after_string_end() {
        assert!(m("abc*", "abc"));
        assert!(m("abc***", "abc"));
        assert!(!m("abc*d", "abc"));
        assert!(!m("abc*?", "abc"));
        assert!(m("a[b]*", "ab"));
    }

    #[test]
    fn classes() {
        assert!(m("h[ae]llo", "hello"));
        assert!(m("h[ae]llo", "hallo"));
        assert!(!m("h[ae]llo", "hillo"));
        assert!(m("h[^e]llo", "hallo"));
        assert!(!m("h[^e]llo", "hello"));
        assert!(m("h[a-b]llo", "hbllo"));
        assert!(!m("h[a-b]llo", "hcllo"));
        assert!(m("[z-a]", "m"), "reversed ranges are swapped");
        assert!(!m("[^z-a]", "m"));
        // `a-]` is itself a range (']' to 'a'), leaving the class unclosed.
        assert!(!m("[a-]", "-"));
        assert!(m("[a-]", "a"));
        assert!(m("[a-]", "_"));
        assert!(m("[a-]", "]"));
        assert!(!m("[a-]x", "_x"), "the x joins the unterminated class");
        assert!(m("[a-]x", "x"));
        assert!(m("[-a]", "-"));
        assert!(!m("[]", "a"));
        assert!(!m("[]a]", "]"), "`[]` is an empty class, not a literal ]");
        assert!(!m("[]a]", "a"));
        assert!(!m("[abc-]", "-"));
        assert!(m("[-abc]", "-"));
        assert!(m("[a-c-e]", "b"));
        assert!(m("[a-c-e]", "-"), "a dash after a range is literal");
        assert!(!m("[a-c-e]", "d"));
        assert!(m("[\\]]", "]"));
        assert!(m("[\\-]", "-"));
        assert!(!m("[\\-]", "\\"));
        assert!(m("[\\\\]", "\\"));
    }

    #[test]
    fn empty_class_and_odd_brackets() {
        // `[]` closes immediately with nothing in it, so never matches.
        assert!(!m("[]", "]"));
        assert!(!m("[]]", "]"));
        assert!(!m("[]]", "]]"));
        // `[^]` is an empty negated class and matches any single byte.
        assert!(m("[^]", "x"));
        assert!(m("[^]]", "x]"));
        assert!(!m("[^]", ""));
    }

    #[test]
    fn unterminated_classes() {
        assert!(!m("[", "a"));
        assert!(!m("[", "["));
        assert!(m("[a", "a"));
        assert!(!m("[a", "b"));
        assert!(
            m("[^", "x"),
            "empty negated unterminated class matches any byte"
        );
        assert!(m("[^a", "b"));
        assert!(!m("[^a", "a"));
        assert!(m("[a-", "-"));
        assert!(m("[a-", "a"));
        assert!(m("[a-z", "q"));
        assert!(!m("[a-z", "Q"));
        assert!(!m("x[", "x"));
        assert!(!m("x[", "x["));
        assert!(!m("[a", "ab"));
        assert!(!m("[\\", "x"));
        assert!(
            m("[\\", "\\"),
            "lone backslash at the end is a literal member"
        );
    }

    #[test]
    fn escapes() {
        assert!(m("\\*", "*"));
        assert!(!m("\\*", "a"));
        assert!(m("\\?", "?"));
        assert!(!m("\\?", "a"));
        assert!(m("\\[a]", "[a]"));
        assert!(m("a\\", "a\\"), "trailing backslash matches itself");
        assert!(!m("a\\", "a"));
        assert!(m("\\\\", "\\"));
        assert!(m("\\a", "a"));
        assert!(m("*\\*", "abc*"));
        assert!(!m("*\\*", "abc"));
    }

    #[test]
    fn nocase() {
        assert!(mi("HELLO", "hello"));
        assert!(mi("h*O", "HellO"));
        assert!(!m("HELLO", "hello"));
        assert!(mi("[A-C]", "b"));
        assert!(mi("[a-c]", "B"));
        assert!(mi("[ABC]", "b"));
        assert!(mi("[^ABC]", "d"));
        assert!(!mi("[^ABC]", "b"));
        // Folding happens after the swap: `[A-z]` becomes `[a-z]`, losing
        // the punctuation between 'Z' and 'a'.
        assert!(m("[A-z]", "["));
        assert!(!mi("[A-z]", "["));
        // Escaped class members are compared case-sensitively.
        assert!(!mi("[\\A]", "a"));
        assert!(mi("[\\A]", "A"));
        assert!(mi("\\A", "a"));
    }

    #[test]
    fn high_bytes_are_signed_chars() {
        // 0xff is -1, so [a-\xff] is really [\xff-a] = bytes 0xff and 0..=0x61.
        assert!(glob_match(b"[a-\xff]", b"\xff", false));
        assert!(glob_match(b"[a-\xff]", b"0", false));
        assert!(!glob_match(b"[a-\xff]", b"b", false));
        assert!(!glob_match(b"[a-\xff]", b"\x80", false));
        assert!(glob_match(b"[\x80-\x90]", b"\x85", false));
        assert!(!glob_match(b"[\x80-\x90]", b"A", false));
        assert!(glob_match(b"[\x80-A]", b"\x00", false));
        assert!(glob_match(b"\xe9*", b"\xe9t\xe9", true));
        assert!(!glob_match(b"\xc9", b"\xe9", true), "no Latin-1 folding");
        // With nocase, glibc maps -128..-2 to 128..254 but leaves -1 alone,
        // so this range collapses to [128..=97] and matches nothing.
        assert!(glob_match(b"[\x80-a]", b"0", false));
        assert!(!glob_match(b"[\x80-a]", b"0", true));
        assert!(glob_match(b"[\xff-a]", b"0", true));
        assert!(glob_match(b"[\x80-\xfe]", b"\x90", true));
        // Checked with COMMAND LIST FILTERBY PATTERN, which matches nocase.
        assert!(!glob_match(b"[\x80-a]*", b"acl", true));
        assert!(glob_match(b"[\xff-a]*", b"acl", true));
        assert!(!glob_match(b"[A-\x80]*", b"acl", true));
        assert!(!glob_match(b"[\xfe-\xff]*", b"acl", true));
        assert!(glob_match(b"[\x80-a]*", b"acl", false));
    }

    #[test]
    fn embedded_nul_bytes() {
        assert!(glob_match(b"a\0b", b"a\0b", false));
        assert!(glob_match(b"a?b", b"a\0b", false));
        assert!(glob_match(b"*\0", b"xx\0", false));
        assert!(!glob_match(b"a\0", b"a", false));
        assert!(glob_match(b"[\0]", b"\0", false));
    }

    #[test]
    fn hostile_patterns_finish_quickly() {
        let s = vec![b'a'; 20_000];
        let start = std::time::Instant::now();
        assert!(!glob_match(b"a*a*a*a*a*a*a*a*a*a*a*a*a*b", &s, false));
        assert!(!glob_match(
            b"*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*b",
            &s,
            true
        ));
        assert!(!glob_match(b"*?*?*?*?*?*?*?*?*?*?*?*?*b", &s, false));
        assert!(!glob_match(b"*[a]*[a]*[a]*[a]*[a]*[a]*[a]*[b]", &s, false));
        assert!(glob_match(b"*a*a*a*a*a*a*a*a*a*a*a*a*a*a", &s, false));
        let mut long = b"*a".repeat(500);
        long.push(b'b');
        assert!(!glob_match(&long, &s, false));
        assert!(start.elapsed() < std::time::Duration::from_secs(5));
    }

    #[test]
    fn nesting_limit_matches_redis() {
        let s = vec![b'a'; 1100];
        // 1000 stars are within the limit...
        let ok = b"*a".repeat(1000);
        assert!(glob_match(&ok, &s, false));
        // ...but the 1001st `*` is cut off, so this reports no match even
        // though it obviously should; Redis 7.0 behaves the same.
        let cut = b"*a".repeat(1001);
        assert!(!glob_match(&cut, &s, false));
        // Consecutive stars collapse and do not count towards the limit.
        let collapsed = [b"*".repeat(5000), b"a".to_vec()].concat();
        assert!(glob_match(&collapsed, b"xxa", false));
    }

    #[test]
    fn never_panics_on_junk() {
        let alphabet: &[u8] = b"a*?[]^-\\\0\xff";
        let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for _ in 0..20_000 {
            let plen = (next() % 9) as usize;
            let slen = (next() % 6) as usize;
            let p: Vec<u8> = (0..plen)
                .map(|_| alphabet[(next() % 10) as usize])
                .collect();
            let s: Vec<u8> = (0..slen)
                .map(|_| alphabet[(next() % 10) as usize])
                .collect();
            let _ = glob_match(&p, &s, false);
            let _ = glob_match(&p, &s, true);
        }
    }
}
