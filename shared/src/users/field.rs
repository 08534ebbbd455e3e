//! Which field of a request broke which rule, and the fields no two users may share.

/// One field that breaks its rule, and how (a phrase that follows the field's name: "is required").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invalid {
    pub field: &'static str,
    pub reason: String,
}

impl Invalid {
    pub fn new(field: &'static str, reason: impl Into<String>) -> Self {
        Self {
            field,
            reason: reason.into(),
        }
    }
}

/// Parses one field of a request, noting in `errors` why it is missing or invalid, so that a parser can report
/// every mistake of a request at once.
pub fn check<T>(
    field: &'static str,
    raw: Option<&str>,
    parse: impl FnOnce(&str) -> Result<T, String>,
    errors: &mut Vec<Invalid>,
) -> Option<T> {
    let result = match raw {
        None => Err("is required".to_owned()),
        Some(raw) => parse(raw),
    };
    result
        .map_err(|reason| errors.push(Invalid::new(field, reason)))
        .ok()
}

/// A field that no two users may share.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum UniqueField {
    Username,
    Email,
}

impl UniqueField {
    /// What a client is told of a field another user holds. A username conflict may be an exact match or a
    /// look-alike (the same skeleton); which one is left unsaid, as either way the client must pick another name.
    pub fn taken(self) -> Invalid {
        let reason = match self {
            Self::Username => "is already taken, or looks like a name that is",
            Self::Email => "is already taken",
        };
        Invalid::new(self.name(), reason)
    }

    /// The field's name in requests and responses.
    pub fn name(self) -> &'static str {
        match self {
            Self::Username => "username",
            Self::Email => "email",
        }
    }
}
