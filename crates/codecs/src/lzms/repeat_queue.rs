//! The queues of recently used match sources (LZ offsets; delta `(power, raw offset)` pairs).
//!
//! A match may name one of the first three entries instead of an explicit source. The queue is
//! most-recently-used first with one quirk: a source enters the front only after the *next*
//! item (literal or match of either kind) has been coded. Until then it is pending and cannot
//! be named; naming it would only extend the previous match. Naming an entry removes it at
//! once (the later entries move up) and makes it the pending source. The queue holds four
//! entries so that three stay nameable after a removal.

/// A delayed most-recently-used queue of match sources.
#[derive(Clone, Copy, Debug)]
pub(crate) struct RepeatQueue<T: Copy> {
    slots: [T; 4],
    pending: Option<T>,
}

/// How many entries a match can name.
pub(crate) const NAMEABLE: usize = 3;

impl<T: Copy> RepeatQueue<T> {
    pub(crate) fn new(initial: [T; 4]) -> Self {
        RepeatQueue {
            slots: initial,
            pending: None,
        }
    }

    /// The entry a match can name at `index` (< [`NAMEABLE`]).
    #[inline(always)]
    pub(crate) fn get(&self, index: usize) -> T {
        self.slots[index]
    }

    /// Removes and returns the entry at `index` (< [`NAMEABLE`]) for the current match.
    #[inline(always)]
    pub(crate) fn take(&mut self, index: usize) -> T {
        let v = self.slots[index];
        self.slots.copy_within(index + 1.., index);
        v
    }

    /// Ends an item: the previous item's source enters the front, and `used` (this item's
    /// source, if it is a match of this queue's kind) becomes pending.
    #[inline(always)]
    pub(crate) fn end_item(&mut self, used: Option<T>) {
        if let Some(p) = self.pending {
            self.slots.copy_within(..3, 1);
            self.slots[0] = p;
        }
        self.pending = used;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn insertion_waits_one_item() {
        let mut q = RepeatQueue::new([1u32, 2, 3, 4]);
        q.end_item(Some(100)); // explicit match with offset 100
        assert_eq!((q.get(0), q.get(1), q.get(2)), (1, 2, 3));
        q.end_item(None); // a literal
        assert_eq!((q.get(0), q.get(1), q.get(2)), (100, 1, 2));
    }

    #[test]
    fn naming_removes_then_requeues() {
        let mut q = RepeatQueue::new([1u32, 2, 3, 4]);
        q.end_item(Some(9));
        // Repeat match naming slot 2 right after the explicit match.
        assert_eq!(q.take(2), 3);
        q.end_item(Some(3));
        assert_eq!((q.get(0), q.get(1), q.get(2)), (9, 1, 2));
        q.end_item(None);
        assert_eq!((q.get(0), q.get(1), q.get(2)), (3, 9, 1));
        // Naming slot 0 twice in a row: the second sees the queue without the first.
        assert_eq!(q.take(0), 3);
        q.end_item(Some(3));
        assert_eq!(q.take(0), 9);
        q.end_item(Some(9));
        q.end_item(None);
        assert_eq!((q.get(0), q.get(1), q.get(2)), (9, 3, 1));
    }
}
