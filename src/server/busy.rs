//! Serving other clients while a long script holds this shard's thread.
//!
//! A script runs on its shard thread from start to end, so while it runs
//! that thread's event loop is stopped. Past `busy-reply-threshold` the
//! script engine calls [`serve_others`] from its instruction hook; the
//! shard loop has lent it, through [`while_serving`], a routine that reads
//! the thread's other connections and answers them -BUSY (or runs SCRIPT
//! KILL), as Redis does from inside a slow script. Other shard threads
//! answer -BUSY on their own, seeing the server-wide busy state.

use std::cell::Cell;

thread_local! {
    /// The routine lent by [`while_serving`], while a script may call it.
    static SERVE: Cell<Option<*mut (dyn FnMut() + 'static)>> = const { Cell::new(None) };
}

/// Runs `run` (which may run a script) with `serve` available to
/// [`serve_others`] on this thread.
pub fn while_serving<R>(serve: &mut dyn FnMut(), run: impl FnOnce() -> R) -> R {
    struct Restore(Option<*mut (dyn FnMut() + 'static)>);
    impl Drop for Restore {
        fn drop(&mut self) {
            let _ = SERVE.try_with(|s| s.set(self.0));
        }
    }
    let short: *mut (dyn FnMut() + '_) = serve;
    // SAFETY: only the lifetime bound changes. The pointer is reachable
    // through SERVE only until `Restore` puts back the previous value, which
    // happens when this function returns or unwinds, while `serve` is still
    // borrowed by this call.
    let long: *mut (dyn FnMut() + 'static) = unsafe { std::mem::transmute(short) };
    let previous = SERVE.with(|s| s.replace(Some(long)));
    let _restore = Restore(previous);
    run()
}

/// Called by the script engine, from its instruction hook, once a script
/// has run past `busy-reply-threshold`: answers this thread's other
/// clients. Does nothing outside [`while_serving`].
pub fn serve_others() {
    // Taken out while it runs, so a call from inside it finds nothing.
    let Some(serve) = SERVE.with(|s| s.take()) else {
        return;
    };
    struct Restore(*mut (dyn FnMut() + 'static));
    impl Drop for Restore {
        fn drop(&mut self) {
            let _ = SERVE.try_with(|s| s.set(Some(self.0)));
        }
    }
    let _restore = Restore(serve);
    // SAFETY: `serve` came from `while_serving`, whose caller's borrow is
    // live for as long as SERVE can hand it out (see there), and it is not
    // aliased: SERVE holds None while it runs.
    unsafe { (*serve)() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serves_only_inside_while_serving_and_never_reentrantly() {
        let mut calls = 0;
        serve_others();
        {
            let mut serve = || {
                calls += 1;
                // A nested call finds nothing to run.
                serve_others();
            };
            while_serving(&mut serve, || {
                serve_others();
                serve_others();
            });
        }
        serve_others();
        assert_eq!(calls, 2);
    }
}
