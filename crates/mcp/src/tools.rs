//! The tools: what an MCP host sees (name, description, input schema) and the local API
//! request each becomes. The schemas mirror the API's request bodies (`docs/api.md`,
//! `crates/node/api/openapi.json`); the node checks every argument again, so a schema is
//! a guide for the model, not the guard.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use reqwest::Method;
use serde_json::{Map, Value, json};

/// One tool as listed to the host.
#[derive(Debug, Clone)]
pub struct ToolDef {
    /// The tool's name.
    pub name: &'static str,
    /// What it does, for the model.
    pub description: &'static str,
    /// Its JSON Schema (an object schema).
    pub schema: Value,
}

/// A local API request a tool call becomes.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiRequest {
    /// The HTTP method.
    pub method: Method,
    /// The path and query (`/v1/...`).
    pub path: String,
    /// The JSON body, if any.
    pub body: Option<Value>,
}

/// Arguments a tool cannot use: an MCP tool error of kind `bad_request`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ArgError {
    /// No tool has this name.
    #[error("no tool named {0:?}")]
    UnknownTool(String),
    /// A required argument is missing or has the wrong type.
    #[error("argument `{0}` is required and must be {1}")]
    Missing(&'static str, &'static str),
    /// An argument has the wrong type or form.
    #[error("argument `{0}` must be {1}")]
    Invalid(&'static str, &'static str),
}

fn object(props: Value, required: &[&str]) -> Value {
    json!({ "type": "object", "properties": props, "required": required })
}

fn did() -> Value {
    json!({ "type": "string", "description": "a DID (did:key:z6Mk...)" })
}

fn caps() -> Value {
    json!({
        "type": "array",
        "description": "grants: {res: resource pattern (talos://booking/*), act: [actions], cav: caveats {max: {arg: n}, eq: {arg: value}}}",
        "items": {
            "type": "object",
            "required": ["res", "act"],
            "properties": {
                "res": { "type": "string" },
                "act": { "type": "array", "items": { "type": "string" } },
                "cav": { "type": "object" }
            }
        }
    })
}

fn cursor(what: &str) -> Value {
    json!({
        "after": { "type": "integer", "minimum": 0, "description": what },
        "max": { "type": "integer", "minimum": 1, "maximum": 1024 },
        "waitMs": { "type": "integer", "minimum": 0, "maximum": 30000, "description": "long-poll up to this long when nothing is there yet" }
    })
}

/// Every tool, in the order they are listed.
pub fn all() -> Vec<ToolDef> {
    let t = |name, description, schema| ToolDef {
        name,
        description,
        schema,
    };
    let mut read = cursor("first inbox index to return (0: from the start)");
    if let Some(m) = read.as_object_mut() {
        m.remove("after");
        m.insert("from".into(), json!({ "type": "integer", "minimum": 0 }));
    }
    vec![
        t(
            "send_message",
            "Send a message to another agent, end-to-end encrypted. Durable once this returns: the node delivers it exactly once, in order, even across restarts.",
            object(
                json!({ "to": did(), "text": { "type": "string", "description": "UTF-8 text" }, "data": { "type": "string", "description": "or raw bytes, base64" } }),
                &["to"],
            ),
        ),
        t(
            "read_messages",
            "Read messages from this agent's inbox, oldest first. Each has its sender's DID, a seq, and the text (or base64 data when it is not UTF-8).",
            object(read, &[]),
        ),
        t(
            "list_peers",
            "List the peers this node is connected to.",
            object(json!({}), &[]),
        ),
        t(
            "resolve_did",
            "Resolve a DID: its DID document and its registration on the anchoring chain.",
            object(json!({ "did": did() }), &["did"]),
        ),
        t(
            "invoke_agent",
            "Call another agent's resource under a capability chain (`chain`, root first) or within a transaction (`txn` to start one, `within` to continue the call being handled). The callee's node checks scope, caveats, expiry, revocation, rate and replay before its agent sees the call.",
            object(
                json!({
                    "to": did(),
                    "resource": { "type": "string", "description": "talos://service/path" },
                    "action": { "type": "string" },
                    "args": { "type": "object" },
                    "chain": { "type": "array", "items": { "type": "string" }, "description": "capability tokens (compact JWS), root first" },
                    "txn": { "type": "object", "description": "start a transaction: {purpose, azd: [grants], ttl}" },
                    "within": { "type": "integer", "description": "the id of the call being handled, to call onward within its transaction" },
                    "azd": caps()
                }),
                &["to", "resource", "action"],
            ),
        ),
        t(
            "list_calls",
            "List calls other agents made to this agent that wait for an answer (callee side).",
            object(cursor("return calls with a larger id"), &[]),
        ),
        t(
            "answer_call",
            "Answer a call: exactly one of `result` (any JSON) or `error` (a message).",
            object(
                json!({ "id": { "type": "integer" }, "result": {}, "error": { "type": "string" } }),
                &["id"],
            ),
        ),
        t(
            "issue_capability",
            "Issue a capability token to another agent (this agent is the root issuer).",
            object(
                json!({ "to": did(), "cap": caps(), "ttl": { "type": "integer", "minimum": 1, "description": "seconds" } }),
                &["to", "cap"],
            ),
        ),
        t(
            "delegate_capability",
            "Delegate part of a capability this agent holds: the new token narrows `parent` (the chain, root first).",
            object(
                json!({ "parent": { "type": "array", "items": { "type": "string" } }, "to": did(), "cap": caps(), "ttl": { "type": "integer", "minimum": 1 } }),
                &["parent", "to", "cap"],
            ),
        ),
        t(
            "revoke_capability",
            "Revoke a capability token this agent issued, by its id (`jti`, 32 hex digits). Durable before this returns, then gossiped and written to the chain.",
            object(
                json!({ "id": { "type": "string", "pattern": "^[0-9a-f]{32}$" } }),
                &["id"],
            ),
        ),
        t(
            "list_approvals",
            "List the calls other agents' nodes hold until this agent approves them (capabilities with an `apv` caveat): each has an `id`, the holder, the caller, the resource and action, and the SHA-256 of the arguments.",
            object(json!({}), &[]),
        ),
        t(
            "approve_call",
            "Approve a held call by its request `id` (32 hex digits): this agent signs the approval, it is audited and sent to the node holding the call, which runs the call when the caller sends it again.",
            object(
                json!({ "id": { "type": "string", "pattern": "^[0-9a-f]{32}$" } }),
                &["id"],
            ),
        ),
        t(
            "decline_call",
            "Decline a held call by its request `id`: forgotten here; the node holding it refuses it (`not_approved`) when its request lapses.",
            object(
                json!({ "id": { "type": "string", "pattern": "^[0-9a-f]{32}$" } }),
                &["id"],
            ),
        ),
        t(
            "report_agent",
            "Sign a misbehaviour report about another agent (`kind`: refused_storm, bad_answer, broken_attestation, protocol_violation or operator_report; `evidence`: up to 8 leaf hashes of this agent's audit events). It is audited and gossiped; nodes that trust this agent lower the subject's reputation.",
            object(
                json!({
                    "subject": did(),
                    "kind": { "type": "string", "enum": ["refused_storm", "bad_answer", "broken_attestation", "protocol_violation", "operator_report"] },
                    "evidence": { "type": "array", "items": { "type": "string", "pattern": "^[0-9a-f]{64}$" }, "maxItems": 8 }
                }),
                &["subject", "kind"],
            ),
        ),
        t(
            "get_reputation",
            "A DID's reputation score (0..=1000) as this node computes it from the misbehaviour reports it holds.",
            object(json!({ "did": did() }), &["did"]),
        ),
        t(
            "audit_checkpoint",
            "This agent's latest signed audit checkpoint (a C2SP signed note) and its verifier key.",
            object(json!({}), &[]),
        ),
        t(
            "audit_proof",
            "An RFC 9162 inclusion proof of audit event `index` in the tree of `size` (default: the latest).",
            object(
                json!({ "index": { "type": "integer", "minimum": 0 }, "size": { "type": "integer", "minimum": 1 } }),
                &["index"],
            ),
        ),
    ]
}

fn get<'a>(args: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
    args.get(key).filter(|v| !v.is_null())
}

fn string(args: &Map<String, Value>, key: &'static str) -> Result<String, ArgError> {
    get(args, key)
        .and_then(Value::as_str)
        .map(str::to_string)
        .ok_or(ArgError::Missing(key, "a string"))
}

fn uint(args: &Map<String, Value>, key: &'static str) -> Result<Option<u64>, ArgError> {
    match get(args, key) {
        None => Ok(None),
        Some(v) => v
            .as_u64()
            .map(Some)
            .ok_or(ArgError::Invalid(key, "a non-negative integer")),
    }
}

/// `?a=1&b=2` from the arguments that are present (all integers, so nothing to escape).
fn query(args: &Map<String, Value>, keys: &[&'static str]) -> Result<String, ArgError> {
    let mut parts = Vec::new();
    for k in keys {
        if let Some(n) = uint(args, k)? {
            parts.push(format!("{k}={n}"));
        }
    }
    Ok(if parts.is_empty() {
        String::new()
    } else {
        format!("?{}", parts.join("&"))
    })
}

/// The body with only the named keys (a host may add its own; the API refuses unknown
/// fields, so they are dropped here rather than turned into a refusal).
fn pick(args: &Map<String, Value>, keys: &[&str]) -> Value {
    Value::Object(
        keys.iter()
            .filter_map(|k| get(args, k).map(|v| ((*k).to_string(), v.clone())))
            .collect(),
    )
}

/// A DID as one path segment: DIDs are `did:method:id` with id characters from the
/// DID Core ABNF, of which only `%` and `/`-free forms reach here; anything else is
/// refused rather than escaped.
fn did_segment(args: &Map<String, Value>) -> Result<String, ArgError> {
    let d = string(args, "did")?;
    let ok = d.starts_with("did:")
        && d.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b':' | b'.' | b'-' | b'_'));
    if ok {
        Ok(d)
    } else {
        Err(ArgError::Invalid("did", "a DID (did:method:id)"))
    }
}

/// A request id for a path segment: exactly 32 lowercase hex digits.
fn request_id(args: &Map<String, Value>) -> Result<String, ArgError> {
    let id = string(args, "id")?;
    if id.len() == 32
        && id
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    {
        Ok(id)
    } else {
        Err(ArgError::Invalid("id", "32 lowercase hex digits"))
    }
}

fn post(path: impl Into<String>, body: Value) -> ApiRequest {
    ApiRequest {
        method: Method::POST,
        path: path.into(),
        body: Some(body),
    }
}

fn get_req(path: impl Into<String>) -> ApiRequest {
    ApiRequest {
        method: Method::GET,
        path: path.into(),
        body: None,
    }
}

/// The API request for a call of tool `name` with `args`.
pub fn request(name: &str, args: &Map<String, Value>) -> Result<ApiRequest, ArgError> {
    Ok(match name {
        "send_message" => {
            let data = match (get(args, "text"), get(args, "data")) {
                (Some(Value::String(t)), None) => B64.encode(t.as_bytes()),
                (None, Some(Value::String(d))) => d.clone(),
                _ => return Err(ArgError::Invalid("text", "given, or `data`, not both")),
            };
            post(
                "/v1/messages",
                json!({ "to": string(args, "to")?, "data": data }),
            )
        }
        "read_messages" => get_req(format!(
            "/v1/messages{}",
            query(args, &["from", "max", "waitMs"])?
        )),
        "list_peers" => get_req("/v1/peers"),
        "resolve_did" => get_req(format!("/v1/dids/{}", did_segment(args)?)),
        "invoke_agent" => {
            for k in ["to", "resource", "action"] {
                string(args, k)?;
            }
            let keys = [
                "to", "resource", "action", "args", "chain", "txn", "within", "azd",
            ];
            post("/v1/invoke", pick(args, &keys))
        }
        "list_calls" => get_req(format!(
            "/v1/calls{}",
            query(args, &["after", "max", "waitMs"])?
        )),
        "answer_call" => {
            let id = uint(args, "id")?.ok_or(ArgError::Missing("id", "an integer"))?;
            post(format!("/v1/calls/{id}"), pick(args, &["result", "error"]))
        }
        "issue_capability" => post("/v1/capabilities", pick(args, &["to", "cap", "ttl"])),
        "delegate_capability" => post(
            "/v1/capabilities/delegate",
            pick(args, &["parent", "to", "cap", "ttl"]),
        ),
        "revoke_capability" => post(
            "/v1/capabilities/revoke",
            json!({ "id": string(args, "id")? }),
        ),
        "list_approvals" => get_req("/v1/approvals"),
        "approve_call" => post(format!("/v1/approvals/{}", request_id(args)?), json!({})),
        "decline_call" => ApiRequest {
            method: Method::DELETE,
            path: format!("/v1/approvals/{}", request_id(args)?),
            body: None,
        },
        "report_agent" => {
            for k in ["subject", "kind"] {
                string(args, k)?;
            }
            post("/v1/reports", pick(args, &["subject", "kind", "evidence"]))
        }
        "get_reputation" => get_req(format!("/v1/reputation/{}", did_segment(args)?)),
        "audit_checkpoint" => get_req("/v1/audit/checkpoint"),
        "audit_proof" => {
            uint(args, "index")?.ok_or(ArgError::Missing("index", "an integer"))?;
            get_req(format!(
                "/v1/audit/proof{}",
                query(args, &["index", "size"])?
            ))
        }
        other => return Err(ArgError::UnknownTool(other.to_string())),
    })
}

/// Adds `text` beside the base64 `data` of each message that is UTF-8, so a model reads
/// messages without decoding them.
pub fn with_text(mut answer: Value) -> Value {
    if let Some(messages) = answer.get_mut("messages").and_then(Value::as_array_mut) {
        for m in messages {
            let text = m
                .get("data")
                .and_then(Value::as_str)
                .and_then(|d| B64.decode(d).ok())
                .and_then(|b| String::from_utf8(b).ok());
            if let (Some(t), Some(obj)) = (text, m.as_object_mut()) {
                obj.insert("text".into(), Value::String(t));
            }
        }
    }
    answer
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap()
    }

    #[test]
    fn every_listed_tool_has_a_request_and_an_object_schema() {
        let tools = all();
        assert_eq!(tools.len(), 17);
        for t in &tools {
            assert_eq!(t.schema["type"], "object", "{}", t.name);
            // Unknown-tool is the only error that names no argument.
            assert!(
                !matches!(request(t.name, &Map::new()), Err(ArgError::UnknownTool(_))),
                "{}",
                t.name
            );
        }
        assert_eq!(
            request("rm_rf", &Map::new()),
            Err(ArgError::UnknownTool("rm_rf".into()))
        );
    }

    #[test]
    fn send_message_encodes_text_and_refuses_both_or_neither() {
        let r = request(
            "send_message",
            &args(json!({"to": "did:key:z6Mk", "text": "hi"})),
        )
        .unwrap();
        assert_eq!(r.body.unwrap()["data"], "aGk=");
        assert!(request("send_message", &args(json!({"to": "did:key:z6Mk"}))).is_err());
        assert!(
            request(
                "send_message",
                &args(json!({"to": "did:key:z6Mk", "text": "a", "data": "YQ=="}))
            )
            .is_err()
        );
    }

    #[test]
    fn paths_carry_no_injected_segments() {
        assert!(request("resolve_did", &args(json!({"did": "did:key:../../v1/x"}))).is_err());
        assert!(request("resolve_did", &args(json!({"did": "did:key:a?b"}))).is_err());
        assert!(request("read_messages", &args(json!({"from": "1&max=9"}))).is_err());
        let r = request("read_messages", &args(json!({"from": 3, "waitMs": 10}))).unwrap();
        assert_eq!(r.path, "/v1/messages?from=3&waitMs=10");
        assert!(request("approve_call", &args(json!({"id": "../x"}))).is_err());
        assert!(request("decline_call", &args(json!({"id": "AB".repeat(16)}))).is_err());
        let r = request("decline_call", &args(json!({"id": "ab".repeat(16)}))).unwrap();
        assert_eq!(
            (r.method, r.path),
            (Method::DELETE, format!("/v1/approvals/{}", "ab".repeat(16)))
        );
        assert!(request("get_reputation", &args(json!({"did": "did:key:a/b"}))).is_err());
    }

    #[test]
    fn text_is_added_only_for_utf8() {
        let v = with_text(json!({"messages": [{"data": "aGk="}, {"data": "/w=="}]}));
        assert_eq!(v["messages"][0]["text"], "hi");
        assert!(v["messages"][1].get("text").is_none());
    }
}
