//! Scopes: resource patterns, action sets, caveats, and containment between them.
//!
//! Grammar (also in `FORMAT.md`):
//!
//! ```text
//! pattern  = scheme "://" segment *( "/" segment ) [ "/**" ]   ; or scheme "://**"
//! resource = scheme "://" literal *( "/" literal )
//! scheme   = lower *( lower / DIGIT / "+" / "-" / "." )
//! segment  = "*" / literal          ; "*" matches exactly one segment
//! literal  = 1*( unreserved / pct-encoded / sub-delims / ":" / "@" )   ; no "*"
//! ```
//!
//! A literal is never a dot segment (`.`, `..`) and never holds a percent-encoded `.`, `/`
//! or `\` (`%2E`, `%2F`, `%5C`, hex digits in either case): a server that decodes or
//! normalizes the path after talos matched it would otherwise reach a resource the
//! pattern never named (`talos://files/public/**` and `talos://files/public/../secrets`).
//! Patterns and resources share the one check, `literal`, so a token cannot grant such
//! a segment and a request cannot name one.
//!
//! A trailing `/**` matches zero or more further segments. Containment is decided segment
//! by segment from the left, with no backtracking, so it is linear in the number of
//! segments and never depends on iteration order.

use std::collections::BTreeSet;
use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

mod caveats;
mod path;
pub mod stateful;
pub use caveats::Caveats;
pub use path::{BadPath, MAX_PATH_LEN, PathPrefix, clean as clean_path};

/// Longest pattern or resource, in bytes.
pub const MAX_RESOURCE_LEN: usize = 512;
/// Most segments in a pattern.
pub const MAX_SEGMENTS: usize = 32;

/// Why a scope did not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScopeError {
    /// Longer than [`MAX_RESOURCE_LEN`] or with more than [`MAX_SEGMENTS`] segments.
    #[error("resource pattern too long")]
    TooLong,
    /// Missing or invalid `scheme://`.
    #[error("resource pattern needs a lowercase scheme followed by ://")]
    BadScheme,
    /// An empty segment, or a forbidden character.
    #[error("invalid resource segment")]
    BadSegment,
    /// `**` anywhere but the end, or a wildcard in a concrete resource.
    #[error("misplaced wildcard")]
    BadWildcard,
    /// An action name that is empty, too long, or has forbidden characters.
    #[error("invalid action name")]
    BadAction,
    /// A `.` or `..` segment.
    #[error("dot segment (`.` or `..`)")]
    DotSegment,
    /// A percent-encoded `.`, `/` or `\` (`%2E`, `%2F`, `%5C`, either case) in a segment.
    #[error("percent-encoded `.`, `/` or `\\` (%2E, %2F, %5C)")]
    EncodedDelimiter,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
enum Segment {
    Any,
    Lit(String),
}

/// A parsed resource pattern such as `talos://booking/flights/*` or `talos://pay/**`.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ResourcePattern {
    scheme: String,
    segments: Vec<Segment>,
    rest: bool,
    text: String,
}

fn literal_ok(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~%!$&'()+,;=:@".contains(&b))
}

/// True when `s` holds `%2E`, `%2F` or `%5C` (either case): an encoded `.`, `/` or `\`.
fn has_encoded_delimiter(s: &str) -> bool {
    s.as_bytes().windows(3).any(|w| match w {
        [b'%', hi, lo] => matches!(
            (*hi, lo.to_ascii_uppercase()),
            (b'2', b'E' | b'F') | (b'5', b'C')
        ),
        _ => false,
    })
}

/// Checks one literal segment of a pattern or resource (FORMAT.md §3.1): the alphabet,
/// no `*`, not a dot segment, no encoded delimiter. The one definition of a literal, used
/// both when a pattern is parsed and when a request's resource is matched.
fn literal(s: &str) -> Result<(), ScopeError> {
    if s.contains('*') {
        Err(ScopeError::BadWildcard)
    } else if !literal_ok(s) {
        Err(ScopeError::BadSegment)
    } else if s == "." || s == ".." {
        Err(ScopeError::DotSegment)
    } else if has_encoded_delimiter(s) {
        Err(ScopeError::EncodedDelimiter)
    } else {
        Ok(())
    }
}

impl ResourcePattern {
    /// Parses a pattern.
    pub fn parse(s: &str) -> Result<Self, ScopeError> {
        if s.len() > MAX_RESOURCE_LEN {
            return Err(ScopeError::TooLong);
        }
        let (scheme, path) = s.split_once("://").ok_or(ScopeError::BadScheme)?;
        let mut chars = scheme.bytes();
        let scheme_ok = chars.next().is_some_and(|b| b.is_ascii_lowercase())
            && chars.all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"+-.".contains(&b));
        if !scheme_ok {
            return Err(ScopeError::BadScheme);
        }
        let parts: Vec<&str> = path.split('/').collect();
        if parts.len() > MAX_SEGMENTS {
            return Err(ScopeError::TooLong);
        }
        let mut segments = Vec::with_capacity(parts.len());
        let mut rest = false;
        for (i, part) in parts.iter().enumerate() {
            match *part {
                "**" if i + 1 == parts.len() => rest = true,
                "**" => return Err(ScopeError::BadWildcard),
                "*" => segments.push(Segment::Any),
                lit => {
                    literal(lit)?;
                    segments.push(Segment::Lit(lit.to_string()));
                }
            }
        }
        Ok(Self {
            scheme: scheme.to_string(),
            segments,
            rest,
            text: s.to_string(),
        })
    }

    /// Parses a concrete resource: a pattern without wildcards.
    pub fn parse_resource(s: &str) -> Result<Self, ScopeError> {
        let p = Self::parse(s)?;
        if p.rest || p.segments.contains(&Segment::Any) {
            return Err(ScopeError::BadWildcard);
        }
        Ok(p)
    }

    /// True when every resource `other` matches, `self` matches too.
    pub fn contains(&self, other: &ResourcePattern) -> bool {
        if self.scheme != other.scheme {
            return false;
        }
        let mut theirs = other.segments.iter();
        for mine in &self.segments {
            match (mine, theirs.next()) {
                (_, None) => return false,
                (Segment::Any, Some(_)) => {}
                (Segment::Lit(a), Some(Segment::Lit(b))) if a == b => {}
                _ => return false,
            }
        }
        self.rest || (theirs.next().is_none() && !other.rest)
    }

    /// True when the concrete resource `resource` is matched. A string that is not a
    /// resource ([`ResourcePattern::parse_resource`] refuses it: a dot segment, an
    /// encoded delimiter, a wildcard, over the limits) matches nothing, so this is exactly
    /// `parse_resource(resource)` then [`ResourcePattern::contains`].
    pub fn matches(&self, resource: &str) -> bool {
        // The fast path avoids allocating: walk both strings segment by segment, checking
        // every segment of the resource with the same `literal` that parses patterns.
        if resource.len() > MAX_RESOURCE_LEN {
            return false;
        }
        let Some((scheme, path)) = resource.split_once("://") else {
            return false;
        };
        if scheme != self.scheme {
            return false;
        }
        let mut theirs = path.split('/');
        for mine in &self.segments {
            match (mine, theirs.next()) {
                (_, None) => return false,
                (_, Some(seg)) if literal(seg).is_err() => return false,
                (Segment::Any, Some(_)) => {}
                (Segment::Lit(a), Some(b)) if a == b => {}
                _ => return false,
            }
        }
        // Whatever `/**` covers must be literals too, and the whole within the limits.
        let done = self.segments.len();
        theirs
            .enumerate()
            .all(|(i, seg)| self.rest && done + i < MAX_SEGMENTS && literal(seg).is_ok())
    }

    /// The pattern's text.
    pub fn as_str(&self) -> &str {
        &self.text
    }
}

impl fmt::Debug for ResourcePattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ResourcePattern({})", self.text)
    }
}

impl fmt::Display for ResourcePattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl Serialize for ResourcePattern {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.text)
    }
}

impl<'de> Deserialize<'de> for ResourcePattern {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = std::borrow::Cow::<'de, str>::deserialize(d)?;
        Self::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// The wildcard action.
pub const ANY_ACTION: &str = "*";

/// A set of action names; `*` stands for every action.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct ActionSet(BTreeSet<String>);

impl ActionSet {
    /// Parses action names: 1–64 chars of `[a-z0-9._:-]`, or `*`.
    pub fn new<I: IntoIterator<Item = S>, S: Into<String>>(actions: I) -> Result<Self, ScopeError> {
        let set: BTreeSet<String> = actions.into_iter().map(Into::into).collect();
        let ok = |a: &String| {
            a == ANY_ACTION
                || (!a.is_empty()
                    && a.len() <= 64
                    && a.bytes().all(|b| {
                        b.is_ascii_lowercase() || b.is_ascii_digit() || b"._:-".contains(&b)
                    }))
        };
        if set.is_empty() || set.len() > 32 || !set.iter().all(ok) {
            return Err(ScopeError::BadAction);
        }
        Ok(Self(set))
    }

    /// True when `action` is allowed.
    pub fn allows(&self, action: &str) -> bool {
        self.0.contains(ANY_ACTION) || self.0.contains(action)
    }

    /// True when every action `other` allows, `self` allows.
    pub fn contains(&self, other: &ActionSet) -> bool {
        self.0.contains(ANY_ACTION) || other.0.is_subset(&self.0)
    }
}

impl<'de> Deserialize<'de> for ActionSet {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = Vec::<String>::deserialize(d)?;
        let n = v.len();
        let set = Self::new(v).map_err(serde::de::Error::custom)?;
        if set.0.len() != n {
            return Err(serde::de::Error::custom("duplicate action"));
        }
        Ok(set)
    }
}

/// One grant: a resource pattern, the actions allowed on it, and caveats.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Capability {
    /// Which resources.
    pub res: ResourcePattern,
    /// Which actions.
    pub act: ActionSet,
    /// Conditions.
    #[serde(default, skip_serializing_if = "Caveats::is_empty")]
    pub cav: Caveats,
}

impl Capability {
    /// True when this grant covers all of `other`.
    pub fn contains(&self, other: &Capability) -> bool {
        self.res.contains(&other.res)
            && self.act.contains(&other.act)
            && self.cav.contains(&other.cav)
    }

    /// True when this grant allows the request.
    pub fn allows(
        &self,
        resource: &str,
        action: &str,
        args: &serde_json::Map<String, serde_json::Value>,
    ) -> bool {
        self.act.allows(action) && self.res.matches(resource) && self.cav.satisfied_by(args)
    }
}

/// True when every capability in `child` is contained in some capability of `parent`.
pub fn set_contains(parent: &[Capability], child: &[Capability]) -> bool {
    child.iter().all(|c| parent.iter().any(|p| p.contains(c)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> ResourcePattern {
        ResourcePattern::parse(s).unwrap()
    }

    #[test]
    fn containment_table() {
        let cases = [
            ("talos://a/**", "talos://a", true),
            ("talos://a/**", "talos://a/b/c", true),
            ("talos://a/**", "talos://a/*/c", true),
            ("talos://a/**", "talos://a/b/**", true),
            ("talos://a/*", "talos://a/b", true),
            ("talos://a/*", "talos://a/*", true),
            ("talos://a/*", "talos://a/b/c", false),
            ("talos://a/*", "talos://a/**", false),
            ("talos://a/b", "talos://a/*", false),
            ("talos://a/b", "talos://a/b", true),
            ("talos://a/b", "talos://a", false),
            ("talos://a", "talos://a/b", false),
            ("talos://**", "talos://x/y", true),
            ("talos://a/**", "other://a/b", false),
            ("talos://*/b/**", "talos://x/b/c", true),
            ("talos://*/b/**", "talos://x/c", false),
        ];
        for (parent, child, want) in cases {
            assert_eq!(p(parent).contains(&p(child)), want, "{parent} ⊇ {child}");
        }
    }

    #[test]
    fn matching_concrete_resources() {
        assert!(p("talos://booking/flights/*").matches("talos://booking/flights/LHR-JFK"));
        assert!(!p("talos://booking/flights/*").matches("talos://booking/flights/LHR/JFK"));
        assert!(!p("talos://booking/flights/*").matches("talos://booking/flights/*"));
        assert!(p("talos://pay/**").matches("talos://pay"));
        assert!(p("talos://pay/**").matches("talos://pay/eur/100"));
        assert!(!p("talos://pay/**").matches("talos://payroll"));
        assert!(!p("talos://pay/**").matches("talos://pay//x"));
        assert!(p("talos://pay/**").matches("talos://pay/.../a.b/.x/x./%41"));
    }

    #[test]
    fn dot_segments_and_encoded_delimiters_are_not_literals() {
        use ScopeError::{DotSegment, EncodedDelimiter};
        let public = p("talos://files/public/**");
        let any = p("talos://**");
        for (bad, why) in [
            ("talos://files/public/../secrets/x", DotSegment),
            ("talos://files/public/./x", DotSegment),
            ("talos://files/public/x/..", DotSegment),
            ("talos://files/public/%2e%2e/secrets/x", EncodedDelimiter),
            ("talos://files/public/.%2E/secrets/x", EncodedDelimiter),
            ("talos://files/public/a%2Fb", EncodedDelimiter),
            ("talos://files/public/a%2fb", EncodedDelimiter),
            ("talos://files/public/a%5Cb", EncodedDelimiter),
            ("talos://files/public/a%5cb", EncodedDelimiter),
            ("talos://files/public/%%2e", EncodedDelimiter),
        ] {
            assert!(!public.matches(bad), "{bad}");
            assert!(!any.matches(bad), "{bad}");
            assert_eq!(ResourcePattern::parse(bad), Err(why.clone()), "{bad}");
            assert_eq!(ResourcePattern::parse_resource(bad), Err(why), "{bad}");
        }
        assert_eq!(
            ResourcePattern::parse("talos://files/../**"),
            Err(DotSegment)
        );
        assert_eq!(
            ResourcePattern::parse("talos://files/*/%2E%2E/**"),
            Err(EncodedDelimiter)
        );
        // Not encoded delimiters: other escapes, and a `%` not followed by one.
        assert!(public.matches("talos://files/public/a%20b/%41%2/%25"));
    }

    #[test]
    fn matching_respects_the_limits() {
        let deep = |n: usize| format!("talos://a{}", "/b".repeat(n - 1));
        assert!(p("talos://a/**").matches(&deep(MAX_SEGMENTS)));
        assert!(!p("talos://a/**").matches(&deep(MAX_SEGMENTS + 1)));
        let long = format!("talos://a/{}", "b".repeat(MAX_RESOURCE_LEN));
        assert!(!p("talos://a/**").matches(&long));
    }

    #[test]
    fn bad_patterns() {
        assert_eq!(
            ResourcePattern::parse("no-scheme"),
            Err(ScopeError::BadScheme)
        );
        assert_eq!(
            ResourcePattern::parse("Talos://a"),
            Err(ScopeError::BadScheme)
        );
        assert_eq!(
            ResourcePattern::parse("talos://a/**/b"),
            Err(ScopeError::BadWildcard)
        );
        assert_eq!(
            ResourcePattern::parse("talos://a/b*"),
            Err(ScopeError::BadWildcard)
        );
        assert_eq!(
            ResourcePattern::parse("talos://a//b"),
            Err(ScopeError::BadSegment)
        );
        assert_eq!(
            ResourcePattern::parse("talos://a/b c"),
            Err(ScopeError::BadSegment)
        );
        assert_eq!(
            ResourcePattern::parse_resource("talos://a/*"),
            Err(ScopeError::BadWildcard)
        );
        assert_eq!(
            ActionSet::new(Vec::<String>::new()),
            Err(ScopeError::BadAction)
        );
        assert_eq!(ActionSet::new(["Book"]), Err(ScopeError::BadAction));
    }
}
