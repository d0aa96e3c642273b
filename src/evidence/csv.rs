//! Just enough CSV for the files allot writes (RFC 4180 quoting). A cell that a spreadsheet would
//! run as a formula (`=`, `+`, `-`, `@` first) is written with a leading apostrophe, unless it is
//! a number.

/// One CSV line (ending CRLF) of `cells`.
pub fn line<I, S>(cells: I) -> String
where
    I: IntoIterator<Item = S>,
    S: AsRef<str>,
{
    let mut out = String::new();
    for (i, cell) in cells.into_iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(&cell_text(cell.as_ref()));
    }
    out.push_str("\r\n");
    out
}

fn cell_text(cell: &str) -> String {
    let is_number = cell.parse::<f64>().is_ok();
    let guarded = if !is_number && cell.starts_with(['=', '+', '-', '@']) {
        format!("'{cell}")
    } else {
        cell.to_owned()
    };
    if guarded.contains([',', '"', '\r', '\n']) {
        format!("\"{}\"", guarded.replace('"', "\"\""))
    } else {
        guarded
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn quotes_and_guards() {
        assert_eq!(
            super::line(["a", "b,c", "d\"e"]),
            "a,\"b,c\",\"d\"\"e\"\r\n"
        );
        assert_eq!(super::line(["=1+1", "-12.50"]), "'=1+1,-12.50\r\n");
    }
}
