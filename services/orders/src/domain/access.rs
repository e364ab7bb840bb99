//! Who may do what with orders: the service's one access policy, so the rules cannot drift
//! between the flows that need them (place, list, read and change, ship).
//!
//! Customers act on their own orders only, admins on anyone's, and services (the other
//! microshop processes) may read any order but never place one. An order the caller may not
//! see is answered as "not found", so order ids cannot be probed.

use shopkit::auth::{AuthUser, Role};
use uuid::Uuid;

/// Why the policy refuses a caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Denied {
    /// The caller may not learn that the order exists (answered 404).
    #[error("order not found")]
    Hidden,
    /// The caller is known but not allowed to do this (answered 403).
    #[error("{0}")]
    Forbidden(&'static str),
}

/// The caller's own user id; a token that names no user (a service's) cannot act as one.
fn caller_id(caller: &AuthUser) -> Result<Uuid, Denied> {
    caller.user_id().map_err(|_| Denied::Forbidden("the token does not name a user"))
}

/// The customer a new order is for: customers order for themselves, an admin for anyone
/// (themselves by default), a service for no one.
pub fn owner_of_new_order(caller: &AuthUser, requested: Option<Uuid>) -> Result<Uuid, Denied> {
    match (caller.role, requested) {
        (Role::Service, _) => Err(Denied::Forbidden("services do not place orders")),
        (Role::Admin, Some(user)) => Ok(user),
        (Role::Admin, None) => caller_id(caller),
        (Role::Customer, requested) => {
            let me = caller_id(caller)?;
            match requested {
                Some(other) if other != me => Err(Denied::Forbidden("customers can only order for themselves")),
                _ => Ok(me),
            }
        }
    }
}

/// Whose orders a list shows: `None` is everyone's (staff and services, unless they name
/// a customer); a customer sees their own and may not name anyone else.
pub fn list_scope(caller: &AuthUser, requested: Option<Uuid>) -> Result<Option<Uuid>, Denied> {
    match caller.role {
        Role::Admin | Role::Service => Ok(requested),
        Role::Customer => {
            let me = caller_id(caller)?;
            match requested {
                Some(other) if other != me => Err(Denied::Forbidden("customers can only list their own orders")),
                _ => Ok(Some(me)),
            }
        }
    }
}

/// Whether the caller may read or change an order of `owner`: its owner, an admin, a service.
pub fn may_access(caller: &AuthUser, owner: Uuid) -> Result<(), Denied> {
    let allowed = match caller.role {
        Role::Admin | Role::Service => true,
        Role::Customer => caller.user_id().is_ok_and(|me| me == owner),
    };
    if allowed { Ok(()) } else { Err(Denied::Hidden) }
}

/// Shipping and delivering are staff work: only an admin moves an order past `paid`.
pub fn may_advance(caller: &AuthUser) -> Result<(), Denied> {
    match caller.role {
        Role::Admin => Ok(()),
        Role::Customer | Role::Service => Err(Denied::Forbidden("only an admin ships or delivers orders")),
    }
}

/// The recorded reason when the caller cancels an order.
pub fn cancel_reason(caller: &AuthUser) -> &'static str {
    match caller.role {
        Role::Admin => "cancelled_by_admin",
        Role::Customer | Role::Service => "cancelled_by_customer",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn caller(role: Role, subject: &str) -> AuthUser {
        AuthUser { subject: subject.to_owned(), role }
    }

    /// Ada (a customer), Bob (an admin), and a service.
    struct Cast {
        ada: Uuid,
        bob: Uuid,
        customer: AuthUser,
        admin: AuthUser,
        service: AuthUser,
    }

    fn cast() -> Cast {
        let (ada, bob) = (Uuid::from_u128(1), Uuid::from_u128(2));
        Cast {
            ada,
            bob,
            customer: caller(Role::Customer, &ada.to_string()),
            admin: caller(Role::Admin, &bob.to_string()),
            service: caller(Role::Service, "payments"),
        }
    }

    #[test]
    fn who_places_orders_for_whom() {
        let Cast { ada, bob, customer, admin, service } = cast();
        let cases = [
            (&customer, None, Ok(ada), "a customer orders for themselves"),
            (&customer, Some(ada), Ok(ada), "naming oneself is fine"),
            (&customer, Some(bob), Err(Denied::Forbidden("customers can only order for themselves")), "not for others"),
            (&admin, Some(ada), Ok(ada), "an admin orders for anyone"),
            (&admin, None, Ok(bob), "an admin defaults to themselves"),
            (&service, Some(ada), Err(Denied::Forbidden("services do not place orders")), "services never order"),
        ];
        for (who, requested, expected, why) in cases {
            assert_eq!(owner_of_new_order(who, requested), expected, "{why}");
        }
    }

    #[test]
    fn who_lists_and_sees_which_orders() {
        let Cast { ada, bob, customer, admin, service } = cast();
        assert_eq!(list_scope(&customer, None), Ok(Some(ada)), "a customer lists their own");
        assert_eq!(
            list_scope(&customer, Some(bob)),
            Err(Denied::Forbidden("customers can only list their own orders")),
            "and nobody else's"
        );
        assert_eq!(list_scope(&admin, None), Ok(None), "an admin lists everyone's");
        assert_eq!(list_scope(&service, Some(ada)), Ok(Some(ada)), "a service may filter by customer");
        assert_eq!(may_access(&customer, ada), Ok(()), "own order");
        assert_eq!(may_access(&customer, bob), Err(Denied::Hidden), "another's order is hidden");
        assert_eq!(may_access(&caller(Role::Customer, "not-a-uuid"), ada), Err(Denied::Hidden), "no user id");
        assert_eq!(may_access(&admin, ada), Ok(()), "admins see all");
        assert_eq!(may_access(&service, ada), Ok(()), "services see all");
    }

    #[test]
    fn only_admins_ship_and_cancel_as_admin() {
        let Cast { customer, admin, service, .. } = cast();
        assert_eq!(may_advance(&admin), Ok(()));
        assert!(may_advance(&customer).is_err(), "customers do not ship");
        assert!(may_advance(&service).is_err(), "services do not ship");
        assert_eq!(cancel_reason(&admin), "cancelled_by_admin");
        assert_eq!(cancel_reason(&customer), "cancelled_by_customer");
    }
}
