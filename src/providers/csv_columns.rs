//! The header row of the providers' CSV files: each heading one of the file's known columns
//! (trimmed, any case), every required column present, none twice.

use crate::error::{AppError, AppResult, Detail};

/// A heading as shown back in an error: control characters replaced, at most 64 characters.
pub fn shown(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { '\u{fffd}' } else { c })
        .take(64)
        .collect()
}

/// The header's column names, in order, checked against `required` and `optional`: 400 naming
/// an unknown column, a column given twice, or every missing one.
pub fn columns(
    header: &csv::ByteRecord,
    required: &[&'static str],
    optional: &[&'static str],
) -> AppResult<Vec<&'static str>> {
    let mut names = Vec::with_capacity(header.len());
    for raw in header {
        let text = String::from_utf8_lossy(raw).trim().to_lowercase();
        let Some(name) = required
            .iter()
            .chain(optional.iter())
            .find(|c| **c == text)
            .copied()
        else {
            let shown = shown(&text);
            return Err(AppError::Invalid {
                message: format!(
                    "Unknown column \"{shown}\": the columns are {} and optionally {}.",
                    required.join(", "),
                    optional.join(", ")
                ),
                details: vec![Detail::field(shown, "unknown column")],
            });
        };
        if names.contains(&name) {
            return Err(AppError::invalid(name, "this column appears twice"));
        }
        names.push(name);
    }
    let missing: Vec<&str> = required
        .iter()
        .filter(|c| !names.contains(c))
        .copied()
        .collect();
    if !missing.is_empty() {
        return Err(AppError::Invalid {
            message: format!("The file has no {} column.", missing.join(", ")),
            details: missing
                .iter()
                .map(|c| Detail::field(*c, "missing column"))
                .collect(),
        });
    }
    Ok(names)
}
