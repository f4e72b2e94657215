//! talos-mcp: the node as a [Model Context Protocol](https://modelcontextprotocol.io)
//! server, so any MCP host (a desktop assistant, an agent framework) uses its talos node
//! through tools instead of raw HTTP.
//!
//! `talos mcp serve` runs beside `talos up` and reaches the node through its local API
//! with the home's token ([`talos_node::client::ApiClient`]), so everything a tool does
//! passes the same checks, audit and quotas as an API call. Over stdio (what hosts launch)
//! or over streamable HTTP on loopback ([`http`]), which refuses a non-loopback `Host`
//! or a foreign `Origin` (DNS rebinding) and requires the node's API token.
//!
//! Modules:
//! - [`tools`]: the tool table: each tool's name, description, JSON schema, and the API
//!   request it becomes;
//! - [`server`]: [`NodeServer`], the rmcp `ServerHandler`: tools and the two resources
//!   (the node's DID document and its latest checkpoint);
//! - [`http`]: the streamable HTTP listener and its guards;
//! - [`proxy`]: `talos mcp proxy`, an upstream MCP server offered to remote agents
//!   under capabilities (tool-definition pins in `proxy::pins`);
//! - [`mount`]: the caller's side, a peer's proxied tools listed and called as
//!   `NAME.tool`.
//!
//! A refusal or failure of the node is an MCP *tool error* whose structured content is
//! the node's problem document (`kind`, `status`, `detail`), never a crash of the server.

pub mod http;
pub mod mount;
pub mod proxy;
pub mod server;
pub mod tools;

pub use mount::Mount;
pub use server::NodeServer;
