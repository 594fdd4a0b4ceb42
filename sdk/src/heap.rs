//! The wasm heap: a small allocator in place of dlmalloc (~7 KB of wasm for a tracker that holds a
//! few hundred small strings at a time).
//!
//! Input: allocation requests from `alloc`. Output: blocks carved from pages taken with `memory.grow`.
//! Blocks come in power-of-two size classes; a freed block goes on its class's free list and is
//! reused by the next request of that class. Memory is never given back to the browser and blocks
//! are never merged, which suits the SDK's steady state (the same few sizes over and over).
//! Must not: be used with threads (wasm32 without the `atomics` feature has exactly one).

use core::alloc::{GlobalAlloc, Layout};
use core::cell::UnsafeCell;
use core::ptr::null_mut;

/// Smallest class: 8 bytes (2^3), room for the free list's link.
const MIN_SHIFT: u32 = 3;
/// Size classes: 2^3 up to 2^31 bytes.
const CLASSES: usize = 29;
/// The strictest alignment served; Rust types in this crate need at most 8.
const MAX_ALIGN: usize = 16;

struct State {
    /// Head of each class's free list (0: empty); a free block holds the address of the next.
    free: [usize; CLASSES],
    /// Next unused byte of the pages taken so far, and their end.
    top: usize,
    end: usize,
}

/// The global allocator of the SDK's wasm.
pub struct Heap(UnsafeCell<State>);

// SAFETY: wasm32 without the `atomics` target feature runs on one thread, so the state is never
// touched by two threads; the allocator is only installed for that target.
unsafe impl Sync for Heap {}

impl Heap {
    /// An empty heap; pages are taken on first use.
    pub const fn new() -> Heap {
        Heap(UnsafeCell::new(State {
            free: [0; CLASSES],
            top: 0,
            end: 0,
        }))
    }
}

impl Default for Heap {
    fn default() -> Heap {
        Heap::new()
    }
}

/// The class serving `layout`, or `None` when it is too large or too strictly aligned.
fn class_of(layout: Layout) -> Option<usize> {
    if layout.align() > MAX_ALIGN {
        return None;
    }
    let size = layout.size().max(layout.align()).max(1 << MIN_SHIFT);
    let shift = usize::BITS - (size - 1).leading_zeros();
    let class = shift.checked_sub(MIN_SHIFT)? as usize;
    (class < CLASSES).then_some(class)
}

/// Takes `bytes` more bytes of linear memory; `None` when the browser refuses.
#[cfg(target_arch = "wasm32")]
fn grow(bytes: usize) -> Option<(usize, usize)> {
    const PAGE: usize = 65_536;
    let pages = bytes.div_ceil(PAGE);
    let old = core::arch::wasm32::memory_grow(0, pages);
    (old != usize::MAX).then(|| (old * PAGE, (old + pages) * PAGE))
}

/// Natively (unit tests of the pure modules) the heap is never installed.
#[cfg(not(target_arch = "wasm32"))]
fn grow(_bytes: usize) -> Option<(usize, usize)> {
    None
}

impl State {
    fn alloc(&mut self, class: usize) -> *mut u8 {
        // `get_mut`, not indexing: `class_of` keeps `class` in range, and a bounds check would bring
        // the panic machinery into the wasm.
        let Some(list) = self.free.get_mut(class) else {
            return null_mut();
        };
        let head = *list;
        if head != 0 {
            // SAFETY: `head` is a freed block of this class; its first word links to the next.
            *list = unsafe { *(head as *const usize) };
            return head as *mut u8;
        }
        let size = 1usize << (class as u32 + MIN_SHIFT);
        let align = size.min(MAX_ALIGN);
        let mut start = (self.top + align - 1) & !(align - 1);
        if start + size > self.end || self.end == 0 {
            let Some((from, to)) = grow(size + MAX_ALIGN) else {
                return null_mut();
            };
            // New pages follow the old ones unless someone else grew memory in between.
            if from != self.end {
                self.top = from;
            }
            self.end = to;
            start = (self.top + align - 1) & !(align - 1);
        }
        self.top = start + size;
        start as *mut u8
    }

    fn free(&mut self, ptr: *mut u8, class: usize) {
        if let Some(list) = self.free.get_mut(class) {
            // SAFETY: `ptr` is a block of this class no longer in use: its first word is ours.
            unsafe { *(ptr as *mut usize) = *list };
            *list = ptr as usize;
        }
    }
}

/// Out of memory, or a request no class serves: the wasm traps here, as the panic handler would
/// after `alloc`'s own error path. Trapping rather than returning null lets the compiler see that a
/// block is never null and drop the callers' null checks (16 bytes gzip). `alloc`'s error paths
/// stay reachable through capacity overflow, so their message data remains in the wasm; the build
/// zeroes it (`scripts/zero-panic-data.mjs`).
fn or_trap(block: *mut u8) -> *mut u8 {
    if block.is_null() {
        #[cfg(target_arch = "wasm32")]
        core::arch::wasm32::unreachable();
        #[cfg(not(target_arch = "wasm32"))]
        unreachable!("the heap is installed only in the wasm");
    }
    block
}

// SAFETY: every block is at least `layout.size()` bytes, aligned to `min(block size, 16)`, which is at
// least `layout.align()` (requests aligned more strictly trap); a block is handed out again only
// after `dealloc` put it back on its class's list.
unsafe impl GlobalAlloc for Heap {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        or_trap(match class_of(layout) {
            // SAFETY: one thread (see `Sync`), and no reference to the state outlives this call.
            Some(class) => unsafe { (*self.0.get()).alloc(class) },
            None => null_mut(),
        })
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if let Some(class) = class_of(layout) {
            // SAFETY: as in `alloc`; `ptr` came from `alloc` with this layout, hence this class.
            unsafe { (*self.0.get()).free(ptr, class) }
        }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let Ok(new_layout) = Layout::from_size_align(new_size, layout.align()) else {
            return or_trap(null_mut());
        };
        if class_of(layout).is_some() && class_of(layout) == class_of(new_layout) {
            return ptr;
        }
        // SAFETY: the caller's contract for `realloc`; the old block is copied, then freed.
        unsafe {
            let new = self.alloc(new_layout);
            core::ptr::copy_nonoverlapping(ptr, new, layout.size().min(new_size));
            self.dealloc(ptr, layout);
            new
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_map_to_power_of_two_classes() {
        let class = |size, align| class_of(Layout::from_size_align(size, align).unwrap());
        assert_eq!(class(0, 1), Some(0));
        assert_eq!(class(8, 8), Some(0));
        assert_eq!(class(9, 1), Some(1));
        assert_eq!(class(16, 16), Some(1));
        assert_eq!(class(1 << 20, 1), Some(17));
        assert_eq!(class(4, 32), None, "stricter than 16 is refused");
    }
}
