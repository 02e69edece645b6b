//! The one integration-test binary: handler and end-to-end tests against the local stack
//! that `scripts/test` starts (DynamoDB Local, the local SES, `cargo lambda watch`), a
//! module per area. The kit they share is the `mfa_tests` library (`TestApp`).

mod auth_errors;
mod authorizer;
mod browser;
mod budget;
mod codes;
mod contract;
mod devices;
mod events;
mod factors;
mod faults;
mod frontegg;
mod fuzz;
mod google_auth;
mod handlers;
mod login;
mod magic_link;
mod management;
mod passkey;
mod phishing;
mod read_routes;
mod routes;
mod security;
mod sms_pumping;
mod table;
mod template;
