//! Who may see whom: the listing policy (`LIST_USERS`) applied to a caller.

use uuid::Uuid;

use super::{Caller, Error};
use crate::config::ListingPolicy;
use crate::state::AppState;
use crate::users::{Account, Cursor, Page, PageSize};

/// How much of another user a caller sees.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sight {
    /// Everything the API shows of a user, whether it is an administrator included: the user itself, or an
    /// administrator looking.
    Full,
    /// The user's id, username, email and creation time (`LIST_USERS=everyone`, the original's listing).
    WithEmail,
    /// Id, username and creation time, without the email (`LIST_USERS=directory`).
    Directory,
}

const ADMINS_ONLY: &str = "Only administrators may list or look up other users here";

/// What `caller` sees of the users in a listing, under `policy`; its own entry is always shown with its email.
pub fn listing_sight(policy: ListingPolicy, caller: &Caller) -> Result<Sight, Error> {
    match (policy, caller.is_admin) {
        (_, true) | (ListingPolicy::Everyone, false) => Ok(Sight::WithEmail),
        (ListingPolicy::Directory, false) => Ok(Sight::Directory),
        (ListingPolicy::Admins, false) => Err(Error::Forbidden(ADMINS_ONLY)),
    }
}

/// A page of users, for a caller the policy lets list them.
pub async fn list_users(
    state: &AppState,
    caller: &Caller,
    after: Option<Cursor>,
    size: PageSize,
) -> Result<(Page, Sight), Error> {
    let sight = listing_sight(state.listing, caller)?;
    Ok((state.users.list(after, size).await?, sight))
}

/// The user with id `id`, and how much of it `caller` sees. Under `admins`, a non-administrator learns nothing, not
/// even whether the id exists.
pub async fn look_up(
    state: &AppState,
    caller: &Caller,
    id: Uuid,
) -> Result<(Account, Sight), Error> {
    let sight = if caller.user.id == id || caller.is_admin {
        Sight::Full
    } else {
        listing_sight(state.listing, caller)?
    };
    let account = state.users.account(id).await?.ok_or(Error::NotFound)?;
    Ok((account, sight))
}
