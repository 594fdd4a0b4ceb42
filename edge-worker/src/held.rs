//! What a worker holds in memory between requests, for the next query over the same days: the
//! day-block parts it inflated, by the random built id each stored part has (migration 0018), and
//! the rollup parts it parsed, by site (and the site's creation time), piece and version. A query
//! tells D1 what it holds and gets those rows without their text; it uses what it holds only for a
//! row D1 says is still stored under that id or version — a block part built again has a new id,
//! a rollup day written again a higher version (a summed period's stamp is the sum of its days'),
//! a site made anew under an old id another creation time — so what is held is never stale. Each
//! store is bounded ([`MAX_BLOCK_BYTES`], [`MAX_ROLLUP_BYTES`]); the oldest go first. Must not:
//! decide what a query reads (the route does), or hold anything but block and rollup parts (no
//! raw events, no visitor ids or keys: block parts hold visits as columns without them; an erased
//! person's visits, in the parts of the days the erasure built again, are never used again and
//! go as they age out).

use std::cell::RefCell;
use std::collections::{HashMap, VecDeque};
use std::hash::Hash;
use std::rc::Rc;

use sightline_core::ingest::aggregate::Day;

/// Most bytes of inflated block parts held: a month of the busy site's filtered breakdown (about
/// 11 MB) fits, well inside a worker's 128 MB.
pub const MAX_BLOCK_BYTES: usize = 24 << 20;

/// Most rollup parts held, counted as three times their text (an estimate of what they take
/// parsed; many small parts take more): a year of the busy site's top pages fits.
pub const MAX_ROLLUP_BYTES: usize = 16 << 20;

/// Values by key, at most `max` bytes of them, the oldest dropped first.
struct Bounded<K, V> {
    values: HashMap<K, (V, usize)>,
    /// Keys in the order they came.
    order: VecDeque<K>,
    bytes: usize,
    max: usize,
}

impl<K: Hash + Eq + Clone, V> Bounded<K, V> {
    fn new(max: usize) -> Self {
        Bounded {
            values: HashMap::new(),
            order: VecDeque::new(),
            bytes: 0,
            max,
        }
    }

    fn put(&mut self, key: K, value: V, size: usize) {
        if size > self.max {
            return;
        }
        match self.values.insert(key.clone(), (value, size)) {
            Some((_, old)) => self.bytes -= old,
            None => self.order.push_back(key),
        }
        self.bytes += size;
        while self.bytes > self.max {
            let Some(oldest) = self.order.pop_front() else {
                break;
            };
            if let Some((_, old)) = self.values.remove(&oldest) {
                self.bytes -= old;
            }
        }
    }

    fn clear(&mut self) {
        self.values.clear();
        self.order.clear();
        self.bytes = 0;
    }
}

/// A held block part: whose it is, its stamp, and its inflated bytes.
struct BlockPart {
    site: String,
    day: i64,
    part: String,
    stamp: i64,
    bytes: Rc<Vec<u8>>,
}

/// A rollup part within its site: the piece's first and last day, the part, and the version (a
/// day's) or stamp (a summed period's) it was stored under.
pub type Piece = (i64, i64, String, i64);

/// A held rollup part's key: site, the site's creation time, and the piece.
type RollupKey = (String, i64, Piece);

thread_local! {
    static BLOCKS: RefCell<Bounded<i64, BlockPart>> = RefCell::new(Bounded::new(MAX_BLOCK_BYTES));
    static ROLLUPS: RefCell<Bounded<RollupKey, Rc<Day>>> =
        RefCell::new(Bounded::new(MAX_ROLLUP_BYTES));
}

/// What a query may use of the held block parts of `site`: by built id, (day, part, stamp,
/// bytes) — taken when the query starts, so a part another request drops meanwhile is still
/// there for it.
pub type Blocks = HashMap<i64, (i64, String, i64, Rc<Vec<u8>>)>;

/// The held block parts of `site`.
pub fn blocks(site: &str) -> Blocks {
    BLOCKS.with_borrow(|c| {
        c.values
            .iter()
            .filter(|(_, (h, _))| h.site == site)
            .map(|(id, (h, _))| {
                let held = (h.day, h.part.clone(), h.stamp, Rc::clone(&h.bytes));
                (*id, held)
            })
            .collect()
    })
}

/// Holds a block part just inflated, stored under `(built, stamp)`.
pub fn put_block(
    site: &str,
    (day, part): (i64, &str),
    (built, stamp): (i64, i64),
    bytes: Rc<Vec<u8>>,
) {
    let size = bytes.len();
    let held = BlockPart {
        site: site.to_owned(),
        day,
        part: part.to_owned(),
        stamp,
        bytes,
    };
    BLOCKS.with_borrow_mut(|c| c.put(built, held, size));
}

/// Drops every held block part (before work that needs the memory).
pub fn clear_blocks() {
    BLOCKS.with_borrow_mut(Bounded::clear);
}

/// A rollup part's key as the store's rollup read writes it: `first:last:part:version`.
pub fn rollup_key((first, last, part, version): &Piece) -> String {
    format!("{first}:{last}:{part}:{version}")
}

/// What a query may use of the held rollup parts of `site` (created at `created`), by piece —
/// taken when the query starts.
pub fn rollups(site: &str, created: i64) -> HashMap<Piece, Rc<Day>> {
    ROLLUPS.with_borrow(|c| {
        c.values
            .iter()
            .filter(|((s, at, _), _)| s == site && *at == created)
            .map(|((_, _, key), (day, _))| (key.clone(), Rc::clone(day)))
            .collect()
    })
}

/// Holds a rollup part just parsed from `text_len` bytes of text.
pub fn put_rollup(site: &str, created: i64, piece: Piece, part: Rc<Day>, text_len: usize) {
    ROLLUPS.with_borrow_mut(|c| c.put((site.to_owned(), created, piece), part, 3 * text_len));
}
