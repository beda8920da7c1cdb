//! The agent's bearer token: read from a file (a mounted Secret), sent by the poller, checked by
//! the server, never printed.

use std::path::Path;

use anyhow::{Context, Result, bail};

/// Token files larger than this are refused (a token is a line, not a document).
const MAX_FILE: u64 = 4096;

#[derive(Clone, PartialEq, Eq)]
pub struct Token(String);

impl std::fmt::Debug for Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Token(<redacted>)")
    }
}

impl Token {
    /// The file's content without surrounding whitespace; empty, unreadable or oversized files
    /// are errors that name the file (never its content).
    pub fn from_file(path: &Path) -> Result<Token> {
        let len = std::fs::metadata(path)
            .with_context(|| format!("cannot read token file {}", path.display()))?
            .len();
        if len > MAX_FILE {
            bail!("token file {} is {len} bytes; a token is at most {MAX_FILE}", path.display());
        }
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read token file {}", path.display()))?;
        Token::new(text.trim()).with_context(|| format!("token file {}", path.display()))
    }

    pub fn new(token: &str) -> Result<Token> {
        if token.is_empty() {
            bail!("the token is empty");
        }
        if !token.bytes().all(|b| b.is_ascii_graphic()) {
            bail!("the token has spaces or characters that cannot go in an HTTP header");
        }
        Ok(Token(token.to_string()))
    }

    /// The `Authorization` header value.
    pub fn header(&self) -> String {
        format!("Bearer {}", self.0)
    }

    /// Whether an `Authorization` header carries this token. Compares every byte whatever the
    /// first difference, so the time taken does not tell how much of a guess was right.
    pub fn accepts(&self, authorization: Option<&[u8]>) -> bool {
        let Some(presented) = authorization.and_then(|h| h.strip_prefix(b"Bearer ")) else { return false };
        let want = self.0.as_bytes();
        presented.len() == want.len() && presented.iter().zip(want).fold(0u8, |d, (a, b)| d | (a ^ b)) == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn read_checked_and_never_printed() {
        let dir = std::env::temp_dir().join(format!("ct-token-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let f = dir.join("token");
        std::fs::write(&f, "s3cret-Token\n").unwrap();
        let t = Token::from_file(&f).unwrap();
        assert_eq!(format!("{t:?}"), "Token(<redacted>)");
        assert!(t.accepts(Some(b"Bearer s3cret-Token")));
        for bad in
            [&b"Bearer s3cret-Toke"[..], b"Bearer s3cret-Tokenx", b"s3cret-Token", b"Basic s3cret-Token", b""]
        {
            assert!(!t.accepts(Some(bad)), "{:?}", String::from_utf8_lossy(bad));
        }
        assert!(!t.accepts(None));
        std::fs::write(&f, " \n").unwrap();
        let e = format!("{:#}", Token::from_file(&f).unwrap_err());
        assert!(e.contains("empty") && e.contains("token"), "{e}");
        std::fs::write(&f, "two words").unwrap();
        assert!(Token::from_file(&f).is_err());
        std::fs::write(&f, "x".repeat(5000)).unwrap();
        assert!(format!("{:#}", Token::from_file(&f).unwrap_err()).contains("at most"));
        assert!(Token::from_file(&dir.join("missing")).is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
