//! Reading an HTTP answer's body with a byte cap. Every server these clients talk to
//! (a log, a witness, an aggregator, an agent card's host) is a stranger's, so no body
//! is read past what its format can need.

/// Why a body was not read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BodyError {
    /// The body goes past the cap (how much of it arrived is not said: it is unbounded).
    #[error("an answer larger than {max} bytes")]
    TooLarge {
        /// The cap.
        max: usize,
    },
    /// The connection failed while reading (the URL is left out: it may carry
    /// credentials).
    #[error("reading the answer: {0}")]
    Read(String),
}

/// The body of `r`, at most `max` bytes; a longer one is [`BodyError::TooLarge`] as soon
/// as its first byte past the cap arrives.
pub async fn read_bounded(r: &mut reqwest::Response, max: usize) -> Result<Vec<u8>, BodyError> {
    let mut body = Vec::new();
    while let Some(chunk) = r
        .chunk()
        .await
        .map_err(|e| BodyError::Read(e.without_url().to_string()))?
    {
        if body.len().saturating_add(chunk.len()) > max {
            return Err(BodyError::TooLarge { max });
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}
