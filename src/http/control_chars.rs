//! Control characters in request text. No field of allot has a use for them, PostgreSQL cannot
//! store U+0000 at all, and the rest (escape sequences, bells, C1 codes) only make trouble in
//! logs, pages and payment files. Every JSON body, query string and form is checked here before
//! it is read, and a refusal names the field: `memo`, `lines[0].need`, `need_0`.
//!
//! Refused: C0 (U+0000–U+001F) except tab, line feed and carriage return; DEL (U+007F); C1
//! (U+0080–U+009F).

use serde_json::Value;

use crate::error::Detail;

/// What the detail says about a refused field.
pub const REASON: &str = "must not contain control characters";

/// Whether `c` is refused in request text.
pub fn is_refused(c: char) -> bool {
    matches!(c, '\u{0}'..='\u{8}' | '\u{b}' | '\u{c}' | '\u{e}'..='\u{1f}' | '\u{7f}'..='\u{9f}')
}

/// The first refused character of `text`, if any.
pub fn first_refused(text: &str) -> Option<char> {
    text.chars().find(|c| is_refused(*c))
}

/// A field that holds a refused character, with the detail to report.
pub fn detail(field: &str, found: char) -> Detail {
    Detail::field(
        field,
        format!("{REASON} (found U+{:04X})", u32::from(found)),
    )
}

/// The first field of a JSON body holding a refused character: its path (as
/// `serde_path_to_error` writes it) and the character. `None` when the body is clean or is not
/// JSON at all (the parser reports that).
pub fn find_in_json(bytes: &[u8]) -> Option<(String, char)> {
    if !may_hold_refused(bytes) {
        return None;
    }
    let value: Value = serde_json::from_slice(bytes).ok()?;
    let mut path = String::new();
    find_in_value(&value, &mut path)
}

/// The first field of urlencoded pairs (a query string or a form) holding a refused character.
pub fn find_in_pairs<'a>(
    pairs: impl Iterator<Item = (std::borrow::Cow<'a, str>, std::borrow::Cow<'a, str>)>,
) -> Option<(String, char)> {
    for (name, value) in pairs {
        if let Some(found) = first_refused(&name) {
            return Some((printable(&name), found));
        }
        if let Some(found) = first_refused(&value) {
            return Some((name.into_owned(), found));
        }
    }
    None
}

/// A cheap look at the raw bytes: could any string hold a refused character, raw or escaped?
/// False positives (an escaped backslash before `u0000`) only cost a second parse.
fn may_hold_refused(bytes: &[u8]) -> bool {
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            0x7f => return true,
            // C1 characters are U+0080..U+009F: 0xC2 0x80..0x9F in UTF-8.
            0xc2 if bytes.get(i + 1).is_some_and(|b| (0x80..=0x9f).contains(b)) => return true,
            b if b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r') => return true,
            b'\\' if bytes.get(i + 1) == Some(&b'u') => {
                let escaped = bytes
                    .get(i + 2..i + 6)
                    .and_then(|hex| std::str::from_utf8(hex).ok())
                    .and_then(|hex| u32::from_str_radix(hex, 16).ok())
                    .and_then(char::from_u32);
                if escaped.is_some_and(is_refused) {
                    return true;
                }
                i += 2;
                continue;
            }
            // Skip the escaped character so `\\` never starts a false `\u`.
            b'\\' => {
                i += 2;
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    false
}

fn find_in_value(value: &Value, path: &mut String) -> Option<(String, char)> {
    match value {
        Value::String(text) => first_refused(text).map(|found| (field_name(path), found)),
        Value::Array(items) => items.iter().enumerate().find_map(|(index, item)| {
            let len = path.len();
            path.push_str(&format!("[{index}]"));
            let found = find_in_value(item, path);
            path.truncate(len);
            found
        }),
        Value::Object(fields) => fields.iter().find_map(|(name, item)| {
            let len = path.len();
            if !path.is_empty() {
                path.push('.');
            }
            if let Some(found) = first_refused(name) {
                path.push_str(&printable(name));
                return Some((path.clone(), found));
            }
            path.push_str(name);
            let found = find_in_value(item, path);
            path.truncate(len);
            found
        }),
        _ => None,
    }
}

fn field_name(path: &str) -> String {
    if path.is_empty() {
        "body".into()
    } else {
        path.to_string()
    }
}

/// A field name fit to show back: its control characters replaced.
fn printable(name: &str) -> String {
    name.chars()
        .map(|c| if is_refused(c) { '\u{fffd}' } else { c })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn which_characters_are_refused() {
        for c in [
            '\u{0}', '\u{7}', '\u{b}', '\u{1b}', '\u{1f}', '\u{7f}', '\u{85}', '\u{9f}',
        ] {
            assert!(is_refused(c), "{c:?}");
        }
        for c in ['\t', '\n', '\r', ' ', 'a', '£', '\u{a0}', 'é', '\u{2028}'] {
            assert!(!is_refused(c), "{c:?}");
        }
    }

    #[test]
    fn json_paths_name_the_field() {
        let find = |json: &str| find_in_json(json.as_bytes());
        assert_eq!(find(r#"{"memo":"a\u0000b"}"#), Some(("memo".into(), '\0')));
        assert_eq!(
            find(r#"{"lines":[{"need":"ok"},{"need":"x\u001b"}]}"#),
            Some(("lines[1].need".into(), '\u{1b}'))
        );
        assert_eq!(
            find("{\"a\":{\"b\":[\"\u{7f}\"]}}"),
            Some(("a.b[0]".into(), '\u{7f}'))
        );
        assert_eq!(find("\"\u{85}\""), Some(("body".into(), '\u{85}')));
        assert_eq!(find(r#"{"k\u0000":1}"#), Some(("k\u{fffd}".into(), '\0')));
        // Clean, escaped backslashes, allowed whitespace, and bodies that are not JSON.
        assert_eq!(find(r#"{"memo":"tab\there\r\n"}"#), None);
        assert_eq!(find(r#"{"memo":"\\u0000"}"#), None);
        assert_eq!(find(r#"{"memo":"café £10"}"#), None);
        assert_eq!(find("{\"memo\":\u{0}"), None);
    }

    #[test]
    fn form_pairs_name_the_field() {
        let pairs = form_urlencoded::parse(b"a=1&need_0=wash%00ing");
        assert_eq!(find_in_pairs(pairs), Some(("need_0".into(), '\0')));
        let pairs = form_urlencoded::parse(b"a=line%0Abreak&b=%C2%A3");
        assert_eq!(find_in_pairs(pairs), None);
    }
}
