//! The tokens file: one line per token, `ROLE NAME SHA256HEX`, where the
//! hex is the SHA-256 of the token (the file never holds a token itself),
//! and fresh tokens made for it.

use std::fmt;
use std::path::Path;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ring::digest::{SHA256, digest};
use ring::rand::{SecureRandom, SystemRandom};
use subtle::ConstantTimeEq;

use crate::auth::{Caller, Role};

/// Longest token name: names show in logs and error messages.
pub const MAX_NAME_LEN: usize = 64;
/// Random bytes of a fresh token (256 bits).
const TOKEN_BYTES: usize = 32;

/// A line of the tokens file that is wrong.
#[derive(Debug, thiserror::Error)]
pub enum TokensError {
    #[error("cannot read the tokens file {path}: {source}")]
    Read { path: String, source: std::io::Error },
    #[error("line {line}: {problem}")]
    Line { line: usize, problem: String },
    #[error("the tokens file holds no token: add a line `ROLE NAME SHA256HEX` (see `scrape-server token new`)")]
    Empty,
    #[error("no randomness available for a token")]
    Random,
}

/// One token the server accepts: who presents it, and the SHA-256 of it.
struct Entry {
    caller: Caller,
    digest: [u8; 32],
}

/// The tokens the server accepts. Its `Debug` shows names and roles only.
pub struct Tokens {
    entries: Vec<Entry>,
}

impl fmt::Debug for Tokens {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.entries.iter().map(|e| (&e.caller.name, e.caller.role))).finish()
    }
}

impl Tokens {
    /// Reads a tokens file.
    pub fn read(path: &Path) -> Result<Tokens, TokensError> {
        let text = std::fs::read_to_string(path)
            .map_err(|source| TokensError::Read { path: path.display().to_string(), source })?;
        Tokens::parse(&text)
    }

    /// Parses the text of a tokens file: blank lines and lines starting with
    /// `#` are skipped; names are unique.
    pub fn parse(text: &str) -> Result<Tokens, TokensError> {
        let mut entries: Vec<Entry> = Vec::new();
        for (i, line) in text.lines().enumerate() {
            let line_no = i + 1;
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let bad = |problem: String| TokensError::Line { line: line_no, problem };
            let fields: Vec<&str> = line.split_whitespace().collect();
            let [role, name, hex] = fields[..] else {
                return Err(bad(format!("expected `ROLE NAME SHA256HEX`, found {} field(s)", fields.len())));
            };
            let role =
                Role::from_name(role).ok_or_else(|| bad(format!("unknown role {role:?}: viewer or operator")))?;
            check_name(name).map_err(|problem| bad(problem.to_owned()))?;
            let digest = parse_digest(hex).ok_or_else(|| {
                bad("the third field must be the 64 lowercase hex digits of the token's SHA-256".to_owned())
            })?;
            if entries.iter().any(|e| e.caller.name == name) {
                return Err(bad(format!("the name {name:?} is already used by an earlier line")));
            }
            entries.push(Entry { caller: Caller { name: name.to_owned(), role }, digest });
        }
        if entries.is_empty() {
            return Err(TokensError::Empty);
        }
        Ok(Tokens { entries })
    }

    /// The caller presenting `token`, if it is one of ours. Its digest is
    /// compared with every entry's, in constant time, so the answer takes
    /// as long whichever entry (or none) matches.
    pub fn verify(&self, token: &str) -> Option<&Caller> {
        let presented = sha256(token.as_bytes());
        let mut found = None;
        for entry in &self.entries {
            if bool::from(entry.digest.ct_eq(&presented)) {
                found = Some(&entry.caller);
            }
        }
        found
    }

    /// Whether a caller with this name and role is still in the file.
    pub fn has(&self, name: &str, role: Role) -> bool {
        self.entries.iter().any(|e| e.caller.name == name && e.caller.role == role)
    }
}

/// A token name: letters, digits, `.`, `_` and `-`, so that it can stand in
/// a line of the file, a log field and a session without quoting.
pub fn check_name(name: &str) -> Result<(), &'static str> {
    if name.is_empty() || name.len() > MAX_NAME_LEN {
        return Err("the name must be 1 to 64 characters");
    }
    if !name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')) {
        return Err("the name may hold only letters, digits, '.', '_' and '-'");
    }
    Ok(())
}

fn parse_digest(hex: &str) -> Option<[u8; 32]> {
    if hex.len() != 64 || !hex.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)) {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).ok()?;
    }
    Some(out)
}

fn sha256(bytes: &[u8]) -> [u8; 32] {
    let mut out = [0u8; 32];
    out.copy_from_slice(digest(&SHA256, bytes).as_ref());
    out
}

/// Lowercase hex of the SHA-256 of `token`: the third field of its line.
pub fn digest_hex(token: &str) -> String {
    sha256(token.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

/// A token just made, and the line that lets the server accept it.
#[derive(Debug)]
pub struct NewToken {
    /// To give to the client, once: the server keeps only its digest.
    pub token: String,
    /// `ROLE NAME SHA256HEX`, to add to the tokens file.
    pub line: String,
}

/// A fresh random token (256 bits, url-safe base64) for `name` with `role`.
pub fn new_token(role: Role, name: &str) -> Result<NewToken, TokensError> {
    check_name(name).map_err(|problem| TokensError::Line { line: 0, problem: problem.to_owned() })?;
    let mut bytes = [0u8; TOKEN_BYTES];
    SystemRandom::new().fill(&mut bytes).map_err(|_| TokensError::Random)?;
    let token = URL_SAFE_NO_PAD.encode(bytes);
    let line = format!("{} {name} {}", role.as_str(), digest_hex(&token));
    Ok(NewToken { token, line })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_token_is_accepted_by_the_line_made_for_it_and_by_nothing_else() {
        let made = new_token(Role::Viewer, "grafana").expect("a token");
        assert!(made.line.starts_with("viewer grafana "), "{}", made.line);
        let tokens = Tokens::parse(&format!("# dashboards\n\n{}\n", made.line)).expect("valid");
        let caller = tokens.verify(&made.token).expect("accepted");
        assert_eq!((caller.name.as_str(), caller.role), ("grafana", Role::Viewer));
        assert!(tokens.verify("").is_none());
        assert!(tokens.verify(&format!("{}x", made.token)).is_none());
        assert!(!made.line.contains(&made.token), "the file never holds the token");
        let other = new_token(Role::Viewer, "grafana").expect("a token");
        assert_ne!(made.token, other.token);
    }

    #[test]
    fn the_sha256_of_a_known_token_is_its_line() {
        // echo -n secret | sha256sum
        let tokens = Tokens::parse("operator ci 2bb80d537b1da3e38bd30361aa855686bde0eacd7162fef6a25fe97bf527a25b")
            .expect("valid");
        assert_eq!(tokens.verify("secret").map(|c| c.role), Some(Role::Operator));
    }

    #[test]
    fn bad_lines_are_refused_with_their_number() {
        let digest = digest_hex("t");
        for (text, line) in [
            ("admin x ".to_owned() + &digest, 1),
            (format!("# c\nviewer a {digest}\nviewer b"), 3),
            (format!("viewer a {}", digest.to_uppercase()), 1),
            (format!("viewer a {digest}\noperator a {}", digest_hex("u")), 2),
            (format!("viewer a/b {digest}"), 1),
        ] {
            match Tokens::parse(&text) {
                Err(TokensError::Line { line: got, .. }) => assert_eq!(got, line, "{text}"),
                other => panic!("{text}: {other:?}"),
            }
        }
        assert!(matches!(Tokens::parse("# nothing\n"), Err(TokensError::Empty)));
    }

    #[test]
    fn debug_output_shows_names_and_roles_only() {
        let tokens = Tokens::parse(&format!("operator ci {}", digest_hex("secret"))).expect("valid");
        let shown = format!("{tokens:?}");
        assert!(shown.contains("ci") && !shown.contains(&digest_hex("secret")[..16]), "{shown}");
    }
}
