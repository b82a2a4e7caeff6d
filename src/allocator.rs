//! Settings of the global allocator (mimalloc) shared by the binary and the in-process
//! benchmarks.

use libmimalloc_sys::{mi_option_get, mi_option_set, mi_option_t};

/// `mi_option_purge_delay` in mimalloc's `mi_option_e` (mimalloc.h, version 3).
const MI_OPTION_PURGE_DELAY: mi_option_t = 15;

/// Milliseconds freed memory is kept before it goes back to the system.
const PURGE_DELAY_MS: i64 = 1000;

/// Keeps freed memory for a second before mimalloc returns it to the system (its default
/// is 10 ms). Importers free and allocate hand-off batches and column buffers all the
/// time, on different threads; each page given back and taken again costs a fault and a
/// zeroing (a 1M-row call import: 4 000–8 000 faults and up to 0.25 s more, against
/// ~1 200). Memory still goes back once an import's buffers are gone for good. A
/// `MIMALLOC_PURGE_DELAY` in the environment wins.
pub fn keep_freed_memory_longer() {
    if std::env::var_os("MIMALLOC_PURGE_DELAY").is_some() {
        return;
    }
    // SAFETY: stores an option's value; mimalloc reads it when it schedules a purge.
    unsafe { mi_option_set(MI_OPTION_PURGE_DELAY, PURGE_DELAY_MS as _) }
}

/// The purge delay in force, in milliseconds.
pub fn purge_delay_ms() -> i64 {
    // SAFETY: reads an option's value.
    unsafe { mi_option_get(MI_OPTION_PURGE_DELAY) as i64 }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_option_is_the_purge_delay() {
        // mimalloc's default purge delay is 10 ms: an option index shifted by a mimalloc
        // update would read another option's default (the neighbours default to 0 and 1).
        if std::env::var_os("MIMALLOC_PURGE_DELAY").is_none() {
            assert_eq!(purge_delay_ms(), 10);
            keep_freed_memory_longer();
            assert_eq!(purge_delay_ms(), PURGE_DELAY_MS);
        }
    }
}
