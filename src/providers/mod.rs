//! The managed-account provider's daily work: invoices (recorded, disputed, paid through the
//! payment path, imported from CSV), personal assistants' timesheets and payroll runs, and the
//! provider's monthly fee.

pub mod csv_columns;
pub mod fees;
pub mod invoice_csv;
pub mod invoice_import;
pub mod invoices;
pub mod payroll;
pub mod payroll_csv;
pub mod returns;
pub mod timesheets;
