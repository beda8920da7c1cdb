//! TEMP stub until the cfg branch lands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Auth {
    Basic { username: String, password: String },
    Bearer(String),
}
