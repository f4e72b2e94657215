//! `card.toml`: what an operator writes about the agent. Unknown keys are refused, so a
//! typo is an error rather than a field silently missing from the card.
//!
//! ```toml
//! name = "booking"
//! description = "Books flights for other agents"
//! version = "1.2.0"
//!
//! [provider]
//! organization = "Example Travel"
//! url = "https://travel.example"
//!
//! [[skills]]
//! id = "book-flight"
//! name = "Book a flight"
//! description = "Books one seat on a flight"
//! tags = ["travel"]
//! scope = [{ res = "talos://booking/flights/*", act = ["book"] }]
//! ```

use serde::Deserialize;

use crate::sign::CardError;

/// Skills one card may list.
pub const MAX_SKILLS: usize = 64;

/// The operator's description of the agent.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CardConfig {
    /// The agent's name.
    pub name: String,
    /// What it does.
    pub description: String,
    /// The agent's own version (not the protocol's).
    #[serde(default = "default_version")]
    pub version: String,
    /// Who runs it.
    #[serde(default)]
    pub provider: Option<Provider>,
    /// Where its documentation is.
    #[serde(default)]
    pub documentation_url: Option<String>,
    /// An icon.
    #[serde(default)]
    pub icon_url: Option<String>,
    /// Other interfaces it serves (the `TALOS` one, its DID, is always listed first).
    #[serde(default)]
    pub interfaces: Vec<Interface>,
    /// What it can do.
    #[serde(default)]
    pub skills: Vec<Skill>,
}

fn default_version() -> String {
    "1.0.0".into()
}

/// The agent's provider.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Provider {
    /// The organization.
    pub organization: String,
    /// Its website.
    pub url: String,
}

/// Another interface the agent serves (an A2A `AgentInterface`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Interface {
    /// Its URL.
    pub url: String,
    /// `JSONRPC`, `GRPC`, `HTTP+JSON`, ...
    pub binding: String,
}

/// One skill, with the capability scope a caller needs for it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Skill {
    /// Its id, unique in the card.
    pub id: String,
    /// Its name.
    pub name: String,
    /// What it does.
    pub description: String,
    /// Keywords.
    #[serde(default)]
    pub tags: Vec<String>,
    /// Example requests.
    #[serde(default)]
    pub examples: Vec<String>,
    /// The capabilities a call needs (`res` pattern, `act` actions), as the capability
    /// tokens' `cap` claim states them.
    #[serde(default)]
    pub scope: Vec<Scope>,
}

/// A capability a skill needs.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scope {
    /// The resource pattern.
    pub res: String,
    /// The actions.
    pub act: Vec<String>,
}

impl CardConfig {
    /// Parses `card.toml`.
    pub fn parse(text: &str) -> Result<Self, CardError> {
        let c: CardConfig = toml::from_str(text).map_err(|e| CardError::Config(e.to_string()))?;
        c.check()?;
        Ok(c)
    }

    fn check(&self) -> Result<(), CardError> {
        let bad = |m: String| Err(CardError::Config(m));
        // Empty values would be dropped from the signed form (docs/card.md), so they are
        // refused here rather than served and then missing for verifiers.
        let provider = self.provider.iter().flat_map(|p| [&p.organization, &p.url]);
        let optional = [&self.documentation_url, &self.icon_url]
            .into_iter()
            .flatten();
        if [&self.name, &self.description, &self.version]
            .into_iter()
            .chain(provider)
            .chain(optional)
            .any(|v| v.trim().is_empty())
        {
            return bad(
                "`name`, `description`, `version` and every given field must not be empty".into(),
            );
        }
        for i in &self.interfaces {
            if i.url.is_empty() || i.binding.is_empty() || i.binding == crate::TALOS_BINDING {
                return bad(format!(
                    "interface {:?}: a url and a binding other than TALOS (the agent's DID is that one)",
                    i.url
                ));
            }
        }
        if self.skills.len() > MAX_SKILLS {
            return bad(format!("at most {MAX_SKILLS} skills"));
        }
        let mut ids = std::collections::BTreeSet::new();
        for s in &self.skills {
            if s.id.is_empty()
                || s.name.is_empty()
                || s.description.is_empty()
                || !ids.insert(&s.id)
            {
                return bad(format!(
                    "skill {:?}: ids are unique, and id, name and description not empty",
                    s.id
                ));
            }
            if s.tags.iter().chain(&s.examples).any(String::is_empty) {
                return bad(format!("skill {:?}: tags and examples are not empty", s.id));
            }
            for sc in &s.scope {
                // A scope is written `<res> <act>` in the card, so neither may hold a
                // space (resource patterns never do).
                if sc.res.is_empty() || sc.res.contains(char::is_whitespace) || sc.act.is_empty() {
                    return bad(format!(
                        "skill {:?}: a scope has a `res` and an `act`",
                        s.id
                    ));
                }
                if sc
                    .act
                    .iter()
                    .any(|a| a.is_empty() || a.contains(char::is_whitespace))
                {
                    return bad(format!("skill {:?}: actions are single words", s.id));
                }
            }
        }
        Ok(())
    }
}
