//! [`NodeServer`]: the rmcp `ServerHandler` that turns MCP tool calls into calls of the
//! node's local API. The tool list is static ([`crate::tools::all`]); a call's answer is
//! the API's JSON as structured content, and a refusal or failure is a tool error whose
//! structured content is the node's problem document, so a host (and its model) can
//! branch on `kind` (`not_authorized`, `revoked`, `peer_not_found`, ...).

use std::sync::Arc;

use rmcp::ErrorData;
use rmcp::handler::server::ServerHandler;
use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, Implementation, JsonObject,
    ListResourcesResult, ListToolsResult, PaginatedRequestParams, ReadResourceRequestParams,
    ReadResourceResponse, ReadResourceResult, RequestParamsMeta, Resource, ResourceContents,
    ServerCapabilities, ServerConfig, Tool,
};
use rmcp::service::{RequestContext, RoleServer};
use serde_json::{Value, json};
use talos_node::client::ApiClient;

use crate::mount::Mount;
use crate::tools::{self, ArgError};

/// The URI of the node's DID document resource.
pub const DID_DOCUMENT_URI: &str = "talos://node/did-document";
/// The URI of the node's latest audit checkpoint resource.
pub const CHECKPOINT_URI: &str = "talos://node/checkpoint";

/// The node as an MCP server.
#[derive(Clone)]
pub struct NodeServer {
    api: ApiClient,
    tools: Arc<Vec<Tool>>,
    mounts: Arc<Vec<Mount>>,
}

impl std::fmt::Debug for NodeServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NodeServer")
            .field("api", &self.api)
            .finish_non_exhaustive()
    }
}

/// A tool error carrying a problem document (`kind`, `status`, `detail`).
pub(crate) fn problem(kind: &str, status: u16, detail: impl Into<String>) -> CallToolResult {
    CallToolResult::structured_error(json!({
        "kind": kind,
        "status": status,
        "detail": detail.into(),
    }))
}

/// The tool error for a problem document the node answered.
pub(crate) fn problem_of(status: u16, body: &Value) -> CallToolResult {
    let kind = body
        .get("kind")
        .and_then(Value::as_str)
        .unwrap_or("unknown");
    let detail = body
        .get("detail")
        .and_then(Value::as_str)
        .unwrap_or_default();
    problem(kind, status, detail)
}

impl NodeServer {
    /// A server over the node whose API `api` reaches, with `mounts`: peers' proxied
    /// servers whose tools it lists and forwards as `NAME.tool`.
    pub fn with_mounts(api: ApiClient, mounts: Vec<Mount>) -> Self {
        NodeServer {
            mounts: Arc::new(mounts),
            ..Self::new(api)
        }
    }

    /// A server over the node whose API `api` reaches.
    pub fn new(api: ApiClient) -> Self {
        let tools = tools::all()
            .into_iter()
            .map(|t| {
                let schema: JsonObject = match t.schema {
                    Value::Object(m) => m,
                    _ => JsonObject::new(),
                };
                Tool::new(t.name, t.description, Arc::new(schema))
            })
            .collect();
        NodeServer {
            api,
            tools: Arc::new(tools),
            mounts: Arc::new(Vec::new()),
        }
    }

    /// Runs one tool call against the API. Every outcome is a `CallToolResult`: the
    /// node being down is a tool error of kind `unavailable`, not a protocol error, so
    /// the host shows the model why.
    pub async fn call(&self, name: &str, args: &JsonObject) -> CallToolResult {
        let req = match tools::request(name, args) {
            Ok(r) => r,
            Err(e @ ArgError::UnknownTool(_)) => {
                return problem("unknown_tool", 404, e.to_string());
            }
            Err(e) => return problem("bad_request", 400, e.to_string()),
        };
        match self
            .api
            .call(req.method, &req.path, req.body.as_ref())
            .await
        {
            Ok((status, body)) if (200..300).contains(&status) => {
                let body = match body {
                    _ if name == "read_messages" => tools::with_text(body),
                    Value::Object(_) => body,
                    // MCP's structured content is an object; a list answer is wrapped.
                    other => json!({ "items": other }),
                };
                CallToolResult::structured(body)
            }
            Ok((status, body)) => problem_of(status, &body),
            Err(e) => problem("unavailable", 503, e.to_string()),
        }
    }

    async fn resource(&self, uri: &str) -> Result<ResourceContents, ErrorData> {
        let fetch = |path: &'static str| async move {
            match self.api.call(reqwest::Method::GET, path, None).await {
                Ok((200, body)) => Ok(body),
                Ok((status, body)) => Err(ErrorData::internal_error(
                    format!("the node answered {status}"),
                    Some(body),
                )),
                Err(e) => Err(ErrorData::internal_error(e.to_string(), None)),
            }
        };
        match uri {
            DID_DOCUMENT_URI => {
                let node = fetch("/v1/node").await?;
                let did = node.get("did").and_then(Value::as_str).unwrap_or_default();
                let key = talos_identity::did_key::decode(did)
                    .map_err(|e| ErrorData::internal_error(e.to_string(), None))?;
                let doc = talos_identity::did_key::document(
                    &key,
                    talos_identity::did_key::KeyFormat::Multikey,
                )
                .map_err(|e| ErrorData::internal_error(e.to_string(), None))?;
                let text = serde_json::to_string_pretty(&doc)
                    .map_err(|e| ErrorData::internal_error(e.to_string(), None))?;
                Ok(ResourceContents::text(text, uri).with_mime_type("application/did+json"))
            }
            CHECKPOINT_URI => {
                let cp = fetch("/v1/audit/checkpoint").await?;
                let note = cp
                    .get("note")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string();
                Ok(ResourceContents::text(note, uri).with_mime_type("text/plain; charset=utf-8"))
            }
            _ => Err(ErrorData::resource_not_found(
                format!("no resource {uri:?}"),
                None,
            )),
        }
    }
}

impl ServerHandler for NodeServer {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(
            ServerCapabilities::builder()
                .enable_tools()
                .enable_resources()
                .build(),
        )
        .with_server_info(Implementation::new("talos", env!("CARGO_PKG_VERSION")))
        .with_instructions(
            "Tools of this agent's talos node: encrypted messages to other agents, calls \
             under capabilities, capability issue/delegate/revoke, and audit proofs. A \
             refusal is a tool error whose `kind` says why.",
        )
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, ErrorData> {
        let mut tools = self.tools.to_vec();
        // A mount that cannot be listed (the peer unreachable, the chain refused) lists
        // nothing; its calls still say why.
        for m in self.mounts.iter() {
            match m.tools(&self.api).await {
                Ok(t) => tools.extend(t),
                Err(e) => {
                    tracing::warn!(mount = %m.name, error = ?e.structured_content, "mount not listed")
                }
            }
        }
        Ok(ListToolsResult::with_all_items(tools))
    }

    fn get_tool(&self, name: &str) -> Option<Tool> {
        self.tools.iter().find(|t| t.name == name).cloned()
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        let traceparent = request.traceparent().map(str::to_owned);
        let args = request.arguments.unwrap_or_default();
        if let Some((name, tool)) = request.name.split_once('.')
            && let Some(m) = self.mounts.iter().find(|m| m.name == name)
        {
            return Ok(m
                .call(&self.api, tool, args, traceparent.as_deref())
                .await
                .into());
        }
        Ok(self.call(&request.name, &args).await.into())
    }

    async fn list_resources(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListResourcesResult, ErrorData> {
        Ok(ListResourcesResult::with_all_items(vec![
            Resource::new(DID_DOCUMENT_URI, "did-document")
                .with_description("This agent's DID document (W3C DID Core, did:key)")
                .with_mime_type("application/did+json"),
            Resource::new(CHECKPOINT_URI, "checkpoint")
                .with_description("This agent's latest signed audit checkpoint (C2SP signed note)")
                .with_mime_type("text/plain; charset=utf-8"),
        ]))
    }

    async fn read_resource(
        &self,
        request: ReadResourceRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<ReadResourceResponse, ErrorData> {
        let contents = self.resource(&request.uri).await?;
        Ok(ReadResourceResult::new(vec![contents]).into())
    }
}
