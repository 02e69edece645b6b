//! API Gateway's `$default` route: unknown paths (404) and wrong methods (405), in the envelope.
use mfa_shared::{handlers, lambda};

fn main() -> Result<(), lambda::Error> {
    lambda::run(Box::pin(lambda::serve(&|req| Box::pin(handlers::fallback(req)))))
}
