//! Prices as shoppers read and admins type them: `shopcore::money`, shared with the
//! notifications service's e-mails so an amount reads the same in the shop and in the inbox.

pub use shopcore::money::{format_money, minor_digits, parse_major, to_major_text};
