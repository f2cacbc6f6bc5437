//! The lazy page iterator used by every listing.

use std::collections::hash_map::RandomState;
use std::collections::{HashSet, VecDeque};
use std::fmt;
use std::hash::BuildHasher;
use std::iter::FusedIterator;

use crate::error::{Error, Result};

/// One page of a listing: its items (each an error of its own when it
/// does not decode) and the token of the next page.
pub(crate) struct Page<T> {
    pub(crate) items: Vec<Result<T>>,
    pub(crate) next: Option<String>,
}

type Fetch<T> = Box<dyn FnMut(Option<&str>) -> Result<Page<T>> + Send>;

/// Empty pages in a row, each with a new token, after which a listing
/// ends with an error: the API may send a few, a server that never stops
/// would make one `next()` loop forever.
pub(crate) const MAX_EMPTY_PAGES: u32 = 8;

/// The most recent page tokens remembered (as 64-bit hashes) to catch a
/// server that hands one out again at once; a longer cycle is caught by
/// [`Cycle`] in constant memory.
const RECENT_TOKENS: usize = 1024;

/// The page tokens seen, in bounded memory: the last [`RECENT_TOKENS`]
/// exactly (by keyed hash) and, for longer cycles, Brent's cycle detection
/// (one saved token, compared with every later one, saved again after
/// 1, 2, 4, 8, ... tokens), which finds any cycle of tokens within about
/// twice its length.
struct Seen {
    keys: RandomState,
    recent: HashSet<u64>,
    order: VecDeque<u64>,
    saved: Option<u64>,
    power: u64,
    since_saved: u64,
}

impl Seen {
    fn new() -> Self {
        Seen {
            keys: RandomState::new(),
            recent: HashSet::new(),
            order: VecDeque::new(),
            saved: None,
            power: 1,
            since_saved: 0,
        }
    }

    /// Records `token`; `false` when it was given before.
    fn insert(&mut self, token: &str) -> bool {
        let hash = self.keys.hash_one(token);
        if self.saved == Some(hash) || !self.recent.insert(hash) {
            return false;
        }
        self.order.push_back(hash);
        if self.order.len() > RECENT_TOKENS {
            if let Some(old) = self.order.pop_front() {
                self.recent.remove(&old);
            }
        }
        self.since_saved += 1;
        if self.since_saved >= self.power {
            self.saved = Some(hash);
            self.power = self.power.saturating_mul(2);
            self.since_saved = 0;
        }
        true
    }
}

/// A lazy iterator over every item of a listing.
///
/// A page is requested only when the items already fetched are used up, so
/// stopping early (`take`, `find`, `break`) sends no further request. An
/// error of a request is yielded once and ends the iteration; an item that
/// does not decode is an [`Error::Decode`] of its own, in its place, and
/// the items after it follow. A server that hands out a
/// page token it already gave, or 8 empty pages in a row that each carry
/// a new token, ends the listing with an error rather than looping.
///
/// `Pages` is `Send`: a listing can be consumed on another thread.
#[must_use = "a listing fetches nothing until it is iterated"]
pub struct Pages<T> {
    fetch: Option<Fetch<T>>,
    buffer: VecDeque<Result<T>>,
    next: Option<String>,
    started: bool,
    seen: Seen,
    /// Empty pages in a row.
    empty: u32,
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
    /// Pages fetched by `fetch(token)`: `start` for the first page (`None`:
    /// the listing's beginning), then the `next` token of the previous
    /// page. The start token counts as given: a page that hands it out
    /// again is not read twice.
    pub(crate) fn new(
        start: Option<String>,
        fetch: impl FnMut(Option<&str>) -> Result<Page<T>> + Send + 'static,
    ) -> Self {
        let mut seen = Seen::new();
        if let Some(token) = &start {
            seen.insert(token);
        }
        Pages {
            fetch: Some(Box::new(fetch)),
            buffer: VecDeque::new(),
            next: start,
            started: false,
            seen,
            empty: 0,
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
            seen: Seen::new(),
            empty: 0,
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
                self.empty = if page.items.is_empty() {
                    self.empty.saturating_add(1)
                } else {
                    0
                };
                self.buffer.extend(page.items);
                match page.next.filter(|t| !t.is_empty()) {
                    Some(t) if !self.seen.insert(&t) => {
                        self.fetch = None;
                        let mut shown: String = t.chars().take(80).collect();
                        if shown.len() < t.len() {
                            shown.push('…');
                        }
                        self.pending_error = Some(Error::Decode {
                            operation: "list".into(),
                            message: format!("the server repeated the page token {shown:?}"),
                            excerpt: String::new(),
                        });
                    }
                    Some(_) if self.empty >= MAX_EMPTY_PAGES => {
                        self.fetch = None;
                        self.pending_error = Some(Error::TooLarge {
                            operation: "list".into(),
                            what: "a run of empty pages, each with a new page token,".into(),
                            limit: MAX_EMPTY_PAGES.into(),
                            unit: "empty pages in a row",
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
                return Some(item);
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
        let pager = Pages::new(None, move |token| {
            c.fetch_add(1, Ordering::SeqCst);
            let n: usize = token.map_or(0, |t| t.parse().unwrap());
            Ok(Page {
                items: vec![Ok(n * 10), Ok(n * 10 + 1)],
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
    fn endless_empty_pages_end_with_an_error() {
        assert_eq!(MAX_EMPTY_PAGES, 8);
        let calls = Arc::new(AtomicUsize::new(0));
        let c = calls.clone();
        let mut p: Pages<u8> = Pages::new(None, move |_| {
            let n = c.fetch_add(1, Ordering::SeqCst);
            Ok(Page {
                items: Vec::new(),
                next: Some(format!("cursor-{n}")),
            })
        });
        let err = p.next().unwrap().unwrap_err();
        assert!(err.is_too_large(), "{err:?}");
        assert!(err.to_string().contains("limit of 8 empty pages"), "{err}");
        assert_eq!(calls.load(Ordering::SeqCst), MAX_EMPTY_PAGES as usize);
        assert!(p.next().is_none());
        // Fewer empty pages than the limit, then items: the listing goes on.
        let calls = Arc::new(AtomicUsize::new(0));
        let c = calls.clone();
        let p: Pages<usize> = Pages::new(None, move |_| {
            let n = c.fetch_add(1, Ordering::SeqCst);
            let items = match n % MAX_EMPTY_PAGES as usize {
                0 => vec![Ok(n)],
                _ => Vec::new(),
            };
            Ok(Page {
                items,
                next: (n < 40).then(|| format!("c{n}")),
            })
        });
        let all: Vec<usize> = p.collect::<Result<_>>().unwrap();
        assert_eq!(all, vec![0, 8, 16, 24, 32, 40]);
    }

    #[test]
    fn a_long_cycle_of_tokens_is_caught_in_bounded_memory() {
        let cycle = RECENT_TOKENS * 3;
        let calls = Arc::new(AtomicUsize::new(0));
        let c = calls.clone();
        let p = Pages::new(None, move |_| {
            let n = c.fetch_add(1, Ordering::SeqCst);
            Ok(Page {
                items: vec![Ok(n)],
                next: Some(format!("t{}", n % cycle)),
            })
        });
        let err = p.filter_map(|r| r.err()).next().unwrap();
        assert!(err.to_string().contains("repeated the page token"), "{err}");
        let pages = calls.load(Ordering::SeqCst);
        assert!(pages > cycle && pages <= 3 * cycle, "{pages}");
        // Never more hashes kept than the window.
        let mut seen = Seen::new();
        for n in 0..10 * RECENT_TOKENS {
            assert!(seen.insert(&n.to_string()));
        }
        assert_eq!(seen.recent.len(), RECENT_TOKENS);
        assert_eq!(seen.order.len(), RECENT_TOKENS);
    }

    #[test]
    fn repeated_token_ends_with_error() {
        let mut p = Pages::new(None, |_| {
            Ok(Page {
                items: vec![Ok(1)],
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
