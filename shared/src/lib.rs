//! The MFA service's shared crate. Every rule lives here, so each function binary under
//! `functions/` only wires: its row of the route table (`routes`) says what it loads at
//! cold start (`app`), and its handler (`handlers`) does the rest.
//!
//! Where a rule lives: who may change a user's factors in `policy`, and the one way a
//! record changes in `update`; each method end to end in `methods`; the lockout in
//! `lockout`; sessions in `sessions`; every refusal in `refusal`, and the envelope that
//! answers it in `envelope`; every stored shape and the method state machine in `model`;
//! every table key and DynamoDB call in `store`.

// No unsafe code of its own: the deploy build's executables load at a fixed address
// (docs/performance.md, "Cold starts"), and this is part of why that is an acceptable trade.
#![forbid(unsafe_code)]

pub mod app;
pub mod audit;
pub mod auth;
pub mod authorizer;
pub mod body;
pub mod clock;
pub mod config;
pub mod crypto;
pub mod delivery;
pub mod devices;
pub mod edge;
pub mod envelope;
pub mod factors;
pub mod frontegg;
pub mod handlers;
pub mod lambda;
pub mod lockout;
pub mod mail;
pub mod methods;
pub mod metrics;
pub mod mfa_type;
pub mod model;
pub mod notify;
pub mod outbox;
pub mod policy;
pub mod proof;
pub mod refusal;
pub mod routes;
pub mod sessions;
pub mod sms;
pub mod store;
pub mod update;

pub use app::App;
pub use refusal::Refusal;
