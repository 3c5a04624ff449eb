//! Bearer-token authentication with scopes (`ingest`, `read`, `admin`).
//!
//! Tokens come from environment variables or files named in `server.auth`, never from the YAML
//! itself. Only their SHA-256 digests are kept; a presented token is hashed and compared with
//! every configured digest in constant time (`subtle`), so neither the token's content nor which
//! token matched shows in the response time, and comparing fixed-size digests hides the length.

use std::path::Path;

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::config::{AuthSpec, Problem, Scope};

/// Shortest accepted token: 16 bytes of randomness is the floor for a guess-proof secret.
pub const MIN_TOKEN_BYTES: usize = 16;

/// The resolved tokens.
#[derive(Debug, Clone)]
pub struct Auth {
    tokens: Vec<Token>,
}

#[derive(Clone)]
struct Token {
    name: String,
    scopes: Vec<Scope>,
    digest: [u8; 32],
}

impl std::fmt::Debug for Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Token")
            .field("name", &self.name)
            .field("scopes", &self.scopes)
            .finish_non_exhaustive()
    }
}

/// Why a request was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Denied {
    /// No `Authorization: Bearer …` header (401).
    Missing,
    /// A bearer token that matches no configured token (401).
    Invalid,
    /// A valid token without the needed scope (403).
    Forbidden,
}

impl Auth {
    /// Reads every token (`env` looks up environment variables; files are relative to
    /// `base_dir`). Reports every unreadable, empty or too short token by its key path.
    pub fn resolve(
        spec: &AuthSpec,
        base_dir: &Path,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, Vec<Problem>> {
        let mut problems = Vec::new();
        let mut tokens = Vec::new();
        for (i, t) in spec.tokens.iter().enumerate() {
            let at = format!("server.auth.tokens[{i}]");
            let secret = match (&t.from_env, &t.from_file) {
                (Some(var), None) => env(var).ok_or_else(|| {
                    Problem::new(
                        format!("{at}.from_env"),
                        format!("environment variable {var} is not set"),
                    )
                }),
                (None, Some(file)) => {
                    let path = base_dir.join(file);
                    std::fs::read_to_string(&path).map_err(|e| {
                        Problem::new(
                            format!("{at}.from_file"),
                            format!("cannot read {}: {e}", path.display()),
                        )
                    })
                }
                // Reported by config validation.
                _ => continue,
            };
            match secret.map(|s| s.trim().to_owned()) {
                Ok(s) if s.len() < MIN_TOKEN_BYTES => problems.push(Problem::new(
                    &at,
                    format!(
                        "token {:?} is {} bytes; use at least {MIN_TOKEN_BYTES} random bytes \
                         (e.g. `openssl rand -hex 32`)",
                        t.name,
                        s.len()
                    ),
                )),
                Ok(s) => tokens.push(Token {
                    name: t.name.clone(),
                    scopes: t.scopes.clone(),
                    digest: Sha256::digest(s.as_bytes()).into(),
                }),
                Err(p) => problems.push(p),
            }
        }
        if problems.is_empty() {
            Ok(Self { tokens })
        } else {
            Err(problems)
        }
    }

    /// Checks an `Authorization` header value for `needed`; returns the token's name.
    pub fn authorize(&self, header: Option<&[u8]>, needed: Scope) -> Result<&str, Denied> {
        let presented = header
            .and_then(|h| {
                let (scheme, rest) = h.split_at_checked(7)?;
                scheme.eq_ignore_ascii_case(b"bearer ").then_some(rest)
            })
            .map(<[u8]>::trim_ascii)
            .filter(|t| !t.is_empty())
            .ok_or(Denied::Missing)?;
        let digest: [u8; 32] = Sha256::digest(presented).into();
        // Look at every token, so the time taken does not say which one matched.
        let mut found = None;
        for token in &self.tokens {
            if bool::from(token.digest.ct_eq(&digest)) {
                found = Some(token);
            }
        }
        let token = found.ok_or(Denied::Invalid)?;
        if token.scopes.contains(&needed) {
            Ok(&token.name)
        } else {
            Err(Denied::Forbidden)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::TokenSpec;

    fn spec(tokens: &[(&str, &[Scope], &str)]) -> AuthSpec {
        AuthSpec {
            tokens: tokens
                .iter()
                .map(|(name, scopes, var)| TokenSpec {
                    name: (*name).into(),
                    scopes: scopes.to_vec(),
                    from_env: Some((*var).into()),
                    from_file: None,
                })
                .collect(),
        }
    }

    #[test]
    fn scopes_decide_and_bad_tokens_are_named() {
        let env = |v: &str| match v {
            "A" => Some("ingest-token-0123456789\n".into()),
            "B" => Some("read-token-0123456789".into()),
            _ => None,
        };
        let auth = Auth::resolve(
            &spec(&[
                ("svc", &[Scope::Ingest], "A"),
                ("prom", &[Scope::Read], "B"),
            ]),
            Path::new("."),
            env,
        )
        .unwrap();
        let bearer = |t: &str| format!("Bearer {t}");
        let ok = bearer("ingest-token-0123456789");
        assert_eq!(
            auth.authorize(Some(ok.as_bytes()), Scope::Ingest),
            Ok("svc")
        );
        assert_eq!(
            auth.authorize(Some(ok.as_bytes()), Scope::Read),
            Err(Denied::Forbidden)
        );
        let lower = "bearer read-token-0123456789";
        assert_eq!(
            auth.authorize(Some(lower.as_bytes()), Scope::Read),
            Ok("prom")
        );
        for bad in ["Bearer nope-nope-nope-nope", "Basic abc", "Bearer ", ""] {
            assert!(
                auth.authorize(Some(bad.as_bytes()), Scope::Read).is_err(),
                "{bad}"
            );
        }
        assert_eq!(auth.authorize(None, Scope::Read), Err(Denied::Missing));

        let short = |_: &str| Some("short".to_owned());
        let problems =
            Auth::resolve(&spec(&[("x", &[Scope::Read], "S")]), Path::new("."), short).unwrap_err();
        assert!(problems[0].message.contains("5 bytes"), "{problems:?}");
        let unset = Auth::resolve(&spec(&[("x", &[Scope::Read], "NOPE")]), Path::new("."), env)
            .unwrap_err();
        assert_eq!(unset[0].path, "server.auth.tokens[0].from_env");
    }
}
