//! Chain RPC URLs in logs and errors: scheme, host and port only.
//!
//! An RPC URL can carry credentials (`user:pw@`), an API key in its path (`/v3/KEY`) or
//! query, and transport errors quote the full URL. Every error and log line of the
//! backends goes through these two functions, so none of that leaves the process.

/// `scheme://host[:port]` of a URL, without userinfo, path, query or fragment.
pub fn endpoint_of(url: &str) -> String {
    match url.split_once("://") {
        Some((scheme, rest)) => {
            let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
            let host = host.rsplit('@').next().unwrap_or_default();
            format!("{scheme}://{host}")
        }
        None => "<invalid url>".into(),
    }
}

/// Replaces every URL in `text` by its [`endpoint_of`].
pub fn scrub(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("://") {
        // The scheme: the letters, digits, `+`, `-` and `.` just before `://`.
        let scheme_start = rest[..at]
            .rfind(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.')))
            .map_or(0, |i| i + 1);
        // The URL ends at whitespace or a character that commonly closes a quote.
        let end = rest[at + 3..]
            .find(|c: char| c.is_whitespace() || matches!(c, ')' | '"' | '\'' | '>' | ',' | ']'))
            .map_or(rest.len(), |i| at + 3 + i);
        out.push_str(&rest[..scheme_start]);
        out.push_str(&endpoint_of(&rest[scheme_start..end]));
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_hide_paths_and_credentials() {
        assert_eq!(
            endpoint_of("https://user:pw@rpc.example:8545/v3/SECRETKEY?x=1"),
            "https://rpc.example:8545"
        );
        assert_eq!(endpoint_of("ws://127.0.0.1:9000"), "ws://127.0.0.1:9000");
        assert_eq!(endpoint_of("nonsense"), "<invalid url>");
    }

    #[test]
    fn scrub_hides_every_url_in_a_text() {
        let s = scrub(
            "error sending request for url (http://h:1/KEY) then wss://u:SECRET@n:9944/p?TOKEN=1, done",
        );
        assert_eq!(
            s,
            "error sending request for url (http://h:1) then wss://n:9944, done"
        );
        assert_eq!(scrub("no url here"), "no url here");
        assert_eq!(scrub("://odd"), "://odd");
    }
}
