/*
 * Number parsing and arithmetic that has to agree bit for bit with Redis 7.0
 * on x86_64 Linux. Rust has no 80-bit `long double`, and Redis's results for
 * INCRBYFLOAT/HINCRBYFLOAT depend on x87 extended precision plus glibc's
 * strtold/printf, so those pieces live here and are called through FFI.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Redis's MAX_LONG_DOUBLE_CHARS: both the input length limit and the size of
 * the formatting buffer, so it is part of the observable behaviour. */
#define SHOAL_MAX_LD_CHARS (5 * 1024)

#define SHOAL_LD_BAD_FIRST (-1)
#define SHOAL_LD_BAD_SECOND (-2)
#define SHOAL_LD_NOT_FINITE (-3)

/* Same acceptance rules as Redis's string2ld: strtold must consume exactly
 * `len` bytes, so an embedded NUL (which stops strtold early) rejects. */
static int parse_ld(const char *s, size_t len, long double *out) {
    char buf[SHOAL_MAX_LD_CHARS];
    char *end;
    long double v;

    if (len == 0 || len >= sizeof(buf)) return 0;
    memcpy(buf, s, len);
    buf[len] = '\0';

    errno = 0;
    v = strtold(buf, &end);
    if (isspace((unsigned char)buf[0]) || (size_t)(end - buf) != len ||
        (errno == ERANGE && (v == HUGE_VAL || v == -HUGE_VAL || v == 0)) ||
        errno == EINVAL || isnan(v))
        return 0;
    *out = v;
    return 1;
}

/* Redis's ld2string(..., LD_STR_HUMAN) for finite values. */
static int format_human(long double v, char *out, size_t cap) {
    int n = snprintf(out, cap, "%.17Lf", v);
    size_t l;

    /* Redis stores an empty string when the text does not fit; finite long
     * doubles need under 5000 bytes so this is defensive only. */
    if (n < 0 || (size_t)n + 1 > cap) {
        if (cap) out[0] = '\0';
        return 0;
    }
    l = (size_t)n;
    if (memchr(out, '.', l) != NULL) {
        while (l > 0 && out[l - 1] == '0') l--;
        if (l > 0 && out[l - 1] == '.') l--;
    }
    if (l == 2 && out[0] == '-' && out[1] == '0') {
        out[0] = '0';
        l = 1;
    }
    out[l] = '\0';
    return (int)l;
}

/* Parses both operands, adds them in long double and formats the sum.
 * Returns the length written to `out` (NUL-terminated), or one of the
 * negative SHOAL_LD_* codes. `out` must hold SHOAL_MAX_LD_CHARS bytes. */
int shoal_ld_add(const char *a, size_t alen, const char *b, size_t blen,
                 char *out, size_t outcap) {
    long double x, y, sum;

    if (!parse_ld(a, alen, &x)) return SHOAL_LD_BAD_FIRST;
    if (!parse_ld(b, blen, &y)) return SHOAL_LD_BAD_SECOND;
    sum = x + y;
    if (isnan(sum) || isinf(sum)) return SHOAL_LD_NOT_FINITE;
    return format_human(sum, out, outcap);
}

/* 0 if `s` is a finite long double by string2ld's rules, SHOAL_LD_BAD_FIRST
 * if it is not a number at all, SHOAL_LD_NOT_FINITE if it is +-infinity. */
int shoal_ld_check(const char *s, size_t len) {
    long double v;

    if (!parse_ld(s, len, &v)) return SHOAL_LD_BAD_FIRST;
    if (isinf(v)) return SHOAL_LD_NOT_FINITE;
    return 0;
}

/* A blocking command's timeout as Redis 7.0's getTimeoutFromObjectOrReply
 * computes it: seconds parsed as a long double, times 1000, rounded up and
 * converted to long long, where x86-64 turns anything out of range into
 * LLONG_MIN (so "inf" and "1e400" read as negative). Returns 1 and sets
 * *ms, or 0 if the text is not a float. */
int shoal_ld_timeout_ms(const char *s, size_t len, long long *ms) {
    long double v;

    if (!parse_ld(s, len, &v)) return 0;
    v = ceill(v * 1000.0L);
    if (!(v < 9223372036854775808.0L && v >= -9223372036854775808.0L)) {
        *ms = (-9223372036854775807LL - 1);
        return 1;
    }
    *ms = (long long)v;
    return 1;
}

/* Redis's string2d / getDoubleFromObject rules. `s` must be NUL-terminated
 * at s[len]; a NUL inside the first `len` bytes makes the parse fall short
 * of `len` and so rejects the input. Returns 1 on success. */
int shoal_strtod(const char *s, size_t len, double *out) {
    char *end;
    double v;

    if (len == 0 || isspace((unsigned char)s[0])) return 0;
    errno = 0;
    v = strtod(s, &end);
    if ((size_t)(end - s) != len ||
        (errno == ERANGE && (v == HUGE_VAL || v == -HUGE_VAL || v == 0)) ||
        isnan(v))
        return 0;
    *out = v;
    return 1;
}
