//! Evidence on postings (RULES.md `evidence_required`; issue 11 §1): files attached to payments,
//! content-addressed by SHA-256 and kept behind [`EvidenceStore`]; the list of payments still
//! waiting for theirs; and a budget's evidence pack for auditors.

pub mod attach;
pub mod csv;
pub mod file;
pub mod missing;
pub mod pack;
pub mod retention;
pub mod store;

pub use attach::{attach, attachable_payment, fetch, of_payment, Attachment, StoredFile};
pub use file::{EvidenceFile, EvidenceKind, FileRefusal, MediaType, MAX_EVIDENCE_BYTES};
pub use missing::{missing, MissingEvidence};
pub use pack::evidence_pack;
pub use store::{EvidenceStore, PgEvidenceStore, Purged, SharedEvidenceStore};
