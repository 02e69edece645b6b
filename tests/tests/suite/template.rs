//! `template.yaml` as CloudFormation deploys it, after the SAM transform: each
//! `AWS::Lambda::Function` and the `AWS::IAM::Role` SAM makes for it, held to the route
//! table. Key material stays in custody: a function whose environment holds a secret
//! (`Needs::secrets()`) has it encrypted under the stack's own KMS key, whose policy lets
//! exactly those functions' roles decrypt; texts never go to an SNS topic; every DynamoDB
//! grant is limited to the partition keys the function touches (`Needs::key_prefixes()`).
//!
//! The transform is `tests/transform_template.py` under the repository's `.venv` (which
//! `scripts/test` makes, with aws-sam-translator among its test tools).

use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;
use std::sync::OnceLock;

use mfa_shared::routes::{FALLBACK_FUNCTION, Needs, ROUTES, SECRET_VARIABLES, route};
use mfa_shared::{authorizer, outbox};
use mfa_tests::repo_root;
use serde_json::{Value, json};

/// The transformed template (made once per test run).
fn transformed() -> &'static Value {
    static DOC: OnceLock<Value> = OnceLock::new();
    DOC.get_or_init(|| {
        let root = repo_root();
        let python = root.join(".venv/bin/python");
        assert!(
            python.exists(),
            "{} is missing: these tests run the SAM transform in the repository's .venv; make it with \
             `source scripts/lib.sh && ensure_cargo_lambda && ensure_python_test_tools` (scripts/test does)",
            python.display()
        );
        let out = Command::new(&python)
            .arg(root.join("tests/transform_template.py"))
            .arg(root.join("template.yaml"))
            .output()
            .unwrap_or_else(|e| panic!("running {}: {e}", python.display()));
        assert!(
            out.status.success(),
            "the SAM transform of template.yaml failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).expect("the transform prints JSON")
    })
}

fn resources() -> &'static serde_json::Map<String, Value> {
    transformed()["Resources"].as_object().expect("Resources")
}

/// The logical ids of the resources of `kind`.
fn of_type(kind: &str) -> Vec<&'static str> {
    resources().iter().filter(|(_, r)| r["Type"] == kind).map(|(id, _)| id.as_str()).collect()
}

/// A deployed function: its binary, its role's logical id, and what its row needs.
struct Function {
    id: &'static str,
    binary: String,
    role: String,
    needs: Needs,
    props: &'static Value,
}

fn functions() -> Vec<Function> {
    of_type("AWS::Lambda::Function")
        .into_iter()
        .map(|id| {
            let props = &resources()[id]["Properties"];
            let key = props["Code"]["S3Key"].as_str().unwrap_or_else(|| panic!("{id}: a packaged S3Key"));
            let binary = key
                .strip_prefix("target/lambda/")
                .and_then(|k| k.strip_suffix("/bootstrap.zip"))
                .unwrap_or_else(|| panic!("{id}: {key} is not target/lambda/<binary>/bootstrap.zip"))
                .to_string();
            let role = match props["Role"]["Fn::GetAtt"].as_array().map(Vec::as_slice) {
                Some([role, attribute]) if attribute == "Arn" => role.as_str().unwrap().to_string(),
                _ => panic!("{id}: its role is not a role of the stack: {}", props["Role"]),
            };
            let needs = if binary == authorizer::FUNCTION {
                authorizer::NEEDS
            } else if binary == outbox::FUNCTION {
                outbox::NEEDS
            } else if binary == FALLBACK_FUNCTION || binary == authorizer::EXAMPLE_FUNCTION {
                Needs::NOTHING
            } else {
                route(&binary).unwrap_or_else(|| panic!("{binary} is not in the route table")).needs
            };
            Function { id, binary, role, needs, props }
        })
        .collect()
}

/// The one KMS key of the stack.
fn key_id() -> &'static str {
    let keys = of_type("AWS::KMS::Key");
    assert_eq!(keys.len(), 1, "one KMS key: {keys:?}");
    keys[0]
}

fn strings(value: &Value) -> Vec<String> {
    match value {
        Value::String(s) => vec![s.clone()],
        Value::Array(list) => list.iter().map(|v| v.as_str().expect("a string").to_string()).collect(),
        Value::Null => Vec::new(),
        other => panic!("not a string or a list of strings: {other}"),
    }
}

/// Whether an IAM action pattern (`kms:Decrypt`, `kms:Re*`, `*`) covers `action`.
fn covers(pattern: &str, action: &str) -> bool {
    fn glob(p: &[u8], a: &[u8]) -> bool {
        match (p.first(), a.first()) {
            (None, None) => true,
            (Some(b'*'), _) => glob(&p[1..], a) || (!a.is_empty() && glob(p, &a[1..])),
            (Some(b'?'), Some(_)) => glob(&p[1..], &a[1..]),
            (Some(x), Some(y)) if x.eq_ignore_ascii_case(y) => glob(&p[1..], &a[1..]),
            _ => false,
        }
    }
    glob(pattern.as_bytes(), action.as_bytes())
}

fn allows(statement: &Value, action: &str) -> bool {
    statement["Effect"] == "Allow" && strings(&statement["Action"]).iter().any(|p| covers(p, action))
}

/// The statements of a role's inline policies.
fn role_statements(role: &str) -> Vec<&'static Value> {
    let role = &resources()[role];
    assert_eq!(role["Type"], "AWS::IAM::Role", "{role}");
    role["Properties"]["Policies"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .flat_map(|p| p["PolicyDocument"]["Statement"].as_array().expect("statements"))
        .collect()
}

const THROUGH_LAMBDA: &str = "lambda.${AWS::Region}.amazonaws.com";

fn through_lambda(statement: &Value) -> bool {
    statement["Condition"]["StringEquals"]["kms:ViaService"] == json!({"Fn::Sub": THROUGH_LAMBDA})
}

/// Exactly the functions whose environment holds key material encrypt it under the
/// stack's key; no other function names a key.
#[test]
fn functions_holding_secrets_encrypt_their_environment_with_the_stack_key() {
    let key = key_id();
    let key_props = &resources()[key]["Properties"];
    assert_eq!(key_props["EnableKeyRotation"], true, "the key rotates");
    let aliases: Vec<_> = of_type("AWS::KMS::Alias").into_iter().map(|id| &resources()[id]["Properties"]).collect();
    assert_eq!(aliases.len(), 1, "one alias");
    assert_eq!(aliases[0]["TargetKeyId"], json!({"Ref": key}));
    assert_eq!(aliases[0]["AliasName"], json!({"Fn::Sub": "alias/mfa-${Stage}"}), "an alias per stage");

    let functions = functions();
    assert_eq!(
        functions.len(),
        ROUTES.len() + 4,
        "every route's function, the fallback, the authorizer and its example, the audit writer"
    );
    let mut holding = 0;
    for f in &functions {
        let env: BTreeSet<&str> = f.props["Environment"]["Variables"]
            .as_object()
            .map(|m| m.keys().map(String::as_str).collect())
            .unwrap_or_default();
        let held: BTreeSet<&str> = env.iter().copied().filter(|v| SECRET_VARIABLES.contains(v)).collect();
        let secrets: BTreeSet<&str> = f.needs.secrets().into_iter().collect();
        assert_eq!(held, secrets, "{}: the secrets in its environment", f.binary);
        if secrets.is_empty() {
            assert!(f.props["KmsKeyArn"].is_null(), "{}: holds no secret, names no key", f.binary);
        } else {
            assert_eq!(f.props["KmsKeyArn"], json!({"Fn::GetAtt": [key, "Arn"]}), "{}: KmsKeyArn", f.binary);
            holding += 1;
        }
    }
    assert!(holding > 0, "some functions hold secrets");
}

/// Only the roles of the functions that hold secrets may decrypt with the key, and only
/// through Lambda; nobody may re-encrypt out of it, and grants are made only by Lambda.
#[test]
fn only_the_roles_of_functions_holding_secrets_can_decrypt() {
    let key = key_id();
    let policy = &resources()[key]["Properties"]["KeyPolicy"];
    let statements = policy["Statement"].as_array().expect("a key policy");
    for s in statements {
        assert!(
            s["NotAction"].is_null() && s["NotPrincipal"].is_null() && s["NotResource"].is_null(),
            "no Not* elements in the key policy: {s}"
        );
    }
    // Compared as JSON text (`Value` is not `Ord`).
    let wanted: BTreeSet<String> = functions()
        .iter()
        .filter(|f| !f.needs.secrets().is_empty())
        .map(|f| json!({"Fn::GetAtt": [f.role, "Arn"]}).to_string())
        .collect();

    let decrypting: Vec<&Value> = statements.iter().filter(|s| allows(s, "kms:Decrypt")).collect();
    assert_eq!(decrypting.len(), 1, "one statement allows kms:Decrypt: {decrypting:?}");
    let decrypt = decrypting[0];
    let principals: BTreeSet<String> = match &decrypt["Principal"]["AWS"] {
        Value::Array(list) => list.iter().map(Value::to_string).collect(),
        one => BTreeSet::from([one.to_string()]),
    };
    assert!(
        principals == wanted,
        "the decrypting principals are the roles of the functions holding secrets: missing {:?}, not holding one {:?}",
        wanted.difference(&principals).collect::<Vec<_>>(),
        principals.difference(&wanted).collect::<Vec<_>>()
    );
    assert_eq!(decrypt["Principal"].as_object().map(|p| p.len()), Some(1), "roles only: {}", decrypt["Principal"]);
    assert!(through_lambda(decrypt), "they decrypt only through Lambda: {decrypt}");
    for f in functions().iter().filter(|f| !f.needs.secrets().is_empty()) {
        let id = f.role.as_str();
        assert_eq!(resources()[id]["Type"], "AWS::IAM::Role", "{id} is a role of the stack");
        assert!(!resources()[id].to_string().contains(key), "{id} must not name the key (the key names it: a cycle)");
    }

    // Other ways to the plaintext: re-encrypting under another key, and grants.
    for s in statements {
        assert!(!allows(s, "kms:ReEncryptFrom"), "nobody re-encrypts out of the key: {s}");
        if allows(s, "kms:CreateGrant") {
            assert!(through_lambda(s), "grants are created only by Lambda, for a function's role: {s}");
        }
        if allows(s, "kms:Encrypt") {
            assert!(through_lambda(s), "the deployer encrypts only through Lambda: {s}");
        }
    }

    // The account's administrators manage the key (and so it cannot be locked out).
    let root = json!({"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"});
    for action in [
        "kms:PutKeyPolicy",
        "kms:DescribeKey",
        "kms:EnableKeyRotation",
        "kms:ScheduleKeyDeletion",
        "kms:CancelKeyDeletion",
        "kms:RotateKeyOnDemand",
        "kms:TagResource",
        "kms:CreateAlias",
    ] {
        assert!(
            statements.iter().any(|s| s["Principal"]["AWS"] == root && allows(s, action) && s["Condition"].is_null()),
            "the account administers the key: {action}"
        );
    }
}

/// The authorizer verifies this service's own tokens: it never receives the platform's
/// secret or any other key material.
#[test]
fn the_authorizer_holds_no_secret() {
    let functions = functions();
    let f = functions.iter().find(|f| f.binary == authorizer::FUNCTION).expect("the authorizer");
    let env = f.props["Environment"]["Variables"].as_object().expect("an environment");
    for secret in SECRET_VARIABLES {
        assert!(!env.contains_key(*secret), "the authorizer's environment holds {secret}");
    }
    assert!(authorizer::NEEDS.secrets().is_empty(), "the authorizer needs no secret");
    assert!(f.props["KmsKeyArn"].is_null());
    assert_eq!(f.id, "MfaAuthorizerFunction");
}

/// A function that texts may publish to phone numbers only: SNS has no ARN for a number,
/// so the allow is on `*`, and an explicit deny keeps topics out.
#[test]
fn texting_functions_cannot_publish_to_topics() {
    let topics = json!({"Fn::Sub": "arn:${AWS::Partition}:sns:*:*:*"});
    for f in functions() {
        let statements = role_statements(&f.role);
        let sns: Vec<&&Value> =
            statements.iter().filter(|s| strings(&s["Action"]).iter().any(|a| covers(a, "sns:Publish"))).collect();
        if !f.needs.sms {
            assert!(sns.is_empty(), "{}: does not text", f.binary);
            continue;
        }
        assert!(
            sns.iter().any(|s| s["Effect"] == "Allow" && s["Resource"] == "*"),
            "{}: publishes to phone numbers",
            f.binary
        );
        assert!(
            sns.iter().any(|s| s["Effect"] == "Deny" && s["Resource"] == topics),
            "{}: a deny of sns:Publish on every topic",
            f.binary
        );
    }
}

/// Every DynamoDB grant is limited to the partition keys the function touches: its row's
/// `key_prefixes()`; the authorizer reads the user's record only, the audit writer writes events
/// under it.
#[test]
fn dynamodb_grants_are_limited_to_the_functions_key_prefixes() {
    let mut checked = BTreeMap::new();
    for f in functions() {
        let prefixes: Vec<&str> = if f.binary == authorizer::FUNCTION || f.binary == outbox::FUNCTION {
            // `authorizer::authorize` reads `load_user_and_policy(user, None)`: USER# only.
            vec!["USER#"]
        } else {
            f.needs.key_prefixes()
        };
        let wanted: BTreeSet<String> = prefixes.iter().map(|p| format!("{p}*")).collect();
        let mut grants = 0;
        for s in role_statements(&f.role) {
            if !strings(&s["Action"]).iter().any(|a| a.starts_with("dynamodb:")) {
                continue;
            }
            assert_eq!(s["Effect"], "Allow", "{}: {s}", f.binary);
            let condition =
                s["Condition"].as_object().unwrap_or_else(|| panic!("{}: an unconditioned grant {s}", f.binary));
            assert_eq!(condition.len(), 1, "{}: {s}", f.binary);
            let leading = &condition["ForAllValues:StringLike"];
            assert_eq!(leading.as_object().map(|c| c.len()), Some(1), "{}: {s}", f.binary);
            let found: BTreeSet<String> = strings(&leading["dynamodb:LeadingKeys"]).into_iter().collect();
            assert_eq!(found, wanted, "{}: dynamodb:LeadingKeys", f.binary);
            grants += 1;
        }
        assert_eq!(grants > 0, f.needs.store, "{}: a table grant exactly when it uses the store", f.binary);
        checked.insert(f.binary, grants);
    }
    assert_eq!(checked.len(), ROUTES.len() + 4);
}

/// The alarms `template.yaml` must hold (name suffix → what it watches), each notifying
/// the stage's alarm topic when it fires and when it clears.
const ALARMS: [(&str, &str); 11] = [
    ("Api5xxRateAlarm", "5xx"),
    ("LambdaErrorsAlarm", "Errors"),
    ("LambdaThrottlesAlarm", "Throttles"),
    ("DynamoDbThrottlesAlarm", "WriteThrottleEvents"),
    ("DependencyFailuresAlarm", "DependencyFailures"),
    ("SmsBudgetReachedAlarm", "MessagesRefused"),
    ("SmsRefusalSpikeAlarm", "MessagesRefused"),
    ("LockoutSpikeAlarm", "Lockouts"),
    ("EventsPipeFailuresAlarm", "ExecutionFailed"),
    ("EventsDeadLettersAlarm", "ApproximateNumberOfMessagesVisible"),
    ("AuditWriterBehindAlarm", "IteratorAge"),
];

/// The metric names an alarm reads (its own, or its metric math's).
fn alarm_metrics(alarm: &Value) -> Vec<String> {
    let props = &alarm["Properties"];
    let mut names: Vec<String> = props["MetricName"].as_str().map(String::from).into_iter().collect();
    for m in props["Metrics"].as_array().map(Vec::as_slice).unwrap_or_default() {
        if let Some(n) = m["MetricStat"]["Metric"]["MetricName"].as_str() {
            names.push(n.to_string());
        }
    }
    names
}

/// The operator's view, as deployed (a dashboard cannot be rendered locally, so what it
/// shows is checked here): every alarm the operations guide lists exists, watches its
/// metric and notifies the topic; the SMS budget alarm watches the budget rule; the
/// dashboard's body is JSON once substituted and graphs every metric the functions write;
/// the audit pipe has a dead-letter queue its role may send to; and the stack stays under
/// CloudFormation's 500 resources.
#[test]
fn alarms_a_dashboard_and_a_dead_letter_queue_watch_the_stage() {
    let all = resources();
    let topic = json!({"Ref": "MfaAlarmTopic"});
    assert_eq!(all["MfaAlarmTopic"]["Type"], "AWS::SNS::Topic");
    for (id, metric) in ALARMS {
        let alarm = all.get(id).unwrap_or_else(|| panic!("no alarm {id}"));
        assert_eq!(alarm["Type"], "AWS::CloudWatch::Alarm", "{id}");
        assert!(alarm["Properties"]["AlarmActions"].as_array().unwrap().contains(&topic), "{id} notifies the topic");
        assert!(alarm["Properties"]["OKActions"].as_array().unwrap().contains(&topic), "{id} says when it clears");
        assert!(alarm_metrics(alarm).iter().any(|n| n == metric), "{id} watches {metric}: {:?}", alarm_metrics(alarm));
    }
    assert_eq!(of_type("AWS::CloudWatch::Alarm").len(), ALARMS.len(), "every alarm is listed here");
    let budget = &all["SmsBudgetReachedAlarm"]["Properties"]["Dimensions"];
    assert!(budget.as_array().unwrap().contains(&json!({"Name": "Rule", "Value": "budget"})), "{budget}");

    // The dashboard: its body with every substitution filled in is JSON, and it graphs
    // each metric the functions write.
    let body = &all["MfaDashboard"]["Properties"]["DashboardBody"]["Fn::Sub"];
    let mut text = body[0].as_str().expect("a Sub template").to_string();
    for name in body[1].as_object().unwrap().keys() {
        text = text.replace(&format!("${{{name}}}"), "x");
    }
    let text = text.replace("${Stage}", "dev").replace("${AWS::Region}", "us-east-1");
    assert!(!text.contains("${"), "an unfilled substitution: {text}");
    let dashboard: Value = serde_json::from_str(&text).expect("the dashboard's body is JSON");
    let widgets = dashboard["widgets"].as_array().unwrap();
    let shown = serde_json::to_string(widgets).unwrap();
    for name in mfa_shared::metrics::NAMES {
        assert!(
            shown.contains(&format!("\"{name}\"")) || shown.contains(&format!("\\\"{name}\\\"")),
            "the dashboard graphs {name}"
        );
    }
    let alarm_widget = widgets.iter().find(|w| w["type"] == "alarm").expect("an alarm status widget");
    assert_eq!(alarm_widget["properties"]["alarms"].as_array().unwrap().len(), ALARMS.len());

    // The pipe's dead letters.
    let pipe = &all["MfaEventsPipe"]["Properties"]["SourceParameters"]["DynamoDBStreamParameters"];
    assert_eq!(pipe["DeadLetterConfig"]["Arn"], json!({"Fn::GetAtt": ["MfaEventsDeadLetterQueue", "Arn"]}));
    let may_send = role_statements("MfaEventsPipeRole").into_iter().any(|s| {
        allows(s, "sqs:SendMessage") && s["Resource"] == json!({"Fn::GetAtt": ["MfaEventsDeadLetterQueue", "Arn"]})
    });
    assert!(may_send, "the pipe's role may send to its dead-letter queue");

    // The audit writer's: the table's stream, its failed batches to the same queue.
    let mappings: Vec<_> =
        of_type("AWS::Lambda::EventSourceMapping").into_iter().map(|id| &all[id]["Properties"]).collect();
    assert_eq!(mappings.len(), 1, "one event source: the audit writer's");
    let mapping = mappings[0];
    assert_eq!(mapping["EventSourceArn"], json!({"Fn::GetAtt": ["MfaTable", "StreamArn"]}));
    assert_eq!(mapping["BisectBatchOnFunctionError"], true);
    assert_eq!(
        mapping["DestinationConfig"]["OnFailure"]["Destination"],
        json!({"Fn::GetAtt": ["MfaEventsDeadLetterQueue", "Arn"]})
    );
    let writer = functions().into_iter().find(|f| f.binary == outbox::FUNCTION).expect("the audit writer");
    let may_send = role_statements(&writer.role).into_iter().any(|s| {
        allows(s, "sqs:SendMessage") && s["Resource"] == json!({"Fn::GetAtt": ["MfaEventsDeadLetterQueue", "Arn"]})
    });
    assert!(may_send, "the audit writer's role may send to its dead-letter queue");

    let count = all.len();
    println!("template.yaml after the SAM transform: {count} resources");
    assert!(count < 500, "{count} resources: CloudFormation takes at most 500");
}
