//! HTTP Digest authentication as SIP uses it (RFC 3261 §22, RFC 2617 with MD5): answering a
//! `401 WWW-Authenticate` or `407 Proxy-Authenticate` challenge from the trunk.

use md5::{Digest as _, Md5};
use std::fmt::Write as _;

/// A challenge's parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Challenge {
    /// Protection space.
    pub realm: String,
    /// Server nonce.
    pub nonce: String,
    /// Echoed back untouched.
    pub opaque: Option<String>,
    /// Whether the server offered `qop=auth`.
    pub qop_auth: bool,
    /// `MD5` (the only one accepted here).
    pub algorithm: String,
    /// The server says the last nonce was stale: retry without asking for new credentials.
    pub stale: bool,
}

impl Challenge {
    /// Parses `Digest realm="…", nonce="…", …`; `None` for other schemes or algorithms.
    pub fn parse(header: &str) -> Option<Challenge> {
        let rest = header.trim();
        let (scheme, params) = rest.split_once(char::is_whitespace)?;
        if !scheme.eq_ignore_ascii_case("Digest") {
            return None;
        }
        let mut challenge = Challenge {
            realm: String::new(),
            nonce: String::new(),
            opaque: None,
            qop_auth: false,
            algorithm: "MD5".into(),
            stale: false,
        };
        for item in super::message::split_list(params) {
            let Some((key, value)) = item.split_once('=') else {
                continue;
            };
            let value = value.trim().trim_matches('"');
            match key.trim().to_ascii_lowercase().as_str() {
                "realm" => challenge.realm = value.to_owned(),
                "nonce" => challenge.nonce = value.to_owned(),
                "opaque" => challenge.opaque = Some(value.to_owned()),
                "qop" => {
                    challenge.qop_auth = value
                        .split(',')
                        .any(|q| q.trim().eq_ignore_ascii_case("auth"))
                }
                "algorithm" => challenge.algorithm = value.to_owned(),
                "stale" => challenge.stale = value.eq_ignore_ascii_case("true"),
                _ => {}
            }
        }
        (!challenge.nonce.is_empty() && challenge.algorithm.eq_ignore_ascii_case("MD5"))
            .then_some(challenge)
    }

    /// The `Authorization`/`Proxy-Authorization` value for `method` on `uri`. `cnonce` is a
    /// fresh random string; `nc` counts uses of this nonce.
    pub fn answer(
        &self,
        username: &str,
        password: &str,
        method: &str,
        uri: &str,
        cnonce: &str,
        nc: u32,
    ) -> String {
        let ha1 = md5_hex(&format!("{username}:{}:{password}", self.realm));
        let ha2 = md5_hex(&format!("{method}:{uri}"));
        let nc = format!("{nc:08x}");
        let response = if self.qop_auth {
            md5_hex(&format!("{ha1}:{}:{nc}:{cnonce}:auth:{ha2}", self.nonce))
        } else {
            md5_hex(&format!("{ha1}:{}:{ha2}", self.nonce))
        };
        let mut value = format!(
            "Digest username=\"{username}\", realm=\"{}\", nonce=\"{}\", uri=\"{uri}\", response=\"{response}\", algorithm=MD5",
            self.realm, self.nonce
        );
        if self.qop_auth {
            let _ = write!(value, ", cnonce=\"{cnonce}\", nc={nc}, qop=auth");
        }
        if let Some(opaque) = &self.opaque {
            let _ = write!(value, ", opaque=\"{opaque}\"");
        }
        value
    }
}

fn md5_hex(input: &str) -> String {
    let digest = Md5::digest(input.as_bytes());
    let mut out = String::with_capacity(32);
    for byte in digest {
        let _ = write!(out, "{byte:02x}");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rfc_2617_example_gives_its_published_response() {
        let challenge = Challenge::parse(
            "Digest realm=\"testrealm@host.com\", qop=\"auth,auth-int\", \
             nonce=\"dcd98b7102dd2f0e8b11d0f600bfb0c093\", opaque=\"5ccc069c403ebaf9f0171e9517f40e41\"",
        )
        .unwrap();
        assert!(challenge.qop_auth);
        let answer = challenge.answer(
            "Mufasa",
            "Circle Of Life",
            "GET",
            "/dir/index.html",
            "0a4f113b",
            1,
        );
        assert!(
            answer.contains("response=\"6629fae49393a05397450978507c4ef1\""),
            "{answer}"
        );
        assert!(answer.contains("nc=00000001"));
        assert!(answer.contains("opaque=\"5ccc069c403ebaf9f0171e9517f40e41\""));
    }

    #[test]
    fn a_challenge_without_qop_uses_the_rfc_2069_form() {
        let challenge =
            Challenge::parse("Digest realm=\"sip.example\", nonce=\"abc\", algorithm=MD5").unwrap();
        let answer = challenge.answer("pol", "secret", "INVITE", "sip:0912@sip.example", "x", 1);
        let ha1 = md5_hex("pol:sip.example:secret");
        let ha2 = md5_hex("INVITE:sip:0912@sip.example");
        let expected = md5_hex(&format!("{ha1}:abc:{ha2}"));
        assert!(answer.contains(&format!("response=\"{expected}\"")));
        assert!(!answer.contains("qop"));
    }

    #[test]
    fn other_schemes_and_algorithms_are_not_answered() {
        assert_eq!(Challenge::parse("Basic realm=\"x\""), None);
        assert_eq!(
            Challenge::parse("Digest realm=\"x\", nonce=\"n\", algorithm=SHA-256-sess"),
            None
        );
        assert_eq!(Challenge::parse("Digest realm=\"x\""), None);
        assert_eq!(Challenge::parse(""), None);
    }
}
