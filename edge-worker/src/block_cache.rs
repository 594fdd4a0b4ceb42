//! The day-block parts this isolate inflated last, kept by their stored `built` id (migration
//! 0018) so a query over the same days asks D1 for the ids alone and skips the transfer, the
//! base64 and the inflating of what it already holds. A part is used only when D1 says its id is
//! still the stored part's (a part built again has a new id), so what is held is never stale.
//! At most [`MAX_BYTES`] are held; the oldest go first. Must not: decide what a query reads (the
//! route does), or hold anything but block parts (no raw events, no personal data: blocks hold none).

use std::cell::RefCell;
use std::collections::{HashMap, VecDeque};
use std::rc::Rc;

/// Most bytes of inflated parts held: a month of the busy site's filtered breakdown (about 11 MB)
/// fits, well inside a worker's 128 MB.
pub const MAX_BYTES: usize = 24 << 20;

/// A held part: whose it is, and its inflated bytes.
struct Held {
    site: String,
    day: i64,
    part: String,
    bytes: Rc<Vec<u8>>,
}

#[derive(Default)]
struct Cache {
    parts: HashMap<i64, Held>,
    /// Ids in the order they came.
    order: VecDeque<i64>,
    bytes: usize,
}

thread_local! {
    static CACHE: RefCell<Cache> = RefCell::new(Cache::default());
}

/// What a query may use of the held parts of `site`: by built id, (day, part, bytes) — taken
/// when the query starts, so a part another request drops meanwhile is still there for it.
pub type Taken = HashMap<i64, (i64, String, Rc<Vec<u8>>)>;

/// The held parts of `site`.
pub fn take(site: &str) -> Taken {
    CACHE.with_borrow(|c| {
        c.parts
            .iter()
            .filter(|(_, h)| h.site == site)
            .map(|(id, h)| (*id, (h.day, h.part.clone(), Rc::clone(&h.bytes))))
            .collect()
    })
}

/// Holds a part just inflated, dropping the oldest past [`MAX_BYTES`].
pub fn put(site: &str, day: i64, part: &str, built: i64, bytes: Rc<Vec<u8>>) {
    if bytes.len() > MAX_BYTES {
        return;
    }
    CACHE.with_borrow_mut(|c| {
        let size = bytes.len();
        let held = Held {
            site: site.to_owned(),
            day,
            part: part.to_owned(),
            bytes,
        };
        match c.parts.insert(built, held) {
            Some(old) => c.bytes -= old.bytes.len(),
            None => c.order.push_back(built),
        }
        c.bytes += size;
        while c.bytes > MAX_BYTES {
            let Some(oldest) = c.order.pop_front() else {
                break;
            };
            if let Some(old) = c.parts.remove(&oldest) {
                c.bytes -= old.bytes.len();
            }
        }
    });
}

/// Drops every held part (before work that needs the memory).
pub fn clear() {
    CACHE.with_borrow_mut(|c| *c = Cache::default());
}
