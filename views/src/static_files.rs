//! Static assets, compiled in so that allot is one binary with no CDN.

/// The stylesheet.
pub const CSS: &str = include_str!("../static/allot.css");
