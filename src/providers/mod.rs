//! The managed-account provider's daily work: invoices (recorded, disputed, paid through the
//! payment path, imported from CSV) and personal assistants' timesheets.

pub mod invoice_csv;
pub mod invoice_import;
pub mod invoices;
pub mod timesheets;
