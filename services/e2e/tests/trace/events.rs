//! A paid order's confirmation e-mail goes orders' outbox -> NATS JetStream -> notifications ->
//! SMTP, and its handling is part of the order's trace: the event carries the trace context in
//! its headers, notifications continues from it.

use std::time::{Duration, Instant};

use shopkit::{nats_server::NatsServer, smtp_catcher::SmtpCatcher};

use crate::{
    find, names, purchase,
    receiver::{Protocol, Receiver},
    shop::{Events, Export, Shop},
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_confirmation_e_mail_continues_the_orders_trace() {
    let receiver = Receiver::start(Protocol::Grpc).await;
    let nats = NatsServer::start().await;
    let smtp = SmtpCatcher::start().await;
    let export = Export { endpoint: &receiver.endpoint, protocol: "grpc" };
    let shop = Shop::start_with_events(Some(export), Events { nats_url: &nats.url, smtp_port: smtp.port }).await;
    let purchase = purchase(&shop).await;

    let order_id = purchase.order["id"].as_str().expect("id").to_owned();
    let number = order_id.replace('-', "")[24..].to_uppercase();
    let subject = format!("Order #{number} confirmed");
    let deadline = Instant::now() + Duration::from_secs(30);
    let mail = loop {
        let caught = smtp.messages();
        if let Some(mail) = caught.into_iter().find(|m| m.header("subject") == Some(subject.as_str())) {
            break mail;
        }
        assert!(Instant::now() < deadline, "no `{subject}` e-mail within 30 s");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(mail.header("to"), Some("trace.customer@example.com"));
    assert!(mail.body.contains(&order_id), "the e-mail links to the order: {}", mail.body);
    shop.stop().await;

    let spans: Vec<_> = receiver.spans().into_iter().filter(|s| s.trace_id == purchase.trace_id).collect();
    let process = find(&spans, "notifications", "process orders.OrderPaid");
    assert_eq!(process.kind, "SPAN_KIND_CONSUMER");
    let attribute = |key: &str| process.attributes.get(key).map(String::as_str);
    assert_eq!(attribute("messaging.system"), Some("nats"));
    assert_eq!(attribute("messaging.destination.name"), Some("orders.OrderPaid"));
    // The event id is the message id, and the e-mail's Message-ID derives from it.
    let event_id = attribute("messaging.message.id").expect("message id");
    assert_eq!(mail.header("message-id"), Some(format!("<{event_id}@microshop.local>").as_str()));
    // Its parent is the orders span that wrote the event.
    let parent = spans
        .iter()
        .find(|s| s.span_id == process.parent_span_id)
        .unwrap_or_else(|| panic!("the consumer span's parent is not in the trace: {:#?}", names(&spans)));
    assert_eq!(parent.service, "orders", "{parent:?}");
    // Looking the customer up at users continues the same trace, below the consumer span.
    let lookup = spans
        .iter()
        .filter(|s| s.service == "users" && s.name == "GET /users/{id}")
        .filter_map(|s| spans.iter().find(|c| c.span_id == s.parent_span_id))
        .find(|client| client.service == "notifications");
    assert!(lookup.is_some(), "no users lookup made by notifications in the trace: {:#?}", names(&spans));
    // The placed (unpaid) order's event was handled too, and sent nothing.
    find(&spans, "notifications", "process orders.OrderPlaced");
    assert_eq!(smtp.messages().len(), 1, "one e-mail: the confirmation");
}
