//! The tree's nodes computed from its tiles.

use talos_primitives::Hash32;

use super::{TILE_WIDTH, Tile, TileError, TileKind, parse_hashes};
use crate::tree::{NodeSource, TreeError};

/// Where tiles come from: a public log over HTTP, a static directory, a test.
pub trait TileFetch {
    /// The bytes of `tile` (not yet checked: [`TileNodes`] checks the width, and a
    /// proof or root computed from forged tiles fails against the signed root).
    fn fetch(&self, tile: Tile) -> Result<Vec<u8>, TileError>;
}

/// Tiles kept by a [`TileNodes`] before it forgets them all (8 KiB each at most).
const TILE_CACHE: usize = 1024;

/// The nodes of the tree of `size`, computed from its tiles, so [`crate::tree`]'s proofs
/// and roots run on a log read from outside: a node at height `8·L + r` is the root of
/// `2^r` consecutive hashes of one level-`L` tile.
pub struct TileNodes<'a, F: TileFetch + ?Sized> {
    fetch: &'a F,
    size: u64,
    cache: std::cell::RefCell<std::collections::HashMap<Tile, std::rc::Rc<Vec<Hash32>>>>,
}

impl<'a, F: TileFetch + ?Sized> TileNodes<'a, F> {
    /// The tree of `size`, read through `fetch`.
    pub fn new(fetch: &'a F, size: u64) -> Self {
        Self {
            fetch,
            size,
            cache: Default::default(),
        }
    }

    /// The tile of this tree at `level` holding hash `at`: full, or the partial tile of
    /// the width this size gives.
    fn tile_of(&self, level: u8, at: u64) -> Option<Tile> {
        let hashes = self.size.checked_shr(8 * u32::from(level)).unwrap_or(0);
        let index = at / TILE_WIDTH;
        let start = index * TILE_WIDTH;
        let width = (hashes.saturating_sub(start)).min(TILE_WIDTH);
        // `width <= 256`, so the cast cannot truncate.
        (at < hashes).then_some(Tile {
            kind: TileKind::Hashes(level),
            index,
            width: width as u16,
        })
    }

    fn hashes(&self, tile: Tile) -> Result<std::rc::Rc<Vec<Hash32>>, TileError> {
        if let Some(h) = self.cache.borrow().get(&tile) {
            return Ok(h.clone());
        }
        let hashes = parse_hashes(&self.fetch.fetch(tile)?)?;
        if hashes.len() != usize::from(tile.width) {
            return Err(TileError::BadBundle("a tile of the wrong width"));
        }
        let hashes = std::rc::Rc::new(hashes);
        let mut cache = self.cache.borrow_mut();
        if cache.len() >= TILE_CACHE {
            cache.clear();
        }
        cache.insert(tile, hashes.clone());
        Ok(hashes)
    }
}

impl<F: TileFetch + ?Sized> NodeSource for TileNodes<'_, F> {
    fn node(&self, level: u8, index: u64) -> Result<Hash32, TreeError> {
        let missing = TreeError::MissingNode { level, index };
        let (tile_level, r) = (level / 8, u32::from(level % 8));
        let first = index
            .checked_shl(r)
            .filter(|f| f >> r == index)
            .ok_or(missing.clone())?;
        let count = 1usize << r;
        let tile = self
            .tile_of(tile_level, first + (count as u64 - 1))
            .ok_or(missing.clone())?;
        let hashes = self
            .hashes(tile)
            .map_err(|e| TreeError::Store(e.to_string()))?;
        // `first % 256 < 256`, so the cast cannot truncate.
        let off = (first % TILE_WIDTH) as usize;
        let mut level_hashes: Vec<Hash32> = hashes.get(off..off + count).ok_or(missing)?.to_vec();
        while level_hashes.len() > 1 {
            level_hashes = level_hashes
                .chunks_exact(2)
                .filter_map(|p| Some(crate::hash::node_hash(p.first()?, p.get(1)?)))
                .collect();
        }
        level_hashes
            .pop()
            .ok_or(TreeError::Store("an empty tile".into()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::MemoryTree;
    use crate::hash::leaf_hash;

    struct Served<'a>(&'a MemoryTree, u64);

    impl TileFetch for Served<'_> {
        fn fetch(&self, tile: Tile) -> Result<Vec<u8>, TileError> {
            tile.hashes(self.0, self.1)
        }
    }

    #[test]
    fn proofs_and_roots_from_tiles_match_the_tree() {
        let mut tree = MemoryTree::new();
        for i in 0..70_000u32 {
            tree.append(leaf_hash(&i.to_be_bytes()));
        }
        for size in [1u64, 255, 256, 257, 65_536, 65_537, 70_000] {
            let served = Served(&tree, size);
            let nodes = TileNodes::new(&served, size);
            assert_eq!(
                crate::tree::root(&nodes, size).unwrap(),
                crate::tree::root(&tree, size).unwrap(),
                "{size}"
            );
            for i in [0, size / 2, size - 1] {
                assert_eq!(
                    crate::tree::inclusion_proof(&nodes, i, size).unwrap(),
                    crate::tree::inclusion_proof(&tree, i, size).unwrap()
                );
            }
            if size > 1 {
                assert_eq!(
                    crate::tree::consistency_proof(&nodes, size / 3 + 1, size).unwrap(),
                    crate::tree::consistency_proof(&tree, size / 3 + 1, size).unwrap()
                );
            }
        }
    }
}
