//! [`ApiClient`]: one typed client of the node's local API, for `talos agent ...` and the
//! test kit alike. It finds the API where `talos up` says it is (`<home>/api-addr`, else
//! `config.toml`), over the home's Unix socket or loopback TCP, with the home's token.

use std::path::Path;
use std::time::Duration;

use serde_json::Value;

use crate::home::Home;

/// Why the client could not be built or the node could not be reached.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The home has no usable configuration (`talos init` writes it).
    #[error("the node's configuration is not usable")]
    Config(#[source] crate::config::ConfigError),
    /// The home has no usable API token (`talos init` writes it).
    #[error("the node's API token is not usable (run `talos init`)")]
    Token(#[source] crate::home::HomeError),
    /// The HTTP client could not be built.
    #[error("building the HTTP client: {0}")]
    Build(reqwest::Error),
    /// The node did not answer (is `talos up` running?).
    #[error("reaching the node's API at {url} (is `talos up` running?): {source}")]
    Unreachable {
        /// The API's base URL.
        url: String,
        /// What failed.
        source: reqwest::Error,
    },
}

/// A client of one node's local API.
#[derive(Clone)]
pub struct ApiClient {
    http: reqwest::Client,
    url: String,
    token: String,
}

impl std::fmt::Debug for ApiClient {
    // The token is a secret: never printed.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiClient")
            .field("url", &self.url)
            .finish_non_exhaustive()
    }
}

impl ApiClient {
    /// The API of the node at `home`: the address the running node wrote, else the
    /// configured one, and the home's token.
    pub fn open(home: &Home) -> Result<Self, ClientError> {
        let addr = match std::fs::read_to_string(home.api_addr_file()) {
            Ok(a) => a.trim().to_string(),
            Err(_) => {
                crate::config::FileConfig::load(&home.config())
                    .map_err(ClientError::Config)?
                    .api
            }
        };
        let token = home.load_token().map_err(ClientError::Token)?;
        Self::new(&addr, &home.api_socket(), token)
    }

    /// The API at `addr`: `unix` (the socket at `default_socket`), `unix:PATH`, or
    /// `HOST:PORT` (loopback TCP). Over a socket the URL's host is only the Host header.
    pub fn new(addr: &str, default_socket: &Path, token: String) -> Result<Self, ClientError> {
        let builder = reqwest::Client::builder().timeout(Duration::from_secs(90));
        let (builder, url) = match addr
            .strip_prefix("unix:")
            .or((addr == "unix").then_some(""))
        {
            Some("") => (
                builder.unix_socket(default_socket.to_path_buf()),
                "http://localhost".to_string(),
            ),
            Some(path) => (
                builder.unix_socket(std::path::PathBuf::from(path)),
                "http://localhost".to_string(),
            ),
            None => (builder, format!("http://{addr}")),
        };
        Ok(ApiClient {
            http: builder.build().map_err(ClientError::Build)?,
            url,
            token,
        })
    }

    /// One request: the HTTP status and the JSON body (`Null` when there is none). An
    /// error answer is a status and a problem document, not an `Err`.
    pub async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<(u16, Value), ClientError> {
        let mut req = self
            .http
            .request(method, format!("{}{path}", self.url))
            .bearer_auth(&self.token);
        if let Some(b) = body {
            req = req.json(b);
        }
        let resp = req
            .send()
            .await
            .map_err(|source| ClientError::Unreachable {
                url: self.url.clone(),
                source,
            })?;
        let status = resp.status().as_u16();
        Ok((status, resp.json().await.unwrap_or(Value::Null)))
    }

    /// The API's base URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The bearer token.
    pub fn token(&self) -> &str {
        &self.token
    }

    /// The underlying HTTP client (for requests `call` does not cover, such as a
    /// WebSocket upgrade's URL or a streaming body).
    pub fn http(&self) -> &reqwest::Client {
        &self.http
    }
}
