//! Compiles the C helpers that give Shoal real x87 `long double` arithmetic
//! and glibc number parsing, which Redis-compatible INCRBYFLOAT needs.

fn main() {
    println!("cargo:rerun-if-changed=csrc/longdouble.c");
    cc::Build::new()
        .file("csrc/longdouble.c")
        .warnings(true)
        .extra_warnings(true)
        // Fast-math style flags would change rounding and break bit-exact
        // agreement with Redis, so pin the conservative behaviour.
        .flag_if_supported("-fno-fast-math")
        .compile("shoal_longdouble");
}
