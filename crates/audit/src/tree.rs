//! The RFC 9162 Merkle tree over stored perfect subtrees.
//!
//! A node `(level, index)` is the root of the perfect subtree over leaves
//! `[index·2^level, (index+1)·2^level)`; level 0 holds the leaf hashes. Appending writes the
//! new leaf and every parent it completes (one node on average), which is all a store needs
//! to persist. The tree's root and every proof for any size are computed from these nodes in
//! O(log n) reads, so a 10M-entry log never has to be in memory.
//!
//! Why not rs_merkle for this: it keeps the whole tree in memory, cannot read nodes from
//! RocksDB, and has no consistency proofs. It produces the same roots with a domain-separating
//! hasher, and the tests use it as an independent oracle.

use talos_primitives::Hash32;

use crate::hash::{empty_root, node_hash};

/// Why a tree operation failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TreeError {
    /// A node the tree should have is missing.
    #[error("missing node at level {level}, index {index}")]
    MissingNode {
        /// Level.
        level: u8,
        /// Index within the level.
        index: u64,
    },
    /// An index or size beyond the tree.
    #[error("{what} {value} is beyond the tree size {size}")]
    OutOfRange {
        /// Which argument.
        what: &'static str,
        /// Its value.
        value: u64,
        /// The tree size.
        size: u64,
    },
    /// The node store failed.
    #[error("node store: {0}")]
    Store(String),
}

/// Read access to stored perfect-subtree nodes.
pub trait NodeSource {
    /// The root of the perfect subtree at `level` and `index`.
    fn node(&self, level: u8, index: u64) -> Result<Hash32, TreeError>;

    /// `count` consecutive nodes at `level` from `start` (a tile's hashes). A store
    /// whose nodes are adjacent reads them in one scan.
    fn nodes(&self, level: u8, start: u64, count: u64) -> Result<Vec<Hash32>, TreeError> {
        (start..start.saturating_add(count))
            .map(|i| self.node(level, i))
            .collect()
    }
}

fn largest_pow2_below(n: u64) -> u64 {
    // n >= 2 here; the result k satisfies k < n <= 2k.
    1u64 << (63 - (n - 1).leading_zeros())
}

/// `MTH(D[a:b])` for a range the RFC's recursion produces (a aligned to the split).
pub fn subtree_root<S: NodeSource + ?Sized>(src: &S, a: u64, b: u64) -> Result<Hash32, TreeError> {
    let n = b - a;
    if n.is_power_of_two() && a.is_multiple_of(n) {
        return src.node(n.trailing_zeros() as u8, a >> n.trailing_zeros());
    }
    let k = largest_pow2_below(n);
    Ok(node_hash(
        &subtree_root(src, a, a + k)?,
        &subtree_root(src, a + k, b)?,
    ))
}

/// The root of the tree of `size` leaves.
pub fn root<S: NodeSource + ?Sized>(src: &S, size: u64) -> Result<Hash32, TreeError> {
    if size == 0 {
        Ok(empty_root())
    } else {
        subtree_root(src, 0, size)
    }
}

/// RFC 9162 §2.1.3.1 `PATH(index, D[size])`.
pub fn inclusion_proof<S: NodeSource + ?Sized>(
    src: &S,
    index: u64,
    size: u64,
) -> Result<Vec<Hash32>, TreeError> {
    if index >= size {
        return Err(TreeError::OutOfRange {
            what: "leaf index",
            value: index,
            size,
        });
    }
    // Walk down recording siblings, then return them deepest first, as the RFC orders them.
    let mut siblings = Vec::with_capacity(64);
    let (mut a, mut b, mut m) = (0u64, size, index);
    while b - a > 1 {
        let k = largest_pow2_below(b - a);
        if m < k {
            siblings.push(subtree_root(src, a + k, b)?);
            b = a + k;
        } else {
            siblings.push(subtree_root(src, a, a + k)?);
            a += k;
            m -= k;
        }
    }
    siblings.reverse();
    Ok(siblings)
}

/// RFC 9162 §2.1.4.1 `PROOF(size1, D[size2])`.
pub fn consistency_proof<S: NodeSource + ?Sized>(
    src: &S,
    size1: u64,
    size2: u64,
) -> Result<Vec<Hash32>, TreeError> {
    if size1 > size2 {
        return Err(TreeError::OutOfRange {
            what: "first size",
            value: size1,
            size: size2,
        });
    }
    if size1 == 0 || size1 == size2 {
        return Ok(Vec::new());
    }
    // SUBPROOF(m, D[a:b], complete), unrolled: descend, then emit in reverse.
    let mut out = Vec::with_capacity(64);
    let (mut a, mut b, mut m, mut complete) = (0u64, size2, size1, true);
    loop {
        let n = b - a;
        if m == n {
            if !complete {
                out.push(subtree_root(src, a, b)?);
            }
            break;
        }
        let k = largest_pow2_below(n);
        if m <= k {
            out.push(subtree_root(src, a + k, b)?);
            b = a + k;
        } else {
            out.push(subtree_root(src, a, a + k)?);
            a += k;
            m -= k;
            complete = false;
        }
    }
    out.reverse();
    Ok(out)
}

/// The nodes on the right edge of a tree: enough to append and to compute the root
/// without reading anything. At most 64 hashes.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Frontier {
    size: u64,
    nodes: Vec<Hash32>,
}

impl Frontier {
    /// An empty tree.
    pub fn new() -> Self {
        Self {
            size: 0,
            nodes: Vec::with_capacity(64),
        }
    }

    /// Rebuilds the frontier of a stored tree of `size` leaves (O(log n) reads).
    pub fn load<S: NodeSource + ?Sized>(src: &S, size: u64) -> Result<Self, TreeError> {
        let mut nodes = vec![Hash32::default(); 64];
        for level in 0..64u8 {
            if size >> level & 1 == 1 {
                let index = (size >> level) - 1;
                if let Some(slot) = nodes.get_mut(usize::from(level)) {
                    *slot = src.node(level, index)?;
                }
            }
        }
        Ok(Self { size, nodes })
    }

    /// Number of leaves.
    pub const fn size(&self) -> u64 {
        self.size
    }

    /// Appends a leaf hash, calling `emit(level, index, hash)` for the leaf and for every
    /// parent node it completes. Returns the new leaf's index.
    pub fn append(&mut self, leaf: Hash32, mut emit: impl FnMut(u8, u64, Hash32)) -> u64 {
        let index = self.size;
        emit(0, index, leaf);
        let mut carry = leaf;
        let mut level = 0u8;
        while self.size >> level & 1 == 1 {
            let left = self
                .nodes
                .get(usize::from(level))
                .copied()
                .unwrap_or_default();
            carry = node_hash(&left, &carry);
            level += 1;
            emit(level, index >> level, carry);
        }
        let slot = usize::from(level);
        if self.nodes.len() <= slot {
            self.nodes.resize(slot + 1, Hash32::default());
        }
        if let Some(s) = self.nodes.get_mut(slot) {
            *s = carry;
        }
        self.size += 1;
        index
    }

    /// The root.
    pub fn root(&self) -> Hash32 {
        let mut acc: Option<Hash32> = None;
        for (level, node) in self.nodes.iter().enumerate().take(64) {
            if self.size >> level & 1 == 1 {
                acc = Some(match acc {
                    None => *node,
                    Some(r) => node_hash(node, &r),
                });
            }
        }
        acc.unwrap_or_else(empty_root)
    }
}

/// A tree held in memory: every node, by level.
#[derive(Debug, Clone, Default)]
pub struct MemoryTree {
    levels: Vec<Vec<Hash32>>,
    frontier: Frontier,
}

impl MemoryTree {
    /// An empty tree.
    pub fn new() -> Self {
        Self {
            levels: Vec::new(),
            frontier: Frontier::new(),
        }
    }

    /// Appends a leaf hash; returns its index.
    pub fn append(&mut self, leaf: Hash32) -> u64 {
        let levels = &mut self.levels;
        self.frontier.append(leaf, |level, _index, hash| {
            let l = usize::from(level);
            if levels.len() <= l {
                levels.resize_with(l + 1, Vec::new);
            }
            if let Some(v) = levels.get_mut(l) {
                v.push(hash);
            }
        })
    }

    /// Number of leaves.
    pub const fn size(&self) -> u64 {
        self.frontier.size()
    }

    /// The current root.
    pub fn root(&self) -> Hash32 {
        self.frontier.root()
    }
}

impl NodeSource for MemoryTree {
    fn node(&self, level: u8, index: u64) -> Result<Hash32, TreeError> {
        self.levels
            .get(usize::from(level))
            .and_then(|v| usize::try_from(index).ok().and_then(|i| v.get(i)))
            .copied()
            .ok_or(TreeError::MissingNode { level, index })
    }
}
