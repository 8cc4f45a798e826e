//! Runs of numbers held in one vector: a session's typing bursts and
//! per-command IATs. A vector per run was an allocation (and a free) per
//! burst and per command of every session, a third of the context's.

/// Runs of `f64`, each a slice; all of them together are [`values`](Self::values).
#[derive(Debug, Default, Clone, PartialEq)]
pub(crate) struct Ragged {
    values: Vec<f64>,
    /// Run `k` is `values[ends[k - 1]..ends[k]]` (from 0 for run 0).
    ends: Vec<usize>,
}

impl Ragged {
    pub(crate) fn with_capacity(runs: usize, values: usize) -> Self {
        Ragged {
            values: Vec::with_capacity(values),
            ends: Vec::with_capacity(runs),
        }
    }

    /// The number of runs.
    pub(crate) fn len(&self) -> usize {
        self.ends.len()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// Every run's values, run after run.
    pub(crate) fn values(&self) -> &[f64] {
        &self.values
    }

    /// Appends a value to the run being built (closed by [`end_run`](Self::end_run)).
    pub(crate) fn push(&mut self, x: f64) {
        self.values.push(x);
    }

    /// Closes the run being built (possibly empty).
    pub(crate) fn end_run(&mut self) {
        self.ends.push(self.values.len());
    }

    /// Appends a whole run.
    pub(crate) fn push_run(&mut self, run: &[f64]) {
        self.values.extend_from_slice(run);
        self.end_run();
    }

    /// Run `k`, if there is one.
    pub(crate) fn get(&self, k: usize) -> Option<&[f64]> {
        let end = *self.ends.get(k)?;
        let start = match k {
            0 => 0,
            _ => self.ends[k - 1],
        };
        self.values.get(start..end)
    }

    pub(crate) fn iter(&self) -> Runs<'_> {
        Runs { of: self, next: 0 }
    }
}

impl std::ops::Index<usize> for Ragged {
    type Output = [f64];

    /// Run `k`; panics when there is no run `k`, as a vector does.
    fn index(&self, k: usize) -> &[f64] {
        match self.get(k) {
            Some(run) => run,
            None => panic!("no run {k} of {}", self.len()),
        }
    }
}

/// The runs of a [`Ragged`], in order.
pub(crate) struct Runs<'a> {
    of: &'a Ragged,
    next: usize,
}

impl<'a> Iterator for Runs<'a> {
    type Item = &'a [f64];

    fn next(&mut self) -> Option<&'a [f64]> {
        let run = self.of.get(self.next)?;
        self.next += 1;
        Some(run)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let left = self.of.len() - self.next;
        (left, Some(left))
    }
}

impl ExactSizeIterator for Runs<'_> {}

impl<'a> IntoIterator for &'a Ragged {
    type Item = &'a [f64];
    type IntoIter = Runs<'a>;

    fn into_iter(self) -> Runs<'a> {
        self.iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_keep_their_values_and_order() {
        let mut r = Ragged::default();
        assert!(r.is_empty());
        r.push_run(&[1.0, 2.0]);
        r.end_run();
        r.push(3.0);
        r.push(4.0);
        r.push(5.0);
        r.end_run();
        assert_eq!(r.len(), 3);
        assert_eq!(&r[0], &[1.0, 2.0]);
        assert!(r[1].is_empty());
        assert_eq!(&r[2], &[3.0, 4.0, 5.0]);
        assert_eq!(r.values(), &[1.0, 2.0, 3.0, 4.0, 5.0]);
        assert_eq!(r.get(2), Some(&[3.0, 4.0, 5.0][..]));
        assert_eq!(r.get(3), None);
        let runs: Vec<&[f64]> = r.iter().collect();
        assert_eq!(runs, vec![&[1.0, 2.0][..], &[], &[3.0, 4.0, 5.0]]);
        assert_eq!((&r).into_iter().len(), 3);
    }
}
