//! Paging through the listing: a page of users, the cursor to the next one, and the page size.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use uuid::Uuid;

use super::User;

/// One page of users, and where the next one starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page {
    pub users: Vec<User>,
    /// Set while more users may follow.
    pub next: Option<Cursor>,
}

impl Page {
    /// A page from the up to `size + 1` users a backend read: one more than asked means another page follows, and
    /// the cursor to it is the last user shown.
    pub fn from_overfetched(mut users: Vec<User>, size: PageSize) -> Self {
        let next = if users.len() > size.get() {
            users.truncate(size.get());
            users.last().map(|user| Cursor::after(user.id))
        } else {
            None
        };
        Self { users, next }
    }
}

/// An opaque position in the listing: the id of the last user of the previous page.
///
/// Both backends list in id order, so one cursor format serves both, and any cursor that decodes names a valid
/// position (a user deleted since simply means the next page starts at the following id).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cursor(Uuid);

impl Cursor {
    /// The position just after `user_id`.
    pub fn after(user_id: Uuid) -> Self {
        Self(user_id)
    }

    /// The id the next page starts after.
    pub fn user_id(self) -> Uuid {
        self.0
    }

    /// The cursor as clients see it: URL-safe base64 of the id's 16 bytes.
    pub fn encode(self) -> String {
        URL_SAFE_NO_PAD.encode(self.0.as_bytes())
    }

    /// Reads a cursor a client sent back; anything that [`Cursor::encode`] did not produce is refused.
    pub fn decode(raw: &str) -> Result<Self, String> {
        const INVALID: &str = "is not a cursor this API issued";
        let bytes = URL_SAFE_NO_PAD
            .decode(raw)
            .map_err(|_| INVALID.to_owned())?;
        let id = Uuid::from_slice(&bytes).map_err(|_| INVALID.to_owned())?;
        if id.get_version_num() != 7 {
            return Err(INVALID.to_owned());
        }
        Ok(Self(id))
    }
}

/// How many users a page holds: 1 to 1,000, 100 by default.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageSize(u16);

impl PageSize {
    pub const MAX: u16 = 1000;
    pub const DEFAULT: Self = Self(100);

    /// Reads a `limit` query value.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let invalid = || {
            format!(
                "must be a whole number from 1 to {}, not {raw:?}",
                Self::MAX
            )
        };
        let size: u16 = raw.parse().map_err(|_| invalid())?;
        Self::new(size).ok_or_else(invalid)
    }

    /// A page size, if it is within bounds.
    pub fn new(size: u16) -> Option<Self> {
        (1..=Self::MAX).contains(&size).then_some(Self(size))
    }

    pub fn get(self) -> usize {
        usize::from(self.0)
    }
}

impl Default for PageSize {
    fn default() -> Self {
        Self::DEFAULT
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_survives_its_round_trip() {
        let cursor = Cursor::after(Uuid::now_v7());
        assert_eq!(Cursor::decode(&cursor.encode()).unwrap(), cursor);
    }

    #[test]
    fn a_tampered_or_foreign_cursor_is_refused() {
        let good = Cursor::after(Uuid::now_v7()).encode();
        for bad in [
            "",
            "not base64!",
            &good[..good.len() - 2],
            &format!("{good}AA"),
            &URL_SAFE_NO_PAD.encode(
                uuid::Builder::from_random_bytes([7; 16])
                    .into_uuid()
                    .as_bytes(),
            ),
            &URL_SAFE_NO_PAD.encode(br#"{"pk":{"S":"USER#1"}}"#),
        ] {
            assert!(Cursor::decode(bad).is_err(), "{bad:?} was accepted");
        }
    }

    #[test]
    fn page_sizes_run_from_1_to_1000() {
        assert_eq!(PageSize::parse("1").unwrap().get(), 1);
        assert_eq!(PageSize::parse("1000").unwrap().get(), 1000);
        assert_eq!(PageSize::default().get(), 100);
        for bad in ["0", "1001", "-1", "ten", "", "1.5", "65536"] {
            assert!(PageSize::parse(bad).is_err(), "{bad:?} was accepted");
        }
    }
}
