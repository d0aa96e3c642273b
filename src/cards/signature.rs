//! Standard Webhooks signatures (standardwebhooks.com), for the processors' events in and, later,
//! allot's webhooks out: `webhook-signature: v1,<base64 HMAC-SHA256 of "id.timestamp.body">`
//! under a secret written `whsec_<base64 key>`. Verification is constant-time (`ring::hmac::verify`)
//! and refuses timestamps more than five minutes from the caller's clock either way.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use chrono::{DateTime, Utc};
use ring::hmac;

/// How far a signed timestamp may be from now, either way.
pub const TOLERANCE_SECONDS: i64 = 5 * 60;

/// The headers of a signed message, as received.
#[derive(Debug, Clone, Copy)]
pub struct Signed<'a> {
    pub id: &'a str,
    pub timestamp: &'a str,
    pub signature: &'a str,
    pub body: &'a [u8],
}

/// Why a signed message was not accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("the webhook-id, webhook-timestamp or webhook-signature header is missing")]
    Missing,
    #[error("the webhook-timestamp is not within five minutes of now")]
    Stale,
    #[error("no signature matches")]
    Mismatch,
}

/// A new secret: 32 random bytes.
pub fn new_key() -> Result<Vec<u8>, ring::error::Unspecified> {
    let mut key = vec![0u8; 32];
    ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut key)?;
    Ok(key)
}

/// The secret as shown to whoever keeps it: `whsec_` and the key in base64.
pub fn secret_text(key: &[u8]) -> String {
    format!("whsec_{}", STANDARD.encode(key))
}

/// The key of a `whsec_` secret (the prefix is optional, as in the reference libraries).
pub fn parse_secret(secret: &str) -> Option<Vec<u8>> {
    let encoded = secret.strip_prefix("whsec_").unwrap_or(secret);
    STANDARD.decode(encoded).ok().filter(|k| !k.is_empty())
}

fn signed_content(id: &str, timestamp: &str, body: &[u8]) -> Vec<u8> {
    let mut content = Vec::with_capacity(id.len() + timestamp.len() + body.len() + 2);
    content.extend_from_slice(id.as_bytes());
    content.push(b'.');
    content.extend_from_slice(timestamp.as_bytes());
    content.push(b'.');
    content.extend_from_slice(body);
    content
}

/// The `webhook-signature` header value for a message.
pub fn sign(key: &[u8], id: &str, timestamp: i64, body: &[u8]) -> String {
    let key = hmac::Key::new(hmac::HMAC_SHA256, key);
    let tag = hmac::sign(&key, &signed_content(id, &timestamp.to_string(), body));
    format!("v1,{}", STANDARD.encode(tag.as_ref()))
}

/// Which of `keys` signed the message (its index), if the timestamp is within tolerance of `now`.
/// Every `v1` signature in the header is tried against every key, each compare constant-time.
pub fn verify(
    keys: &[&[u8]],
    signed: &Signed<'_>,
    now: DateTime<Utc>,
) -> Result<usize, SignatureError> {
    if signed.id.is_empty() || signed.timestamp.is_empty() || signed.signature.is_empty() {
        return Err(SignatureError::Missing);
    }
    let timestamp: i64 = signed
        .timestamp
        .trim()
        .parse()
        .map_err(|_| SignatureError::Stale)?;
    if (now.timestamp() - timestamp).abs() > TOLERANCE_SECONDS {
        return Err(SignatureError::Stale);
    }
    let content = signed_content(signed.id, signed.timestamp.trim(), signed.body);
    let tags: Vec<Vec<u8>> = signed
        .signature
        .split_whitespace()
        .filter_map(|part| part.strip_prefix("v1,"))
        .filter_map(|encoded| STANDARD.decode(encoded).ok())
        .collect();
    for (index, key) in keys.iter().enumerate() {
        let key = hmac::Key::new(hmac::HMAC_SHA256, key);
        if tags
            .iter()
            .any(|tag| hmac::verify(&key, &content, tag).is_ok())
        {
            return Ok(index);
        }
    }
    Err(SignatureError::Mismatch)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    // The Standard Webhooks test vector (/work/shared/standards/README.md).
    const SECRET: &str = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD";
    const ID: &str = "msg_27UH4WbU6Z5A5EzD8u03UvzRbpk";
    const TIMESTAMP: i64 = 1649367553;
    const BODY: &str = r#"{"email":"test@example.com","username":"test_user"}"#;
    const SIGNATURE: &str = "v1,tZ1I4/hDygAJgO5TYxiSd6Sd0kDW6hPenDe+bTa3Kkw=";

    fn at(seconds: i64) -> DateTime<Utc> {
        Utc.timestamp_opt(seconds, 0)
            .single()
            .expect("a valid time")
    }

    #[test]
    fn signs_the_test_vector() {
        let key = parse_secret(SECRET).expect("a secret");
        assert_eq!(sign(&key, ID, TIMESTAMP, BODY.as_bytes()), SIGNATURE);
        assert_eq!(secret_text(&key), SECRET);
    }

    #[test]
    fn verifies_within_tolerance_only() {
        let key = parse_secret(SECRET).expect("a secret");
        let other = new_key().expect("random");
        let ts = TIMESTAMP.to_string();
        let signed = Signed {
            id: ID,
            timestamp: &ts,
            signature: &format!("v1,bm9wZQ== {SIGNATURE}"),
            body: BODY.as_bytes(),
        };
        let keys: [&[u8]; 2] = [&other, &key];
        assert_eq!(verify(&keys, &signed, at(TIMESTAMP + 299)), Ok(1));
        assert_eq!(verify(&keys, &signed, at(TIMESTAMP - 299)), Ok(1));
        assert_eq!(
            verify(&keys, &signed, at(TIMESTAMP + 301)),
            Err(SignatureError::Stale)
        );
        assert_eq!(
            verify(&keys[..1], &signed, at(TIMESTAMP)),
            Err(SignatureError::Mismatch)
        );
        let tampered = Signed {
            body: br#"{"email":"test@example.com","username":"test_userx"}"#,
            ..signed
        };
        assert_eq!(
            verify(&keys, &tampered, at(TIMESTAMP)),
            Err(SignatureError::Mismatch)
        );
        let missing = Signed {
            signature: "",
            ..signed
        };
        assert_eq!(
            verify(&keys, &missing, at(TIMESTAMP)),
            Err(SignatureError::Missing)
        );
    }
}
