/*!
Progress of long computations, for a front end to display: the pairwise and permutation loops
add their finished units to a process-wide counter that a caller may poll from another thread.
Reading it never changes a result; a library user who does not poll pays one relaxed atomic
add per row of a distance matrix or batch of permutations.
*/

use std::sync::atomic::{AtomicU64, Ordering};

static DONE: AtomicU64 = AtomicU64::new(0);
static TOTAL: AtomicU64 = AtomicU64::new(0);

/// Starts a new task of `total` units.
pub fn start(total: u64) {
    DONE.store(0, Ordering::Relaxed);
    TOTAL.store(total, Ordering::Relaxed);
}

/// Marks `units` more as done.
pub fn advance(units: u64) {
    DONE.fetch_add(units, Ordering::Relaxed);
}

/// `(done, total)` of the current task.
pub fn get() -> (u64, u64) {
    (DONE.load(Ordering::Relaxed), TOTAL.load(Ordering::Relaxed))
}
