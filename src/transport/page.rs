//! The lazy page iterator used by every listing.

use std::collections::{HashSet, VecDeque};
use std::fmt;
use std::iter::FusedIterator;

use crate::error::{Error, Result};

/// One page of a listing: its items and the token of the next page.
pub(crate) struct Page<T> {
    pub(crate) items: Vec<T>,
    pub(crate) next: Option<String>,
}

type Fetch<T> = Box<dyn FnMut(Option<&str>) -> Result<Page<T>> + Send>;

/// A lazy iterator over every item of a listing.
///
/// A page is requested only when the items already fetched are used up, so
/// stopping early (`take`, `find`, `break`) sends no further request. An
/// error is yielded once and ends the iteration. A server that hands out a
/// page token it already gave ends the listing with an error rather than
/// looping.
///
/// `Pages` is `Send`: a listing can be consumed on another thread.
#[must_use = "a listing fetches nothing until it is iterated"]
pub struct Pages<T> {
    fetch: Option<Fetch<T>>,
    buffer: VecDeque<T>,
    next: Option<String>,
    started: bool,
    seen: HashSet<String>,
    pending_error: Option<Error>,
}

impl<T> fmt::Debug for Pages<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pages")
            .field("buffered", &self.buffer.len())
            .field("next", &self.next)
            .field("done", &self.fetch.is_none())
            .finish()
    }
}

impl<T> Pages<T> {
    /// Pages fetched by `fetch(token)`: `None` for the first page, then the
    /// `next` token of the previous page.
    pub(crate) fn new(fetch: impl FnMut(Option<&str>) -> Result<Page<T>> + Send + 'static) -> Self {
        Pages {
            fetch: Some(Box::new(fetch)),
            buffer: VecDeque::new(),
            next: None,
            started: false,
            seen: HashSet::new(),
            pending_error: None,
        }
    }

    /// An iterator whose only item is `error` (bad arguments found before
    /// any request).
    pub(crate) fn failed(error: Error) -> Self {
        Pages {
            fetch: None,
            buffer: VecDeque::new(),
            next: None,
            started: true,
            seen: HashSet::new(),
            pending_error: Some(error),
        }
    }

    fn fetch_next(&mut self) -> Option<Result<()>> {
        let fetch = self.fetch.as_mut()?;
        if self.started && self.next.is_none() {
            self.fetch = None;
            return None;
        }
        let token = self.next.take();
        self.started = true;
        match fetch(token.as_deref()) {
            Ok(page) => {
                self.buffer.extend(page.items);
                match page.next.filter(|t| !t.is_empty()) {
                    Some(t) if !self.seen.insert(t.clone()) => {
                        self.fetch = None;
                        self.pending_error = Some(Error::Decode {
                            operation: "list".into(),
                            message: format!("the server repeated the page token {t:?}"),
                            excerpt: String::new(),
                        });
                    }
                    Some(t) => self.next = Some(t),
                    None => self.fetch = None,
                }
                Some(Ok(()))
            }
            Err(e) => {
                self.fetch = None;
                Some(Err(e))
            }
        }
    }
}

impl<T> Iterator for Pages<T> {
    type Item = Result<T>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(item) = self.buffer.pop_front() {
                return Some(Ok(item));
            }
            if let Some(e) = self.pending_error.take() {
                return Some(Err(e));
            }
            match self.fetch_next()? {
                Ok(()) => continue,
                Err(e) => return Some(Err(e)),
            }
        }
    }
}

/// Once it has returned `None`, it always does.
impl<T> FusedIterator for Pages<T> {}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    fn counting(pages: usize) -> (Pages<usize>, Arc<AtomicUsize>) {
        let calls = Arc::new(AtomicUsize::new(0));
        let c = calls.clone();
        let pager = Pages::new(move |token| {
            c.fetch_add(1, Ordering::SeqCst);
            let n: usize = token.map_or(0, |t| t.parse().unwrap());
            Ok(Page {
                items: vec![n * 10, n * 10 + 1],
                next: (n + 1 < pages).then(|| (n + 1).to_string()),
            })
        });
        (pager, calls)
    }

    #[test]
    fn lazy_and_complete() {
        let (p, calls) = counting(3);
        let first: Vec<_> = p.take(1).collect::<Result<_>>().unwrap();
        assert_eq!(first, vec![0]);
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        let (p, calls) = counting(3);
        let all: Vec<_> = p.collect::<Result<_>>().unwrap();
        assert_eq!(all, vec![0, 1, 10, 11, 20, 21]);
        assert_eq!(calls.load(Ordering::SeqCst), 3);
    }

    #[test]
    fn repeated_token_ends_with_error() {
        let mut p = Pages::new(|_| {
            Ok(Page {
                items: vec![1],
                next: Some("same".to_string()),
            })
        });
        assert_eq!(p.next().unwrap().unwrap(), 1);
        assert_eq!(p.next().unwrap().unwrap(), 1);
        assert!(p.next().unwrap().is_err());
        assert!(p.next().is_none());
        assert!(p.next().is_none(), "fused");
    }
}
