//! Reducing free text to the Bacs character set.
//!
//! Bacs carries only upper-case `A`–`Z`, digits `0`–`9`, space and the four symbols `.` `&` `/`
//! `-`. Anything else in a name or reference makes the whole submission fail validation, so
//! text is folded rather than rejected: lower case is upper-cased, accented Latin letters lose
//! their accents (`Siân` → `SIAN`, `Ø` → `O`, `ß` → `SS`), separators become spaces, and
//! whatever is left (quotes, apostrophes, emoji, other scripts) is dropped. Runs of spaces are
//! collapsed and the ends trimmed so an 18-character field keeps as much meaning as it can.

/// Cleans `input` to the Bacs character set as described in the module notes.
///
/// The result is ASCII, so its length in bytes equals its length in characters.
pub fn clean_bacs_text(input: &str) -> String {
    let mut out = String::with_capacity(input.len());
    for c in input.chars() {
        match map_char(c) {
            Mapped::Keep(k) => out.push(k),
            Mapped::Expand(s) => out.push_str(s),
            Mapped::Space => out.push(' '),
            Mapped::Drop => {}
        }
    }
    collapse_spaces(&out)
}

enum Mapped {
    Keep(char),
    Expand(&'static str),
    Space,
    Drop,
}

fn map_char(c: char) -> Mapped {
    match c {
        'A'..='Z' | '0'..='9' | '.' | '&' | '/' | '-' => Mapped::Keep(c),
        'a'..='z' => Mapped::Keep(c.to_ascii_uppercase()),
        // Dashes that word processors substitute for a hyphen.
        '\u{2010}'..='\u{2015}' | '\u{2212}' => Mapped::Keep('-'),
        // Apostrophes and quotes vanish so that O'BRIEN reads OBRIEN, not O BRIEN.
        '\'' | '"' | '`' | '\u{2018}'..='\u{201F}' | '\u{00B4}' => Mapped::Drop,
        // Punctuation that separates words keeps the words apart.
        '_' | ',' | ';' | ':' | '+' | '(' | ')' | '[' | ']' | '{' | '}' | '|' | '\\' | '!'
        | '?' | '*' | '#' | '@' | '=' | '~' | '<' | '>' | '^' | '%' | '$' => Mapped::Space,
        c if c.is_whitespace() => Mapped::Space,
        c => fold_latin(c).map_or(Mapped::Drop, Mapped::Expand),
    }
}

/// Strips accents from the Latin-1 Supplement and Latin Extended-A letters, which cover the
/// names a UK council meets most (Welsh, Irish, European). Other scripts have no faithful
/// ASCII form, so they are dropped and the emptiness check catches a name that vanishes.
fn fold_latin(c: char) -> Option<&'static str> {
    let folded = match c {
        'À'..='Å' | 'à'..='å' | 'Ā'..='ą' => "A",
        'Æ' | 'æ' => "AE",
        'Ç' | 'ç' | 'Ć'..='č' => "C",
        'È'..='Ë' | 'è'..='ë' | 'Ē'..='ě' => "E",
        'Ì'..='Ï' | 'ì'..='ï' | 'Ĩ'..='ı' => "I",
        'Ð' | 'ð' | 'Ď'..='đ' => "D",
        'Ñ' | 'ñ' | 'Ń'..='ŋ' => "N",
        'Ò'..='Ö' | 'Ø' | 'ò'..='ö' | 'ø' | 'Ō'..='ő' => "O",
        'Ù'..='Ü' | 'ù'..='ü' | 'Ũ'..='ų' => "U",
        'Ý' | 'ý' | 'ÿ' | 'Ŷ'..='Ÿ' => "Y",
        'Þ' | 'þ' => "TH",
        'ß' => "SS",
        'Ĝ'..='ģ' => "G",
        'Ĥ'..='ħ' => "H",
        'Ĳ' | 'ĳ' => "IJ",
        'Ĵ' | 'ĵ' => "J",
        'Ķ'..='ĸ' => "K",
        'Ĺ'..='ł' => "L",
        'Œ' | 'œ' => "OE",
        'Ŕ'..='ř' => "R",
        'Ś'..='š' | 'ſ' => "S",
        'Ţ'..='ŧ' => "T",
        'Ŵ' | 'ŵ' => "W",
        'Ź'..='ž' => "Z",
        _ => return None,
    };
    Some(folded)
}

fn collapse_spaces(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for word in s.split(' ').filter(|w| !w.is_empty()) {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    out
}

/// True when `s` uses only the Bacs character set (used by tests and debug checks).
#[cfg(test)]
pub(super) fn is_bacs_text(s: &str) -> bool {
    s.chars()
        .all(|c| matches!(c, 'A'..='Z' | '0'..='9' | '.' | '&' | '/' | '-' | ' '))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_bacs_set_and_upper_cases() {
        assert_eq!(clean_bacs_text("abc XYZ 0-9 ./&"), "ABC XYZ 0-9 ./&");
    }

    #[test]
    fn folds_accents_and_ligatures() {
        assert_eq!(clean_bacs_text("Siân Llŷr"), "SIAN LLYR");
        assert_eq!(clean_bacs_text("Seán Ó Briain"), "SEAN O BRIAIN");
        assert_eq!(clean_bacs_text("Zoë Øyen Straße"), "ZOE OYEN STRASSE");
        assert_eq!(clean_bacs_text("Łukasz Żółć"), "LUKASZ ZOLC");
        assert_eq!(clean_bacs_text("Œuvre Ærø"), "OEUVRE AERO");
    }

    #[test]
    fn drops_quotes_and_maps_separators_to_spaces() {
        assert_eq!(clean_bacs_text("O'Brien"), "OBRIEN");
        assert_eq!(clean_bacs_text("O\u{2019}Brien"), "OBRIEN");
        assert_eq!(clean_bacs_text("Smith, J (Mrs)"), "SMITH J MRS");
        assert_eq!(clean_bacs_text("inv_2024#17"), "INV 2024 17");
        assert_eq!(clean_bacs_text("care\u{2013}agency"), "CARE-AGENCY");
    }

    #[test]
    fn collapses_and_trims_whitespace() {
        assert_eq!(clean_bacs_text("  a\t\tb \n c  "), "A B C");
        assert_eq!(clean_bacs_text("\u{00A0}x\u{00A0}"), "X");
    }

    #[test]
    fn drops_what_has_no_ascii_form() {
        assert_eq!(clean_bacs_text("Café ☕ 李"), "CAFE");
        assert_eq!(clean_bacs_text("李雷"), "");
        assert_eq!(clean_bacs_text("£50 €"), "50");
    }

    #[test]
    fn output_is_always_in_the_bacs_set() {
        let inputs = [
            "Ünïcödé ñame — with “quotes” and ‘apostrophes’",
            "tab\tnew\nline\r\u{0007}bell",
            "¡¿§¶©®™°±µ·¸¹º»¼½¾×÷",
            "ĀāĂăĄąĆćĈĉĊċČčĎďĐđĒēĔĕĖėĘęĚěĜĝĞğĠġĢģĤĥĦħĨĩĪīĬĭĮįİıĲĳĴĵĶķĸĹĺĻļĽľĿŀŁł",
            "ŃńŅņŇňŉŊŋŌōŎŏŐőŒœŔŕŖŗŘřŚśŜŝŞşŠšŢţŤťŦŧŨũŪūŬŭŮůŰűŲųŴŵŶŷŸŹźŻżŽžſ",
        ];
        for input in inputs {
            let cleaned = clean_bacs_text(input);
            assert!(is_bacs_text(&cleaned), "{input:?} -> {cleaned:?}");
            assert!(!cleaned.starts_with(' ') && !cleaned.ends_with(' '));
            assert!(!cleaned.contains("  "));
        }
    }
}
