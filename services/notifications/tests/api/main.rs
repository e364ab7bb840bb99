//! Integration tests of the notifications service: real NATS JetStream (Debian's nats-server),
//! a real SMTP server catching the mail (Debian's aiosmtpd), the real users service, real
//! PostgreSQL. Events are published as orders' relay publishes them.

mod helpers;
mod notify;
mod relay;
