//! The shape of an API key: `ct_<prefix>_<secret>`. The prefix (12 hex digits) is
//! public and names the key in lists and logs; the secret (256 random bits, 64 hex
//! digits) is shown once and only its SHA-256 is stored. A high-entropy secret needs
//! no slow password hash: one SHA-256 and a constant-time comparison cost about a
//! microsecond per request.

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

const SCHEME: &str = "ct_";
const PREFIX_BYTES: usize = 6;
const SECRET_BYTES: usize = 32;

/// A key as the caller presents it, split into its parts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PresentedKey {
    pub prefix: String,
    secret: [u8; SECRET_BYTES],
}

/// A freshly made key: the text to hand to its owner once, and what is stored.
#[derive(Debug, Clone)]
pub struct NewKey {
    pub prefix: String,
    pub secret_hash: [u8; 32],
    /// The whole key, `ct_<prefix>_<secret>`. Never stored, never logged.
    pub token: String,
}

/// Why a presented key cannot be a key at all.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("malformed API key")]
pub struct Malformed;

impl NewKey {
    /// Draws a prefix and a secret from the operating system's CSPRNG.
    pub fn generate() -> Result<Self, getrandom::Error> {
        let mut prefix = [0u8; PREFIX_BYTES];
        let mut secret = [0u8; SECRET_BYTES];
        getrandom::fill(&mut prefix)?;
        getrandom::fill(&mut secret)?;
        let prefix = hex::encode(prefix);
        let token = format!("{SCHEME}{prefix}_{}", hex::encode(secret));
        Ok(Self {
            secret_hash: hash(&secret),
            prefix,
            token,
        })
    }
}

impl PresentedKey {
    /// Splits `ct_<prefix>_<secret>`; anything else is malformed.
    pub fn parse(token: &str) -> Result<Self, Malformed> {
        let rest = token.strip_prefix(SCHEME).ok_or(Malformed)?;
        let (prefix, secret) = rest.split_once('_').ok_or(Malformed)?;
        if prefix.len() != PREFIX_BYTES * 2 || !is_lower_hex(prefix) || !is_lower_hex(secret) {
            return Err(Malformed);
        }
        let mut bytes = [0u8; SECRET_BYTES];
        hex::decode_to_slice(secret, &mut bytes).map_err(|_| Malformed)?;
        Ok(Self {
            prefix: prefix.to_owned(),
            secret: bytes,
        })
    }

    /// Whether this key's secret hashes to `stored`, compared in constant time.
    pub fn matches(&self, stored: &[u8]) -> bool {
        hash(&self.secret).ct_eq(stored).into()
    }
}

fn is_lower_hex(s: &str) -> bool {
    s.bytes()
        .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

fn hash(secret: &[u8]) -> [u8; 32] {
    Sha256::digest(secret).into()
}

/// Whether `text` looks like a key prefix (for `keys revoke <prefix>`).
pub fn is_prefix(text: &str) -> bool {
    text.len() == PREFIX_BYTES * 2 && is_lower_hex(text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn a_generated_key_parses_and_matches_its_hash() -> Result<(), Box<dyn std::error::Error>> {
        let key = NewKey::generate()?;
        assert_eq!(key.token.len(), 3 + 12 + 1 + 64);
        let presented = PresentedKey::parse(&key.token)?;
        assert_eq!(presented.prefix, key.prefix);
        assert!(presented.matches(&key.secret_hash));
        Ok(())
    }

    #[test]
    fn two_keys_differ() -> Result<(), Box<dyn std::error::Error>> {
        let (a, b) = (NewKey::generate()?, NewKey::generate()?);
        assert_ne!(a.prefix, b.prefix);
        assert_ne!(a.secret_hash, b.secret_hash);
        Ok(())
    }

    #[test]
    fn a_changed_secret_does_not_match() -> Result<(), Box<dyn std::error::Error>> {
        let key = NewKey::generate()?;
        let mut token = key.token.clone();
        let last = token
            .pop()
            .map_or('0', |c| if c == '0' { '1' } else { '0' });
        token.push(last);
        assert!(!PresentedKey::parse(&token)?.matches(&key.secret_hash));
        Ok(())
    }

    #[test]
    fn malformed_keys_are_refused() {
        for token in [
            "",
            "ct_",
            "ct_abc",
            "Bearer ct_0123456789ab_00",
            "ct_0123456789AB_0000000000000000000000000000000000000000000000000000000000000000",
            "ct_0123456789ab_000000000000000000000000000000000000000000000000000000000000000",
            "ct_0123456789ab_00000000000000000000000000000000000000000000000000000000000000000",
            "xx_0123456789ab_0000000000000000000000000000000000000000000000000000000000000000",
            "ct_0123456789ab-0000000000000000000000000000000000000000000000000000000000000000",
        ] {
            assert_eq!(PresentedKey::parse(token), Err(Malformed), "{token:?}");
        }
    }

    proptest! {
        #[test]
        fn parsing_never_panics_and_accepts_only_the_exact_shape(token in ".{0,100}") {
            if PresentedKey::parse(&token).is_ok() {
                prop_assert_eq!(token.len(), 80);
                prop_assert!(token.starts_with("ct_"));
            }
        }

        #[test]
        fn any_well_formed_key_round_trips(prefix in "[0-9a-f]{12}", secret in "[0-9a-f]{64}") {
            let token = format!("ct_{prefix}_{secret}");
            let parsed = PresentedKey::parse(&token);
            prop_assert!(parsed.is_ok());
            prop_assert_eq!(parsed.map(|p| p.prefix).unwrap_or_default(), prefix);
        }
    }
}
