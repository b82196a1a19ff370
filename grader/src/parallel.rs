//! The one worker pool: a list of items handed out one at a time to `jobs`
//! threads, each with a state of its own (a runner process, say), under one
//! progress bar. Checks within a grading and students within a class both
//! run through it.

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use indicatif::{ProgressBar, ProgressStyle};

/// A progress bar over `len` items of `unit` ("students"; "" for checks),
/// or a hidden one.
pub fn bar(len: usize, unit: &str, shown: bool) -> ProgressBar {
    if !shown {
        return ProgressBar::hidden();
    }
    let unit = if unit.is_empty() { String::new() } else { format!(" {unit}") };
    ProgressBar::new(len as u64)
        .with_style(ProgressStyle::with_template(&format!("{{bar:30}} {{pos}}/{{len}}{unit} {{elapsed}} {{wide_msg}}")).expect("a valid template"))
}

/// `work(state, item)` for every item, on `jobs` threads; each thread starts
/// with `start(job)`. The results come back in the items' order (a panic in
/// `work` is raised again once the other threads are done). The bar shows
/// `label(item)` while it runs.
pub fn map<T, S, R>(
    items: &[T],
    jobs: usize,
    progress: &ProgressBar,
    label: impl Fn(&T) -> String + Sync,
    start: impl Fn(usize) -> S + Sync,
    work: impl Fn(&mut S, &T) -> R + Sync,
) -> Vec<R>
where
    T: Sync,
    R: Send,
{
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<R>>> = Mutex::new(items.iter().map(|_| None).collect());
    std::thread::scope(|scope| {
        for job in 0..jobs.clamp(1, items.len().max(1)) {
            let (next, results, label, start, work) = (&next, &results, &label, &start, &work);
            scope.spawn(move || {
                let mut state = start(job);
                loop {
                    let slot = next.fetch_add(1, Ordering::SeqCst);
                    let Some(item) = items.get(slot) else { break };
                    progress.set_message(label(item));
                    let result = work(&mut state, item);
                    results.lock().unwrap_or_else(|e| e.into_inner())[slot] = Some(result);
                    progress.inc(1);
                }
            });
        }
    });
    progress.finish_and_clear();
    let results = results.into_inner().unwrap_or_else(|e| e.into_inner());
    results.into_iter().map(|r| r.expect("every item is done once the threads are")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_item_once_in_order_with_a_state_per_job() {
        let items: Vec<u32> = (0..50).collect();
        let results = map(&items, 4, &ProgressBar::hidden(), |i| i.to_string(), |job| (job, 0), |(job, done), &i| {
            *done += 1;
            (i * 2, *job, *done)
        });
        let doubled: Vec<u32> = results.iter().map(|r| r.0).collect();
        assert_eq!(doubled, items.iter().map(|i| i * 2).collect::<Vec<_>>());
        let jobs: std::collections::BTreeSet<usize> = results.iter().map(|r| r.1).collect();
        assert!(jobs.iter().all(|&j| j < 4));
        assert!(map(&[] as &[u32], 3, &ProgressBar::hidden(), |_| String::new(), |_| (), |_, _| 0).is_empty());
    }
}
