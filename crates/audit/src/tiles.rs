//! C2SP `tlog-tiles`: the log as static resources an auditor fetches without asking the
//! agent for anything.
//!
//! - `tile/<L>/<N>[.p/<W>]`: hash tile `N` at level `L`, the 256 (or `W`) consecutive
//!   Merkle tree hashes `MTH(D[(N·256+i)·256^L : (N·256+i+1)·256^L])`. Each is a stored
//!   perfect-subtree node at tree height `8·L` ([`crate::tree`]), so a tile is a read of
//!   `W` nodes and never a recomputation.
//! - `tile/entries/<N>[.p/<W>]`: the entries themselves, each a big-endian `u16` length
//!   and the leaf bytes (for talos, a signed event).
//!
//! `N` is written in 3-digit groups, all but the last prefixed with `x`
//! (`1234067` → `x001/x234/067`). Paths are parsed strictly: a path that does not
//! re-serialize to itself is refused, so one resource has one name (caches and static
//! file trees depend on it).
//!
//! Hand-written because `tlog_tiles` (the one Rust crate) speaks the Go checksum
//! database's older paths (`tile/<H>/<L>/...`, `data` tiles) and panics on some inputs;
//! our tests use it as an independent reader of what we serve.

use std::fmt;

use talos_primitives::Hash32;

use crate::tree::{NodeSource, TreeError};

mod nodes;
pub use nodes::{TileFetch, TileNodes};

/// Hashes in a full tile (and entries in a full bundle).
pub const TILE_WIDTH: u64 = 256;
/// Bytes of a full hash tile.
pub const FULL_TILE_BYTES: usize = 256 * 32;
/// Highest tile level with any hash in it: a level-`L` hash spans `256^L` leaves, so
/// with `u64` sizes `L ≤ 7`. Levels up to 63 parse (the spec's range) and are empty.
pub const MAX_LEVEL: u8 = 7;
/// Largest entry a bundle can carry (its length prefix is a `u16`).
pub const MAX_ENTRY: usize = u16::MAX as usize;
/// Longest path accepted: 7 index groups (`u64::MAX` has 20 digits) and a width.
const MAX_PATH: usize = 64;

/// Why a tile path, bundle or request was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TileError {
    /// The path is not a canonical `tile/...` path.
    #[error("not a tile path: {0}")]
    BadPath(&'static str),
    /// The tile is beyond the tree it was asked of (or empty in it).
    #[error("tile is beyond a tree of size {size}")]
    Beyond {
        /// The tree size asked of.
        size: u64,
    },
    /// An entry bundle is malformed.
    #[error("malformed entry bundle: {0}")]
    BadBundle(&'static str),
    /// An entry is too large for a bundle.
    #[error("entry of {0} bytes is larger than a bundle can carry")]
    EntryTooLarge(usize),
    /// A node of the tree could not be read.
    #[error(transparent)]
    Tree(#[from] TreeError),
    /// A tile could not be fetched.
    #[error("tile could not be fetched: {0}")]
    Fetch(String),
}

/// What a tile path names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TileKind {
    /// Hashes at this level.
    Hashes(u8),
    /// An entry bundle (level 0's leaves).
    Entries,
}

/// A parsed tile path.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Tile {
    /// Hashes at a level, or entries.
    pub kind: TileKind,
    /// Index within the level.
    pub index: u64,
    /// Width: 256 for a full tile, 1..=255 for a partial one.
    pub width: u16,
}

impl Tile {
    /// Parses `tile/<L>/<N>[.p/<W>]` or `tile/entries/<N>[.p/<W>]` (no leading `/`).
    pub fn parse(path: &str) -> Result<Self, TileError> {
        if path.len() > MAX_PATH {
            return Err(TileError::BadPath("too long"));
        }
        let rest = path
            .strip_prefix("tile/")
            .ok_or(TileError::BadPath("no tile/ prefix"))?;
        let (first, rest) = rest.split_once('/').ok_or(TileError::BadPath("no index"))?;
        let kind = if first == "entries" {
            TileKind::Entries
        } else {
            let level = decimal(first).ok_or(TileError::BadPath("level is not decimal"))?;
            let level = u8::try_from(level)
                .ok()
                .filter(|l| *l <= 63)
                .ok_or(TileError::BadPath("level is beyond 63"))?;
            TileKind::Hashes(level)
        };
        let (index_part, width) = match rest.split_once(".p/") {
            Some((i, w)) => {
                let w = decimal(w).ok_or(TileError::BadPath("width is not decimal"))?;
                let w = u16::try_from(w)
                    .ok()
                    .filter(|w| (1..256).contains(w))
                    .ok_or(TileError::BadPath("width is not 1 to 255"))?;
                (i, w)
            }
            None => (rest, 256),
        };
        let index = parse_index(index_part)?;
        let tile = Tile { kind, index, width };
        // One name per resource: leading zeroes, a missing `x` or a `.p/256` are refused.
        if tile.to_string() != path {
            return Err(TileError::BadPath("not canonical"));
        }
        Ok(tile)
    }

    /// Whether this is a full tile (immutable: cacheable forever).
    pub fn is_full(&self) -> bool {
        self.width == 256
    }

    /// Whether the tile exists in a tree of `size`: all its hashes are complete there. A
    /// partial tile of any width up to the size's is served, not only the size's own
    /// width, so a client holding an older checkpoint still finds the tiles it needs
    /// (every hash in them is immutable once complete).
    fn check_in(&self, size: u64) -> Result<(), TileError> {
        let level = match self.kind {
            TileKind::Hashes(l) => l,
            TileKind::Entries => 0,
        };
        let beyond = TileError::Beyond { size };
        if level > MAX_LEVEL {
            return Err(beyond);
        }
        // Hashes at this level: complete subtrees of 256^level leaves.
        let hashes = size >> (8 * u32::from(level));
        let end = self
            .index
            .checked_mul(TILE_WIDTH)
            .and_then(|s| s.checked_add(u64::from(self.width)));
        match end {
            Some(end) if end <= hashes => Ok(()),
            _ => Err(beyond),
        }
    }

    /// The tile's bytes from the tree's stored nodes, if the tile exists in a tree of
    /// `size` (a hash tile; entries come from [`Tile::entry_range`] and [`bundle`]).
    pub fn hashes<S: NodeSource + ?Sized>(&self, src: &S, size: u64) -> Result<Vec<u8>, TileError> {
        let TileKind::Hashes(level) = self.kind else {
            return Err(TileError::BadPath("an entry bundle has no hashes"));
        };
        self.check_in(size)?;
        let start = self.index * TILE_WIDTH;
        let hashes = src.nodes(8 * level, start, u64::from(self.width))?;
        if hashes.len() != usize::from(self.width) {
            return Err(TreeError::MissingNode {
                level: 8 * level,
                index: start,
            }
            .into());
        }
        let mut out = Vec::with_capacity(usize::from(self.width) * 32);
        for h in &hashes {
            out.extend_from_slice(h.as_bytes());
        }
        Ok(out)
    }

    /// The leaf indices an entry bundle holds, if it exists in a tree of `size`.
    pub fn entry_range(&self, size: u64) -> Result<std::ops::Range<u64>, TileError> {
        if self.kind != TileKind::Entries {
            return Err(TileError::BadPath("a hash tile has no entries"));
        }
        self.check_in(size)?;
        let start = self.index * TILE_WIDTH;
        Ok(start..start + u64::from(self.width))
    }
}

impl fmt::Display for Tile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("tile/")?;
        match self.kind {
            TileKind::Hashes(l) => write!(f, "{l}/")?,
            TileKind::Entries => f.write_str("entries/")?,
        }
        let mut groups = Vec::with_capacity(7);
        let mut n = self.index;
        loop {
            groups.push(n % 1000);
            n /= 1000;
            if n == 0 {
                break;
            }
        }
        for (i, g) in groups.iter().rev().enumerate() {
            let last = i + 1 == groups.len();
            write!(
                f,
                "{}{g:03}{}",
                if last { "" } else { "x" },
                if last { "" } else { "/" }
            )?;
        }
        if !self.is_full() {
            write!(f, ".p/{}", self.width)?;
        }
        Ok(())
    }
}

fn decimal(s: &str) -> Option<u64> {
    let canonical =
        !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) && (s == "0" || !s.starts_with('0'));
    canonical.then(|| s.parse().ok()).flatten()
}

fn parse_index(s: &str) -> Result<u64, TileError> {
    let mut n: u64 = 0;
    for g in s.split('/') {
        let digits = g.strip_prefix('x').unwrap_or(g);
        if digits.len() != 3 || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(TileError::BadPath("index group is not 3 digits"));
        }
        let v: u64 = digits
            .parse()
            .map_err(|_| TileError::BadPath("index group is not 3 digits"))?;
        n = n
            .checked_mul(1000)
            .and_then(|n| n.checked_add(v))
            .ok_or(TileError::BadPath("index overflows"))?;
    }
    Ok(n)
}

/// The tiles a tree of `size` has: every full tile, and the partial tile of each level
/// that has one. For writing the tree as static files.
pub fn tiles_of(size: u64) -> impl Iterator<Item = Tile> {
    (0..=MAX_LEVEL).flat_map(move |level| {
        let hashes = size >> (8 * u32::from(level));
        let full = hashes / TILE_WIDTH;
        // `hashes % 256 < 256`, so the cast cannot truncate.
        let partial = (hashes % TILE_WIDTH) as u16;
        let kinds = if level == 0 {
            vec![TileKind::Hashes(0), TileKind::Entries]
        } else {
            vec![TileKind::Hashes(level)]
        };
        kinds.into_iter().flat_map(move |kind| {
            let fulls = (0..full).map(move |index| Tile {
                kind,
                index,
                width: 256,
            });
            let last = (partial > 0).then_some(Tile {
                kind,
                index: full,
                width: partial,
            });
            fulls.chain(last)
        })
    })
}

/// Encodes entries as a bundle: each a big-endian `u16` length, then its bytes.
pub fn bundle<'a>(entries: impl IntoIterator<Item = &'a [u8]>) -> Result<Vec<u8>, TileError> {
    let mut out = Vec::new();
    for e in entries {
        let len = u16::try_from(e.len()).map_err(|_| TileError::EntryTooLarge(e.len()))?;
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(e);
    }
    Ok(out)
}

/// Splits a bundle into its entries; refuses trailing or truncated bytes, and more than
/// `max` entries.
pub fn parse_bundle(bytes: &[u8], max: usize) -> Result<Vec<&[u8]>, TileError> {
    let mut out = Vec::new();
    let mut rest = bytes;
    while !rest.is_empty() {
        if out.len() == max {
            return Err(TileError::BadBundle("more entries than the tile's width"));
        }
        let (len, tail) = rest
            .split_first_chunk::<2>()
            .ok_or(TileError::BadBundle("truncated length"))?;
        let len = usize::from(u16::from_be_bytes(*len));
        let (entry, tail) = tail
            .split_at_checked(len)
            .ok_or(TileError::BadBundle("truncated entry"))?;
        out.push(entry);
        rest = tail;
    }
    Ok(out)
}

/// Splits a hash tile into its hashes; refuses a length that is not a whole number of
/// hashes.
pub fn parse_hashes(bytes: &[u8]) -> Result<Vec<Hash32>, TileError> {
    if bytes.is_empty() || !bytes.len().is_multiple_of(32) || bytes.len() > FULL_TILE_BYTES {
        return Err(TileError::BadBundle("a hash tile is 1 to 256 whole hashes"));
    }
    Ok(bytes
        .chunks_exact(32)
        .filter_map(|c| Hash32::from_slice(c).ok())
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::MemoryTree;
    use crate::hash::leaf_hash;
    use proptest::prelude::*;

    #[test]
    fn paths_match_the_spec_examples() {
        let t = Tile::parse("tile/0/x001/x234/067").unwrap();
        assert_eq!(
            (t.kind, t.index, t.width),
            (TileKind::Hashes(0), 1_234_067, 256)
        );
        let t = Tile::parse("tile/entries/x001/x234/067.p/8").unwrap();
        assert_eq!(
            (t.kind, t.index, t.width),
            (TileKind::Entries, 1_234_067, 8)
        );
        assert_eq!(Tile::parse("tile/3/000").unwrap().to_string(), "tile/3/000");
        for bad in [
            "tile/0/1",
            "tile/0/0001",
            "tile/00/000",
            "tile/0/001/002",
            "tile/0/x001",
            "tile/0/000.p/0",
            "tile/0/000.p/256",
            "tile/0/000.p/08",
            "tile/64/000",
            "tile/data/000",
            "/tile/0/000",
            "tile/0/x018/x446/x744/x073/x709/x551/616",
        ] {
            assert!(Tile::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn tiles_of_a_tree_of_70000_match_the_spec() {
        // The spec's example: 273 full level-0 tiles and one of width 112; one full
        // level-1 tile and one of width 17; a level-2 tile of width 1.
        let all: Vec<Tile> = tiles_of(70_000).collect();
        let of = |k: TileKind| all.iter().filter(|t| t.kind == k).collect::<Vec<_>>();
        let l0 = of(TileKind::Hashes(0));
        assert_eq!(l0.len(), 274);
        assert_eq!(l0.last().map(|t| t.width), Some(112));
        assert_eq!(of(TileKind::Entries).len(), 274);
        let l1 = of(TileKind::Hashes(1));
        assert_eq!(
            l1.iter().map(|t| t.width).collect::<Vec<_>>(),
            vec![256, 17]
        );
        assert_eq!(
            of(TileKind::Hashes(2))
                .iter()
                .map(|t| t.width)
                .collect::<Vec<_>>(),
            vec![1]
        );
        assert!(of(TileKind::Hashes(3)).is_empty());
    }

    #[test]
    fn hash_tiles_hash_up_to_the_tree() {
        let mut tree = MemoryTree::new();
        for i in 0..600u32 {
            tree.append(leaf_hash(&i.to_be_bytes()));
        }
        let t = Tile::parse("tile/0/001").unwrap();
        let bytes = t.hashes(&tree, 600).unwrap();
        assert_eq!(&bytes[..32], leaf_hash(&256u32.to_be_bytes()).as_bytes());
        // The level-1 partial tile of width 2 holds the roots of the two full tiles.
        let l1 = Tile::parse("tile/1/000.p/2")
            .unwrap()
            .hashes(&tree, 600)
            .unwrap();
        assert_eq!(
            &l1[32..],
            crate::tree::subtree_root(&tree, 256, 512)
                .unwrap()
                .as_bytes()
        );
        // Partial tiles up to the size's width exist; wider ones and full ones do not.
        assert!(
            Tile::parse("tile/0/002.p/88")
                .unwrap()
                .hashes(&tree, 600)
                .is_ok()
        );
        assert!(
            Tile::parse("tile/0/002.p/87")
                .unwrap()
                .hashes(&tree, 600)
                .is_ok()
        );
        assert!(
            Tile::parse("tile/0/002.p/89")
                .unwrap()
                .hashes(&tree, 600)
                .is_err()
        );
        assert!(
            Tile::parse("tile/0/002")
                .unwrap()
                .hashes(&tree, 600)
                .is_err()
        );
        assert!(
            Tile::parse("tile/1/000")
                .unwrap()
                .hashes(&tree, 600)
                .is_err()
        );
        assert!(
            Tile::parse("tile/9/000.p/1")
                .unwrap()
                .hashes(&tree, 600)
                .is_err()
        );
    }

    #[test]
    fn bundles_are_length_prefixed() {
        let b = bundle([b"ab".as_slice(), b"", b"c"]).unwrap();
        assert_eq!(b, [0, 2, b'a', b'b', 0, 0, 0, 1, b'c']);
        assert_eq!(
            parse_bundle(&b, 3).unwrap(),
            vec![b"ab".as_slice(), b"", b"c"]
        );
        assert!(parse_bundle(&b, 2).is_err());
        assert!(parse_bundle(&b[..b.len() - 1], 3).is_err());
        assert!(parse_bundle(&[0], 3).is_err());
        assert!(bundle([vec![0u8; MAX_ENTRY + 1].as_slice()]).is_err());
    }

    proptest! {
        #[test]
        fn tile_paths_round_trip(level in 0u8..=63, index: u64, width in 1u16..=256, entries: bool) {
            let kind = if entries { TileKind::Entries } else { TileKind::Hashes(level) };
            let t = Tile { kind, index, width };
            prop_assert_eq!(Tile::parse(&t.to_string()), Ok(t));
        }

        #[test]
        fn any_path_parses_or_is_refused(s in "tile/[0-9a-z/.px]{0,40}") {
            if let Ok(t) = Tile::parse(&s) {
                prop_assert_eq!(t.to_string(), s);
            }
        }

        #[test]
        fn bundles_round_trip(entries in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..300), 0..20)) {
            let b = bundle(entries.iter().map(Vec::as_slice)).unwrap();
            let back = parse_bundle(&b, entries.len()).unwrap();
            prop_assert_eq!(back, entries.iter().map(Vec::as_slice).collect::<Vec<_>>());
        }

        #[test]
        fn any_bundle_bytes_parse_or_are_refused(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
            if let Ok(es) = parse_bundle(&bytes, 256) {
                prop_assert_eq!(bundle(es).unwrap(), bytes);
            }
        }
    }
}
