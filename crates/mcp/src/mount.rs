//! Mounts, the caller's side of a proxy: `talos mcp serve --mount DID=NAME:CHAIN_FILE`
//! lists the tools a peer's proxy `NAME` offers under the chain in `CHAIN_FILE` (the
//! peer's proxy shows only what the chain allows calling) as this server's own tools,
//! named `NAME.tool`, and forwards their calls as talos calls (`mcp://NAME/tool`, action
//! `call`) through this agent's node: end-to-end encrypted, authorized and audited on
//! both sides.

use std::path::Path;

use reqwest::Method;
use rmcp::model::{CallToolResult, JsonObject, Tool};
use serde_json::{Value, json};
use talos_node::client::ApiClient;

/// A peer's proxied server, mounted under a name.
#[derive(Clone, PartialEq, Eq)]
pub struct Mount {
    /// The peer (a did:key).
    pub did: String,
    /// The proxy's name on the peer (and the prefix of its tools here).
    pub name: String,
    /// The capability chain the calls go under, compact tokens, root first.
    pub chain: Vec<String>,
}

impl std::fmt::Debug for Mount {
    // The chain is a bearer credential only with the holder's key, but it stays out of
    // logs anyway (ids and digests only).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mount")
            .field("did", &self.did)
            .field("name", &self.name)
            .field("chain_len", &self.chain.len())
            .finish()
    }
}

/// A `--mount` that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum MountError {
    /// Not `DID=NAME:FILE`.
    #[error("a mount is DID=NAME:CHAIN_FILE (did:key:z...=fs:/path/to/chain.txt): {0:?}")]
    Syntax(String),
    /// The DID is not a did:key.
    #[error("the mount's DID is not a did:key: {0}")]
    Did(String),
    /// The name is not a proxy name.
    #[error("a mount name is 1 to 63 characters of a-z, 0-9 and -: {0:?}")]
    Name(String),
    /// The chain file cannot be read or holds no token.
    #[error("the chain file {path}: {detail}")]
    Chain {
        /// The file.
        path: String,
        /// Why.
        detail: String,
    },
}

impl Mount {
    /// Parses `DID=NAME:FILE` and reads the chain (tokens separated by whitespace).
    pub fn parse(spec: &str) -> Result<Mount, MountError> {
        let (did, rest) = spec
            .split_once('=')
            .ok_or_else(|| MountError::Syntax(spec.into()))?;
        let (name, file) = rest
            .split_once(':')
            .ok_or_else(|| MountError::Syntax(spec.into()))?;
        talos_identity::did_key::decode(did).map_err(|e| MountError::Did(e.to_string()))?;
        if !crate::proxy::name_ok(name) {
            return Err(MountError::Name(name.into()));
        }
        let text = std::fs::read_to_string(Path::new(file)).map_err(|e| MountError::Chain {
            path: file.into(),
            detail: e.to_string(),
        })?;
        let chain: Vec<String> = text.split_whitespace().map(str::to_owned).collect();
        if chain.is_empty() {
            return Err(MountError::Chain {
                path: file.into(),
                detail: "no token in it".into(),
            });
        }
        Ok(Mount {
            did: did.into(),
            name: name.into(),
            chain,
        })
    }

    async fn invoke(
        &self,
        api: &ApiClient,
        resource: String,
        action: &str,
        args: JsonObject,
        traceparent: Option<&str>,
    ) -> Result<Value, CallToolResult> {
        let body = json!({
            "to": self.did, "chain": self.chain, "resource": resource, "action": action,
            "args": args, "traceparent": traceparent,
        });
        match api.call(Method::POST, "/v1/invoke", Some(&body)).await {
            Ok((200, answer)) => Ok(answer.get("result").cloned().unwrap_or(Value::Null)),
            Ok((status, problem)) => Err(crate::server::problem_of(status, &problem)),
            Err(e) => Err(crate::server::problem("unavailable", 503, e.to_string())),
        }
    }

    /// The peer's tools this mount may call, named `NAME.tool`.
    pub async fn tools(&self, api: &ApiClient) -> Result<Vec<Tool>, CallToolResult> {
        let answer = self
            .invoke(
                api,
                format!("mcp://{}", self.name),
                "list",
                JsonObject::new(),
                None,
            )
            .await?;
        let listed = answer.get("tools").cloned().unwrap_or(Value::Null);
        let tools: Vec<Tool> = serde_json::from_value(listed).unwrap_or_default();
        Ok(tools
            .into_iter()
            .take(crate::proxy::MAX_TOOLS)
            .map(|mut t| {
                t.name = format!("{}.{}", self.name, t.name).into();
                t
            })
            .collect())
    }

    /// Calls the peer's `tool`: its `CallToolResult`, or a tool error with the kind.
    pub async fn call(
        &self,
        api: &ApiClient,
        tool: &str,
        args: JsonObject,
        traceparent: Option<&str>,
    ) -> CallToolResult {
        let resource = format!("mcp://{}/{tool}", self.name);
        match self.invoke(api, resource, "call", args, traceparent).await {
            Ok(result) => serde_json::from_value(result).unwrap_or_else(|e| {
                crate::server::problem(
                    "upstream_error",
                    502,
                    format!("the peer's answer is not a tool result: {e}"),
                )
            }),
            Err(problem) => problem,
        }
    }
}
