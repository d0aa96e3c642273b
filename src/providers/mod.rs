//! The managed-account provider's daily work: invoices (recorded, disputed, paid through the
//! payment path).

pub mod invoices;
