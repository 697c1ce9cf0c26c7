/*!
Progress of long computations, for a front end to display: the pairwise and permutation loops
add their finished units to the counters of the run they belong to, which a caller may poll
from another thread.

The counters belong to one run, not to the process: a caller makes a [`Progress`], runs its
work inside [`Progress::watch`] and polls [`Progress::get`] (a clone) from wherever it shows
progress. Two runs on two threads each see their own numbers; a computation started outside any
`watch` (a library user who does not poll) counts into nothing. The loops take the run's counters
on the thread that starts them, so the worker threads of the pool count into the same run.

Reading the counters never changes a result; the cost is one relaxed atomic add per row of a
distance matrix or batch of permutations.
*/

use std::cell::RefCell;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

#[derive(Debug, Default)]
struct Counters {
    done: AtomicU64,
    total: AtomicU64,
}

/// The progress counters of one run: `(done, total)` of the task under way.
#[derive(Debug, Clone, Default)]
pub struct Progress(Arc<Counters>);

thread_local! {
    /// The run whose work this thread is doing, set by [`Progress::watch`].
    static CURRENT: RefCell<Option<Progress>> = const { RefCell::new(None) };
}

impl Progress {
    pub fn new() -> Progress {
        Progress::default()
    }

    /// Runs `work` on this thread with this run's counters: the long loops it starts count
    /// here. The previous counters (if any) are restored afterwards, even if `work` panics.
    pub fn watch<T>(&self, work: impl FnOnce() -> T) -> T {
        struct Restore(Option<Progress>);
        impl Drop for Restore {
            fn drop(&mut self) {
                let previous = self.0.take();
                CURRENT.with(|c| *c.borrow_mut() = previous);
            }
        }
        let _restore = Restore(CURRENT.with(|c| c.borrow_mut().replace(self.clone())));
        work()
    }

    /// `(done, total)` of the task under way in this run.
    pub fn get(&self) -> (u64, u64) {
        (
            self.0.done.load(Ordering::Relaxed),
            self.0.total.load(Ordering::Relaxed),
        )
    }
}

/// A started task's handle: the loop's threads add their finished units through it.
#[derive(Debug, Clone)]
pub(crate) struct Task(Option<Arc<Counters>>);

impl Task {
    /// Marks `units` more as done.
    pub(crate) fn advance(&self, units: u64) {
        if let Some(c) = &self.0 {
            c.done.fetch_add(units, Ordering::Relaxed);
        }
    }
}

/// Starts a new task of `total` units in the run this thread is working for (nothing is counted
/// outside a [`Progress::watch`]).
pub(crate) fn start(total: u64) -> Task {
    Task(CURRENT.with(|c| {
        c.borrow().as_ref().map(|p| {
            p.0.done.store(0, Ordering::Relaxed);
            p.0.total.store(total, Ordering::Relaxed);
            p.0.clone()
        })
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two runs on two threads each count only their own work, and work outside a run counts
    /// nowhere.
    #[test]
    fn runs_count_apart() {
        let (a, b) = (Progress::new(), Progress::new());
        std::thread::scope(|s| {
            s.spawn(|| {
                a.watch(|| {
                    let t = start(10);
                    t.advance(3);
                    t.advance(4);
                })
            });
            s.spawn(|| {
                b.watch(|| {
                    let t = start(5);
                    t.advance(5);
                })
            });
        });
        start(99).advance(1);
        assert_eq!(a.get(), (7, 10));
        assert_eq!(b.get(), (5, 5));
    }

    /// The worker threads of a parallel loop count into the run of the thread that started it.
    #[test]
    fn pool_threads_count_into_the_starting_run() {
        use rayon::prelude::*;
        let p = Progress::new();
        p.watch(|| {
            let t = start(1000);
            (0..1000).into_par_iter().for_each(|_| t.advance(1));
        });
        assert_eq!(p.get(), (1000, 1000));
    }
}
