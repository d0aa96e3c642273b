//! Static assets, compiled in so that allot is one binary with no CDN.

/// The stylesheet.
pub const CSS: &str = include_str!("../static/allot.css");

/// Pictures beside the easy-read statement's headings (drawn for allot; see
/// `static/icons/LICENCE.md`). Each is hidden from assistive technology.
pub mod icons {
    pub const MONEY_IN: &str = include_str!("../static/icons/money-in.svg");
    pub const SPENT: &str = include_str!("../static/icons/spent.svg");
    pub const LEFT: &str = include_str!("../static/icons/left.svg");
    pub const WAITING: &str = include_str!("../static/icons/waiting.svg");
    pub const CONTACT: &str = include_str!("../static/icons/contact.svg");
    pub const CALENDAR: &str = include_str!("../static/icons/calendar.svg");
}
