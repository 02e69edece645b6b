//! The round-trip budget: at most one read and one write round trip to DynamoDB per
//! request (a transaction counts as one), and none for a refusal of a bad token or bad
//! input. Counted at the client, by an interceptor, not estimated: the calls a request
//! makes, not the attempts the SDK sends again, and a write lost to a transaction on the
//! same items at the same moment (a shared counter of the SMS defences, with other tests'
//! texts) allows the read and the write again that it takes.

use std::time::Duration;

use mfa_tests::budget::{Counting, refusals, successes};
use mfa_tests::faults::{Fault, Once};
use serde_json::{Value, json};

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
        if !row.within_budget() {
            let (reads, writes, tries) = (row.reads, row.writes, &row.tries);
            over.push(format!("{} ({}): {reads} reads, {writes} writes; by try {tries:?}", row.function, row.case));
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
    let (resent, lost) = rows.iter().fold((0, 0), |(r, l), row| (r + row.resent, l + row.lost()));
    println!("budget: {} successful requests measured, {} over one read and one write", rows.len(), over.len());
    println!("budget: {resent} attempt(s) sent again by the SDK, {lost} write(s) lost to another transaction");
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

/// What the budget counts, against a DynamoDB that misbehaves once: a read whose first
/// attempt outlives the SDK's attempt timeout (750 ms) and is sent again is one read; a
/// write that DynamoDB cancels for a transaction on the same items (`TransactionConflict`)
/// ends a try, and the request's next try (a read and a write again) keeps to the budget
/// on its own. Before the counter counted calls, the first was two reads (a budget failure
/// of a loaded run), and the time its unanswered attempt was away was counted as the
/// request's own work.
#[test]
fn a_call_sent_again_is_one_and_a_write_lost_to_a_transaction_is_tried_again() {
    mfa_tests::on_a_functions_stack(counted_by_call());
}

async fn counted_by_call() {
    let upstream = std::env::var("AWS_ENDPOINT_URL_DYNAMODB").expect("the local stack's DynamoDB endpoint");

    let held = Once::start(&upstream, "Query", Fault::Hold(Duration::from_millis(1000))).await;
    let c = Counting::through(Some(&held.url)).await;
    let me = mfa_tests::Person::new();
    let row = c.measure("mfa-status", "status, its read sent again", Some(&me.platform_token()), Value::Null).await;
    assert!(held.done.load(std::sync::atomic::Ordering::SeqCst), "the proxy held the read");
    assert_eq!(row.status, 200, "{row:?}");
    assert_eq!((row.reads, row.writes, row.resent, row.tries.clone()), (1, 0, 1, vec![(1, 0)]), "{row:?}");
    assert!(row.within_budget(), "{row:?}");
    // The attempt that went unanswered was away (not the request's own work) until its
    // timeout ended it.
    assert!(row.away_ms >= 700.0, "{row:?}");

    let reasons = json!({
        "__type": "com.amazonaws.dynamodb.v20120810#TransactionCanceledException",
        "Message": "Transaction cancelled, please refer cancellation reasons for specific reasons [None, TransactionConflict]",
        "CancellationReasons": [{"Code": "None"}, {"Code": "TransactionConflict", "Message": "Transaction is ongoing for the item"}],
    });
    let conflict = Fault::Answer("TransactionCanceledException", reasons.to_string());
    let cancelled = Once::start(&upstream, "TransactWriteItems", conflict).await;
    let c = Counting::through(Some(&cancelled.url)).await;
    let me = mfa_tests::Person::new();
    let phone = mfa_tests::stand_in(mfa_shared::model::MfaType::Sms, mfa_shared::factors::FactorState::Enabled, &me);
    mfa_tests::seed(&me, |r| r.factors.push(phone.clone())).await;
    let row = c.measure("mfa-sms-send", "a text, its write lost once", Some(&me.platform_token()), Value::Null).await;
    assert!(cancelled.done.load(std::sync::atomic::Ordering::SeqCst), "the proxy cancelled the write");
    assert_eq!(row.status, 200, "{row:?}");
    assert_eq!((row.reads, row.writes, row.resent, row.tries.clone()), (2, 2, 0, vec![(1, 1), (1, 1)]), "{row:?}");
    assert!(row.within_budget(), "{row:?}");
    // The budget holds for each try: a second write within one try is over, lost or not.
    assert!(!mfa_tests::budget::Row { tries: vec![(1, 1), (1, 2)], ..row.clone() }.within_budget());
    assert!(!mfa_tests::budget::Row { tries: vec![(2, 1), (0, 0)], ..row }.within_budget());
}
