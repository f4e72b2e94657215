//! The card's JSON, in A2A v1's field names (the JSON form of its `AgentCard` message).
//!
//! The agent's DID is its first interface, `{"url": <did>, "protocolBinding": "TALOS",
//! "protocolVersion": "1.0"}`: a caller reaches it through its own talos node. Each
//! skill's `securityRequirements` names the `talos` security scheme with the scopes it
//! needs, one string per action: `"<res> <act>"` (for example
//! `"talos://booking/flights/* book"`), which is what a caller asks the agent to grant
//! in a capability (`cap: [{res, act}]`).
//!
//! Fields whose value would be empty are left out: A2A's canonical form drops them (a
//! protobuf round trip cannot tell an empty field from a missing one), and leaving them
//! out means the card served is the card signed.

use serde_json::{Map, Value, json};
use talos_primitives::Did;

use crate::config::{CardConfig, Skill};

/// The `protocolBinding` of the interface that is the agent's DID.
pub const TALOS_BINDING: &str = "TALOS";
/// The extension a talos card declares in `capabilities`.
pub const DID_BINDING: &str = "urn:talos:a2a:did-bound-card:v1";
/// The name of the security scheme the skills' requirements refer to.
pub const SCHEME: &str = "talos";

/// A card as JSON (signed or not).
pub type Card = Map<String, Value>;

/// The unsigned card of the agent `did`, as `config` describes it.
pub fn build(config: &CardConfig, did: &Did) -> Card {
    let mut interfaces = vec![json!({
        "url": did.to_string(),
        "protocolBinding": TALOS_BINDING,
        "protocolVersion": "1.0",
    })];
    interfaces.extend(
        config
            .interfaces
            .iter()
            .map(|i| json!({ "url": i.url, "protocolBinding": i.binding })),
    );
    let mut card = Map::new();
    card.insert("name".into(), json!(config.name));
    card.insert("description".into(), json!(config.description));
    card.insert("version".into(), json!(config.version));
    card.insert("supportedInterfaces".into(), Value::Array(interfaces));
    if let Some(p) = &config.provider {
        card.insert(
            "provider".into(),
            json!({ "organization": p.organization, "url": p.url }),
        );
    }
    for (key, value) in [
        ("documentationUrl", &config.documentation_url),
        ("iconUrl", &config.icon_url),
    ] {
        if let Some(v) = value.as_ref().filter(|v| !v.is_empty()) {
            card.insert(key.into(), json!(v));
        }
    }
    // A2A requires `capabilities`; the one talos adds is an extension saying how this
    // card's signature is bound (a client that does not know it may ignore it).
    card.insert(
        "capabilities".into(),
        json!({ "extensions": [{
            "uri": DID_BINDING,
            "description": "The card's signatures are bound to the DID of its TALOS interface: the key comes from the DID, never from the card",
        }]}),
    );
    card.insert(
        "securitySchemes".into(),
        json!({ SCHEME: { "httpAuthSecurityScheme": {
            "scheme": "talos-capability",
            "description": "A talos capability chain (EdDSA JWS tokens, root first) granting the scopes a skill names, presented over the TALOS interface by the caller's own talos node",
        }}}),
    );
    card.insert("defaultInputModes".into(), json!(["application/json"]));
    card.insert("defaultOutputModes".into(), json!(["application/json"]));
    card.insert(
        "skills".into(),
        Value::Array(config.skills.iter().map(skill).collect()),
    );
    card
}

fn skill(s: &Skill) -> Value {
    let mut v = Map::new();
    v.insert("id".into(), json!(s.id));
    v.insert("name".into(), json!(s.name));
    v.insert("description".into(), json!(s.description));
    // A2A requires tags; a skill without any is tagged with its id.
    if s.tags.is_empty() {
        v.insert("tags".into(), json!([s.id]));
    } else {
        v.insert("tags".into(), json!(s.tags));
    }
    if !s.examples.is_empty() {
        v.insert("examples".into(), json!(s.examples));
    }
    let scopes: Vec<String> = s
        .scope
        .iter()
        .flat_map(|sc| sc.act.iter().map(move |a| format!("{} {a}", sc.res)))
        .collect();
    if !scopes.is_empty() {
        v.insert(
            "securityRequirements".into(),
            json!([{ "schemes": { SCHEME: { "list": scopes } } }]),
        );
    }
    Value::Object(v)
}

/// The DID the card's `TALOS` interface names, if it has one.
pub fn talos_did(card: &Card) -> Option<&str> {
    card.get("supportedInterfaces")?
        .as_array()?
        .iter()
        .find(|i| i.get("protocolBinding").and_then(Value::as_str) == Some(TALOS_BINDING))?
        .get("url")?
        .as_str()
}
