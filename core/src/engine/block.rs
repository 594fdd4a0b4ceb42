//! A closed day's visits as columns: the customer visits that started on one local day, with
//! every event of theirs (those past midnight too), as dictionaries and number columns — what the
//! filtered breakdowns and funnels of many days read instead of raw events ([`super::scan`]).
//! Kept: dictionaries, the visits, each event's name, page, hostname and local day, in parts (see
//! [`Block::encode`]) so a query reads only what it needs. Not kept: props and event times (a query that reads them — hours, funnels within
//! hours — reads raw events).
//! Encoded column by column (runs of like numbers compress well; the worker deflates each part):
//! counts and times as LEB128 varints, id columns at a fixed width (one, two or four bytes, as the
//! dictionary needs: read without a branch per value), each event's day as the few events past
//! midnight only. Blocks of the format before (`SLB2`: every column varints) still read. Input: the day's events in visits ([`Data`]). Output: the parts, and
//! back. Must not: hold staff traffic, or anything the query engine would read differently
//! from raw events.

use super::visits::Data;
use super::Hit;
use crate::zone::Zone;

/// The arrival fields a block keeps, in its order (`visit:` dimensions read from a visit's
/// arrival event).
pub const ARRIVAL: usize = 12;

/// Each part's first bytes (and the format's version).
const MAGIC: &[u8; 4] = b"SLB3";
/// The format before (id columns and event days as varints), still read.
const MAGIC_2: &[u8; 4] = b"SLB2";

/// The part with the visits' runs of events and each event's name and day (always read).
pub const VISITS: &str = "visits";
/// The part with each event's page.
pub const PAGES: &str = "pages";
/// The part with each visit's entry and exit page (read with [`PAGES`]).
pub const ENTRIES: &str = "entries";
/// The part with each visit's start, end, pageviews and bounce.
pub const TIMES: &str = "times";
/// The part with each event's hostname.
pub const HOSTS: &str = "hosts";
/// The arrival fields' parts, in [`arrival`]'s order.
pub const ARRIVAL_PARTS: [&str; ARRIVAL] = [
    "source",
    "channel",
    "referrer",
    "utm_source",
    "utm_medium",
    "utm_campaign",
    "utm_content",
    "utm_term",
    "country",
    "device",
    "browser",
    "os",
];

/// A closed day's customer visits, decoded.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Block {
    /// The local day the visits started on.
    pub day: i64,
    /// Event names.
    pub names: Vec<String>,
    /// Page paths.
    pub pages: Vec<String>,
    /// Hostnames.
    pub hosts: Vec<String>,
    /// Per arrival field (see [`arrival`]): its values; id 0 is "none".
    pub arrival_values: Vec<Vec<String>>,
    /// Per visit: whether it is another visitor than the visit before (visits are by visitor).
    pub new_visitor: Vec<bool>,
    /// Per visit: first event time, ms.
    pub start: Vec<i64>,
    /// Per visit: last event time, ms.
    pub last: Vec<i64>,
    /// Per visit: pageviews.
    pub pageviews: Vec<u32>,
    /// Per visit: bounced.
    pub bounced: Vec<bool>,
    /// Per visit: entry and exit page (page id + 1; 0 none).
    pub entry: Vec<u32>,
    /// Per visit: exit page (page id + 1; 0 none).
    pub exit: Vec<u32>,
    /// Per arrival field, per visit: value id (0 none).
    pub arrival: Vec<Vec<u32>>,
    /// Per visit: the end (exclusive) of its events.
    pub ends: Vec<u32>,
    /// Per event: name id.
    pub name: Vec<u32>,
    /// Per event: page id.
    pub page: Vec<u32>,
    /// Per event: hostname id.
    pub host: Vec<u32>,
    /// Per event: its local day less the block's day.
    pub day_offset: Vec<u32>,
}

/// Bytes that cannot be read as a block (another format, or cut short).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unreadable;

/// The arrival fields, in block order.
pub fn arrival(h: &Hit) -> [&Option<String>; ARRIVAL] {
    [
        &h.source,
        &h.channel,
        &h.referrer,
        &h.utm_source,
        &h.utm_medium,
        &h.utm_campaign,
        &h.utm_content,
        &h.utm_term,
        &h.country,
        &h.device,
        &h.browser,
        &h.os,
    ]
}

/// Interns strings to ids in first-seen order.
#[derive(Default)]
struct Dict {
    ids: std::collections::HashMap<String, u32>,
    values: Vec<String>,
}

impl Dict {
    fn id(&mut self, s: &str) -> u32 {
        if let Some(id) = self.ids.get(s) {
            return *id;
        }
        let id = self.values.len() as u32;
        self.ids.insert(s.to_owned(), id);
        self.values.push(s.to_owned());
        id
    }
}

impl Block {
    /// The customer visits of `data` that started on local `day`, as a block.
    pub fn of_day(data: &Data, day: i64, zone: Zone) -> Block {
        let (mut names, mut pages, mut hosts) = (Dict::default(), Dict::default(), Dict::default());
        let mut fields: Vec<Dict> = (0..ARRIVAL).map(|_| Dict::default()).collect();
        for f in &mut fields {
            f.id(""); // id 0: none
        }
        let mut b = Block {
            day,
            arrival: vec![Vec::new(); ARRIVAL],
            ..Block::default()
        };
        let mut previous = None;
        for v in data.visits.iter().filter(|v| v.day == day && !v.internal) {
            b.new_visitor.push(previous != Some(v.visitor));
            previous = Some(v.visitor);
            b.start.push(v.start);
            b.last.push(v.last);
            b.pageviews.push(v.pageviews);
            b.bounced.push(v.bounced);
            let page_of = |i: Option<usize>, pages: &mut Dict| {
                i.map_or(0, |i| pages.id(&data.hits[i].path) + 1)
            };
            b.entry.push(page_of(v.entry, &mut pages));
            b.exit.push(page_of(v.exit, &mut pages));
            for (k, value) in arrival(&data.hits[v.arrival]).iter().enumerate() {
                let id = value.as_deref().map_or(0, |s| fields[k].id(s));
                b.arrival[k].push(id);
            }
            for h in &data.hits[v.hits.clone()] {
                b.name.push(names.id(&h.name));
                b.page.push(pages.id(&h.path));
                b.host.push(hosts.id(&h.hostname));
                b.day_offset
                    .push((zone.local(h.ts).day - day).clamp(0, i64::from(u32::MAX)) as u32);
            }
            b.ends.push(b.name.len() as u32);
        }
        b.names = names.values;
        b.pages = pages.values;
        b.hosts = hosts.values;
        b.arrival_values = fields.into_iter().map(|f| f.values).collect();
        b
    }

    /// Adds the visits of `other` (a block of the same day, of visitors after all of this one's:
    /// a day is built in slices of visitor keys, in key order) after this block's own.
    pub fn append(&mut self, other: Block) {
        fn merge(into: &mut Vec<String>, from: Vec<String>) -> Vec<u32> {
            let mut at: std::collections::HashMap<String, u32> = into
                .iter()
                .enumerate()
                .map(|(i, s)| (s.clone(), i as u32))
                .collect();
            from.into_iter()
                .map(|s| {
                    *at.entry(s.clone()).or_insert_with(|| {
                        into.push(s);
                        (into.len() - 1) as u32
                    })
                })
                .collect()
        }
        let names = merge(&mut self.names, other.names);
        let pages = merge(&mut self.pages, other.pages);
        let hosts = merge(&mut self.hosts, other.hosts);
        let offset = self.name.len() as u32;
        self.new_visitor.extend(
            other
                .new_visitor
                .iter()
                .enumerate()
                .map(|(v, new)| *new || v == 0),
        );
        self.start.extend(other.start);
        self.last.extend(other.last);
        self.pageviews.extend(other.pageviews);
        self.bounced.extend(other.bounced);
        let page_or_none = |id: u32| {
            if id == 0 {
                0
            } else {
                pages[id as usize - 1] + 1
            }
        };
        self.entry
            .extend(other.entry.iter().map(|&id| page_or_none(id)));
        self.exit
            .extend(other.exit.iter().map(|&id| page_or_none(id)));
        if self.arrival_values.len() < ARRIVAL {
            self.arrival_values = vec![vec![String::new()]; ARRIVAL];
            self.arrival = vec![Vec::new(); ARRIVAL];
        }
        for (k, (values, ids)) in other
            .arrival_values
            .into_iter()
            .zip(other.arrival)
            .enumerate()
        {
            let map = merge(&mut self.arrival_values[k], values);
            self.arrival[k].extend(ids.iter().map(|&id| map[id as usize]));
        }
        self.ends.extend(other.ends.iter().map(|e| e + offset));
        self.name
            .extend(other.name.iter().map(|&id| names[id as usize]));
        self.page
            .extend(other.page.iter().map(|&id| pages[id as usize]));
        self.host
            .extend(other.host.iter().map(|&id| hosts[id as usize]));
        self.day_offset.extend(other.day_offset);
    }

    /// Visits.
    pub fn visits(&self) -> usize {
        self.ends.len()
    }

    /// The events of visit `v`.
    pub fn events(&self, v: usize) -> std::ops::Range<usize> {
        let from = if v == 0 { 0 } else { self.ends[v - 1] as usize };
        from..self.ends[v] as usize
    }

    /// The block as parts, each stored apart so a query reads only the columns it needs:
    /// [`VISITS`] (names, each visit's visitor change and events, each event's name and day),
    /// [`PAGES`] (each event's page), [`ENTRIES`] (each visit's entry and exit page), [`TIMES`]
    /// (each visit's start, end, pageviews and bounce), [`HOSTS`] (each event's hostname), and
    /// one per arrival field ([`ARRIVAL_PARTS`]).
    pub fn encode(&self) -> Vec<(&'static str, Vec<u8>)> {
        self.encode_as(false)
    }

    /// The parts in this format, or (`varints`) the format before.
    pub(crate) fn encode_as(&self, varints: bool) -> Vec<(&'static str, Vec<u8>)> {
        let mut w = Writer::new(varints);
        w.signed(self.day);
        w.dict(&self.names);
        w.uint(self.visits() as u64);
        w.bools(&self.new_visitor);
        let mut prev = 0;
        for &e in &self.ends {
            w.uint(u64::from(e - prev));
            prev = e;
        }
        w.ids(&self.name);
        w.sparse(&self.day_offset);
        let mut parts = vec![(VISITS, w.0)];
        let column = |dict: &[String], columns: &[&[u32]]| {
            let mut w = Writer::new(varints);
            w.dict(dict);
            for ids in columns {
                w.ids(ids);
            }
            w.0
        };
        parts.push((PAGES, column(&self.pages, &[&self.page])));
        parts.push((ENTRIES, column(&[], &[&self.entry, &self.exit])));
        let mut w = Writer::new(varints);
        let base = self.start.first().copied().unwrap_or(0);
        w.signed(base);
        let mut prev = base;
        for &s in &self.start {
            w.signed(s - prev);
            prev = s;
        }
        for (s, l) in self.start.iter().zip(&self.last) {
            w.uint((l - s).max(0) as u64);
        }
        w.uints(self.pageviews.iter().map(|&n| u64::from(n)));
        w.bools(&self.bounced);
        parts.push((TIMES, w.0));
        parts.push((HOSTS, column(&self.hosts, &[&self.host])));
        for (k, name) in ARRIVAL_PARTS.iter().enumerate() {
            parts.push((name, column(&self.arrival_values[k], &[&self.arrival[k]])));
        }
        parts
    }

    /// Reads a block from its [`VISITS`] part and any others (`(name, bytes)`); the columns of
    /// parts not given are left empty (a query reads only the parts [`super::scan::parts`]
    /// names; [`ENTRIES`] needs [`PAGES`]).
    pub fn decode(parts: &[(&str, &[u8])]) -> Result<Block, Unreadable> {
        let part = |name: &str| parts.iter().find(|(n, _)| *n == name).map(|(_, b)| *b);
        let mut r = Reader::new(part(VISITS).ok_or(Unreadable)?)?;
        let mut b = Block {
            day: r.signed()?,
            ..Block::default()
        };
        b.names = r.dict()?;
        let visits = r.len()?;
        b.new_visitor = r.bools(visits)?;
        let mut end = 0u32;
        b.ends = (0..visits)
            .map(|_| {
                end = end.checked_add(r.u32()?).ok_or(Unreadable)?;
                Ok(end)
            })
            .collect::<Result<_, _>>()?;
        let events = end as usize;
        b.name = r.ids(events)?;
        b.day_offset = r.offsets(events)?;
        let columns = |bytes: &[u8], n: usize, k: usize| {
            let mut r = Reader::new(bytes)?;
            let dict = r.dict()?;
            let cols = (0..k).map(|_| r.ids(n)).collect::<Result<Vec<_>, _>>()?;
            Ok::<_, Unreadable>((dict, cols))
        };
        if let Some(bytes) = part(PAGES) {
            let (dict, mut cols) = columns(bytes, events, 1)?;
            (b.pages, b.page) = (dict, cols.pop().ok_or(Unreadable)?);
        }
        if let Some(bytes) = part(ENTRIES) {
            let (_, mut cols) = columns(bytes, visits, 2)?;
            b.exit = cols.pop().ok_or(Unreadable)?;
            b.entry = cols.pop().ok_or(Unreadable)?;
        }
        if let Some(bytes) = part(TIMES) {
            let mut r = Reader::new(bytes)?;
            let mut at = r.signed()?;
            b.start = (0..visits)
                .map(|_| {
                    at += r.signed()?;
                    Ok(at)
                })
                .collect::<Result<_, _>>()?;
            b.last = b
                .start
                .iter()
                .map(|s| Ok(s + r.uint()? as i64))
                .collect::<Result<_, _>>()?;
            b.pageviews = r.u32s(visits)?;
            b.bounced = r.bools(visits)?;
        }
        if let Some(bytes) = part(HOSTS) {
            let (dict, mut cols) = columns(bytes, events, 1)?;
            (b.hosts, b.host) = (dict, cols.pop().ok_or(Unreadable)?);
        }
        b.arrival_values = vec![Vec::new(); ARRIVAL];
        b.arrival = vec![Vec::new(); ARRIVAL];
        for (k, name) in ARRIVAL_PARTS.iter().enumerate() {
            if let Some(bytes) = part(name) {
                let (dict, mut cols) = columns(bytes, visits, 1)?;
                (b.arrival_values[k], b.arrival[k]) = (dict, cols.pop().ok_or(Unreadable)?);
            }
        }
        b.check()?;
        Ok(b)
    }

    /// Every id within its dictionary (a part that passes is safe to index).
    fn check(&self) -> Result<(), Unreadable> {
        let within = |ids: &[u32], n: usize| ids.iter().all(|&i| (i as usize) < n);
        let ok = within(&self.name, self.names.len())
            && within(&self.page, self.pages.len())
            && within(&self.host, self.hosts.len())
            && self.day_offset.len() == self.name.len()
            && within(&self.entry, self.pages.len() + 1)
            && within(&self.exit, self.pages.len() + 1)
            && self
                .arrival
                .iter()
                .zip(&self.arrival_values)
                .all(|(ids, values)| within(ids, values.len()))
            && self.ends.windows(2).all(|w| w[0] <= w[1]);
        ok.then_some(()).ok_or(Unreadable)
    }
}

struct Writer(Vec<u8>, bool);

impl Writer {
    /// A part's writer, its magic written: this format, or (`varints`) the one before.
    fn new(varints: bool) -> Writer {
        Writer(if varints { MAGIC_2 } else { MAGIC }.to_vec(), varints)
    }

    fn uint(&mut self, mut n: u64) {
        loop {
            let byte = (n & 0x7f) as u8;
            n >>= 7;
            if n == 0 {
                self.0.push(byte);
                return;
            }
            self.0.push(byte | 0x80);
        }
    }

    fn signed(&mut self, n: i64) {
        self.uint(((n << 1) ^ (n >> 63)) as u64);
    }

    fn uints(&mut self, ns: impl Iterator<Item = u64>) {
        for n in ns {
            self.uint(n);
        }
    }

    /// Ids at the narrowest fixed width that holds them all (a width byte, then little-endian).
    fn ids(&mut self, ids: &[u32]) {
        if self.1 {
            return self.uints(ids.iter().map(|&n| u64::from(n)));
        }
        let max = ids.iter().copied().max().unwrap_or(0);
        let width: usize = if max < 1 << 8 {
            1
        } else if max < 1 << 16 {
            2
        } else {
            4
        };
        self.0.push(width as u8);
        for id in ids {
            self.0.extend_from_slice(&id.to_le_bytes()[..width]);
        }
    }

    /// A column of mostly zeros: how many are not, then each one's distance from the one
    /// before (or the start) and value.
    fn sparse(&mut self, values: &[u32]) {
        if self.1 {
            return self.uints(values.iter().map(|&n| u64::from(n)));
        }
        self.uint(values.iter().filter(|v| **v != 0).count() as u64);
        let mut at = 0;
        for (i, &v) in values.iter().enumerate().filter(|(_, v)| **v != 0) {
            self.uint((i - at) as u64);
            self.uint(u64::from(v));
            at = i;
        }
    }

    fn dict(&mut self, dict: &[String]) {
        self.uint(dict.len() as u64);
        for s in dict {
            self.uint(s.len() as u64);
            self.0.extend_from_slice(s.as_bytes());
        }
    }

    fn bools(&mut self, bs: &[bool]) {
        for chunk in bs.chunks(8) {
            let byte = chunk
                .iter()
                .enumerate()
                .fold(0u8, |acc, (i, b)| acc | (u8::from(*b) << i));
            self.0.push(byte);
        }
    }
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
    /// The format before: id columns and event days as varints.
    varints: bool,
}

impl<'a> Reader<'a> {
    fn new(bytes: &'a [u8]) -> Result<Reader<'a>, Unreadable> {
        let magic = bytes.get(..4).ok_or(Unreadable)?;
        if magic != MAGIC && magic != MAGIC_2 {
            return Err(Unreadable);
        }
        Ok(Reader {
            bytes,
            at: 4,
            varints: magic == MAGIC_2,
        })
    }

    /// `n` ids of a column ([`Writer::ids`]).
    fn ids(&mut self, n: usize) -> Result<Vec<u32>, Unreadable> {
        if self.varints {
            return self.u32s(n);
        }
        let width = usize::from(*self.take(1)?.first().ok_or(Unreadable)?);
        let bytes = self.take(n.checked_mul(width).ok_or(Unreadable)?)?;
        Ok(match width {
            1 => bytes.iter().map(|&b| u32::from(b)).collect(),
            2 => bytes
                .chunks_exact(2)
                .map(|c| u32::from(u16::from_le_bytes([c[0], c[1]])))
                .collect(),
            4 => bytes
                .chunks_exact(4)
                .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                .collect(),
            _ => return Err(Unreadable),
        })
    }

    /// `n` values of a mostly-zero column ([`Writer::sparse`]).
    fn offsets(&mut self, n: usize) -> Result<Vec<u32>, Unreadable> {
        if self.varints {
            return self.u32s(n);
        }
        let set = self.len()?;
        let mut out = vec![0u32; n];
        let mut at = 0usize;
        for _ in 0..set {
            at = at.checked_add(self.uint()? as usize).ok_or(Unreadable)?;
            *out.get_mut(at).ok_or(Unreadable)? = self.u32()?;
        }
        Ok(out)
    }

    fn uint(&mut self) -> Result<u64, Unreadable> {
        // Most ids take one byte.
        if let Some(&byte) = self.bytes.get(self.at) {
            if byte & 0x80 == 0 {
                self.at += 1;
                return Ok(u64::from(byte));
            }
        }
        let mut n = 0u64;
        let mut shift = 0;
        while shift < 64 {
            let byte = *self.bytes.get(self.at).ok_or(Unreadable)?;
            self.at += 1;
            n |= u64::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                return Ok(n);
            }
            shift += 7;
        }
        Err(Unreadable)
    }

    fn signed(&mut self) -> Result<i64, Unreadable> {
        let n = self.uint()?;
        Ok((n >> 1) as i64 ^ -((n & 1) as i64))
    }

    fn u32(&mut self) -> Result<u32, Unreadable> {
        u32::try_from(self.uint()?).map_err(|_| Unreadable)
    }

    /// A count, no larger than the bytes left could hold (a hostile count allocates nothing).
    fn len(&mut self) -> Result<usize, Unreadable> {
        let n = self.uint()? as usize;
        (n <= self.bytes.len().saturating_sub(self.at) * 8)
            .then_some(n)
            .ok_or(Unreadable)
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], Unreadable> {
        let end = self.at.checked_add(n).ok_or(Unreadable)?;
        let bytes = self.bytes.get(self.at..end).ok_or(Unreadable)?;
        self.at = end;
        Ok(bytes)
    }

    fn dict(&mut self) -> Result<Vec<String>, Unreadable> {
        let n = self.len()?;
        let mut dict = Vec::with_capacity(n);
        for _ in 0..n {
            let len = self.len()?;
            let bytes = self.take(len)?;
            dict.push(String::from_utf8(bytes.to_vec()).map_err(|_| Unreadable)?);
        }
        Ok(dict)
    }

    fn u32s(&mut self, n: usize) -> Result<Vec<u32>, Unreadable> {
        let mut out = Vec::with_capacity(n.min(self.bytes.len() - self.at.min(self.bytes.len())));
        for _ in 0..n {
            out.push(self.u32()?);
        }
        Ok(out)
    }

    fn bools(&mut self, n: usize) -> Result<Vec<bool>, Unreadable> {
        let bytes = self.take(n.div_ceil(8))?;
        Ok((0..n).map(|i| bytes[i / 8] & (1 << (i % 8)) != 0).collect())
    }
}
