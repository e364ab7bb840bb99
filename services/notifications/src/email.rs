//! Which order events become an e-mail to the customer, and what it says.

use shopcore::{money::format_money, order_number::order_number};
use shopwire::events::OrderEvent;

/// An e-mail to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email {
    pub to: String,
    pub subject: String,
    pub body: String,
}

/// The customer an e-mail goes to.
#[derive(Debug, Clone)]
pub struct Customer {
    pub name: String,
    pub email: String,
}

/// The e-mail `kind` of `event` calls for, if any: a confirmation once paid, a note when it
/// ships, a refund notice when a paid order is cancelled. A placed (not yet paid) order, an
/// unpaid one cancelled, and a delivery send nothing.
pub fn compose(kind: &str, event: &OrderEvent, customer: &Customer, shop_url: &str) -> Option<Email> {
    let number = order_number(&event.order_id.to_string());
    let total = format_money(event.total, &event.currency);
    let link = format!("{}/orders/{}", shop_url.trim_end_matches('/'), event.order_id);
    let (subject, middle) = match kind {
        "OrderPaid" => (
            format!("Order #{number} confirmed"),
            format!(
                "Thank you for your order #{number}. We received your payment of {total}.\n\
                 We are preparing it and will write again when it ships."
            ),
        ),
        "OrderShipped" => (
            format!("Order #{number} is on its way"),
            format!("Your order #{number} has left our warehouse and is on its way to you."),
        ),
        "OrderCancelled" if event.refunded => (
            format!("Order #{number} cancelled: {total} refunded"),
            format!(
                "Your order #{number} was cancelled and your payment of {total} refunded to your card.\n\
                 Depending on your bank it shows on your statement within a few days."
            ),
        ),
        _ => return None,
    };
    let body = format!("Hello {},\n\n{middle}\n\nYour order: {link}\n\nmicroshop\n", customer.name);
    Some(Email { to: customer.email.clone(), subject, body })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(status: &str, refunded: bool) -> OrderEvent {
        OrderEvent {
            order_id: "01a24005-565f-74d3-a654-e3727c08f898".parse().expect("uuid"),
            user_id: "01a24005-0000-7000-8000-000000000001".parse().expect("uuid"),
            status: status.into(),
            total: 5489,
            currency: "EUR".into(),
            cancel_reason: None,
            refunded,
        }
    }

    #[test]
    fn paid_shipped_and_refunded_orders_are_written_about() {
        let ada = Customer { name: "Ada".into(), email: "ada@example.com".into() };
        let paid = compose("OrderPaid", &event("paid", false), &ada, "https://shop.example/").expect("an e-mail");
        assert_eq!(paid.subject, "Order #7C08F898 confirmed");
        assert!(paid.body.starts_with("Hello Ada,") && paid.body.contains("payment of €54.89"), "{}", paid.body);
        assert!(paid.body.contains("https://shop.example/orders/01a24005-565f-74d3-a654-e3727c08f898"));
        let refund = compose("OrderCancelled", &event("cancelled", true), &ada, "x").expect("an e-mail");
        assert_eq!(refund.subject, "Order #7C08F898 cancelled: €54.89 refunded");
        assert!(compose("OrderShipped", &event("shipped", false), &ada, "x").is_some());
        assert_eq!(compose("OrderCancelled", &event("cancelled", false), &ada, "x"), None, "unpaid: nothing");
        assert_eq!(compose("OrderPlaced", &event("pending", false), &ada, "x"), None);
        assert_eq!(compose("OrderDelivered", &event("delivered", false), &ada, "x"), None);
    }
}
