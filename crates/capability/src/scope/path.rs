//! The `pfx` caveat's paths: a grant can confine a path argument (a file tool's `path`)
//! to a directory.
//!
//! Written by hand because what is needed is a textual rule that every verifier applies
//! the same way, with no file system: `std::path` would consult none, but its
//! normalization (`a/./b` is `a/b`, a trailing `/` is dropped) would make two spellings
//! of one path both acceptable, and a server that resolves `..` after talos compared
//! would escape the prefix. So only one spelling is a path at all (see [`clean`]).

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Longest path, in bytes (Linux's `PATH_MAX`).
pub const MAX_PATH_LEN: usize = 4096;

/// True when `p` is a clean absolute POSIX path: it starts with `/`; it is `/` itself or
/// every `/`-separated segment after the first `/` is non-empty (no `//`, no trailing
/// `/`), is neither `.` nor `..`, and holds no NUL, no `\` and no percent-encoded `.`,
/// `/` or `\` (`%2E`, `%2F`, `%5C`, either case); and it is at most [`MAX_PATH_LEN`]
/// bytes.
pub fn clean(p: &str) -> bool {
    if p.len() > MAX_PATH_LEN || !p.starts_with('/') {
        return false;
    }
    if p == "/" {
        return true;
    }
    p[1..].split('/').all(|seg| {
        !seg.is_empty()
            && seg != "."
            && seg != ".."
            && !seg.contains(['\0', '\\'])
            && !super::has_encoded_delimiter(seg)
    })
}

/// A directory a path argument must stay in: a clean absolute path (see [`clean`]).
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PathPrefix(String);

/// A prefix that is not a clean absolute path.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "a path prefix is an absolute path with no empty, `.` or `..` segment, no trailing `/`, no NUL, `\\` or %2E/%2F/%5C, at most 4096 bytes"
)]
pub struct BadPath;

impl PathPrefix {
    /// Parses a prefix.
    pub fn parse(p: &str) -> Result<Self, BadPath> {
        if clean(p) {
            Ok(PathPrefix(p.to_owned()))
        } else {
            Err(BadPath)
        }
    }

    /// The prefix as written.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// True when `path` is clean and is this prefix or below it, segment-wise
    /// (`/srv/data` covers `/srv/data` and `/srv/data/a`, never `/srv/database`).
    pub fn covers(&self, path: &str) -> bool {
        if !clean(path) {
            return false;
        }
        self.0 == "/"
            || path == self.0
            || path
                .strip_prefix(self.0.as_str())
                .is_some_and(|rest| rest.starts_with('/'))
    }
}

impl fmt::Debug for PathPrefix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PathPrefix({:?})", self.0)
    }
}

impl Serialize for PathPrefix {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for PathPrefix {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        PathPrefix::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn clean_paths() {
        for ok in ["/", "/srv", "/srv/data", "/a/.../b", "/a/.x/x./b c", "/%41"] {
            assert!(clean(ok), "{ok}");
        }
        for bad in [
            "",
            "srv",
            "./srv",
            "//",
            "/srv/",
            "/srv//x",
            "/srv/./x",
            "/srv/../etc",
            "/..",
            "/srv/x/..",
            "/a\\b",
            "/a\0b",
            "/a/%2e%2e/b",
            "/a%2Fb",
            "/a/%5c",
        ] {
            assert!(!clean(bad), "{bad:?}");
        }
        assert!(!clean(&format!("/{}", "a".repeat(MAX_PATH_LEN))));
    }

    #[test]
    fn covers_is_segment_wise() {
        let p = PathPrefix::parse("/srv/data").unwrap();
        assert!(p.covers("/srv/data"));
        assert!(p.covers("/srv/data/a/b.txt"));
        assert!(!p.covers("/srv/database"));
        assert!(!p.covers("/srv"));
        assert!(!p.covers("/srv/data/../../etc/passwd"));
        assert!(!p.covers("/srv/data/"));
        let root = PathPrefix::parse("/").unwrap();
        assert!(root.covers("/etc/passwd"));
        assert!(!root.covers("/etc/../x"));
        assert!(PathPrefix::parse("/srv/").is_err());
    }

    proptest! {
        /// A covered path never leaves the prefix, whatever a server's normalization
        /// does: it has no dot segment, so its segments start with the prefix's.
        #[test]
        fn a_covered_path_starts_with_the_prefixs_segments(
            pre in proptest::collection::vec("[a.%2eE/\\\\]{1,3}", 0..4),
            path in proptest::collection::vec("[a.%2eE/\\\\]{1,3}", 0..6),
        ) {
            let pre = format!("/{}", pre.join("/"));
            let path = format!("/{}", path.join("/"));
            if let Ok(p) = PathPrefix::parse(&pre)
                && p.covers(&path)
            {
                let ps: Vec<&str> = pre.split('/').filter(|s| !s.is_empty()).collect();
                let qs: Vec<&str> = path.split('/').collect();
                prop_assert!(qs.iter().all(|s| *s != ".." && *s != "."));
                prop_assert_eq!(&qs[1..=ps.len()], &ps[..]);
            }
        }
    }
}
