//! What an evidence file is before it is stored: its kind, its declared media type, and a check
//! that the bytes are what the type says (by their magic bytes, never by the header alone).

use std::fmt;
use std::str::FromStr;

use bytes::Bytes;
use ring::digest;
use serde::{Deserialize, Serialize};

/// Files larger than this are refused (10 MB).
pub const MAX_EVIDENCE_BYTES: usize = 10 * 1024 * 1024;

/// What the file shows about the payment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum EvidenceKind {
    Receipt,
    Invoice,
    Timesheet,
    BankStatement,
    Other,
}

impl EvidenceKind {
    pub fn as_str(self) -> &'static str {
        match self {
            EvidenceKind::Receipt => "receipt",
            EvidenceKind::Invoice => "invoice",
            EvidenceKind::Timesheet => "timesheet",
            EvidenceKind::BankStatement => "bank_statement",
            EvidenceKind::Other => "other",
        }
    }
}

impl FromStr for EvidenceKind {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, ()> {
        Ok(match s {
            "receipt" => EvidenceKind::Receipt,
            "invoice" => EvidenceKind::Invoice,
            "timesheet" => EvidenceKind::Timesheet,
            "bank_statement" => EvidenceKind::BankStatement,
            "other" => EvidenceKind::Other,
            _ => return Err(()),
        })
    }
}

/// The media types evidence may have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MediaType {
    Pdf,
    Jpeg,
    Png,
    Heic,
    Text,
    Csv,
}

impl MediaType {
    pub const ALL: [MediaType; 6] = [
        MediaType::Pdf,
        MediaType::Jpeg,
        MediaType::Png,
        MediaType::Heic,
        MediaType::Text,
        MediaType::Csv,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            MediaType::Pdf => "application/pdf",
            MediaType::Jpeg => "image/jpeg",
            MediaType::Png => "image/png",
            MediaType::Heic => "image/heic",
            MediaType::Text => "text/plain",
            MediaType::Csv => "text/csv",
        }
    }

    /// The file-name extension used in evidence packs.
    pub fn extension(self) -> &'static str {
        match self {
            MediaType::Pdf => "pdf",
            MediaType::Jpeg => "jpg",
            MediaType::Png => "png",
            MediaType::Heic => "heic",
            MediaType::Text => "txt",
            MediaType::Csv => "csv",
        }
    }

    /// A `Content-Type` header value (parameters such as `charset` are ignored).
    pub fn from_header(value: &str) -> Option<Self> {
        let mime = value.split(';').next()?.trim().to_ascii_lowercase();
        MediaType::ALL.into_iter().find(|m| m.as_str() == mime)
    }

    /// Whether `bytes` start as a file of this type does.
    fn matches(self, bytes: &[u8]) -> bool {
        match self {
            MediaType::Pdf => bytes.starts_with(b"%PDF-"),
            MediaType::Jpeg => bytes.starts_with(&[0xFF, 0xD8, 0xFF]),
            MediaType::Png => bytes.starts_with(&[0x89, 0x50, 0x4E, 0x47]),
            MediaType::Heic => bytes
                .get(4..12)
                .is_some_and(|brand| [&b"ftypheic"[..], b"ftypheix", b"ftypmif1"].contains(&brand)),
            MediaType::Text | MediaType::Csv => std::str::from_utf8(bytes).is_ok_and(|text| {
                !text
                    .chars()
                    .any(|c| c.is_control() && !matches!(c, '\t' | '\r' | '\n'))
            }),
        }
    }
}

impl fmt::Display for MediaType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for MediaType {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, ()> {
        MediaType::from_header(s).ok_or(())
    }
}

/// Why a file cannot be evidence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileRefusal {
    /// Over [`MAX_EVIDENCE_BYTES`].
    TooLarge,
    /// Not one of the accepted types, or the bytes are not what the type says.
    UnsupportedType(String),
}

/// A file checked to be what its media type says, with its SHA-256.
#[derive(Debug, Clone)]
pub struct EvidenceFile {
    pub media_type: MediaType,
    pub sha256: String,
    pub bytes: Bytes,
}

impl EvidenceFile {
    /// Checks the declared `Content-Type` against the bytes.
    pub fn check(content_type: Option<&str>, bytes: Bytes) -> Result<Self, FileRefusal> {
        if bytes.len() > MAX_EVIDENCE_BYTES {
            return Err(FileRefusal::TooLarge);
        }
        let accepted =
            "Send a PDF, JPEG, PNG, HEIC, plain-text or CSV file with its own Content-Type.";
        let media_type = content_type
            .and_then(MediaType::from_header)
            .ok_or_else(|| FileRefusal::UnsupportedType(accepted.into()))?;
        if bytes.is_empty() || !media_type.matches(&bytes) {
            return Err(FileRefusal::UnsupportedType(format!(
                "The file is not a {media_type} file (its first bytes say otherwise). {accepted}"
            )));
        }
        Ok(EvidenceFile {
            media_type,
            sha256: sha256_hex(&bytes),
            bytes,
        })
    }
}

/// Lower-case hex SHA-256.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(digest::digest(&digest::SHA256, bytes))
}

/// Whether `text` could be a SHA-256 as we write them (64 lower-case hex digits).
pub fn is_sha256(text: &str) -> bool {
    text.len() == 64 && text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(ct: &str, bytes: &[u8]) -> Result<MediaType, FileRefusal> {
        EvidenceFile::check(Some(ct), Bytes::copy_from_slice(bytes)).map(|f| f.media_type)
    }

    #[test]
    fn magic_bytes_decide() {
        assert_eq!(check("application/pdf", b"%PDF-1.7\n"), Ok(MediaType::Pdf));
        assert_eq!(
            check("image/jpeg", &[0xFF, 0xD8, 0xFF, 0xE0]),
            Ok(MediaType::Jpeg)
        );
        assert_eq!(check("image/png", b"\x89PNG\r\n\x1a\n"), Ok(MediaType::Png));
        assert_eq!(
            check("image/heic", b"\0\0\0\x18ftypheic"),
            Ok(MediaType::Heic)
        );
        assert_eq!(
            check("image/heic", b"\0\0\0\x18ftypmif1"),
            Ok(MediaType::Heic)
        );
        assert_eq!(
            check("text/csv; charset=utf-8", b"a,b\r\n1,2\n"),
            Ok(MediaType::Csv)
        );
        assert!(check("application/pdf", b"\x89PNG").is_err());
        assert!(check("image/png", b"%PDF-").is_err());
        assert!(check("text/plain", b"bell\x07").is_err());
        assert!(check("text/plain", b"\xff\xfe").is_err());
        assert!(check("text/plain", b"").is_err());
        assert!(check("application/zip", b"PK\x03\x04").is_err());
        assert!(EvidenceFile::check(None, Bytes::from_static(b"%PDF-")).is_err());
    }

    #[test]
    fn too_large_is_refused_before_the_type() {
        let big = Bytes::from(vec![b'a'; MAX_EVIDENCE_BYTES + 1]);
        assert_eq!(
            EvidenceFile::check(Some("text/plain"), big).err(),
            Some(FileRefusal::TooLarge)
        );
    }
}
