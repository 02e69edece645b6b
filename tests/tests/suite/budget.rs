//! The round-trip budget: at most one read and one write round trip to DynamoDB per
//! request (a transaction counts as one), and none for a refusal of a bad token or bad
//! input. Counted at the client, by an interceptor, not estimated.

use mfa_tests::budget::{Counting, refusals, successes};

#[test]
fn every_request_makes_at_most_one_read_and_one_write() {
    mfa_tests::on_a_functions_stack(every_request_at_most_one_read_and_one_write());
}

async fn every_request_at_most_one_read_and_one_write() {
    let c = Counting::new().await;
    let rows = successes(&c).await;
    let mut over = Vec::new();
    for row in &rows {
        assert!((200..300).contains(&row.status), "{} ({}) did not succeed: {}", row.function, row.case, row.status);
        if row.reads > 1 || row.writes > 1 {
            over.push(format!("{} ({}): {} reads, {} writes", row.function, row.case, row.reads, row.writes));
        }
    }
    let covered: std::collections::BTreeSet<&str> = rows.iter().map(|r| r.function).collect();
    let routes = mfa_shared::routes::ROUTES;
    let ours: Vec<&str> = routes.iter().filter(|r| !r.is_frontegg()).map(|r| r.function).collect();
    assert!(ours.iter().all(|f| covered.contains(f)), "every route of our own API is measured");
    let frontegg = routes.iter().filter(|r| r.is_frontegg()).count();
    let measured = routes.iter().filter(|r| r.is_frontegg() && covered.contains(r.function)).count();
    println!("budget: {measured} of Frontegg's {frontegg} routes measured");
    for row in rows.iter().filter(|r| mfa_shared::routes::route(r.function).is_some_and(|r| r.is_frontegg())) {
        println!("budget: {} ({}): {} read(s), {} write(s)", row.function, row.case, row.reads, row.writes);
    }
    println!("budget: {} successful requests measured, {} over one read and one write", rows.len(), over.len());
    assert!(over.is_empty(), "over budget:\n{}", over.join("\n"));
}

#[test]
fn refusals_of_bad_tokens_and_input_make_no_round_trip() {
    mfa_tests::on_a_functions_stack(no_round_trip_for_refusals());
}

async fn no_round_trip_for_refusals() {
    let c = Counting::new().await;
    for row in refusals(&c).await {
        assert!((400..500).contains(&row.status), "{} ({}) answered {}", row.function, row.case, row.status);
        assert_eq!((row.reads, row.writes), (0, 0), "{} ({})", row.function, row.case);
    }
}
